/** Prescription procedures (all in the reference): create, update, status, pickup, reads. */
import { z } from "zod";
import { pick, PRESCRIPTION_COLUMNS } from "../../store/mod.ts";
import {
  clinical,
  given,
  id,
  json,
  limit,
  metaOf,
  offset,
  optId,
  storeOf,
  stringList,
  text,
  timestamp,
  userOf,
} from "./_params.ts";
import { clinicParam, clinics, patientOf, rowOf } from "./_scope.ts";

const optString = z.string().max(200).nullish();

/** The columns a prescription update may change. */
const CHANGEABLE = {
  filled_by: optString,
  pickup_clinic_id: optString,
  priority: optString,
  expiration_date: timestamp.nullish(),
  filled_at: timestamp.nullish(),
  status: optString,
  items: json.nullish(),
  notes: text,
  metadata: json.nullish(),
};

/** `prescriptions.create` → `{prescription_id}`; upsert by id. */
export const createPrescriptionCommand = clinical({
  name: "prescriptions.create",
  scope: clinics(rowOf("prescriptions"), patientOf(), rowOf("visits", "visit_id")),
  kind: "command",
  permission: "can_prescribe_medications",
  inReference: true,
  params: z.object({
    id: optId,
    patient_id: id,
    provider_id: optString,
    visit_id: optString,
    prescribed_at: timestamp.nullish(),
    ...CHANGEABLE,
    created_at: timestamp.nullish(),
    updated_at: timestamp.nullish(),
  }),
  handler: (p, ctx) => {
    const store = storeOf(ctx);
    store.records.require("patients", p.patient_id);
    const row = store.records.put(metaOf(ctx), "prescriptions", {
      ...p,
      provider_id: p.provider_id || userOf(ctx),
      prescribed_at: p.prescribed_at ?? ctx.now,
      status: p.status || "pending",
      items: p.items ?? "[]",
      notes: p.notes ?? "",
      metadata: p.metadata ?? "{}",
    });
    return { prescription_id: row.id };
  },
});

/** `prescriptions.update {id, ...}` → the whole prescription; only the fields given change. */
export const updatePrescriptionCommand = clinical({
  name: "prescriptions.update",
  scope: clinics(rowOf("prescriptions")),
  kind: "command",
  permission: "can_prescribe_medications",
  inReference: true,
  params: z.object({ id, ...CHANGEABLE, updated_at: timestamp.nullish() }),
  handler: (p, ctx) => {
    const { id: rxId, ...changes } = p;
    const row = storeOf(ctx).records.patch(metaOf(ctx), "prescriptions", rxId, given(changes));
    return pick(row, PRESCRIPTION_COLUMNS);
  },
});

/** `prescriptions.update_status {id, status}` → `{ok}`. */
export const updatePrescriptionStatusCommand = clinical({
  name: "prescriptions.update_status",
  scope: clinics(rowOf("prescriptions")),
  kind: "command",
  permission: "can_prescribe_medications",
  inReference: true,
  params: z.object({ id, status: z.string().min(1).max(200) }),
  handler: (p, ctx) => {
    storeOf(ctx).records.patch(metaOf(ctx), "prescriptions", p.id, { status: p.status });
    return { ok: true };
  },
});

/** `prescriptions.pickup {id, provider_id}` → `{ok}`; status `picked-up`, filled by and at. */
export const pickupPrescriptionCommand = clinical({
  name: "prescriptions.pickup",
  scope: clinics(rowOf("prescriptions")),
  kind: "command",
  permission: "can_dispense_medications",
  inReference: true,
  params: z.object({ id, provider_id: optString }),
  handler: (p, ctx) => {
    storeOf(ctx).records.patch(metaOf(ctx), "prescriptions", p.id, {
      status: "picked-up",
      filled_by: p.provider_id || userOf(ctx),
      filled_at: ctx.now,
    });
    return { ok: true };
  },
});

/** `prescriptions.search {search_query?, clinic_id?, status?, date?}` → a page, latest first. */
export const searchPrescriptionsQuery = clinical({
  name: "prescriptions.search",
  scope: clinics(clinicParam("clinic_id", true)),
  kind: "query",
  inReference: true,
  params: z.object({
    search_query: z.string().max(200).nullish(),
    clinic_id: optString,
    status: stringList,
    date: timestamp.nullish(),
    limit: limit(20, 200),
    offset,
  }),
  // The pickup clinic the scope checked: the one named, else the caller's.
  handler: (p, ctx) =>
    storeOf(ctx).clinical.searchPrescriptions({
      ...p,
      clinic_id: p.clinic_id || ctx.auth!.clinicId,
    }),
});

/** `prescriptions.by_patient_visit {patient_id, visit_id}` → `{data}`, latest first. */
export const prescriptionsByPatientVisitQuery = clinical({
  name: "prescriptions.by_patient_visit",
  scope: clinics(patientOf(), rowOf("visits", "visit_id")),
  kind: "query",
  inReference: true,
  params: z.object({ patient_id: id, visit_id: id, limit: limit(1000, 5000) }),
  handler: (p, ctx) => ({
    data: storeOf(ctx).records.list("prescriptions", {
      columns: PRESCRIPTION_COLUMNS,
      where: { patient_id: p.patient_id, visit_id: p.visit_id },
      orderBy: "prescribed_at DESC, id",
      limit: p.limit,
    }),
  }),
});

/** Every prescription procedure. */
export const PRESCRIPTION_PROCEDURES = [
  createPrescriptionCommand,
  updatePrescriptionCommand,
  updatePrescriptionStatusCommand,
  pickupPrescriptionCommand,
  searchPrescriptionsQuery,
  prescriptionsByPatientVisitQuery,
];
