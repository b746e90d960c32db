/** Every procedure the LAN server serves, in one registry. */
import { heartbeatQuery, loginCommand, pingCommand, pingQuery } from "./core.ts";
import { Registry } from "./registry.ts";
import { syncPull, syncPush } from "./sync.ts";

export {
  type CallContext,
  type CallOutcome,
  type Procedure,
  procedure,
  type ProcedureKind,
  type ProcedureServices,
  RawJson,
  Registry,
} from "./registry.ts";

/** Builds the registry of every procedure. */
export function buildRegistry(): Registry {
  return new Registry().add(
    pingCommand,
    pingQuery,
    heartbeatQuery,
    loginCommand,
    syncPull,
    syncPush,
  );
}
