/** `store.clinical`: the named clinical reads (appointments, pharmacy, forms) and dispensing. */
import {
  allRegistrationForms,
  eventForm,
  eventForms,
  listClinics,
  listDepartments,
  registrationForm,
} from "./_clinical_forms.ts";
import { dispensePrescriptionItem, type DispenseRequest } from "./_clinical_pharmacy.ts";
import {
  clinicInventory,
  drugAvailability,
  listAppointments,
  searchAppointments,
  searchDrugs,
  searchPrescriptions,
} from "./_clinical_search.ts";
import type { LocalWriteMeta } from "./_local.ts";
import type { StoreParts } from "./_parts.ts";
import type { Paged, Row } from "./_read.ts";

/**
 * Appointments, prescriptions, the drug catalogue, inventory and forms of a
 * Store, reached as `store.clinical`.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const form = store.clinical.registrationForm("en");
 * const drugs = store.clinical.searchDrugs({ search_term: "amox", limit: 20 });
 * ```
 */
export class Clinical {
  readonly #parts: StoreParts;

  /** Wraps the Store's parts (the Store builds it). */
  constructor(parts: StoreParts) {
    this.#parts = parts;
  }

  /** Appointments in a date range, one page. */
  listAppointments(q: Parameters<typeof listAppointments>[1]): Paged {
    return listAppointments(this.#parts.db, q);
  }

  /** Appointments of a clinic on a day matching a patient's name, one page. */
  searchAppointments(q: Parameters<typeof searchAppointments>[1]): Paged {
    return searchAppointments(this.#parts.db, q);
  }

  /** Prescriptions matching the filters, one page. */
  searchPrescriptions(q: Parameters<typeof searchPrescriptions>[1]): Paged {
    return searchPrescriptions(this.#parts.db, q);
  }

  /** Drugs of the catalogue matching the filters. */
  searchDrugs(q: Parameters<typeof searchDrugs>[1]): { data: Row[] } {
    return searchDrugs(this.#parts.db, q);
  }

  /** A clinic's inventory, optionally filtered by drug name. */
  clinicInventory(q: Parameters<typeof clinicInventory>[1]): { data: Row[] } {
    return clinicInventory(this.#parts.db, q);
  }

  /** Whether a clinic holds enough of a drug. */
  drugAvailability(
    q: Parameters<typeof drugAvailability>[1],
  ): { available: boolean; total_available: number } {
    return drugAvailability(this.#parts.db, q);
  }

  /** Dispenses a prescription item (`insufficient_stock` when a listed batch lacks it). */
  dispense(meta: LocalWriteMeta, req: DispenseRequest): { ok: true; total_dispensed: number } {
    return dispensePrescriptionItem(this.#parts, meta, req);
  }

  /** The newest registration form, in `language` when given. */
  registrationForm(language?: string | null): Row {
    return registrationForm(this.#parts.db, language);
  }

  /** Every registration form, deleted ones flagged. */
  allRegistrationForms(): { data: Row[] } {
    return allRegistrationForms(this.#parts.db);
  }

  /** Event forms, optionally for a language or clinic, with their translations on request. */
  eventForms(q: Parameters<typeof eventForms>[1] = {}): { data: Row[] } {
    return eventForms(this.#parts.db, q);
  }

  /** One event form (`not_found` when missing). */
  eventForm(formId: string): Row {
    return eventForm(this.#parts.db, formId);
  }

  /** Every live clinic. */
  listClinics(): { data: Row[] } {
    return listClinics(this.#parts.db);
  }

  /** A clinic's departments. */
  listDepartments(clinicId: string): { data: Row[] } {
    return listDepartments(this.#parts.db, clinicId);
  }
}
