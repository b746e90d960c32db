/**
 * Vitals procedures: `vitals.update` (reference) and `vitals.create|list` (the
 * phone's online mode, answered in its shape).
 */
import { z } from "zod";
import {
  clinical,
  given,
  id,
  json,
  limit,
  metaOf,
  num,
  optId,
  storeOf,
  timestamp,
  userOf,
} from "./_params.ts";
import { clinics, patientOf, rowOf } from "./_scope.ts";

/** The measurement columns, each an optional number. */
const MEASUREMENTS = {
  systolic_bp: num.nullish(),
  diastolic_bp: num.nullish(),
  height_cm: num.nullish(),
  weight_kg: num.nullish(),
  bmi: num.nullish(),
  waist_circumference_cm: num.nullish(),
  heart_rate: num.nullish(),
  pulse_rate: num.nullish(),
  oxygen_saturation: num.nullish(),
  respiratory_rate: num.nullish(),
  temperature_celsius: num.nullish(),
  pain_level: num.nullish(),
  bp_position: z.string().max(100).nullish(),
};

/** `vitals.create` → `{success, id}`. */
export const createVitalsCommand = clinical({
  name: "vitals.create",
  scope: clinics(rowOf("patient_vitals"), patientOf(), rowOf("visits", "visit_id")),
  kind: "command",
  permission: "can_edit_records",
  inReference: false,
  params: z.object({
    id: optId,
    patient_id: id,
    visit_id: z.string().max(200).nullish(),
    event_id: z.string().max(200).nullish(),
    timestamp: timestamp.nullish(),
    ...MEASUREMENTS,
    recorded_by_user_id: z.string().max(200).nullish(),
    metadata: json.nullish(),
  }),
  handler: (p, ctx) => {
    const store = storeOf(ctx);
    store.records.require("patients", p.patient_id);
    const row = store.records.put(metaOf(ctx), "patient_vitals", {
      ...p,
      timestamp: p.timestamp ?? ctx.now,
      recorded_by_user_id: p.recorded_by_user_id || userOf(ctx),
      metadata: p.metadata ?? "{}",
    });
    return { success: true, id: row.id };
  },
});

/** `vitals.update {id, ...}` → `{ok, id}`; only the fields given change. */
export const updateVitalsCommand = clinical({
  name: "vitals.update",
  scope: clinics(rowOf("patient_vitals")),
  kind: "command",
  permission: "can_edit_records",
  inReference: true,
  params: z.object({
    id,
    ...MEASUREMENTS,
    metadata: json.nullish(),
    updated_at: timestamp.nullish(),
  }),
  handler: (p, ctx) => {
    const { id: vitalsId, ...changes } = p;
    storeOf(ctx).records.patch(metaOf(ctx), "patient_vitals", vitalsId, given(changes));
    return { ok: true, id: vitalsId };
  },
});

/** `vitals.list {patient_id}` → the patient's vitals, newest first (an array). */
export const listVitalsQuery = clinical({
  name: "vitals.list",
  scope: clinics(patientOf()),
  kind: "query",
  inReference: false,
  params: z.object({ patient_id: id, limit: limit(1000, 5000) }),
  handler: (p, ctx) =>
    storeOf(ctx).records.list("patient_vitals", {
      where: { patient_id: p.patient_id },
      orderBy: "timestamp DESC, id",
      limit: p.limit,
    }),
});

/** Every vitals procedure. */
export const VITALS_PROCEDURES = [createVitalsCommand, updateVitalsCommand, listVitalsQuery];
