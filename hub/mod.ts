/** The hub's lifecycle owner. */
export { Hub } from "./lifecycle.ts";
export type { HubHealth, HubOptions, HubState, HubStatus } from "./_types.ts";
export { importX25519Private, keyFingerprint } from "./_keys.ts";
export { MAX_DELAY_MS, PassphraseThrottle } from "./_throttle.ts";
export { DataDirLock, LOCK_FILE, type LockHolder } from "./_datalock.ts";
export { type DiskStatus, LOW_SPACE_BYTES } from "./_disk.ts";
export {
  type BackupEntry,
  type BackupFlags,
  type BackupResult,
  BackupService,
  type BackupSettings,
  type BackupStatus,
  restoreBackup,
  restoredMessage,
  type RestoreResult,
} from "./_backups.ts";
export { runRestoreCommand } from "./_restore_cli.ts";
