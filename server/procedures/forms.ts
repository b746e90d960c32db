/** Form and clinic procedures (all in the reference): registration and event forms, clinics, departments. */
import { z } from "zod";
import { clinical, id, storeOf } from "./_params.ts";
import { clinicParam, clinics, noClinic } from "./_scope.ts";

const optString = z.string().max(200).nullish();
const none = z.object({});
const FORMS = noClinic("forms are set up in the cloud for every clinic");

/** `get_patient_registration_form {}` → the newest registration form. */
export const getRegistrationFormQuery = clinical({
  name: "get_patient_registration_form",
  scope: FORMS,
  kind: "query",
  inReference: true,
  params: none,
  handler: (_p, ctx) => storeOf(ctx).clinical.registrationForm(),
});

/** `get_all_registration_forms {}` → `{data}`, deleted ones included. */
export const getAllRegistrationFormsQuery = clinical({
  name: "get_all_registration_forms",
  scope: FORMS,
  kind: "query",
  inReference: true,
  params: none,
  handler: (_p, ctx) => storeOf(ctx).clinical.allRegistrationForms(),
});

/** `registration_form.get {language?}` → the newest form naming that language, else the newest. */
export const registrationFormGetQuery = clinical({
  name: "registration_form.get",
  scope: FORMS,
  kind: "query",
  inReference: true,
  params: z.object({ language: optString }),
  handler: (p, ctx) => storeOf(ctx).clinical.registrationForm(p.language),
});

/** `get_event_forms {}` → `{data}` by name. */
export const getEventFormsQuery = clinical({
  name: "get_event_forms",
  scope: FORMS,
  kind: "query",
  inReference: true,
  params: none,
  handler: (_p, ctx) => storeOf(ctx).clinical.eventForms(),
});

/** `event_forms.list {language?, clinic_id?}` → `{data}` by name. */
export const listEventFormsQuery = clinical({
  name: "event_forms.list",
  scope: FORMS,
  kind: "query",
  inReference: true,
  params: z.object({ language: optString, clinic_id: optString }),
  handler: (p, ctx) => storeOf(ctx).clinical.eventForms({ ...p, translations: true }),
});

/** `get_event_form {form_id}` → the form. */
export const getEventFormQuery = clinical({
  name: "get_event_form",
  scope: FORMS,
  kind: "query",
  inReference: true,
  params: z.object({ form_id: id }),
  handler: (p, ctx) => storeOf(ctx).clinical.eventForm(p.form_id),
});

/** `clinics.list {}` → `{data}`: live, unarchived clinics by name. */
export const listClinicsQuery = clinical({
  name: "clinics.list",
  scope: noClinic("clinic names and addresses, which every phone holds"),
  kind: "query",
  inReference: true,
  params: none,
  handler: (_p, ctx) => storeOf(ctx).clinical.listClinics(),
});

/** `clinic_departments.list {clinic_id}` → `{data}` by name. */
export const listDepartmentsQuery = clinical({
  name: "clinic_departments.list",
  scope: clinics(clinicParam()),
  kind: "query",
  inReference: true,
  params: z.object({ clinic_id: id }),
  handler: (p, ctx) => storeOf(ctx).clinical.listDepartments(p.clinic_id),
});

/** Every form and clinic procedure. */
export const FORM_PROCEDURES = [
  getRegistrationFormQuery,
  getAllRegistrationFormsQuery,
  registrationFormGetQuery,
  getEventFormsQuery,
  listEventFormsQuery,
  getEventFormQuery,
  listClinicsQuery,
  listDepartmentsQuery,
];
