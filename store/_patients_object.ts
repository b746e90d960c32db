/** `store.patients`: patient search, records and registration, for the procedures. */
import {
  governmentIdExists,
  listPatients,
  patientClinic,
  patientRecord,
  type PatientSearch,
  searchPatients,
  similarPatients,
} from "./_clinical_patients.ts";
import {
  deletePatient,
  type PatientRegistration,
  registerPatient,
} from "./_clinical_patient_writes.ts";
import type { LocalWriteMeta } from "./_local.ts";
import type { StoreParts } from "./_parts.ts";
import type { Paged, Row } from "./_read.ts";

/**
 * The patients of a Store, reached as `store.patients`.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const filters = { surname: "Diaz" };
 * const page = store.patients.search({ filters, limit: 20, offset: 0, clinicIds: ["c1"] });
 * ```
 */
export class Patients {
  readonly #parts: StoreParts;

  /** Wraps the Store's parts (the Store builds it). */
  constructor(parts: StoreParts) {
    this.#parts = parts;
  }

  /** Patients matching the search, one page. */
  search(q: PatientSearch): Paged {
    return searchPatients(this.#parts.db, q);
  }

  /** Patients of the given clinics, one page. */
  list(q: { limit: number; offset: number; clinicIds: readonly string[] }): Paged {
    return listPatients(this.#parts.db, q);
  }

  /** True when a live patient has this government id. */
  governmentIdExists(governmentId: string): boolean {
    return governmentIdExists(this.#parts.db, governmentId);
  }

  /** Patients whose names are close to the given ones (possible duplicates). */
  similar(
    q: { given_name: string; surname: string; limit: number; clinicIds: readonly string[] },
  ): { data: Row[] } {
    return similarPatients(this.#parts.db, q);
  }

  /** The patient's primary clinic, or undefined when there is no live patient. */
  clinic(patientId: string): { clinicId: string | null } | undefined {
    return patientClinic(this.#parts.db, patientId);
  }

  /** The patient as the registration form shows it (`not_found` when missing). */
  record(patientId: string): { fields: unknown[]; values: Record<string, unknown> } {
    return patientRecord(this.#parts.db, patientId);
  }

  /** Creates or updates a patient and its attributes in one transaction. */
  register(
    meta: LocalWriteMeta,
    input: PatientRegistration,
  ): { patient_id: string; attributes_count: number } {
    return registerPatient(this.#parts, meta, input);
  }

  /** Soft-deletes a patient and everything recorded about it. */
  delete(meta: LocalWriteMeta, patientId: string): { deleted: true; patient_id: string } {
    return deletePatient(this.#parts, meta, patientId);
  }
}
