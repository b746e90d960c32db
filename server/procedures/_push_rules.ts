/**
 * The written rule for `sync_push`: per table, the flag a pusher needs to
 * create, change or delete a row (docs/security.md, "What a phone may push"),
 * at every clinic the row belongs to: the clinic it names, the clinic of the
 * patient it names (stored, or pushed in the same push), and for a change or
 * deletion the stored row's clinic (its clinic column, else its patient's), so
 * a row cannot be moved into or out of a clinic by push. A row belonging to no
 * clinic is checked at the caller's clinic.
 *
 * A refused row never fails the push (the phone would retry the same push
 * forever) and is never dropped silently: it goes to the conflict log with the
 * reason, the stored version goes back to the phone, and the push answers
 * success for the rest. The real cloud also answers success and skips rows of
 * clinics the caller has no rights at, but keeps no record of them.
 */
import { type PermissionRow, type PushGuard, type Store } from "../../store/mod.ts";
import { type AuthInfo, type PermissionFlag, permissionsAt } from "../_auth.ts";

/** What a pusher needs for one table: any one of the flags listed, per operation. */
export interface PushRule {
  create: readonly PermissionFlag[];
  change: readonly PermissionFlag[];
  delete: readonly PermissionFlag[];
}

const EDIT: PushRule = {
  create: ["can_edit_records"],
  change: ["can_edit_records"],
  delete: ["can_delete_records"],
};
const PRESCRIBE: PushRule = {
  create: ["can_prescribe_medications"],
  // Dispensing changes a prescription's status and an item's quantity dispensed.
  change: ["can_prescribe_medications", "can_dispense_medications"],
  delete: ["can_prescribe_medications"],
};
const DISPENSE: PushRule = {
  create: ["can_dispense_medications"],
  change: ["can_dispense_medications"],
  delete: ["can_dispense_medications"],
};

/**
 * The rule per table a phone may push (every table outside PHONE_READ_ONLY_TABLES).
 *
 * @example
 * ```ts
 * import { PUSH_RULES } from "./mod.ts";
 *
 * PUSH_RULES.patients.create; // ["can_register_patients"]
 * PUSH_RULES.visits.delete; // ["can_delete_patient_visits"]
 * PUSH_RULES.prescriptions.change; // ["can_prescribe_medications", "can_dispense_medications"]
 * ```
 */
export const PUSH_RULES: Readonly<Record<string, PushRule>> = {
  patients: {
    create: ["can_register_patients"],
    change: ["can_edit_records"],
    delete: ["can_delete_patient_records"],
  },
  // Registration writes the attributes with the patient.
  patient_additional_attributes: {
    create: ["can_register_patients", "can_edit_records"],
    change: ["can_register_patients", "can_edit_records"],
    delete: ["can_edit_records"],
  },
  visits: { ...EDIT, delete: ["can_delete_patient_visits"] },
  events: EDIT,
  patient_vitals: EDIT,
  patient_problems: EDIT,
  appointments: EDIT,
  prescriptions: PRESCRIBE,
  prescription_items: PRESCRIBE,
  dispensing_records: DISPENSE,
  clinic_inventory: DISPENSE,
};

/** A clinic column's value in a pushed row, or undefined when it does not carry one. */
function clinicIn(table: string, row: Record<string, unknown>): string | null | undefined {
  const col = table === "patients" ? "primary_clinic_id" : "clinic_id";
  if (!(col in row)) return undefined;
  const v = row[col];
  return typeof v === "string" && v !== "" ? v : null;
}

/** Clinics of the patients in this push, for rows that name a patient not stored yet. */
function pushedPatients(changes: unknown): Map<string, string | null> {
  const out = new Map<string, string | null>();
  const set = (changes as Record<string, unknown> | null)?.patients as
    | Record<string, unknown>
    | undefined;
  if (!set || typeof set !== "object") return out;
  for (const kind of ["created", "updated"]) {
    const rows = set[kind];
    if (!Array.isArray(rows)) continue;
    for (const r of rows) {
      if (r && typeof r === "object" && typeof (r as { id?: unknown }).id === "string") {
        out.set(
          (r as { id: string }).id,
          clinicIn("patients", r as Record<string, unknown>) ?? null,
        );
      }
    }
  }
  return out;
}

/**
 * The guard `pushChanges` applies for this caller: null when a row may be
 * written, else the reason (naming the table, the flags and the clinic; never a
 * row's values).
 *
 * @example
 * ```ts
 * import { type CallContext, pushGuard } from "./mod.ts";
 *
 * declare const ctx: CallContext; // a `sync_push` call whose token checked out
 * const visit = { id: "visit-0001", patient_id: "patient-0001", clinic_id: "clinic-0002" };
 * const changes = { visits: { created: [visit], updated: [], deleted: [] } };
 * const guard = pushGuard(ctx.hub!.store, ctx.auth!, changes);
 * guard("visits", "visit-0001", visit);
 * // null, or "refused: user 'user-0001' may not create visits at clinic 'clinic-0002'
 * // (needs can_edit_records)"
 * guard("visits", "visit-0001", null); // a deletion: needs can_delete_patient_visits
 * ```
 */
export function pushGuard(store: Store, auth: AuthInfo, changes: unknown): PushGuard {
  const rows = new Map<string, PermissionRow | undefined>();
  const at = (clinic: string | null) => {
    const key = clinic ?? auth.clinicId;
    if (!rows.has(key)) rows.set(key, permissionsAt(store, auth, key));
    return rows.get(key);
  };
  const patients = pushedPatients(changes);
  // A push carries many rows per patient (events, vitals...): each patient is looked up
  // once (its stored clinic, else the one this push gives it).
  const patientClinics = new Map<string, string | null | undefined>();
  const patientClinic = (id: string): string | null | undefined => {
    if (patientClinics.has(id)) return patientClinics.get(id);
    const clinic = store.people.rowClinic("patients", id)?.clinicId ??
      (patients.has(id) ? patients.get(id)! : undefined);
    patientClinics.set(id, clinic);
    return clinic;
  };
  const refusal = (
    table: string,
    op: keyof PushRule,
    flags: readonly PermissionFlag[],
    clinic: string | null,
  ): string | null => {
    const perms = at(clinic);
    if (perms && flags.some((f) => perms[f] === 1)) return null;
    const where = clinic ?? auth.clinicId;
    const verb = op === "create" ? "create" : op === "change" ? "change" : "delete";
    return `refused: user '${auth.userId}' may not ${verb} ${table} at clinic '${where}' ` +
      `(needs ${flags.join(" or ")})`;
  };
  return (table, id, row) => {
    const rule = PUSH_RULES[table];
    if (!rule) return `refused: ${table} has no push rule`;
    const stored = store.people.rowClinic(table, id);
    if (row === null) return refusal(table, "delete", rule.delete, stored?.clinicId ?? null);
    // A row pushed as deleted (`is_deleted`) deletes the stored one: the delete flag.
    const deletes = stored && (row.is_deleted === true || row.is_deleted === 1);
    const op = deletes ? "delete" : stored ? "change" : "create";
    // Every clinic the row belongs to, before and after: the stored row's, the
    // clinic it names, and the clinic of the patient it names.
    const clinics = new Set<string | null>();
    if (stored) clinics.add(stored.clinicId);
    const named = clinicIn(table, row);
    if (named !== undefined) clinics.add(named);
    if (table !== "patients" && typeof row.patient_id === "string" && row.patient_id !== "") {
      const clinic = patientClinic(row.patient_id);
      if (clinic !== undefined) clinics.add(clinic);
    }
    if (clinics.size === 0) clinics.add(null);
    for (const clinic of clinics) {
      const r = refusal(table, op, rule[op], clinic);
      if (r) return r;
    }
    return null;
  };
}
