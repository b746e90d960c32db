/** Users, clinics and permissions as the LAN server's login and authorisation need them. */
import type { Statement } from "better-sqlite3-multiple-ciphers";
import type { Database } from "./_db.ts";
import { stmt } from "./_read.ts";
import { ident, TABLES } from "./_schema.ts";

/**
 * A user able to log in (hash included: only the login check reads it).
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const [user]: LoginUser[] = store.people.findLoginUsers("nurse@example.org");
 * ```
 */
export interface LoginUser {
  id: string;
  clinic_id: string | null;
  name: string;
  role: string;
  email: string;
  hashed_password: string;
}

/**
 * The permission flags of a user at a clinic.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * declare const userId: string; // the caller's, from their token
 * const perms: PermissionRow | undefined = store.people.permissions(userId, "clinic-a");
 * const mayPrescribe = perms?.can_prescribe_medications === 1;
 * ```
 */
export interface PermissionRow {
  id: string;
  user_id: string;
  clinic_id: string;
  can_register_patients: number;
  can_view_history: number;
  can_edit_records: number;
  can_delete_records: number;
  is_clinic_admin: number;
  can_edit_other_provider_event: number;
  can_download_patient_reports: number;
  can_prescribe_medications: number;
  can_dispense_medications: number;
  can_delete_patient_visits: number;
  can_delete_patient_records: number;
}

/** Live (not deleted) users with this e-mail, case-insensitively. */
export function findLoginUsers(db: Database, email: string): LoginUser[] {
  return db.prepare(
    `SELECT id, clinic_id, name, role, email, hashed_password FROM users
     WHERE lower(email) = lower(?) AND coalesce(is_deleted, 0) = 0
       AND local_server_deleted_at IS NULL`,
  ).all(email) as LoginUser[];
}

/** True when the user exists and is not deleted. */
export function userIsLive(db: Database, userId: string): boolean {
  return db.prepare(
    `SELECT 1 FROM users WHERE id = ? AND coalesce(is_deleted, 0) = 0
       AND local_server_deleted_at IS NULL`,
  ).get(userId) !== undefined;
}

/** The live permission row of (user, clinic), if any. */
export function permissionRow(
  db: Database,
  userId: string,
  clinicId: string,
): PermissionRow | undefined {
  return db.prepare(
    `SELECT * FROM user_clinic_permissions WHERE user_id = ? AND clinic_id = ?
       AND local_server_deleted_at IS NULL ORDER BY updated_at DESC LIMIT 1`,
  ).get(userId, clinicId) as PermissionRow | undefined;
}

/**
 * The permission flags of a `user_clinic_permissions` row: the one list the
 * permission checks (server/_auth.ts) and the flag columns read here come from.
 *
 * @example
 * ```ts
 * import { PERMISSION_FLAGS } from "./mod.ts";
 *
 * PERMISSION_FLAGS.includes("can_view_history"); // true
 * ```
 */
export const PERMISSION_FLAGS = [
  "can_register_patients",
  "can_view_history",
  "can_edit_records",
  "can_delete_records",
  "is_clinic_admin",
  "can_edit_other_provider_event",
  "can_download_patient_reports",
  "can_prescribe_medications",
  "can_dispense_medications",
  "can_delete_patient_visits",
  "can_delete_patient_records",
] as const;

/** One of {@link PERMISSION_FLAGS}. */
export type PermissionFlag = typeof PERMISSION_FLAGS[number];

const FLAG_COLUMNS: ReadonlySet<string> = new Set(PERMISSION_FLAGS);

/**
 * The clinics where the user holds `flag` in a live permission row.
 *
 * @example
 * ```ts
 * import type { Database } from "./_db.ts";
 *
 * declare const db: Database; // the Store's connection
 * clinicsWithFlag(db, "user-1", "can_view_history"); // ["clinic-a"]
 * ```
 */
export function clinicsWithFlag(db: Database, userId: string, flag: string): string[] {
  if (!FLAG_COLUMNS.has(flag)) throw new Error(`clinicsWithFlag: unknown flag ${flag}`);
  return stmt(
    db,
    `SELECT DISTINCT clinic_id FROM user_clinic_permissions
     WHERE user_id = ? AND ${flag} = 1 AND local_server_deleted_at IS NULL`,
  ).pluck(true).all(userId) as string[];
}

/** A clinic's name. */
export function clinicName(db: Database, clinicId: string | null): string | null {
  if (!clinicId) return null;
  const r = db.prepare("SELECT name FROM clinics WHERE id = ?").get(clinicId) as
    | { name: string | null }
    | undefined;
  return r?.name ?? null;
}

/**
 * The clinic a stored row belongs to, for authorisation: its own clinic column
 * (`primary_clinic_id` for patients, `clinic_id` elsewhere), else, for a row
 * without one (or with it empty), its patient's clinic. Deleted rows count too,
 * so a deleted row of another clinic is refused rather than described.
 * `undefined` when no row has this id; `clinicId: null` when it has no clinic.
 *
 * @example
 * ```ts
 * import type { Database } from "./_db.ts";
 *
 * declare const db: Database; // the Store's connection
 * rowClinic(db, "patient_vitals", "v1"); // { clinicId: "clinic-a" }, through its patient
 * ```
 */
export function rowClinic(
  db: Database,
  table: string,
  id: string,
): { clinicId: string | null } | undefined {
  let byTable = rowClinicSql.get(db);
  if (!byTable) rowClinicSql.set(db, byTable = new Map());
  let read = byTable.get(table);
  if (!read) byTable.set(table, read = prepareRowClinic(db, table));
  // Raw rows: [own clinic, patient's clinic]; one call per row on the push path.
  const r = read.get(id) as [string | null, string | null] | undefined;
  if (!r) return undefined;
  return { clinicId: r[0] || r[1] || null };
}

/** Statements of {@link rowClinic}, per connection and table (prepared once, kept in raw mode). */
const rowClinicSql = new WeakMap<Database, Map<string, Statement>>();

function prepareRowClinic(db: Database, table: string): Statement {
  const t = TABLES.get(table);
  if (!t) throw new Error(`rowClinic: unknown table ${table}`);
  const own = table === "patients"
    ? "primary_clinic_id"
    : t.columnNames.has("clinic_id")
    ? "clinic_id"
    : null;
  const viaPatient = table !== "patients" && t.columnNames.has("patient_id");
  const patient = viaPatient
    ? "(SELECT primary_clinic_id FROM patients p WHERE p.id = r.patient_id)"
    : "NULL";
  return db.prepare(
    `SELECT ${own ? ident(own) : "NULL"}, ${patient} FROM ${ident(table)} r WHERE r.id = ?`,
  ).raw(true);
}
