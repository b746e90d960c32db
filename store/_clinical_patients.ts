/**
 * Patients: search and listing (scoped to the clinics whose history the user
 * may view, plus patients without a clinic, as the reference does), duplicate
 * detection, and the registration-form view of one patient.
 *
 * Speed: search and listing scan `patients_names` (names only) or
 * `patients_search` (every filter column), from migration 2: they hold only live
 * rows, in answer order, with the columns filtered on, so a search
 * never touches the table except for the page it answers with, and one scan
 * gives both the page and the total. Measured in bench/RESULTS.md.
 */
import { HubError } from "../core/mod.ts";
import type { Database } from "./_db.ts";
import { notFound } from "./_local.ts";
import {
  all,
  contains,
  ESCAPE,
  live,
  one,
  type Paged,
  placeholders,
  reading,
  type Row,
  startsWith,
} from "./_read.ts";

/**
 * Patient columns a search filter may name; any other key is an additional-attribute id.
 *
 * @example
 * ```ts
 * const column = "surname"; // a filter the caller asked for
 * if (!PATIENT_FILTER_COLUMNS.has(column)) throw new Error(`cannot filter by ${column}`);
 * ```
 */
export const PATIENT_FILTER_COLUMNS: ReadonlySet<string> = new Set([
  "given_name",
  "surname",
  "date_of_birth",
  "citizenship",
  "hometown",
  "phone",
  "sex",
  "camp",
  "government_id",
  "external_patient_id",
  "id",
]);

/** Filter columns the small `patients_names` index holds. */
const NAME_COLUMNS: ReadonlySet<string> = new Set(["given_name", "surname"]);

/** Columns of a patient in list and search answers (the reference's list). */
const LIST_COLUMNS = [
  "id",
  "given_name",
  "surname",
  "date_of_birth",
  "citizenship",
  "hometown",
  "phone",
  "sex",
  "camp",
  "photo_url",
  "government_id",
  "external_patient_id",
  "additional_data",
  "metadata",
  "primary_clinic_id",
  "last_modified_by",
  "is_deleted",
  "deleted_at",
  "created_at",
  "updated_at",
].join(", ");

function scope(clinicIds: readonly string[]): { sql: string; args: string[] } {
  if (clinicIds.length === 0) return { sql: "primary_clinic_id IS NULL", args: [] };
  return {
    sql: `(primary_clinic_id IN (${placeholders(clinicIds.length)}) OR primary_clinic_id IS NULL)`,
    args: [...clinicIds],
  };
}

/**
 * Parameters of {@link searchPatients}.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const q: PatientSearch = { filters: { surname: "Diaz" }, limit: 20, offset: 0, clinicIds: ["c1"] };
 * const page = store.patients.search(q);
 * ```
 */
export interface PatientSearch {
  /** Column or attribute id → text to look for (LIKE `%text%`; `sex` matches a prefix). */
  filters: Record<string, string>;
  limit: number;
  offset: number;
  /** Clinics whose patients the caller may see (patients without a clinic are always seen). */
  clinicIds: readonly string[];
}

/**
 * Searches live patients; all filters must match. Newest first (`updated_at`, then id).
 *
 * Plan: one pass answers both the page and the total. Without filters, the page
 * stops early in the index and the count scans it once. With column filters,
 * one scan of the index (in answer order) yields the count and
 * the rowids of every match, of which the page is a slice. With an attribute
 * filter, the matching attribute rows drive the query (a join by id), sorted.
 */
export function searchPatients(db: Database, q: PatientSearch): Paged {
  const s = scope(q.clinicIds);
  const conds = [live("p"), s.sql.replaceAll("primary_clinic_id", "p.primary_clinic_id")];
  const args: unknown[] = [...s.args];
  const attrs: { key: string; pattern: string }[] = [];
  for (const [key, raw] of Object.entries(q.filters)) {
    const value = raw.trim();
    if (value === "") continue;
    if (PATIENT_FILTER_COLUMNS.has(key)) {
      // `key` is from the allow-list above, never the caller's text.
      conds.push(`p.${key} LIKE ? ${ESCAPE}`);
      args.push(key === "sex" ? startsWith(value) : contains(value));
    } else {
      attrs.push({ key, pattern: contains(value) });
    }
  }
  const attrMatch = (alias: string) =>
    `SELECT ${alias}.patient_id FROM patient_additional_attributes ${alias}
     WHERE ${alias}.attribute_id = ? AND ${live(alias)}
       AND (${alias}.string_value LIKE ? ${ESCAPE} OR CAST(${alias}.number_value AS TEXT) LIKE ? ${ESCAPE})`;
  // Names only (the phone's search box) and plain listing read the small index.
  const index = Object.keys(q.filters).every((k) => NAME_COLUMNS.has(k) || !q.filters[k].trim())
    ? "patients_names"
    : "patients_search";
  return reading(db, () => {
    if (conds.length === 2 && attrs.length === 0) {
      const where = conds.join(" AND ");
      const total = one(
        db,
        `SELECT count(*) AS n FROM patients p INDEXED BY ${index} WHERE ${where}`,
        ...args,
      )!.n as number;
      const rowids = all(
        db,
        `SELECT p.rowid AS r FROM patients p INDEXED BY ${index} WHERE ${where}
         ORDER BY p.updated_at DESC, p.id LIMIT ? OFFSET ?`,
        ...args,
        q.limit,
        q.offset,
      ).map((r) => r.r as number);
      return { data: patientsByRowids(db, rowids), total, limit: q.limit, offset: q.offset };
    }
    let sql: string;
    const allArgs = [...args];
    if (attrs.length === 0) {
      // No ORDER BY needed: the aggregate sees rows in the index's order, which is the answer's.
      sql = `SELECT count(*) AS n, group_concat(p.rowid) AS r
        FROM patients p INDEXED BY ${index} WHERE ${conds.join(" AND ")}`;
    } else {
      // CROSS JOIN keeps this order: the matching attributes first, then their patients.
      for (const extra of attrs.slice(1)) {
        conds.push(`p.id IN (${attrMatch("x")})`);
        allArgs.push(extra.key, extra.pattern, extra.pattern);
      }
      sql = `SELECT count(*) AS n, group_concat(p.rowid, ',' ORDER BY p.updated_at DESC, p.id) AS r
        FROM (SELECT DISTINCT patient_id FROM (${attrMatch("a")})) m
        CROSS JOIN patients p ON p.id = m.patient_id WHERE ${conds.join(" AND ")}`;
      allArgs.unshift(attrs[0].key, attrs[0].pattern, attrs[0].pattern);
    }
    const hit = one(db, sql, ...allArgs)!;
    const rowids = hit.r === null
      ? []
      : String(hit.r).split(",", q.offset + q.limit).slice(q.offset).map(Number);
    return {
      data: patientsByRowids(db, rowids),
      total: hit.n as number,
      limit: q.limit,
      offset: q.offset,
    };
  });
}

/** Lists live patients, newest first. */
export function listPatients(
  db: Database,
  q: { limit: number; offset: number; clinicIds: readonly string[] },
): Paged {
  return searchPatients(db, { ...q, filters: {} });
}

function patientsByRowids(db: Database, rowids: number[]): Row[] {
  if (rowids.length === 0) return [];
  const rows = all(
    db,
    `SELECT rowid AS __r, ${LIST_COLUMNS} FROM patients WHERE rowid IN (${
      placeholders(rowids.length)
    })`,
    ...rowids,
  );
  const byRowid = new Map(rows.map((r) => [r.__r as number, r]));
  return rowids.map((r) => byRowid.get(r)).filter((r): r is Row => r !== undefined).map((r) => {
    delete r.__r;
    return r;
  });
}

/** True when a live patient has this government id. */
export function governmentIdExists(db: Database, governmentId: string): boolean {
  return one(
    db,
    `SELECT 1 AS x FROM patients WHERE government_id = ? AND ${live()} LIMIT 1`,
    governmentId,
  ) !== undefined;
}

/** Edit distance over code points, case-insensitive. */
export function levenshtein(a: string, b: string): number {
  const x = [...a.toLowerCase()];
  const y = [...b.toLowerCase()];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length];
}

/**
 * Patients whose names resemble the given ones, closest first: candidates share
 * a name part or its first three letters; they are ranked by edit distance.
 */
export function similarPatients(
  db: Database,
  q: { given_name: string; surname: string; limit: number; clinicIds: readonly string[] },
): { data: Row[] } {
  const given = q.given_name.trim();
  const surname = q.surname.trim();
  const s = scope(q.clinicIds);
  const ors: string[] = [];
  const args: unknown[] = [...s.args];
  for (const [col, value] of [["given_name", given], ["surname", surname]] as const) {
    if (!value) continue;
    ors.push(`${col} LIKE ? ${ESCAPE}`, `${col} LIKE ? ${ESCAPE}`);
    args.push(contains(value), startsWith([...value].slice(0, 3).join("")));
  }
  if (ors.length === 0) return { data: [] };
  const candidates = all(
    db,
    `SELECT ${LIST_COLUMNS} FROM patients INDEXED BY patients_names
     WHERE ${live()} AND ${s.sql} AND (${ors.join(" OR ")})
     ORDER BY updated_at DESC, id LIMIT 200`,
    ...args,
  );
  const ranked = candidates.map((p, i) => ({
    p,
    i,
    d: levenshtein(String(p.given_name ?? ""), given) +
      levenshtein(String(p.surname ?? ""), surname),
  }));
  ranked.sort((a, b) => a.d - b.d || a.i - b.i);
  return { data: ranked.slice(0, q.limit).map((r) => r.p) };
}

/** The live patient's clinic, or undefined when there is no such patient. */
export function patientClinic(
  db: Database,
  patientId: string,
): { clinicId: string | null } | undefined {
  const r = one(db, `SELECT primary_clinic_id FROM patients WHERE id = ? AND ${live()}`, patientId);
  return r ? { clinicId: (r.primary_clinic_id as string | null) ?? null } : undefined;
}

interface FormField {
  id: string;
  column?: string;
  baseField?: boolean;
  base_field?: boolean;
  fieldType?: string;
  field_type?: string;
  deleted?: boolean;
}

/** The newest live registration form, if any. */
export function latestRegistrationForm(db: Database): Row | undefined {
  return one(
    db,
    `SELECT id, name, fields, metadata, created_at, updated_at FROM registration_forms
     WHERE ${live()} ORDER BY updated_at DESC, id LIMIT 1`,
  );
}

function parseFields(text: unknown): FormField[] {
  try {
    const v = JSON.parse(String(text ?? "[]"));
    return Array.isArray(v) ? v.filter((f) => f && typeof f.id === "string") : [];
  } catch {
    return [];
  }
}

/**
 * One patient as the registration form sees it: the form's fields, and values
 * by field id (base fields from the patient row, the others from its attributes,
 * read from the value column the field's type implies).
 */
export function patientRecord(
  db: Database,
  patientId: string,
): { fields: unknown[]; values: Record<string, unknown> } {
  return reading(db, () => {
    const patient = one(db, `SELECT * FROM patients WHERE id = ? AND ${live()}`, patientId);
    if (!patient) throw notFound("patients", patientId);
    const form = latestRegistrationForm(db);
    if (!form) throw new HubError("not_found", 404, "No registration form found.");
    const fields = parseFields(form.fields);
    const values: Record<string, unknown> = {};
    const dynamic = new Map<string, FormField>();
    for (const f of fields) {
      if (f.deleted) continue;
      const base = f.baseField ?? f.base_field ?? false;
      if (!base) dynamic.set(f.id, f);
      else if (f.column && !f.column.startsWith("local_server_") && f.column in patient) {
        values[f.id] = patient[f.column];
      }
    }
    const attrs = all(
      db,
      `SELECT attribute_id, number_value, string_value, date_value, boolean_value
       FROM patient_additional_attributes WHERE patient_id = ? AND ${live()}
       ORDER BY updated_at ASC, id`,
      patientId,
    );
    for (const a of attrs) {
      const field = dynamic.get(a.attribute_id as string);
      const type = field?.fieldType ?? field?.field_type ?? "text";
      const value = type === "number"
        ? a.number_value
        : type === "date"
        ? a.date_value
        : type === "boolean"
        ? (a.boolean_value === null ? null : a.boolean_value !== 0)
        : a.string_value;
      if (value !== null && value !== undefined) values[a.attribute_id as string] = value;
    }
    return { fields, values };
  });
}
