/** Registration and event forms, clinics and their departments, as the phone reads them. */
import { HubError } from "../core/mod.ts";
import type { Database } from "./_db.ts";
import {
  CLINIC_COLUMNS,
  DEPARTMENT_COLUMNS,
  EVENT_FORM_COLUMNS,
  REGISTRATION_FORM_COLUMNS,
} from "./_clinical_shapes.ts";
import { all, contains, ESCAPE, live, one, type Row } from "./_read.ts";

/**
 * The newest live registration form; with `language`, the newest whose name
 * mentions it, falling back to the newest. Throws `not_found` when there is none.
 */
export function registrationForm(db: Database, language?: string | null): Row {
  const columns = REGISTRATION_FORM_COLUMNS.join(", ");
  const lang = language?.trim();
  const form = (lang
    ? one(
      db,
      `SELECT ${columns} FROM registration_forms WHERE ${live()} AND name LIKE ? ${ESCAPE}
       ORDER BY updated_at DESC, id LIMIT 1`,
      contains(lang),
    )
    : undefined) ??
    one(
      db,
      `SELECT ${columns} FROM registration_forms WHERE ${live()}
       ORDER BY updated_at DESC, id LIMIT 1`,
    );
  if (!form) throw new HubError("not_found", 404, "No registration form found.");
  return form;
}

/** Every registration form the hub holds, deleted ones included (with `is_deleted`). */
export function allRegistrationForms(db: Database): { data: Row[] } {
  return {
    data: all(
      db,
      // Deleted forms too, flagged (as the reference documents it).
      `SELECT ${REGISTRATION_FORM_COLUMNS.join(", ")},
         iif(local_server_deleted_at IS NULL, coalesce(is_deleted, 0), 1) AS is_deleted
       FROM registration_forms ORDER BY updated_at DESC, id LIMIT 1000`,
    ),
  };
}

/**
 * Live event forms by name, optionally in one language and/or listed for one
 * clinic (exact membership in the `clinic_ids` JSON array).
 */
export function eventForms(
  db: Database,
  q: { language?: string | null; clinic_id?: string | null; translations?: boolean } = {},
): { data: Row[] } {
  const where = [live()];
  const args: unknown[] = [];
  if (q.language) where.push("language = ?"), args.push(q.language);
  if (q.clinic_id) {
    where.push(
      `EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(clinic_ids) THEN clinic_ids ELSE '[]' END)
        WHERE value = ?)`,
    );
    args.push(q.clinic_id);
  }
  const columns = [...EVENT_FORM_COLUMNS, ...(q.translations ? ["translations"] : [])];
  const rows = all(
    db,
    `SELECT ${columns.join(", ")} FROM event_forms WHERE ${where.join(" AND ")}
     ORDER BY name, id LIMIT 1000`,
    ...args,
  );
  return { data: rows };
}

/** One live event form (with translations); throws `not_found`. */
export function eventForm(db: Database, formId: string): Row {
  const r = one(
    db,
    `SELECT ${[...EVENT_FORM_COLUMNS, "translations"].join(", ")} FROM event_forms
     WHERE id = ? AND ${live()}`,
    formId,
  );
  if (!r) throw new HubError("not_found", 404, `Event form '${formId}' not found.`);
  return r;
}

/** Live, unarchived clinics by name. */
export function listClinics(db: Database): { data: Row[] } {
  return {
    data: all(
      db,
      `SELECT ${CLINIC_COLUMNS.join(", ")} FROM clinics
       WHERE ${live()} AND coalesce(is_archived, 0) = 0 ORDER BY name, id LIMIT 1000`,
    ),
  };
}

/** A clinic's live departments by name. */
export function listDepartments(db: Database, clinicId: string): { data: Row[] } {
  return {
    data: all(
      db,
      `SELECT ${DEPARTMENT_COLUMNS.join(", ")} FROM clinic_departments
       WHERE clinic_id = ? AND ${live()} ORDER BY name, id LIMIT 1000`,
      clinicId,
    ),
  };
}
