/** The relay to the cloud: client, registration, relay loop, sync health. */
export {
  type CycleResult,
  DEFAULT_SCHEDULE,
  Relay,
  type RelayDeps,
  type RelaySchedule,
  type SyncHealth,
} from "./relay.ts";
export { API_KEY_PATTERN, type Registration, verifyRegistration } from "./register.ts";
export {
  checkCloudUrl,
  CloudClient,
  CloudError,
  type CloudFailure,
  type CloudTimeouts,
  DEFAULT_TIMEOUTS,
} from "./_client.ts";
export { streamChanges, type StreamedChange } from "./_changes_stream.ts";
