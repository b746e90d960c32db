/** Table cases for every clinical command (destructive ones last). */
import assert from "node:assert/strict";
import {
  APPOINTMENT_COLUMNS,
  PRESCRIPTION_COLUMNS,
  PRESCRIPTION_ITEM_COLUMNS,
  VISIT_COLUMNS,
} from "../../store/mod.ts";
import { CLINIC, IDS, USERS } from "./_fixtures.ts";
import { type Case, DAY, keys, T0 } from "./_cases.ts";

/** Every command, with the fixtures' ids; run after the queries. */
export const COMMAND_CASES: Case[] = [
  {
    kind: "command",
    name: "register_patient",
    params: {
      patient: { id: "pat-new", given_name: "Nour", surname: "Saleh", sex: "female" },
      additional_attributes: [
        { attribute_id: IDS.attributeField, attribute: "Blood type", string_value: "A-" },
      ],
    },
    shape: (r) => assert.deepStrictEqual(r, { patient_id: "pat-new", attributes_count: 1 }),
    bad: [{ patient: { given_name: 5 } }, "patient.given_name"],
  },
  {
    kind: "command",
    name: "visits.create",
    params: { patient_id: IDS.patient, check_in_timestamp: "2026-01-11T08:00:00Z" },
    shape: (r) => {
      keys(r, ["success", "id"]);
      assert.deepStrictEqual(r.success, true);
    },
    bad: [{ patient_id: 1 }, "patient_id"],
  },
  {
    kind: "command",
    name: "visits.update",
    params: { id: IDS.visit, provider_name: "Dr B", metadata: { room: 2 } },
    shape: (r) => {
      keys(r, VISIT_COLUMNS);
      assert.deepStrictEqual(r.provider_name, "Dr B");
      assert.deepStrictEqual(r.metadata, { room: 2 });
    },
    bad: [{ id: IDS.visit, check_in_timestamp: "yesterday" }, "check_in_timestamp"],
  },
  {
    kind: "command",
    name: "create_event",
    params: {
      id: "event-new",
      patient_id: IDS.patient,
      visit_id: IDS.visit,
      form_id: IDS.eventForm,
      event_type: "vitals",
      form_data: [{ fieldId: "bp", value: "110/70" }],
      created_at: T0,
      updated_at: T0,
    },
    shape: (r) => assert.deepStrictEqual(r, { event_id: "event-new" }),
    bad: [{ patient_id: IDS.patient, form_data: 5 }, "form_data"],
  },
  {
    kind: "command",
    name: "events.create",
    params: { patient_id: IDS.patient, form_id: IDS.eventForm, form_data: [] },
    shape: (r) => {
      keys(r, ["success", "id", "visit_id"]);
      assert(r.visit_id, "a visit was opened for the event");
    },
    bad: [{ patient_id: IDS.patient, visit_id: 5 }, "visit_id"],
  },
  {
    kind: "command",
    name: "events.update",
    params: { id: IDS.event, form_data: [{ fieldId: "bp", value: "125/85" }] },
    shape: (r) => {
      assert.deepStrictEqual(r.id, IDS.event);
      assert.deepStrictEqual(r.form_data, [{ fieldId: "bp", value: "125/85" }]);
      assert.deepStrictEqual(r.is_deleted, false);
    },
    bad: [{ id: IDS.event }, "form_data"],
  },
  {
    kind: "command",
    name: "vitals.create",
    params: { patient_id: IDS.patient, timestamp: "2026-01-11T08:05:00.000Z", systolic_bp: 130 },
    shape: (r) => keys(r, ["success", "id"]),
    bad: [{ patient_id: IDS.patient, heart_rate: "fast" }, "heart_rate"],
  },
  {
    kind: "command",
    name: "vitals.update",
    params: { id: IDS.vitals, heart_rate: 70 },
    shape: (r) => assert.deepStrictEqual(r, { ok: true, id: IDS.vitals }),
    bad: [{ id: IDS.vitals, pain_level: "x" }, "pain_level"],
  },
  {
    kind: "command",
    name: "problems.create",
    params: {
      patient_id: IDS.patient,
      problem_code_system: "icd10",
      problem_code: "E11",
      problem_label: "Diabetes",
      clinical_status: "active",
      verification_status: "provisional",
      onset_date: "2025-06-01T00:00:00.000Z",
    },
    shape: (r) => keys(r, ["success", "id"]),
    bad: [{ patient_id: IDS.patient, problem_label: "x" }, "problem_code"],
  },
  {
    kind: "command",
    name: "problems.update",
    params: { id: IDS.problem, clinical_status: "resolved", severity_score: null },
    shape: (r) => {
      assert.deepStrictEqual(r.clinical_status, "resolved");
      assert.deepStrictEqual(r.severity_score, null);
    },
    bad: [{ id: IDS.problem, clinical_status: null }, "clinical_status"],
  },
  {
    kind: "command",
    name: "appointments.create",
    params: { patient_id: IDS.patient, timestamp: T0 + 3 * DAY, reason: "Check-up" },
    shape: (r) => keys(r, ["appointment_id"]),
    bad: [{ patient_id: IDS.patient }, "timestamp"],
  },
  {
    kind: "command",
    name: "appointments.update",
    params: { id: IDS.appointment, notes: "bring results" },
    shape: (r) => {
      keys(r, APPOINTMENT_COLUMNS);
      assert.deepStrictEqual(r.notes, "bring results");
    },
    bad: [{ id: IDS.appointment, duration: -5 }, "duration"],
  },
  {
    kind: "command",
    name: "appointments.complete",
    params: { id: IDS.appointment, user_id: USERS.admin.id, visit_id: IDS.visit },
    shape: (r) => assert.deepStrictEqual(r, { completed: true }),
    bad: [{ user_id: USERS.admin.id }, "id"],
  },
  {
    kind: "command",
    name: "appointments.cancel",
    params: { id: IDS.appointment },
    shape: (r) => assert.deepStrictEqual(r, { cancelled: true }),
    bad: [{ id: 1 }, "id"],
  },
  {
    kind: "command",
    name: "prescriptions.create",
    params: { patient_id: IDS.patient, visit_id: IDS.visit, items: [{ drug: IDS.drug }] },
    shape: (r) => keys(r, ["prescription_id"]),
    bad: [{ patient_id: IDS.patient, items: 5 }, "items"],
  },
  {
    kind: "command",
    name: "prescriptions.update",
    params: { id: IDS.prescription, priority: "high" },
    shape: (r) => {
      keys(r, PRESCRIPTION_COLUMNS);
      assert.deepStrictEqual(r.priority, "high");
    },
    bad: [{ id: IDS.prescription, expiration_date: {} }, "expiration_date"],
  },
  {
    kind: "command",
    name: "prescriptions.update_status",
    params: { id: IDS.prescription, status: "ready" },
    shape: (r) => assert.deepStrictEqual(r, { ok: true }),
    bad: [{ id: IDS.prescription }, "status"],
  },
  {
    kind: "command",
    name: "prescriptions.pickup",
    params: { id: IDS.prescription, provider_id: USERS.admin.id },
    shape: (r) => assert.deepStrictEqual(r, { ok: true }),
    bad: [{ provider_id: USERS.admin.id }, "id"],
  },
  {
    kind: "command",
    name: "prescription_items.create",
    params: {
      prescription_id: IDS.prescription,
      patient_id: IDS.patient,
      drug_id: IDS.drug,
      clinic_id: CLINIC.a,
      quantity_prescribed: 10,
    },
    shape: (r) => keys(r, ["id"]),
    bad: [{
      prescription_id: IDS.prescription,
      patient_id: IDS.patient,
      drug_id: IDS.drug,
      clinic_id: CLINIC.a,
      quantity_prescribed: 1.5,
    }, "quantity_prescribed"],
  },
  {
    kind: "command",
    name: "prescription_items.update",
    params: { id: IDS.item, notes: "after meals" },
    shape: (r) => {
      keys(r, PRESCRIPTION_ITEM_COLUMNS);
      assert.deepStrictEqual(r.notes, "after meals");
    },
    bad: [{ id: IDS.item, refills_used: "two" }, "refills_used"],
  },
  {
    kind: "command",
    name: "prescription_items.dispense",
    params: { id: IDS.item, provider_id: USERS.admin.id, batch_quantities: { [IDS.batch]: 5 } },
    shape: (r) => assert.deepStrictEqual(r, { ok: true, total_dispensed: 5 }),
    bad: [{ id: IDS.item, batch_quantities: {} }, "batch_quantities"],
  },
  {
    kind: "command",
    name: "dispensing.create",
    params: {
      clinic_id: CLINIC.a,
      drug_id: IDS.drug,
      patient_id: IDS.patient,
      quantity_dispensed: 2,
    },
    shape: (r) => keys(r, ["id"]),
    bad: [
      { clinic_id: CLINIC.a, drug_id: IDS.drug, patient_id: IDS.patient },
      "quantity_dispensed",
    ],
  },
  {
    kind: "command",
    name: "events.delete",
    params: { id: IDS.eventToDelete },
    shape: (r) => assert.deepStrictEqual(r, { success: true }),
    bad: [{ id: 7 }, "id"],
  },
  {
    kind: "command",
    name: "delete_patient",
    params: { patient_id: IDS.patientToDelete },
    shape: (r) => assert.deepStrictEqual(r, { deleted: true, patient_id: IDS.patientToDelete }),
    bad: [{ patient_id: [] }, "patient_id"],
  },
];
