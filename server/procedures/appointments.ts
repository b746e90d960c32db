/** Appointment procedures (all in the reference): create, update, cancel, complete, reads. */
import { z } from "zod";
import { APPOINTMENT_COLUMNS, pick } from "../../store/mod.ts";
import {
  clinical,
  count,
  flag,
  given,
  id,
  json,
  limit,
  metaOf,
  offset,
  optId,
  orNull,
  storeOf,
  stringList,
  text,
  timestamp,
  userOf,
} from "./_params.ts";
import { clinicParam, clinics, patientOf, rowOf } from "./_scope.ts";

const optString = z.string().max(200).nullish();
const PAGE = { def: 20, max: 200 } as const;

/** `appointments.create` → `{appointment_id}`; upsert by id. */
export const createAppointmentCommand = clinical({
  name: "appointments.create",
  scope: clinics(rowOf("appointments"), patientOf(), clinicParam("clinic_id", true)),
  kind: "command",
  permission: "can_edit_records",
  inReference: true,
  params: z.object({
    id: optId,
    provider_id: optString,
    clinic_id: optString,
    patient_id: id,
    user_id: optString,
    current_visit_id: optString,
    fulfilled_visit_id: optString,
    timestamp,
    duration: count.nullish(),
    reason: text,
    notes: text,
    is_walk_in: flag.nullish(),
    departments: json.nullish(),
    status: optString,
    metadata: json.nullish(),
    created_at: timestamp.nullish(),
    updated_at: timestamp.nullish(),
  }),
  handler: (p, ctx) => {
    const store = storeOf(ctx);
    const clinicId = p.clinic_id || ctx.auth!.clinicId;
    store.records.require("patients", p.patient_id);
    const row = store.records.put(metaOf(ctx), "appointments", {
      ...p,
      clinic_id: clinicId,
      user_id: p.user_id || userOf(ctx),
      current_visit_id: p.current_visit_id ?? "",
      reason: p.reason ?? "",
      notes: p.notes ?? "",
      is_walk_in: p.is_walk_in ?? 0,
      departments: p.departments ?? "[]",
      status: p.status || "pending",
      metadata: p.metadata ?? "{}",
    });
    return { appointment_id: row.id };
  },
});

/** `appointments.update {id, ...}` → the whole appointment; only the fields given change. */
export const updateAppointmentCommand = clinical({
  name: "appointments.update",
  scope: clinics(rowOf("appointments")),
  kind: "command",
  permission: "can_edit_records",
  inReference: true,
  params: z.object({
    id,
    provider_id: optString,
    fulfilled_visit_id: optString,
    timestamp: timestamp.nullish(),
    duration: count.nullish(),
    reason: text,
    notes: text,
    is_walk_in: flag.nullish(),
    departments: json.nullish(),
    status: optString,
    metadata: json.nullish(),
    updated_at: timestamp.nullish(),
  }),
  handler: (p, ctx) => {
    const { id: appointmentId, ...changes } = p;
    const row = storeOf(ctx).records.patch(
      metaOf(ctx),
      "appointments",
      appointmentId,
      given(changes),
    );
    return pick(row, APPOINTMENT_COLUMNS);
  },
});

/** `appointments.cancel {id}` → `{cancelled}`; the status becomes `cancelled`. */
export const cancelAppointmentCommand = clinical({
  name: "appointments.cancel",
  scope: clinics(rowOf("appointments")),
  kind: "command",
  permission: "can_edit_records",
  inReference: true,
  params: z.object({ id }),
  handler: (p, ctx) => {
    storeOf(ctx).records.patch(metaOf(ctx), "appointments", p.id, { status: "cancelled" });
    return { cancelled: true };
  },
});

/** `appointments.complete {id, user_id, visit_id?}` → `{completed}`; links the visit given. */
export const completeAppointmentCommand = clinical({
  name: "appointments.complete",
  scope: clinics(rowOf("appointments"), rowOf("visits", "visit_id")),
  kind: "command",
  permission: "can_edit_records",
  inReference: true,
  params: z.object({ id, user_id: optString, visit_id: optString }),
  handler: (p, ctx) => {
    storeOf(ctx).records.patch(
      metaOf(ctx),
      "appointments",
      p.id,
      given({ status: "completed", fulfilled_visit_id: p.visit_id }),
    );
    return { completed: true };
  },
});

/** `appointments.list {start_date, end_date, clinic_id?, status?}` → a page, latest first. */
export const listAppointmentsQuery = clinical({
  name: "appointments.list",
  scope: clinics(clinicParam("clinic_id", true)),
  kind: "query",
  inReference: true,
  params: z.object({
    start_date: timestamp,
    end_date: timestamp,
    clinic_id: optString,
    status: optString,
    limit: limit(PAGE.def, PAGE.max),
    offset,
  }),
  // The clinic the scope checked: the one named, else the caller's.
  handler: (p, ctx) =>
    storeOf(ctx).clinical.listAppointments({ ...p, clinic_id: p.clinic_id || ctx.auth!.clinicId }),
});

/** `appointments.get {id}` → the appointment, or null. */
export const getAppointmentQuery = clinical({
  name: "appointments.get",
  scope: clinics(rowOf("appointments")),
  kind: "query",
  inReference: true,
  params: z.object({ id }),
  handler: (p, ctx) => orNull(storeOf(ctx).records.get("appointments", p.id, APPOINTMENT_COLUMNS)),
});

/** `appointments.by_patient {patient_id}` → `{data}`, latest first. */
export const appointmentsByPatientQuery = clinical({
  name: "appointments.by_patient",
  scope: clinics(patientOf()),
  kind: "query",
  inReference: true,
  params: z.object({ patient_id: id, limit: limit(1000, 5000) }),
  handler: (p, ctx) => ({
    data: storeOf(ctx).records.list("appointments", {
      columns: APPOINTMENT_COLUMNS,
      where: { patient_id: p.patient_id },
      orderBy: "timestamp DESC, id",
      limit: p.limit,
    }),
  }),
});

/** `appointments.search {search_query, clinic_id, date, ...}` → a page, latest first. */
export const searchAppointmentsQuery = clinical({
  name: "appointments.search",
  scope: clinics(clinicParam()),
  kind: "query",
  inReference: true,
  params: z.object({
    search_query: z.string().max(200).nullish().transform((v) => v ?? ""),
    clinic_id: id,
    department_ids: stringList,
    status: stringList,
    date: timestamp,
    limit: limit(PAGE.def, PAGE.max),
    offset,
  }),
  handler: (p, ctx) => storeOf(ctx).clinical.searchAppointments(p),
});

/** Every appointment procedure. */
export const APPOINTMENT_PROCEDURES = [
  createAppointmentCommand,
  updateAppointmentCommand,
  cancelAppointmentCommand,
  completeAppointmentCommand,
  listAppointmentsQuery,
  getAppointmentQuery,
  appointmentsByPatientQuery,
  searchAppointmentsQuery,
];
