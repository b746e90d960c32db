/** Table cases for every clinical query (read-only; run before the commands). */
import assert from "node:assert/strict";
import {
  APPOINTMENT_COLUMNS,
  CLINIC_COLUMNS,
  DEPARTMENT_COLUMNS,
  DISPENSING_COLUMNS,
  DRUG_COLUMNS,
  EVENT_COLUMNS,
  EVENT_FORM_COLUMNS,
  INVENTORY_COLUMNS,
  PRESCRIPTION_COLUMNS,
  PRESCRIPTION_ITEM_COLUMNS,
  REGISTRATION_FORM_COLUMNS,
  VISIT_COLUMNS,
} from "../../store/mod.ts";
import { CLINIC, IDS } from "./_fixtures.ts";
import { type Any, type Case, dataOf, DAY, keys, paged, PATIENT_LIST, T0 } from "./_cases.ts";

/** Every query, with the fixtures' ids. */
export const QUERY_CASES: Case[] = [
  {
    kind: "query",
    name: "get_patient",
    params: { patient_id: IDS.patient },
    shape: (r) => {
      keys(r, ["fields", "values"]);
      assert.deepStrictEqual(r.values["f-given"], "Amina");
      assert.deepStrictEqual(r.values[IDS.attributeField], "O+");
    },
    bad: [{ patient_id: 5 }, "patient_id"],
  },
  {
    kind: "query",
    name: "search_patients",
    params: { filters: { given_name: "MIN", sex: "fem" } },
    shape: (r) => assert.deepStrictEqual(paged(r, PATIENT_LIST, 1)[0].id, IDS.patient),
    bad: [{ filters: { given_name: {} } }, "filters.given_name"],
  },
  {
    kind: "query",
    name: "get_patients",
    params: { limit: 1 },
    shape: (r) => {
      // Clinic B's patient is out of scope (no permission row there).
      assert.deepStrictEqual(paged(r, PATIENT_LIST, 2).length, 1);
      assert.deepStrictEqual(r.limit, 1);
    },
    bad: [{ limit: 0 }, "limit"],
  },
  {
    kind: "query",
    name: "check_government_id",
    params: { government_id: "GOV-1" },
    shape: (r) => assert.deepStrictEqual(r, { exists: true }),
    bad: [{}, "government_id"],
  },
  {
    kind: "query",
    name: "patients.similar",
    params: { given_name: "Amena", surname: "Hadad" },
    shape: (r) => {
      keys(r, ["data"]);
      assert.deepStrictEqual(r.data[0].id, IDS.patient);
    },
    bad: [{ given_name: "a", surname: "b", limit: 500 }, "limit"],
  },
  {
    kind: "query",
    name: "get_visits",
    params: { patient_id: IDS.patient },
    shape: (r) => assert.deepStrictEqual(dataOf(r, VISIT_COLUMNS, 1)[0].check_in_timestamp, T0),
    bad: [{ patient_id: "" }, "patient_id"],
  },
  {
    kind: "query",
    name: "get_visit_events",
    params: { patient_id: IDS.patient, visit_id: IDS.visit },
    shape: (r) => assert.ok(Array.isArray(dataOf(r, EVENT_COLUMNS, 3)[0].form_data)),
    bad: [{ patient_id: IDS.patient }, "visit_id"],
  },
  {
    kind: "query",
    name: "get_patient_registration_form",
    params: {},
    shape: (r) => keys(r, REGISTRATION_FORM_COLUMNS),
  },
  {
    kind: "query",
    name: "get_all_registration_forms",
    params: {},
    shape: (r) => dataOf(r, [...REGISTRATION_FORM_COLUMNS, "is_deleted"], 1),
  },
  {
    kind: "query",
    name: "registration_form.get",
    params: { language: "en" },
    shape: (r) => assert.deepStrictEqual(r.id, IDS.registrationForm),
    bad: [{ language: 5 }, "language"],
  },
  {
    kind: "query",
    name: "get_event_forms",
    params: {},
    shape: (r) => assert.deepStrictEqual(dataOf(r, EVENT_FORM_COLUMNS, 1)[0].is_editable, true),
  },
  {
    kind: "query",
    name: "event_forms.list",
    params: { clinic_id: CLINIC.a, language: "en" },
    shape: (r) => dataOf(r, [...EVENT_FORM_COLUMNS, "translations"], 1),
    bad: [{ clinic_id: 1 }, "clinic_id"],
  },
  {
    kind: "query",
    name: "get_event_form",
    params: { form_id: IDS.eventForm },
    shape: (r) => {
      keys(r, [...EVENT_FORM_COLUMNS, "translations"]);
      assert.deepStrictEqual(r.is_snapshot_form, false);
    },
    bad: [{}, "form_id"],
  },
  {
    kind: "query",
    name: "clinics.list",
    params: {},
    shape: (r) => dataOf(r, CLINIC_COLUMNS, 2),
  },
  {
    kind: "query",
    name: "clinic_departments.list",
    params: { clinic_id: CLINIC.a },
    shape: (r) => dataOf(r, DEPARTMENT_COLUMNS, 1),
    bad: [{}, "clinic_id"],
  },
  {
    kind: "query",
    name: "appointments.list",
    params: { start_date: T0, end_date: new Date(T0 + 2 * DAY).toISOString(), clinic_id: CLINIC.a },
    shape: (r) => paged(r, APPOINTMENT_COLUMNS, 1),
    bad: [{ start_date: "not a date", end_date: T0 }, "start_date"],
  },
  {
    kind: "query",
    name: "appointments.get",
    params: { id: IDS.appointment },
    shape: (r) => keys(r, APPOINTMENT_COLUMNS),
    bad: [{ id: null }, "id"],
  },
  {
    kind: "query",
    name: "appointments.by_patient",
    params: { patient_id: IDS.patient },
    shape: (r) => dataOf(r, APPOINTMENT_COLUMNS, 1),
    bad: [{ patient_id: 3 }, "patient_id"],
  },
  {
    kind: "query",
    name: "appointments.search",
    params: {
      search_query: "amin",
      clinic_id: CLINIC.a,
      date: T0,
      department_ids: [IDS.department],
      status: ["pending"],
    },
    shape: (r) => paged(r, APPOINTMENT_COLUMNS, 1),
    bad: [{ clinic_id: CLINIC.a, date: T0, status: "pending" }, "status"],
  },
  {
    kind: "query",
    name: "prescriptions.search",
    params: { search_query: "food", status: ["pending"], clinic_id: CLINIC.a },
    shape: (r) => paged(r, PRESCRIPTION_COLUMNS, 1),
    bad: [{ limit: 1000 }, "limit"],
  },
  {
    kind: "query",
    name: "prescriptions.by_patient_visit",
    params: { patient_id: IDS.patient, visit_id: IDS.visit },
    shape: (r) => dataOf(r, PRESCRIPTION_COLUMNS, 1),
    bad: [{ visit_id: IDS.visit }, "patient_id"],
  },
  {
    kind: "query",
    name: "prescription_items.by_prescription",
    params: { prescription_id: IDS.prescription },
    shape: (r) => dataOf(r, PRESCRIPTION_ITEM_COLUMNS, 1),
    bad: [{ prescription_id: false }, "prescription_id"],
  },
  {
    kind: "query",
    name: "prescription_items.by_patient",
    params: { patient_id: IDS.patient },
    shape: (r) => dataOf(r, PRESCRIPTION_ITEM_COLUMNS, 1),
    bad: [{}, "patient_id"],
  },
  {
    kind: "query",
    name: "drugs.search",
    params: { search_term: "AMOX", route: "oral", is_active: true },
    shape: (r) => dataOf(r, DRUG_COLUMNS, 1),
    bad: [{ is_active: "yes" }, "is_active"],
  },
  {
    kind: "query",
    name: "drugs.get",
    params: { id: IDS.drug },
    shape: (r) => keys(r, DRUG_COLUMNS),
    bad: [{}, "id"],
  },
  {
    kind: "query",
    name: "drugs.by_barcode",
    params: { barcode: IDS.barcode },
    shape: (r) => assert.deepStrictEqual(r.id, IDS.drug),
    bad: [{ barcode: 123 }, "barcode"],
  },
  {
    kind: "query",
    name: "inventory.by_clinic",
    params: { clinic_id: CLINIC.a },
    shape: (r) => dataOf(r, INVENTORY_COLUMNS, 1),
    bad: [{}, "clinic_id"],
  },
  {
    kind: "query",
    name: "inventory.search",
    params: { clinic_id: CLINIC.a, search_term: "amoxil" },
    shape: (r) => dataOf(r, INVENTORY_COLUMNS, 1),
    bad: [{ clinic_id: CLINIC.a }, "search_term"],
  },
  {
    kind: "query",
    name: "inventory.check_availability",
    params: { drug_id: IDS.drug, clinic_id: CLINIC.a, required_quantity: 50 },
    shape: (r) => assert.deepStrictEqual(r, { available: true, total_available: 90 }),
    bad: [{ drug_id: IDS.drug, clinic_id: CLINIC.a, required_quantity: -1 }, "required_quantity"],
  },
  {
    kind: "query",
    name: "dispensing.by_patient",
    params: { patient_id: IDS.patient },
    shape: (r) => dataOf(r, DISPENSING_COLUMNS, 1),
    bad: [{ patient_id: {} }, "patient_id"],
  },
  {
    kind: "query",
    name: "events.by_form",
    params: { form_id: IDS.eventForm, patient_id: IDS.patient },
    shape: (r) => {
      assert(Array.isArray(r));
      assert.deepStrictEqual(r.length, 3);
      assert.deepStrictEqual(r[0].form_data, [{ fieldId: "bp", value: "120/80" }]);
      assert.deepStrictEqual(r[0].is_deleted, false);
    },
    bad: [{ patient_id: IDS.patient }, "form_id"],
  },
  {
    kind: "query",
    name: "vitals.list",
    params: { patient_id: IDS.patient },
    shape: (r) => {
      assert.deepStrictEqual(r.length, 1);
      assert.deepStrictEqual(r[0].systolic_bp, 120);
      assert.deepStrictEqual(r[0].metadata, {});
    },
    bad: [{ patient_id: null }, "patient_id"],
  },
  {
    kind: "query",
    name: "problems.list",
    params: { patient_id: IDS.patient },
    shape: (r) => assert.deepStrictEqual(r.map((p: Any) => p.problem_code), ["I10"]),
    bad: [{ patient_id: IDS.patient, limit: "all" }, "limit"],
  },
  {
    kind: "query",
    name: "problems.get",
    params: { id: IDS.problem },
    shape: (r) => {
      assert.deepStrictEqual(r.problem_label, "Hypertension");
      assert.deepStrictEqual(r.is_deleted, false);
    },
    bad: [{ id: "" }, "id"],
  },
];
