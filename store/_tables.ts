/**
 * The synced tables and their data columns (the reference hub's schema, see
 * shared/reference/hub-tables.md). Each entry is `name TYPE [pk] [nn] [=default]`.
 * The hub's bookkeeping columns (`local_server_*`) are added by the migration,
 * never listed here, and never sent to a client.
 */
export const TABLE_COLUMNS: Record<string, string> = {
  patients:
    "id TEXT pk, given_name TEXT, surname TEXT, date_of_birth TEXT, citizenship TEXT, hometown TEXT, phone TEXT, sex TEXT, camp TEXT, additional_data TEXT nn, metadata TEXT nn, photo_url TEXT, image_timestamp INTEGER, is_deleted INTEGER =0, deleted_at INTEGER, created_at INTEGER, updated_at INTEGER, government_id TEXT, external_patient_id TEXT, primary_clinic_id TEXT, last_modified_by TEXT, last_modified INTEGER, server_created_at INTEGER",
  users:
    "id TEXT pk, clinic_id TEXT, name TEXT nn, role TEXT nn, email TEXT nn, hashed_password TEXT nn, instance_url TEXT, created_at INTEGER, updated_at INTEGER, is_deleted INTEGER =0, deleted_at INTEGER, last_modified INTEGER, server_created_at INTEGER",
  clinics:
    "id TEXT pk, name TEXT, updated_at INTEGER, created_at INTEGER, is_deleted INTEGER =0, deleted_at INTEGER, is_archived INTEGER nn =0, attributes TEXT nn ='[]', metadata TEXT nn ='{}', address TEXT, last_modified INTEGER, server_created_at INTEGER",
  events:
    "id TEXT pk, patient_id TEXT, form_id TEXT, visit_id TEXT, event_type TEXT, form_data TEXT nn, metadata TEXT nn, is_deleted INTEGER =0, deleted_at INTEGER, created_at INTEGER, updated_at INTEGER, recorded_by_user_id TEXT, last_modified INTEGER, server_created_at INTEGER",
  event_forms:
    "id TEXT pk, name TEXT, description TEXT, language TEXT nn, is_editable INTEGER =0, is_snapshot_form INTEGER =0, form_fields TEXT nn, metadata TEXT nn, is_deleted INTEGER =0, deleted_at INTEGER, created_at INTEGER, updated_at INTEGER, clinic_ids TEXT, translations TEXT, last_modified INTEGER, server_created_at INTEGER",
  visits:
    "id TEXT pk, patient_id TEXT, clinic_id TEXT, provider_id TEXT, provider_name TEXT, check_in_timestamp INTEGER, metadata TEXT nn, is_deleted INTEGER =0, deleted_at INTEGER, created_at INTEGER, updated_at INTEGER, last_modified INTEGER, server_created_at INTEGER",
  registration_forms:
    "id TEXT pk, clinic_id TEXT, name TEXT nn, fields TEXT nn, metadata TEXT nn, is_deleted INTEGER =0, deleted_at INTEGER, created_at INTEGER, updated_at INTEGER, last_modified INTEGER, server_created_at INTEGER",
  patient_additional_attributes:
    "id TEXT pk, patient_id TEXT nn, attribute_id TEXT nn, attribute TEXT nn, number_value REAL, string_value TEXT, date_value INTEGER, boolean_value INTEGER, metadata TEXT nn, is_deleted INTEGER nn =0, created_at INTEGER nn, updated_at INTEGER nn, last_modified INTEGER nn, server_created_at INTEGER nn, deleted_at INTEGER",
  appointments:
    "id TEXT pk, provider_id TEXT, clinic_id TEXT nn, patient_id TEXT nn, user_id TEXT nn, current_visit_id TEXT nn, fulfilled_visit_id TEXT, timestamp INTEGER nn, duration INTEGER, reason TEXT nn, notes TEXT nn, is_walk_in INTEGER nn =0, departments TEXT nn, status TEXT nn, metadata TEXT nn, is_deleted INTEGER nn =0, created_at INTEGER nn, updated_at INTEGER nn, last_modified INTEGER nn, server_created_at INTEGER nn, deleted_at INTEGER",
  prescriptions:
    "id TEXT pk, patient_id TEXT nn, provider_id TEXT nn, filled_by TEXT, pickup_clinic_id TEXT, visit_id TEXT, priority TEXT, expiration_date INTEGER, prescribed_at INTEGER nn, filled_at INTEGER, status TEXT nn, items TEXT nn, notes TEXT nn, metadata TEXT nn, is_deleted INTEGER nn =0, created_at INTEGER nn, updated_at INTEGER nn, last_modified INTEGER nn, server_created_at INTEGER nn, deleted_at INTEGER",
  patient_vitals:
    "id TEXT pk, patient_id TEXT nn, visit_id TEXT, timestamp INTEGER nn, systolic_bp REAL, diastolic_bp REAL, bp_position TEXT, height_cm REAL, weight_kg REAL, bmi REAL, waist_circumference_cm REAL, heart_rate REAL, pulse_rate REAL, oxygen_saturation REAL, respiratory_rate REAL, temperature_celsius REAL, pain_level REAL, recorded_by_user_id TEXT, metadata TEXT nn, is_deleted INTEGER nn =0, created_at INTEGER nn, updated_at INTEGER nn, last_modified INTEGER nn, server_created_at INTEGER nn, deleted_at INTEGER, event_id TEXT",
  user_clinic_permissions:
    "id TEXT pk, user_id TEXT nn, clinic_id TEXT nn, can_register_patients INTEGER =0, can_view_history INTEGER =0, can_edit_records INTEGER =0, can_delete_records INTEGER =0, is_clinic_admin INTEGER =0, created_by TEXT, last_modified_by TEXT, created_at INTEGER, updated_at INTEGER, can_edit_other_provider_event INTEGER =0, can_download_patient_reports INTEGER =0, can_prescribe_medications INTEGER =0, can_dispense_medications INTEGER =0, can_delete_patient_visits INTEGER =0, can_delete_patient_records INTEGER =0",
  app_config:
    "id TEXT pk, namespace TEXT nn, key TEXT nn, value TEXT, data_type TEXT nn, created_at INTEGER, updated_at INTEGER, last_modified INTEGER, last_modified_by TEXT, display_name TEXT",
  patient_problems:
    "id TEXT pk, patient_id TEXT nn, visit_id TEXT, problem_code_system TEXT nn, problem_code TEXT nn, problem_label TEXT nn, clinical_status TEXT nn, verification_status TEXT nn, severity_score REAL, onset_date INTEGER, end_date INTEGER, recorded_by_user_id TEXT, metadata TEXT nn, is_deleted INTEGER nn =0, created_at INTEGER nn, updated_at INTEGER nn, last_modified INTEGER nn, server_created_at INTEGER nn, deleted_at INTEGER",
  clinic_departments:
    "id TEXT pk, clinic_id TEXT nn, name TEXT nn, code TEXT, description TEXT, status TEXT, can_dispense_medications INTEGER nn =0, can_perform_labs INTEGER nn =0, can_perform_imaging INTEGER nn =0, additional_capabilities TEXT, metadata TEXT nn, is_deleted INTEGER =0, created_at INTEGER, updated_at INTEGER, last_modified INTEGER, server_created_at INTEGER, deleted_at INTEGER",
  drug_catalogue:
    "id TEXT pk, barcode TEXT, generic_name TEXT nn, brand_name TEXT, form TEXT nn, route TEXT nn, dosage_quantity TEXT nn, dosage_units TEXT nn, manufacturer TEXT, sale_price TEXT nn, sale_currency TEXT, min_stock_level INTEGER, max_stock_level INTEGER, is_controlled INTEGER =0, requires_refrigeration INTEGER =0, is_active INTEGER =0, notes TEXT, recorded_by_user_id TEXT, metadata TEXT nn, is_deleted INTEGER nn =0, deleted_at INTEGER, last_modified INTEGER nn, server_created_at INTEGER, created_at INTEGER nn, updated_at INTEGER nn",
  clinic_inventory:
    "id TEXT pk, clinic_id TEXT nn, drug_id TEXT nn, batch_id TEXT nn, quantity_available INTEGER nn, reserved_quantity INTEGER, last_counted_at INTEGER, recorded_by_user_id TEXT, metadata TEXT nn, is_deleted INTEGER nn =0, deleted_at INTEGER, last_modified INTEGER nn, server_created_at INTEGER, created_at INTEGER nn, updated_at INTEGER nn, batch_number TEXT, batch_expiry_date INTEGER",
  prescription_items:
    "id TEXT pk, prescription_id TEXT nn, patient_id TEXT nn, drug_id TEXT nn, clinic_id TEXT nn, dosage_instructions TEXT nn, quantity_prescribed INTEGER nn, quantity_dispensed INTEGER, refills_authorized INTEGER, refills_used INTEGER, item_status TEXT, notes TEXT, created_at INTEGER nn, updated_at INTEGER nn, recorded_by_user_id TEXT, metadata TEXT nn, is_deleted INTEGER nn =0, deleted_at INTEGER, last_modified INTEGER nn, server_created_at INTEGER",
  dispensing_records:
    "id TEXT pk, clinic_id TEXT nn, drug_id TEXT nn, batch_id TEXT, prescription_item_id TEXT, patient_id TEXT nn, quantity_dispensed INTEGER nn, dosage_instructions TEXT, days_supply INTEGER, dispensed_by TEXT nn, dispensed_at INTEGER nn, recorded_by_user_id TEXT, metadata TEXT nn, is_deleted INTEGER nn =0, deleted_at INTEGER, last_modified INTEGER nn, server_created_at INTEGER, created_at INTEGER nn, updated_at INTEGER nn",
  event_logs:
    "id TEXT pk, transaction_id TEXT nn, action_type TEXT nn, table_name TEXT nn, row_id TEXT nn, changes TEXT nn, device_id TEXT nn, app_id TEXT nn, user_id TEXT nn, ip_address TEXT, hash TEXT nn, hash_verified INTEGER =0, metadata TEXT, synced INTEGER nn =0, is_deleted INTEGER nn =0, created_at INTEGER nn, updated_at INTEGER nn, last_modified INTEGER nn, server_created_at INTEGER nn, deleted_at INTEGER",
  peers:
    "id TEXT pk, peer_id TEXT nn, name TEXT nn, ip_address TEXT, port INTEGER, public_key TEXT nn, last_synced_at INTEGER, peer_type TEXT nn, is_leader INTEGER nn =0, status TEXT nn, protocol_version TEXT nn, metadata TEXT, created_at INTEGER nn, updated_at INTEGER nn",
  patient_allergies:
    "id TEXT pk, patient_id TEXT nn, allergen_code_system TEXT, allergen_code TEXT, allergen_label TEXT, allergy_type TEXT, clinical_status TEXT nn, verification_status TEXT nn, severity TEXT, onset_date INTEGER, end_date INTEGER, recorded_by_user_id TEXT, metadata TEXT nn, is_deleted INTEGER nn =0, created_at INTEGER nn, updated_at INTEGER nn, last_modified INTEGER nn, server_created_at INTEGER nn, deleted_at INTEGER",
  patient_allergy_reactions:
    "id TEXT pk, allergy_id TEXT nn, reaction_manifestation_code TEXT, reaction_manifestation_label TEXT nn, description TEXT, severity TEXT, metadata TEXT nn, is_deleted INTEGER nn =0, created_at INTEGER nn, updated_at INTEGER nn, last_modified INTEGER nn, server_created_at INTEGER nn, deleted_at INTEGER",
  patient_observations:
    "id TEXT pk, patient_id TEXT nn, visit_id TEXT, timestamp INTEGER nn, observation_code_system TEXT, observation_code TEXT nn, observation_label TEXT, value_string TEXT, value_numeric REAL, value_boolean INTEGER, value_datetime INTEGER, value_code TEXT, value_unit TEXT, recorded_by_user_id TEXT, metadata TEXT nn, is_deleted INTEGER nn =0, created_at INTEGER nn, updated_at INTEGER nn, last_modified INTEGER nn, server_created_at INTEGER nn, deleted_at INTEGER",
  patient_tobacco_history:
    "id TEXT pk, patient_id TEXT nn, smoking_status TEXT nn, type TEXT, packs_per_day REAL, start_date INTEGER, quit_date INTEGER, recorded_by_user_id TEXT, metadata TEXT nn, is_deleted INTEGER nn =0, created_at INTEGER nn, updated_at INTEGER nn, last_modified INTEGER nn, server_created_at INTEGER nn, deleted_at INTEGER",
  drug_batches:
    "id TEXT pk, drug_id TEXT nn, batch_number TEXT nn, expiry_date INTEGER nn, manufacture_date INTEGER, quantity_received INTEGER nn, quantity_remaining INTEGER nn, supplier_name TEXT, purchase_price TEXT, purchase_currency TEXT, received_date INTEGER nn, is_quarantined INTEGER =0, recorded_by_user_id TEXT, metadata TEXT nn, is_deleted INTEGER nn =0, created_at INTEGER nn, updated_at INTEGER nn, last_modified INTEGER nn, server_created_at INTEGER nn, deleted_at INTEGER",
  inventory_transactions:
    "id TEXT pk, clinic_id TEXT nn, drug_id TEXT nn, batch_id TEXT, transaction_type TEXT nn, quantity INTEGER nn, balance_after INTEGER nn, reference_type TEXT, reference_id TEXT, reason TEXT, performed_by TEXT, timestamp INTEGER nn, created_at INTEGER nn, updated_at INTEGER nn",
  resources:
    "id TEXT pk, description TEXT, store TEXT nn, store_version TEXT nn, uri TEXT nn, hash TEXT, mimetype TEXT nn, is_deleted INTEGER nn =0, created_at INTEGER, updated_at INTEGER, last_modified INTEGER, server_created_at INTEGER, deleted_at INTEGER",
};

/** Secondary indexes of the reference (table: column). */
export const REFERENCE_INDEXES: [string, string][] = [
  ["patients", "primary_clinic_id"],
  ["events", "patient_id"],
  ["events", "visit_id"],
  ["visits", "patient_id"],
  ["patient_additional_attributes", "patient_id"],
  ["patient_additional_attributes", "attribute_id"],
  ["appointments", "clinic_id"],
  ["appointments", "patient_id"],
  ["appointments", "timestamp"],
  ["prescriptions", "patient_id"],
  ["patient_vitals", "patient_id"],
  ["user_clinic_permissions", "user_id"],
  ["user_clinic_permissions", "clinic_id"],
  ["patient_problems", "patient_id"],
  ["clinic_departments", "clinic_id"],
  ["drug_catalogue", "barcode"],
  ["clinic_inventory", "drug_id"],
  ["prescription_items", "prescription_id"],
  ["prescription_items", "patient_id"],
  ["prescription_items", "drug_id"],
  ["dispensing_records", "clinic_id"],
  ["dispensing_records", "drug_id"],
  ["dispensing_records", "prescription_item_id"],
  ["dispensing_records", "patient_id"],
  ["dispensing_records", "dispensed_by"],
  ["dispensing_records", "dispensed_at"],
  ["peers", "peer_id"],
  ["patient_allergies", "patient_id"],
  ["patient_allergy_reactions", "allergy_id"],
  ["patient_observations", "patient_id"],
  ["patient_tobacco_history", "patient_id"],
  ["drug_batches", "drug_id"],
  ["inventory_transactions", "clinic_id"],
  ["inventory_transactions", "drug_id"],
];
