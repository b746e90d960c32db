/**
 * Event procedures: `create_event` and `get_visit_events` (reference, stored
 * shapes) and `events.create|update|delete|by_form` (the phone's online mode,
 * answered in its shape: JSON as objects, flags as booleans).
 */
import { z } from "zod";
import { EVENT_COLUMNS, notFound, withId } from "../../store/mod.ts";
import { requireAt } from "../_auth.ts";
import {
  clinical,
  defined,
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

const optString = z.string().max(200).nullish();

/** `create_event {id, patient_id, visit_id, form_data, ...}` → `{event_id}`; upsert. */
export const createEventCommand = clinical({
  name: "create_event",
  scope: clinics(rowOf("events"), patientOf(), rowOf("visits", "visit_id")),
  kind: "command",
  permission: "can_edit_records",
  inReference: true,
  params: z.object({
    id: optId,
    patient_id: id,
    form_id: optString,
    visit_id: optString,
    event_type: optString,
    form_data: json.nullish(),
    metadata: json.nullish(),
    created_at: timestamp.nullish(),
    updated_at: timestamp.nullish(),
    recorded_by_user_id: optString,
  }),
  handler: (p, ctx) => {
    const row = storeOf(ctx).records.change(metaOf(ctx), (w) => {
      const existing = p.id ? w.get("events", p.id) : undefined;
      if (existing) {
        // As the reference: a second create of the same event changes its content only.
        return w.patch(
          "events",
          p.id!,
          defined({ form_data: p.form_data, metadata: p.metadata, updated_at: p.updated_at }),
        );
      }
      w.require("patients", p.patient_id);
      return w.put("events", {
        ...withId({ id: p.id }),
        patient_id: p.patient_id,
        form_id: p.form_id ?? null,
        visit_id: p.visit_id ?? null,
        event_type: p.event_type ?? null,
        form_data: p.form_data ?? "[]",
        metadata: p.metadata ?? "{}",
        created_at: p.created_at ?? undefined,
        updated_at: p.updated_at ?? undefined,
        recorded_by_user_id: p.recorded_by_user_id || userOf(ctx),
      });
    });
    return { event_id: row.id };
  },
});

/** `get_visit_events {patient_id, visit_id}` → `{data}`, newest first. */
export const getVisitEventsQuery = clinical({
  name: "get_visit_events",
  scope: clinics(patientOf(), rowOf("visits", "visit_id")),
  kind: "query",
  inReference: true,
  params: z.object({ patient_id: id, visit_id: id, limit: limit(1000, 5000) }),
  handler: (p, ctx) => ({
    data: storeOf(ctx).records.list("events", {
      columns: EVENT_COLUMNS,
      where: { patient_id: p.patient_id, visit_id: p.visit_id },
      orderBy: "created_at DESC, id",
      limit: p.limit,
    }),
  }),
});

/**
 * `events.create` → `{success, id, visit_id}`. Without a `visit_id` a visit is
 * opened for it (clinic, provider and check-in default to the caller and now).
 */
export const eventsCreateCommand = clinical({
  name: "events.create",
  scope: clinics(
    rowOf("events"),
    patientOf(),
    rowOf("visits", "visit_id"),
    clinicParam("clinic_id", true),
  ),
  kind: "command",
  permission: "can_edit_records",
  inReference: false,
  params: z.object({
    id: optId,
    patient_id: id,
    visit_id: optId,
    event_type: optString,
    form_id: optString,
    form_data: json.nullish(),
    metadata: json.nullish(),
    recorded_by_user_id: optString,
    clinic_id: optString,
    provider_id: optString,
    provider_name: text,
    check_in_timestamp: timestamp.nullish(),
  }),
  handler: (p, ctx) => {
    const clinicId = p.clinic_id || ctx.auth!.clinicId;
    return storeOf(ctx).records.change(metaOf(ctx), (w) => {
      w.require("patients", p.patient_id);
      let visitId = p.visit_id;
      if (visitId) {
        w.require("visits", visitId);
      } else {
        visitId = w.put("visits", {
          id: crypto.randomUUID(),
          patient_id: p.patient_id,
          clinic_id: clinicId,
          provider_id: p.provider_id || userOf(ctx),
          provider_name: p.provider_name ?? null,
          check_in_timestamp: p.check_in_timestamp ?? ctx.now,
          metadata: "{}",
        }).id as string;
      }
      const event = w.put("events", {
        ...withId({ id: p.id }),
        patient_id: p.patient_id,
        visit_id: visitId,
        form_id: p.form_id ?? null,
        event_type: p.event_type ?? null,
        form_data: p.form_data ?? "[]",
        metadata: p.metadata ?? "{}",
        recorded_by_user_id: p.recorded_by_user_id || userOf(ctx),
      });
      return { success: true, id: event.id, visit_id: visitId };
    });
  },
});

/** `events.update {id, form_data, metadata?}` → the whole event (phone shape). */
export const eventsUpdateCommand = clinical({
  name: "events.update",
  scope: clinics(rowOf("events")),
  kind: "command",
  permission: "can_edit_records",
  inReference: false,
  note: "also can_edit_other_provider_event for another user's event",
  params: z.object({ id, form_data: json, metadata: json.nullish() }),
  handler: (p, ctx) => {
    const store = storeOf(ctx);
    const current = store.records.get("events", p.id, ["recorded_by_user_id"]);
    if (!current) throw notFound("events", p.id);
    if (current.recorded_by_user_id && current.recorded_by_user_id !== userOf(ctx)) {
      // At the event's clinic, where the scope already found can_edit_records.
      const clinic = store.people.rowClinic("events", p.id)?.clinicId;
      requireAt(store, ctx.auth!, "can_edit_other_provider_event", clinic);
    }
    const row = store.records.patch(
      metaOf(ctx),
      "events",
      p.id,
      defined({ form_data: p.form_data, metadata: p.metadata ?? undefined }),
    );
    return row;
  },
});

/** `events.delete {id}` → `{success}`; soft delete. */
export const eventsDeleteCommand = clinical({
  name: "events.delete",
  scope: clinics(rowOf("events")),
  kind: "command",
  permission: "can_delete_records",
  inReference: false,
  params: z.object({ id }),
  handler: (p, ctx) => {
    storeOf(ctx).records.delete(metaOf(ctx), "events", p.id);
    return { success: true };
  },
});

/** `events.by_form {form_id, patient_id}` → the patient's events of that form (an array). */
export const eventsByFormQuery = clinical({
  name: "events.by_form",
  scope: clinics(patientOf()),
  kind: "query",
  inReference: false,
  params: z.object({ form_id: id, patient_id: id, limit: limit(1000, 5000) }),
  handler: (p, ctx) =>
    storeOf(ctx).records.list("events", {
      where: { patient_id: p.patient_id, form_id: p.form_id },
      orderBy: "created_at DESC, id",
      limit: p.limit,
    }),
});

/** Every event procedure. */
export const EVENT_PROCEDURES = [
  createEventCommand,
  getVisitEventsQuery,
  eventsCreateCommand,
  eventsUpdateCommand,
  eventsDeleteCommand,
  eventsByFormQuery,
];
