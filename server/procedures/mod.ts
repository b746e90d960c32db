/** Every procedure the LAN server serves, in one registry. */
import { APPOINTMENT_PROCEDURES } from "./appointments.ts";
import { heartbeatQuery, loginCommand, pingCommand, pingQuery } from "./core.ts";
import { EVENT_PROCEDURES } from "./events.ts";
import { FORM_PROCEDURES } from "./forms.ts";
import { PATIENT_PROCEDURES } from "./patients.ts";
import { PHARMACY_PROCEDURES } from "./pharmacy.ts";
import { PRESCRIPTION_PROCEDURES } from "./prescriptions.ts";
import { PROBLEM_PROCEDURES } from "./problems.ts";
import { Registry } from "./registry.ts";
import { syncPull, syncPush } from "./sync.ts";
import { VISIT_PROCEDURES } from "./visits.ts";
import { VITALS_PROCEDURES } from "./vitals.ts";

export {
  type CallContext,
  type Procedure,
  procedure,
  type ProcedureKind,
  type ProcedureServices,
  RawJson,
  Registry,
} from "./registry.ts";
export {
  type ClinicOf,
  type ClinicRule,
  describeScope,
  enforceScope,
  type ProcedureScope,
} from "./_scope.ts";
export { PUSH_RULES, pushGuard, type PushRule } from "./_push_rules.ts";

/**
 * Builds the registry of every procedure.
 *
 * @example
 * ```ts
 * import { buildRegistry } from "./mod.ts";
 *
 * const registry = buildRegistry();
 * registry.get("query", "heartbeat")?.auth; // "none"
 * registry.get("command", "sync_push")?.scope; // { kind: "per-row" }
 * registry.list().map((p) => `${p.kind} ${p.name}`);
 * // ["command ping", "query ping", "query heartbeat", "command login", "query sync_pull", ...]
 * ```
 */
export function buildRegistry(): Registry {
  return new Registry().add(
    pingCommand,
    pingQuery,
    heartbeatQuery,
    loginCommand,
    syncPull,
    syncPush,
    // The clinical procedures of SPEC §6.
    ...PATIENT_PROCEDURES,
    ...VISIT_PROCEDURES,
    ...EVENT_PROCEDURES,
    ...VITALS_PROCEDURES,
    ...PROBLEM_PROCEDURES,
    ...APPOINTMENT_PROCEDURES,
    ...PRESCRIPTION_PROCEDURES,
    ...PHARMACY_PROCEDURES,
    ...FORM_PROCEDURES,
  );
}
