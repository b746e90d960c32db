/** The LAN side: routes, handshake, envelope, sessions, auth, procedures. */
export { type AccessProvider, type HubAccess } from "./_access.ts";
export {
  DEFAULT_MAX_BODY_BYTES,
  LanServer,
  type LanServerOptions,
  type LanServerStatus,
  lanUrls,
} from "./server.ts";
export { DEFAULT_SESSION_LIMITS, type SessionLimits } from "./_sessions.ts";
export { DEFAULT_HANDSHAKE_RATE, type HandshakeRate, isLoopback } from "./server.ts";
export { signToken, TOKEN_TTL_SECONDS } from "./_auth.ts";
export {
  buildRegistry,
  describeScope,
  type Procedure,
  type ProcedureScope,
  PUSH_RULES,
  type PushRule,
  Registry,
} from "./procedures/mod.ts";
export { deriveSessionKey, PAIRING_SALT, seal } from "./_crypto.ts";
export { DEFAULT_FRONT_LIMITS, type FrontLimits } from "./_front.ts";
