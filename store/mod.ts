/** The encrypted database: schema, migrations, change clock, sync, devices, conflicts. */
export { Store, type StoreOptions, type TableCount } from "./store.ts";
export { ChangeClock, type WallClock } from "./_clock.ts";
export {
  checkVaultSection,
  compareFacts,
  createBackup,
  inspectRestored,
  type LastGoodBackup,
  removeLeftovers,
  RESTORE_CLOCK_MARGIN_MS,
  type RestoreRecord,
  StoreBackups,
  type StoredBackupSettings,
  verifyBackup,
  type WrittenBackup,
} from "./_backup.ts";
export {
  BACKUP_EXTENSION,
  type BackupHeader,
  checkBackupFile,
  extractSection,
  peekBackupHeader,
} from "./_backup_file.ts";
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
  pullChanges,
  type PullOptions,
  type PullResult,
  pushChanges,
  type PushGuard,
  type PushResult,
} from "./_sync.ts";
export {
  type ApplyContext,
  type ApplyCounts,
  type ChangeSource,
  deleteRow,
  emptyCounts,
  logConflict,
  refuseRow,
  ROWS_PER_STAMP,
  upsertRow,
} from "./_apply.ts";
export { coerceValue, prepareRow, type SqlValue } from "./_rows.ts";
export {
  activitySince,
  type DeviceRecord,
  getDevice,
  listDevices,
  recordSync,
  rememberClientKey,
  removeRevokedDevice,
  revokeDevice,
  touchDevice,
} from "./_devices.ts";
export {
  type ConflictRecord,
  listConflicts,
  openConflictCount,
  resolveConflict,
} from "./_conflicts.ts";
export {
  clinicName,
  clinicsWithFlag,
  findLoginUsers,
  type LoginUser,
  type PermissionRow,
  permissionRow,
  rowClinic,
  userIsLive,
} from "./_people.ts";
export {
  beginFullPull,
  clearPending,
  CLOUD_WATERMARK_KEY,
  type CloudChange,
  mergeCloudBatch,
  type PendingChunk,
  type PendingCursor,
  readPendingChunk,
  sweepAfterFullPull,
} from "./_relay.ts";
export { stripBookkeeping } from "./_apply.ts";
export {
  type ConflictView,
  describeConflict,
  type FieldDifference,
  type FieldKind,
  keepNewer,
  listConflictViews,
  restoreOlder,
  type VersionAuthor,
} from "./_conflict_view.ts";
export { type LocalWriteMeta, LocalWriter, notFound, writeLocal } from "./_local.ts";
export { contains, type Paged, type Row, startsWith } from "./_read.ts";
export { BOOLEAN_COLUMNS, JSON_COLUMNS, shapeAnswer } from "./_column_kinds.ts";
export { type DeviceSyncState, deviceSyncState } from "./_device_sync.ts";
export {
  changeRecords,
  deleteRecord,
  getRecord,
  listRecords,
  type ListSpec,
  patchRecord,
  pick,
  putRecord,
  requireRecord,
  withId,
} from "./_clinical_records.ts";
export {
  governmentIdExists,
  latestRegistrationForm,
  levenshtein,
  listPatients,
  PATIENT_FILTER_COLUMNS,
  patientClinic,
  patientRecord,
  type PatientSearch,
  searchPatients,
  similarPatients,
  viewableClinics,
} from "./_clinical_patients.ts";
export {
  deletePatient,
  type PatientRegistration,
  registerPatient,
} from "./_clinical_patient_writes.ts";
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
export {
  clinicInventory,
  drugAvailability,
  listAppointments,
  searchAppointments,
  searchDrugs,
  searchPrescriptions,
} from "./_clinical_search.ts";
export {
  allRegistrationForms,
  eventForm,
  eventForms,
  listClinics,
  listDepartments,
  registrationForm,
} from "./_clinical_forms.ts";
export { dispensePrescriptionItem, type DispenseRequest } from "./_clinical_pharmacy.ts";
