/** Registering (or updating) a patient with its attributes, and the cascading soft delete. */
import { type LocalWriteMeta, type LocalWriter, writeLocal } from "./_local.ts";
import { live, type Row } from "./_read.ts";
import type { StoreParts } from "./_parts.ts";

/** Tables a patient's deletion cascades to (the reference's four, plus vitals and problems). */
const CASCADE: [table: string, column: string][] = [
  ["patient_additional_attributes", "patient_id"],
  ["visits", "patient_id"],
  ["events", "patient_id"],
  ["appointments", "patient_id"],
  ["patient_vitals", "patient_id"],
  ["patient_problems", "patient_id"],
];

/**
 * A patient registration (or update) as {@link registerPatient} takes it.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * declare const userId: string; // the caller's, from their token
 * const input: PatientRegistration = {
 *   patient: { given_name: "Ana", surname: "Diaz" },
 *   additional_attributes: [],
 *   userId,
 * };
 * store.patients.register({ now: Date.now() }, input);
 * ```
 */
export interface PatientRegistration {
  patient: Row & { id?: string | null };
  additional_attributes: (Row & { attribute_id: string })[];
  /** Recorded as `last_modified_by`. */
  userId: string;
}

/**
 * The row id for a patient's attribute: the live row already holding that
 * attribute (one row per patient and attribute, as the cloud keeps them), else
 * the id the phone sent (unless another patient's row has it), else a new one.
 */
function attributeRowId(w: LocalWriter, patientId: string, attr: Row): string {
  const held = w.query(
    `SELECT id FROM patient_additional_attributes
     WHERE patient_id = ? AND attribute_id = ? AND ${live()} ORDER BY updated_at DESC, id LIMIT 1`,
    patientId,
    attr.attribute_id,
  )[0]?.id as string | undefined;
  if (held) return held;
  const sent = typeof attr.id === "string" && attr.id ? attr.id : undefined;
  if (sent && !w.isDeleted("patient_additional_attributes", sent)) {
    const other = w.get("patient_additional_attributes", sent);
    if (!other || other.patient_id === patientId) return sent;
  }
  return crypto.randomUUID();
}

/** Creates or updates a patient and its attributes in one transaction. */
export function registerPatient(
  store: StoreParts,
  meta: LocalWriteMeta,
  input: PatientRegistration,
): { patient_id: string; attributes_count: number } {
  return writeLocal(store, meta, (w) => {
    const id = input.patient.id || crypto.randomUUID();
    w.put("patients", { ...input.patient, id, last_modified_by: input.userId });
    for (const attr of input.additional_attributes) {
      const attrId = attributeRowId(w, id, attr);
      if (attr.is_deleted === 1) {
        w.remove("patient_additional_attributes", attrId);
      } else {
        w.put("patient_additional_attributes", { ...attr, id: attrId, patient_id: id });
      }
    }
    return { patient_id: id, attributes_count: input.additional_attributes.length };
  });
}

/** Soft-deletes a patient and, with it, its attributes, visits, events, appointments, vitals, problems. */
export function deletePatient(
  store: StoreParts,
  meta: LocalWriteMeta,
  patientId: string,
): { deleted: true; patient_id: string } {
  return writeLocal(store, meta, (w) => {
    w.require("patients", patientId);
    for (const [table, column] of CASCADE) {
      const ids = w.query(`SELECT id FROM ${table} WHERE ${column} = ? AND ${live()}`, patientId);
      for (const r of ids) w.remove(table, r.id as string);
    }
    w.remove("patients", patientId);
    return { deleted: true, patient_id: patientId };
  });
}
