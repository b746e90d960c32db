/**
 * The encrypted database. The {@link Store} keeps its connection private; the
 * rest of the program reaches data through the narrow objects it hands out
 * (`store.devices`, `store.conflicts`, `store.phoneSync`, `store.relay`,
 * `store.people`, `store.records`, `store.patients`, `store.clinical`,
 * `store.backups`). Backup files are taken, proven and read with
 * {@link createBackup}, {@link verifyBackup} and {@link BackupFile}. This file
 * also exports the pure things others need: the schema, column lists, shapes of
 * answers, constants and row types. Tests and benches that must seed or read raw
 * rows use `store/testing.ts`, and nothing else does.
 *
 * @example
 * ```ts
 * import { Store } from "../store/mod.ts";
 *
 * declare const keyHex: string; // the database key, from the open vault
 * const store = Store.open("data/hub.db", keyHex);
 * const page = store.phoneSync.pull(0, { deviceId: "phone-1" });
 * store.close();
 * ```
 *
 * @module
 */
export { Store, type StoreOptions, type TableCount } from "./store.ts";
export type { ActivityBucket, Devices } from "./_devices_object.ts";
export type { ConflictQuery, Conflicts } from "./_conflicts_object.ts";
export type { PhoneSync } from "./_phone_sync.ts";
export type { RelayStore } from "./_relay_store.ts";
export type { People } from "./_people_object.ts";
export type { Records } from "./_records_object.ts";
export type { Patients } from "./_patients_object.ts";
export type { Clinical } from "./_clinical_object.ts";
export type { ChangeClock, WallClock } from "./_clock.ts";
export { createBackup, removeLeftovers } from "./_backup.ts";
export { BackupFile, verifyBackup } from "./_backup_verify.ts";
export { BACKUP_EXTENSION, type BackupHeader, peekBackupHeader } from "./_backup_file.ts";
export {
  type LastGoodBackup,
  RESTORE_CLOCK_MARGIN_MS,
  type RestoreRecord,
  type StoreBackups,
  type StoredBackupSettings,
} from "./_backups_object.ts";
export { SCHEMA_VERSION } from "./_migrations.ts";
export {
  type ColumnDef,
  PHONE_READ_ONLY_TABLES,
  PHONE_TABLES,
  type TableDef,
  tableDef,
  TABLES,
} from "./_schema.ts";
export {
  DEFAULT_PULL_PAGE_BYTES,
  DEFAULT_PULL_PAGE_ROWS,
  type PullOptions,
  type PullResult,
} from "./_pull.ts";
export type { PushGuard, PushOptions, PushResult } from "./_push.ts";
export type { ApplyCounts } from "./_apply.ts";
export type { DeviceRecord } from "./_devices.ts";
export type { ConflictRecord } from "./_conflicts.ts";
export type { LoginUser, PermissionFlag, PermissionRow } from "./_people.ts";
export { PERMISSION_FLAGS } from "./_people.ts";
export {
  CLOUD_WATERMARK_KEY,
  type CloudChange,
  type PendingChunk,
  type PendingCursor,
} from "./_relay.ts";
export type { ConflictView, FieldDifference, FieldKind, VersionAuthor } from "./_conflict_view.ts";
export { type LocalWriteMeta, type LocalWriter, notFound } from "./_local.ts";
export type { Paged, Row } from "./_read.ts";
export { BOOLEAN_COLUMNS, JSON_COLUMNS, shapeAnswer } from "./_column_kinds.ts";
export { type ListSpec, pick, withId } from "./_clinical_records.ts";
export { PATIENT_FILTER_COLUMNS, type PatientSearch } from "./_clinical_patients.ts";
export type { PatientRegistration } from "./_clinical_patient_writes.ts";
export {
  APPOINTMENT_COLUMNS,
  CLINIC_COLUMNS,
  DEPARTMENT_COLUMNS,
  DISPENSING_COLUMNS,
  DRUG_COLUMNS,
  EVENT_COLUMNS,
  EVENT_FORM_COLUMNS,
  INVENTORY_COLUMNS,
  PRESCRIPTION_COLUMNS,
  PRESCRIPTION_ITEM_COLUMNS,
  REGISTRATION_FORM_COLUMNS,
  VISIT_COLUMNS,
} from "./_clinical_shapes.ts";
export type { DispenseRequest } from "./_clinical_pharmacy.ts";
