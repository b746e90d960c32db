/** The relay to the cloud: client, registration, relay loop, sync health. */
export { DEFAULT_SCHEDULE, Relay, type RelayDeps, type RelaySchedule } from "./relay.ts";
export type { CycleResult } from "./_cycle.ts";
export type { SyncHealth } from "./_health.ts";
export type { Timers } from "./_schedule.ts";
export type { CloudPeer, PullEnd } from "./_peer.ts";
export {
  API_KEY_PATTERN,
  cloudPeerFor,
  type Registration,
  verifyRegistration,
} from "./register.ts";
export {
  checkCloudUrl,
  CloudClient,
  CloudError,
  type CloudFailure,
  type CloudTimeouts,
  DEFAULT_TIMEOUTS,
} from "./_client.ts";
export { streamChanges, type StreamedChange } from "./_changes_stream.ts";
