/**
 * Fixtures for the clinical procedure tests: a real hub on a free port, users
 * with different permissions, one row of each clinical table, and logged-in
 * simulated phones. Rows are seeded as the cloud would send them (`upsertRow`,
 * source `cloud`), so they are not pending for the relay.
 */
import bcrypt from "bcryptjs";
import { Logger } from "../../core/mod.ts";
import { Hub } from "../../hub/mod.ts";
import { type Store, tableDef } from "../../store/mod.ts";
import { PhoneClient } from "../phone_client.ts";
import { storeConnection, upsertRow } from "../../store/testing.ts";

/** The password of every seeded user. */
export const PASSWORD = "fixture-password-1";

/** Clinic ids. */
export const CLINIC = { a: "clinic-a", b: "clinic-b" } as const;

const ALL_FLAGS = [
  "can_register_patients",
  "can_view_history",
  "can_edit_records",
  "can_delete_records",
  "is_clinic_admin",
  "can_edit_other_provider_event",
  "can_download_patient_reports",
  "can_prescribe_medications",
  "can_dispense_medications",
  "can_delete_patient_visits",
  "can_delete_patient_records",
] as const;

/**
 * Seeded users: `admin` holds every flag at clinic A, `nurse` may register, view
 * and edit there, `clerk` holds no flag (a permission row with every flag off),
 * `stranger` has no permission row at all.
 */
export const USERS = {
  admin: { id: "user-admin", email: "admin@clinic.test", flags: ALL_FLAGS },
  nurse: {
    id: "user-nurse",
    email: "nurse@clinic.test",
    flags: ["can_register_patients", "can_view_history", "can_edit_records"] as readonly string[],
  },
  clerk: { id: "user-clerk", email: "clerk@clinic.test", flags: [] as readonly string[] },
  stranger: { id: "user-stranger", email: "stranger@clinic.test", flags: null },
} as const;

/** Ids of the seeded clinical rows. */
export const IDS = {
  patient: "pat-1",
  patientToDelete: "pat-del",
  otherClinicPatient: "pat-b",
  attribute: "attr-1",
  visit: "visit-1",
  event: "event-1",
  eventToDelete: "event-del",
  foreignEvent: "event-foreign",
  vitals: "vitals-1",
  problem: "problem-1",
  appointment: "appt-1",
  prescription: "rx-1",
  item: "item-1",
  drug: "drug-1",
  barcode: "6001234567890",
  inventory: "inv-1",
  batch: "batch-1",
  dispensing: "disp-1",
  registrationForm: "regform-1",
  eventForm: "eform-1",
  department: "dept-1",
  attributeField: "field-blood-type",
} as const;

/** A running hub for one test file. */
export interface TestHub {
  hub: Hub;
  url: string;
  /** Stops the server, locks the hub and removes its folder. */
  close(): Promise<void>;
}

/** Starts a set-up, unlocked hub with the fixtures seeded and the LAN server on a free port. */
export async function startHub(): Promise<TestHub> {
  const dataDir = await Deno.makeTempDir({ prefix: "hub-proc-" });
  const hub = new Hub({
    dataDir,
    version: "test",
    lan: { host: "127.0.0.1", port: 0 },
    vault: { iterations: 1000, allowWeakKdfForTests: true },
    logger: new Logger({ sink: () => {} }),
  });
  await hub.init();
  await hub.setup("correct horse battery staple");
  await hub.startServer();
  seedFixtures(hub.store);
  return {
    hub,
    url: `http://127.0.0.1:${hub.server.port}`,
    close: async () => {
      await hub.shutdown();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

/** Writes rows as the cloud would (one transaction, one stamp, not pending for the relay). */
export function seed(store: Store, table: string, rows: Record<string, unknown>[]): void {
  store.transaction(() => {
    const ctx = {
      db: storeConnection(store),
      stamp: store.clock.next(),
      now: Date.now(),
      source: "cloud" as const,
    };
    for (const row of rows) upsertRow(ctx, tableDef(table), row);
  });
}

const T0 = Date.UTC(2026, 0, 10, 9, 0, 0);

function seedFixtures(store: Store): void {
  const hash = bcrypt.hashSync(PASSWORD, 4);
  seed(store, "clinics", [
    { id: CLINIC.a, name: "Clinic A", created_at: T0, updated_at: T0 },
    { id: CLINIC.b, name: "Clinic B", created_at: T0, updated_at: T0 },
  ]);
  seed(
    store,
    "users",
    Object.values(USERS).map((u) => ({
      id: u.id,
      clinic_id: CLINIC.a,
      name: u.id,
      role: "provider",
      email: u.email,
      hashed_password: hash,
      created_at: T0,
      updated_at: T0,
    })),
  );
  const perms = [];
  for (const u of Object.values(USERS)) {
    if (u.flags === null) continue;
    const row: Record<string, unknown> = {
      id: `perm-${u.id}`,
      user_id: u.id,
      clinic_id: CLINIC.a,
      created_at: T0,
      updated_at: T0,
    };
    for (const f of ALL_FLAGS) row[f] = (u.flags as readonly string[]).includes(f) ? 1 : 0;
    perms.push(row);
  }
  seed(store, "user_clinic_permissions", perms);
  const patient = (id: string, given: string, clinic: string | null, gov: string) => ({
    id,
    given_name: given,
    surname: "Haddad",
    date_of_birth: "1990-04-01",
    sex: "female",
    phone: "+961700001",
    citizenship: "LB",
    hometown: "Tyre",
    camp: "North",
    government_id: gov,
    external_patient_id: `ext-${id}`,
    primary_clinic_id: clinic,
    additional_data: {},
    metadata: {},
    created_at: T0,
    updated_at: T0,
  });
  seed(store, "patients", [
    patient(IDS.patient, "Amina", CLINIC.a, "GOV-1"),
    patient(IDS.patientToDelete, "Delia", CLINIC.a, "GOV-2"),
    patient(IDS.otherClinicPatient, "Bashir", CLINIC.b, "GOV-3"),
  ]);
  seed(store, "patient_additional_attributes", [{
    id: IDS.attribute,
    patient_id: IDS.patient,
    attribute_id: IDS.attributeField,
    attribute: "Blood type",
    string_value: "O+",
    metadata: {},
    created_at: T0,
    updated_at: T0,
  }]);
  seed(store, "registration_forms", [{
    id: IDS.registrationForm,
    name: "Registration (en)",
    fields: [
      { id: "f-given", column: "given_name", baseField: true, fieldType: "text", deleted: false },
      { id: "f-surname", column: "surname", baseField: true, fieldType: "text", deleted: false },
      { id: "f-dob", column: "date_of_birth", baseField: true, fieldType: "date", deleted: false },
      {
        id: IDS.attributeField,
        column: "blood_type",
        baseField: false,
        fieldType: "text",
        deleted: false,
      },
    ],
    metadata: {},
    created_at: T0,
    updated_at: T0,
  }]);
  seed(store, "event_forms", [{
    id: IDS.eventForm,
    name: "Vitals form",
    description: "Vitals",
    language: "en",
    is_editable: 1,
    is_snapshot_form: 0,
    form_fields: [],
    metadata: {},
    clinic_ids: [CLINIC.a],
    translations: [],
    created_at: T0,
    updated_at: T0,
  }]);
  seed(store, "clinic_departments", [{
    id: IDS.department,
    clinic_id: CLINIC.a,
    name: "Pharmacy",
    can_dispense_medications: 1,
    metadata: {},
    created_at: T0,
    updated_at: T0,
  }]);
  seed(store, "visits", [{
    id: IDS.visit,
    patient_id: IDS.patient,
    clinic_id: CLINIC.a,
    provider_id: USERS.admin.id,
    provider_name: "Dr Admin",
    check_in_timestamp: T0,
    metadata: {},
    created_at: T0,
    updated_at: T0,
  }]);
  const event = (id: string, recordedBy: string) => ({
    id,
    patient_id: IDS.patient,
    visit_id: IDS.visit,
    form_id: IDS.eventForm,
    event_type: "vitals",
    form_data: [{ fieldId: "bp", value: "120/80" }],
    metadata: {},
    recorded_by_user_id: recordedBy,
    created_at: T0,
    updated_at: T0,
  });
  seed(store, "events", [
    event(IDS.event, USERS.admin.id),
    event(IDS.eventToDelete, USERS.admin.id),
    event(IDS.foreignEvent, "someone-else"),
  ]);
  seed(store, "patient_vitals", [{
    id: IDS.vitals,
    patient_id: IDS.patient,
    visit_id: IDS.visit,
    timestamp: T0,
    systolic_bp: 120,
    diastolic_bp: 80,
    metadata: {},
    created_at: T0,
    updated_at: T0,
  }]);
  seed(store, "patient_problems", [{
    id: IDS.problem,
    patient_id: IDS.patient,
    visit_id: IDS.visit,
    problem_code_system: "icd10",
    problem_code: "I10",
    problem_label: "Hypertension",
    clinical_status: "active",
    verification_status: "confirmed",
    metadata: {},
    created_at: T0,
    updated_at: T0,
  }]);
  seed(store, "appointments", [{
    id: IDS.appointment,
    clinic_id: CLINIC.a,
    patient_id: IDS.patient,
    user_id: USERS.admin.id,
    current_visit_id: IDS.visit,
    timestamp: T0 + 86_400_000,
    reason: "Follow-up",
    notes: "",
    departments: [{ id: IDS.department, name: "Pharmacy", status: "pending" }],
    status: "pending",
    metadata: {},
    created_at: T0,
    updated_at: T0,
  }]);
  seed(store, "drug_catalogue", [{
    id: IDS.drug,
    barcode: IDS.barcode,
    generic_name: "Amoxicillin",
    brand_name: "Amoxil",
    form: "tablet",
    route: "oral",
    dosage_quantity: "500",
    dosage_units: "mg",
    sale_price: "2.50",
    is_active: 1,
    metadata: {},
    created_at: T0,
    updated_at: T0,
  }]);
  seed(store, "clinic_inventory", [{
    id: IDS.inventory,
    clinic_id: CLINIC.a,
    drug_id: IDS.drug,
    batch_id: IDS.batch,
    batch_number: "LOT-77",
    quantity_available: 100,
    reserved_quantity: 10,
    metadata: {},
    created_at: T0,
    updated_at: T0,
  }]);
  seed(store, "prescriptions", [{
    id: IDS.prescription,
    patient_id: IDS.patient,
    provider_id: USERS.admin.id,
    pickup_clinic_id: CLINIC.a,
    visit_id: IDS.visit,
    prescribed_at: T0,
    status: "pending",
    items: [],
    notes: "take with food",
    metadata: {},
    created_at: T0,
    updated_at: T0,
  }]);
  seed(store, "prescription_items", [{
    id: IDS.item,
    prescription_id: IDS.prescription,
    patient_id: IDS.patient,
    drug_id: IDS.drug,
    clinic_id: CLINIC.a,
    dosage_instructions: "1 tablet twice a day",
    quantity_prescribed: 20,
    quantity_dispensed: 0,
    metadata: {},
    created_at: T0,
    updated_at: T0,
  }]);
  seed(store, "dispensing_records", [{
    id: IDS.dispensing,
    clinic_id: CLINIC.a,
    drug_id: IDS.drug,
    patient_id: IDS.patient,
    quantity_dispensed: 5,
    dispensed_by: USERS.admin.id,
    dispensed_at: T0,
    metadata: {},
    created_at: T0,
    updated_at: T0,
  }]);
}

/** A simulated phone logged in as one of {@link USERS}. */
export async function phoneAs(
  url: string,
  user: keyof typeof USERS,
): Promise<PhoneClient> {
  const phone = new PhoneClient(url, { deviceName: `${user}-phone` });
  await phone.handshake();
  await phone.login(USERS[user].email, PASSWORD);
  return phone;
}

/** The live row count of a table (to show a call changed nothing). */
export function liveCount(store: Store, table: string): number {
  return (storeConnection(store).prepare(
    `SELECT count(*) AS n FROM "${table}" WHERE local_server_deleted_at IS NULL`,
  ).get() as { n: number }).n;
}
