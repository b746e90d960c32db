/**
 * The columns each clinical answer carries (the reference hub's
 * procedures-readme shapes). Bookkeeping columns never appear here.
 */

/**
 * A visit in `get_visits` / `visits.update` answers.
 *
 * @example
 * ```ts
 * import { type Store, VISIT_COLUMNS } from "./mod.ts";
 *
 * declare const store: Store;
 * const visit = store.records.get("visits", "v1", VISIT_COLUMNS);
 * ```
 */
export const VISIT_COLUMNS = [
  "id",
  "patient_id",
  "clinic_id",
  "provider_id",
  "provider_name",
  "check_in_timestamp",
  "metadata",
  "created_at",
  "updated_at",
] as const;

/**
 * An event in `get_visit_events` answers.
 *
 * @example
 * ```ts
 * import { EVENT_COLUMNS, type Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const event = store.records.get("events", "e1", EVENT_COLUMNS);
 * ```
 */
export const EVENT_COLUMNS = [
  "id",
  "patient_id",
  "form_id",
  "visit_id",
  "event_type",
  "form_data",
  "metadata",
  "created_at",
  "updated_at",
  "recorded_by_user_id",
] as const;

/**
 * An appointment in the `appointments.*` answers.
 *
 * @example
 * ```ts
 * import { APPOINTMENT_COLUMNS, type Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const row = store.records.get("appointments", "a1", APPOINTMENT_COLUMNS);
 * ```
 */
export const APPOINTMENT_COLUMNS = [
  "id",
  "provider_id",
  "clinic_id",
  "patient_id",
  "user_id",
  "current_visit_id",
  "fulfilled_visit_id",
  "timestamp",
  "duration",
  "reason",
  "notes",
  "is_walk_in",
  "departments",
  "status",
  "metadata",
  "created_at",
  "updated_at",
] as const;

/**
 * A prescription in the `prescriptions.*` answers.
 *
 * @example
 * ```ts
 * import { PRESCRIPTION_COLUMNS, type Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const rx = store.records.get("prescriptions", "rx1", PRESCRIPTION_COLUMNS);
 * ```
 */
export const PRESCRIPTION_COLUMNS = [
  "id",
  "patient_id",
  "provider_id",
  "filled_by",
  "pickup_clinic_id",
  "visit_id",
  "priority",
  "expiration_date",
  "prescribed_at",
  "filled_at",
  "status",
  "items",
  "notes",
  "metadata",
  "created_at",
  "updated_at",
] as const;

/**
 * A prescription item in the `prescription_items.*` answers.
 *
 * @example
 * ```ts
 * import { PRESCRIPTION_ITEM_COLUMNS, type Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const item = store.records.get("prescription_items", "item1", PRESCRIPTION_ITEM_COLUMNS);
 * ```
 */
export const PRESCRIPTION_ITEM_COLUMNS = [
  "id",
  "prescription_id",
  "patient_id",
  "drug_id",
  "clinic_id",
  "dosage_instructions",
  "quantity_prescribed",
  "quantity_dispensed",
  "refills_authorized",
  "refills_used",
  "item_status",
  "notes",
  "metadata",
  "created_at",
  "updated_at",
] as const;

/**
 * A drug in the `drugs.*` answers.
 *
 * @example
 * ```ts
 * import { DRUG_COLUMNS, type Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const drug = store.records.get("drug_catalogue", "d1", DRUG_COLUMNS);
 * ```
 */
export const DRUG_COLUMNS = [
  "id",
  "barcode",
  "generic_name",
  "brand_name",
  "form",
  "route",
  "dosage_quantity",
  "dosage_units",
  "manufacturer",
  "sale_price",
  "sale_currency",
  "min_stock_level",
  "max_stock_level",
  "is_controlled",
  "requires_refrigeration",
  "is_active",
  "notes",
  "metadata",
  "created_at",
  "updated_at",
] as const;

/**
 * An inventory record in the `inventory.*` answers.
 *
 * @example
 * ```ts
 * import { INVENTORY_COLUMNS, type Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const stock = store.records.get("clinic_inventory", "inv1", INVENTORY_COLUMNS);
 * ```
 */
export const INVENTORY_COLUMNS = [
  "id",
  "clinic_id",
  "drug_id",
  "batch_id",
  "batch_number",
  "batch_expiry_date",
  "quantity_available",
  "reserved_quantity",
  "last_counted_at",
  "metadata",
  "created_at",
  "updated_at",
] as const;

/**
 * A dispensing record in `dispensing.by_patient` answers.
 *
 * @example
 * ```ts
 * import { DISPENSING_COLUMNS, type Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const row = store.records.get("dispensing_records", "dr1", DISPENSING_COLUMNS);
 * ```
 */
export const DISPENSING_COLUMNS = [
  "id",
  "clinic_id",
  "drug_id",
  "batch_id",
  "prescription_item_id",
  "patient_id",
  "quantity_dispensed",
  "dosage_instructions",
  "days_supply",
  "dispensed_by",
  "dispensed_at",
  "metadata",
  "created_at",
  "updated_at",
] as const;

/**
 * A clinic in `clinics.list` answers.
 *
 * @example
 * ```ts
 * import { CLINIC_COLUMNS, pick, type Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const clinics = store.clinical.listClinics().data.map((c) => pick(c, CLINIC_COLUMNS));
 * ```
 */
export const CLINIC_COLUMNS = [
  "id",
  "name",
  "address",
  "attributes",
  "metadata",
  "created_at",
  "updated_at",
] as const;

/**
 * A department in `clinic_departments.list` answers.
 *
 * @example
 * ```ts
 * import { DEPARTMENT_COLUMNS, pick, type Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const { data } = store.clinical.listDepartments("c1");
 * const departments = data.map((d) => pick(d, DEPARTMENT_COLUMNS));
 * ```
 */
export const DEPARTMENT_COLUMNS = [
  "id",
  "clinic_id",
  "name",
  "code",
  "description",
  "status",
  "can_dispense_medications",
  "can_perform_labs",
  "can_perform_imaging",
  "additional_capabilities",
  "metadata",
  "created_at",
  "updated_at",
] as const;

/**
 * An event form in the event-form answers (`translations` only where documented).
 *
 * @example
 * ```ts
 * import { EVENT_FORM_COLUMNS, pick, type Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const forms = store.clinical.eventForms().data.map((f) => pick(f, EVENT_FORM_COLUMNS));
 * ```
 */
export const EVENT_FORM_COLUMNS = [
  "id",
  "name",
  "description",
  "language",
  "is_editable",
  "is_snapshot_form",
  "form_fields",
  "metadata",
  "created_at",
  "updated_at",
  "clinic_ids",
] as const;

/**
 * A registration form in the registration-form answers.
 *
 * @example
 * ```ts
 * import { pick, REGISTRATION_FORM_COLUMNS, type Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const form = pick(store.clinical.registrationForm("en"), REGISTRATION_FORM_COLUMNS);
 * ```
 */
export const REGISTRATION_FORM_COLUMNS = [
  "id",
  "name",
  "fields",
  "metadata",
  "created_at",
  "updated_at",
] as const;
