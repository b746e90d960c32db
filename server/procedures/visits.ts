/** Visit procedures: `get_visits`, `visits.update` (reference) and `visits.create` (phone). */
import { z } from "zod";
import { pick, VISIT_COLUMNS } from "../../store/mod.ts";
import {
  clinical,
  given,
  id,
  json,
  limit,
  metaOf,
  optId,
  storeOf,
  text,
  timestamp,
  userOf,
} from "./_params.ts";
import { clinicParam, clinics, patientOf, rowOf } from "./_scope.ts";

/** `visits.create` → `{success, id}`; clinic and provider default to the caller's. */
export const createVisitCommand = clinical({
  name: "visits.create",
  scope: clinics(rowOf("visits"), patientOf(), clinicParam("clinic_id", true)),
  kind: "command",
  permission: "can_edit_records",
  inReference: false,
  params: z.object({
    id: optId,
    patient_id: id,
    clinic_id: z.string().max(200).nullish(),
    provider_id: z.string().max(200).nullish(),
    provider_name: text,
    check_in_timestamp: timestamp.nullish(),
    metadata: json.nullish(),
  }),
  handler: (p, ctx) => {
    const store = storeOf(ctx);
    store.records.require("patients", p.patient_id);
    const clinicId = p.clinic_id || ctx.auth!.clinicId;
    const row = store.records.put(metaOf(ctx), "visits", {
      id: p.id,
      patient_id: p.patient_id,
      clinic_id: clinicId,
      provider_id: p.provider_id || userOf(ctx),
      provider_name: p.provider_name ?? null,
      check_in_timestamp: p.check_in_timestamp ?? ctx.now,
      metadata: p.metadata ?? "{}",
    });
    return { success: true, id: row.id };
  },
});

/** `visits.update {id, ...}` → the whole visit; only the fields given change. */
export const updateVisitCommand = clinical({
  name: "visits.update",
  scope: clinics(rowOf("visits"), clinicParam()),
  kind: "command",
  permission: "can_edit_records",
  inReference: true,
  params: z.object({
    id,
    provider_id: z.string().max(200).nullish(),
    provider_name: text,
    check_in_timestamp: timestamp.nullish(),
    metadata: json.nullish(),
    clinic_id: z.string().max(200).nullish(),
    updated_at: timestamp.nullish(),
  }),
  handler: (p, ctx) => {
    // As in the reference, null means "leave as is" for these fields.
    const { id: visitId, ...changes } = p;
    const row = storeOf(ctx).records.patch(metaOf(ctx), "visits", visitId, given(changes));
    return pick(row, VISIT_COLUMNS);
  },
});

/** `get_visits {patient_id}` → `{data}`, latest check-in first. */
export const getVisitsQuery = clinical({
  name: "get_visits",
  scope: clinics(patientOf()),
  kind: "query",
  inReference: true,
  params: z.object({ patient_id: id, limit: limit(1000, 5000) }),
  handler: (p, ctx) => ({
    data: storeOf(ctx).records.list("visits", {
      columns: VISIT_COLUMNS,
      where: { patient_id: p.patient_id },
      orderBy: "check_in_timestamp DESC, created_at DESC, id",
      limit: p.limit,
    }),
  }),
});

/** Every visit procedure. */
export const VISIT_PROCEDURES = [createVisitCommand, updateVisitCommand, getVisitsQuery];
