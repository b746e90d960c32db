/** The encrypted database: schema, migrations, change clock, sync, devices, conflicts. */
export { Store, type StoreOptions, type TableCount } from "./store.ts";
export { ChangeClock, type WallClock } from "./_clock.ts";
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
  DEFAULT_PULL_PAGE_ROWS,
  pullChanges,
  type PullResult,
  pushChanges,
  type PushResult,
} from "./_sync.ts";
export {
  type ApplyContext,
  type ApplyCounts,
  type ChangeSource,
  deleteRow,
  emptyCounts,
  logConflict,
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
  findLoginUsers,
  type LoginUser,
  type PermissionRow,
  permissionRow,
  userIsLive,
} from "./_people.ts";
export {
  clearPending,
  CLOUD_WATERMARK_KEY,
  type CloudChange,
  mergeCloudBatch,
  type PendingChunk,
  type PendingCursor,
  readPendingChunk,
} from "./_relay.ts";
export { stripBookkeeping } from "./_apply.ts";
