/**
 * Patient procedures: registration (create or update), cascading delete, the
 * registration-form view of one patient, search, listing, duplicate checks.
 * Reads are scoped like the reference: patients of clinics where the caller has
 * `can_view_history`, and patients without a clinic.
 */
import { z } from "zod";
import { notFound } from "../../store/mod.ts";
import {
  clinical,
  count,
  flag,
  id,
  json,
  limit,
  metaOf,
  num,
  offset,
  optId,
  storeOf,
  text,
  timestamp,
  userOf,
} from "./_params.ts";
import { clinicParam, clinics, noClinic, patientOf } from "./_scope.ts";
import type { CallContext } from "./registry.ts";

const patientFields = z.object({
  id: optId,
  given_name: text,
  surname: text,
  date_of_birth: text,
  citizenship: text,
  hometown: text,
  phone: text,
  sex: text,
  camp: text,
  additional_data: json.nullish(),
  metadata: json.nullish(),
  photo_url: text,
  image_timestamp: timestamp.nullish(),
  government_id: text,
  external_patient_id: text,
  primary_clinic_id: z.string().max(200).nullish(),
  created_at: timestamp.nullish(),
  updated_at: timestamp.nullish(),
});

const attribute = z.object({
  id: optId,
  attribute_id: id,
  attribute: z.string().max(1000).nullish().transform((v) => v ?? ""),
  number_value: num.nullish(),
  string_value: text,
  date_value: timestamp.nullish(),
  boolean_value: flag.nullish(),
  metadata: json.nullish(),
  is_deleted: flag.nullish(),
  created_at: timestamp.nullish(),
  updated_at: timestamp.nullish(),
});

/** Search and list page sizes. */
const PAGE = { def: 20, max: 200 } as const;

/** The clinics the dispatcher found for this `listed` procedure (its scope's flag). */
function scopeOf(ctx: CallContext): string[] {
  if (!ctx.listedClinics) throw new Error("a listed procedure runs without its clinics");
  return ctx.listedClinics;
}

/** `register_patient {patient, additional_attributes}` → `{patient_id, attributes_count}`. */
export const registerPatientCommand = clinical({
  name: "register_patient",
  kind: "command",
  inReference: true,
  scope: {
    kind: "clinics",
    subject: { row: "patients", idParam: "patient.id" },
    rules: [
      { clinic: patientOf("patient.id"), flag: "can_edit_records" },
      {
        clinic: clinicParam("patient.primary_clinic_id"),
        flag: "can_edit_records",
        when: "existing",
      },
      {
        clinic: clinicParam("patient.primary_clinic_id", true),
        flag: "can_register_patients",
        when: "new",
      },
    ],
  },
  params: z.object({
    patient: patientFields,
    additional_attributes: z.array(attribute).max(1000).nullish().transform((v) => v ?? []),
  }),
  handler: (p, ctx) => {
    const store = storeOf(ctx);
    const existing = p.patient.id ? store.patients.clinic(p.patient.id) : undefined;
    // Like the phone's own registration: a new patient belongs to the caller's clinic.
    if (!existing) p.patient.primary_clinic_id ||= ctx.auth!.clinicId || null;
    return store.patients.register(metaOf(ctx), {
      patient: p.patient,
      additional_attributes: p.additional_attributes,
      userId: userOf(ctx),
    });
  },
});

/** `delete_patient {patient_id}` → `{deleted, patient_id}`; soft, cascading. */
export const deletePatientCommand = clinical({
  name: "delete_patient",
  kind: "command",
  permission: "can_delete_patient_records",
  inReference: true,
  scope: clinics(patientOf()),
  params: z.object({ patient_id: id }),
  handler: (p, ctx) => {
    const store = storeOf(ctx);
    const found = store.patients.clinic(p.patient_id);
    if (!found) throw notFound("patients", p.patient_id);
    return store.patients.delete(metaOf(ctx), p.patient_id);
  },
});

/** `get_patient {patient_id}` → `{fields, values}` by the registration form. */
export const getPatientQuery = clinical({
  name: "get_patient",
  kind: "query",
  inReference: true,
  scope: clinics({ clinic: patientOf(), flag: "can_view_history", openWithoutClinic: true }),
  params: z.object({ patient_id: id }),
  handler: (p, ctx) => {
    const store = storeOf(ctx);
    const found = store.patients.clinic(p.patient_id);
    if (!found) throw notFound("patients", p.patient_id);
    return store.patients.record(p.patient_id);
  },
});

/** `search_patients {filters, limit?, offset?}` → `{data, total, limit, offset}`. */
export const searchPatientsQuery = clinical({
  name: "search_patients",
  kind: "query",
  inReference: true,
  scope: { kind: "listed", flag: "can_view_history" },
  note: "patients without a clinic are listed too",
  params: z.object({
    filters: z.record(
      z.string().min(1).max(200),
      z.union([z.string().max(200), z.number(), z.boolean()], {
        error: "expected text, a number or a boolean",
      }).transform(String),
    ).refine((f) => Object.keys(f).length <= 20, { error: "at most 20 filters" })
      .nullish().transform((v) => v ?? {}),
    limit: limit(PAGE.def, PAGE.max),
    offset,
  }),
  handler: (p, ctx) =>
    storeOf(ctx).patients.search({
      filters: p.filters,
      limit: p.limit,
      offset: p.offset,
      clinicIds: scopeOf(ctx),
    }),
});

/** `get_patients {limit?, offset?}` → `{data, total, limit, offset}`, newest first. */
export const getPatientsQuery = clinical({
  name: "get_patients",
  kind: "query",
  inReference: true,
  scope: { kind: "listed", flag: "can_view_history" },
  note: "patients without a clinic are listed too",
  params: z.object({ limit: limit(PAGE.def, PAGE.max), offset }),
  handler: (p, ctx) =>
    storeOf(ctx).patients.list({ limit: p.limit, offset: p.offset, clinicIds: scopeOf(ctx) }),
});

/** `check_government_id {government_id}` → `{exists}`. */
export const checkGovernmentIdQuery = clinical({
  name: "check_government_id",
  scope: noClinic("answers only whether the id is in use, to spot a duplicate"),
  kind: "query",
  inReference: true,
  params: z.object({ government_id: z.string().max(200) }),
  handler: (p, ctx) => ({
    exists: p.government_id.trim() !== "" &&
      storeOf(ctx).patients.governmentIdExists(p.government_id.trim()),
  }),
});

/** `patients.similar {given_name, surname, limit?}` → `{data}`, closest names first. */
export const similarPatientsQuery = clinical({
  name: "patients.similar",
  kind: "query",
  inReference: true,
  scope: { kind: "listed", flag: "can_view_history" },
  note: "patients without a clinic are listed too",
  params: z.object({
    given_name: z.string().max(200).nullish().transform((v) => v ?? ""),
    surname: z.string().max(200).nullish().transform((v) => v ?? ""),
    limit: count.min(1).max(50).nullish().transform((v) => v ?? 10),
  }),
  handler: (p, ctx) =>
    storeOf(ctx).patients.similar({
      given_name: p.given_name,
      surname: p.surname,
      limit: p.limit,
      clinicIds: scopeOf(ctx),
    }),
});

/** Every patient procedure. */
export const PATIENT_PROCEDURES = [
  registerPatientCommand,
  deletePatientCommand,
  getPatientQuery,
  searchPatientsQuery,
  getPatientsQuery,
  checkGovernmentIdQuery,
  similarPatientsQuery,
];
