/**
 * Clinic scope as data. Each procedure record says which clinics a call touches
 * (a clinic named in its params, or the clinic of a stored row whose id a param
 * names) and the flag needed at each; the dispatcher checks them all before the
 * handler runs, for reads and for writes alike, so no handler repeats a rule.
 * A row's clinic is its own clinic column, else its patient's (store `rowClinic`).
 *
 * The check and the handler run in the same turn of the event loop (nothing is
 * awaited between them), so no other write can move the row in between.
 */
import type { Store } from "../../store/mod.ts";
import { type AuthInfo, type PermissionFlag, requireAt } from "../_auth.ts";

/** Where one clinic of a call comes from. */
export type ClinicOf =
  /** The clinic id a param holds (dotted path); absent, the caller's clinic when `orCaller`, else nothing to check. */
  | { param: string; orCaller?: boolean }
  /** The clinic of the stored row of `row` whose id the param `idParam` holds; nothing to check when there is none. */
  | { row: string; idParam: string };

/** One clinic a call touches, and the flag needed there. */
export interface ClinicRule {
  clinic: ClinicOf;
  /** Flag needed at that clinic; default the procedure's `permission`, else only a permission row there. */
  flag?: PermissionFlag;
  /** Only when the scope's `subject` row exists already (`existing`) or not yet (`new`). */
  when?: "existing" | "new";
  /** A row that has no clinic needs nothing more (default: it is checked at the caller's clinic). */
  openWithoutClinic?: boolean;
}

/** A procedure's clinic scope. */
export type ProcedureScope =
  /** Touches no clinic's patient data (reference data, the caller's own session); `why` says so. */
  | { kind: "none"; why: string }
  /** Answers only rows of clinics where the caller holds `flag` (the dispatcher hands them to the handler as `listedClinics`; no refusal). */
  | { kind: "listed"; flag: PermissionFlag }
  /** Each pushed row is checked by the sync_push rule table (server/procedures/_push_rules.ts). */
  | { kind: "per-row" }
  /** Every rule is checked before the handler runs. */
  | {
    kind: "clinics";
    /** The row whose existence `when` refers to. */
    subject?: { row: string; idParam: string };
    rules: ClinicRule[];
  };

/** Reads a dotted path (`patient.id`) of the parsed params; empty text counts as absent. */
function at(params: unknown, path: string): string | undefined {
  let v: unknown = params;
  for (const k of path.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return typeof v === "string" && v !== "" ? v : undefined;
}

/**
 * Throws `forbidden` unless the caller holds what `scope` asks at every clinic
 * the call touches. `fallbackFlag` is the procedure's `permission`.
 *
 * @example
 * ```ts
 * import { type CallContext, enforceScope, type ProcedureScope } from "./mod.ts";
 *
 * const scope: ProcedureScope = {
 *   kind: "clinics",
 *   rules: [{ clinic: { row: "patients", idParam: "patient_id" } }],
 * };
 * declare const ctx: CallContext; // a call whose token checked out
 * const params = { patient_id: "patient-0001" };
 * enforceScope(scope, params, ctx.hub!.store, ctx.auth!, "can_edit_records");
 * // throws HubError `forbidden` (403) unless the caller holds can_edit_records
 * // at the clinic of patient "patient-0001"
 * ```
 */
export function enforceScope(
  scope: ProcedureScope,
  params: unknown,
  store: Store,
  auth: AuthInfo,
  fallbackFlag: PermissionFlag | undefined,
): void {
  if (scope.kind !== "clinics") return;
  let exists: boolean | undefined;
  if (scope.subject) {
    const id = at(params, scope.subject.idParam);
    exists = id !== undefined && store.people.rowClinic(scope.subject.row, id) !== undefined;
  }
  for (const rule of scope.rules) {
    if (rule.when === "existing" && !exists) continue;
    if (rule.when === "new" && exists) continue;
    const flag = rule.flag ?? fallbackFlag;
    const c = rule.clinic;
    if ("param" in c) {
      const clinic = at(params, c.param) ?? (c.orCaller ? auth.clinicId : undefined);
      if (clinic !== undefined) requireAt(store, auth, flag, clinic);
      continue;
    }
    const id = at(params, c.idParam);
    if (id === undefined) continue;
    const found = store.people.rowClinic(c.row, id);
    if (!found) continue; // the handler answers "not found" (or creates it)
    if (found.clinicId === null && rule.openWithoutClinic) continue;
    requireAt(store, auth, flag, found.clinicId);
  }
}

/**
 * The scope in words, for docs/procedures.md.
 *
 * @example
 * ```ts
 * import { describeScope } from "./mod.ts";
 *
 * describeScope({ kind: "none", why: "no token, no data" }, undefined);
 * // "none: no token, no data"
 * describeScope(
 *   { kind: "clinics", rules: [{ clinic: { row: "patients", idParam: "patient_id" } }] },
 *   "can_edit_records",
 * );
 * // "`can_edit_records` at the clinic of the `patients` row `patient_id` names"
 * ```
 */
export function describeScope(
  scope: ProcedureScope,
  fallbackFlag: PermissionFlag | undefined,
): string {
  switch (scope.kind) {
    case "none":
      return `none: ${scope.why}`;
    case "listed":
      return `answers only rows of clinics where the caller holds \`${scope.flag}\``;
    case "per-row":
      return "each row by the push rule table (docs/security.md)";
    case "clinics":
      return scope.rules.map((r) => {
        const flag = r.flag ?? fallbackFlag;
        const need = flag ? `\`${flag}\`` : "a permission row";
        const c = r.clinic;
        const where = "param" in c
          ? `at \`${c.param}\`${c.orCaller ? " (else the caller's clinic)" : ""}`
          : `at the clinic of the \`${c.row}\` row \`${c.idParam}\` names`;
        const subject = scope.subject ? `the \`${scope.subject.row}\` row` : "the row";
        const when = r.when === "existing"
          ? ` when ${subject} exists`
          : r.when === "new"
          ? ` when ${subject} is new`
          : "";
        const open = r.openWithoutClinic ? " (none if it has no clinic)" : "";
        return `${need} ${where}${open}${when}`;
      }).join("; ");
  }
}

/** A scope of clinic rules, each needing the procedure's flag unless it names another. */
export function clinics(...rules: (ClinicRule | ClinicOf)[]): ProcedureScope {
  return {
    kind: "clinics",
    rules: rules.map((r) => ("clinic" in r ? r : { clinic: r })),
  };
}

/** The clinic of the stored `table` row whose id `idParam` holds (default `id`). */
export function rowOf(table: string, idParam = "id"): ClinicOf {
  return { row: table, idParam };
}

/** The clinic of the patient whose id `idParam` holds (default `patient_id`). */
export function patientOf(idParam = "patient_id"): ClinicOf {
  return { row: "patients", idParam };
}

/** The clinic a param names (default `clinic_id`); `orCaller`: absent means the caller's clinic. */
export function clinicParam(param = "clinic_id", orCaller = false): ClinicOf {
  return { param, orCaller };
}

/** Touches no clinic's data, for the reason given. */
export function noClinic(why: string): ProcedureScope {
  return { kind: "none", why };
}
