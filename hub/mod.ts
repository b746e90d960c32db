/** The hub's lifecycle owner. */
export { Hub } from "./lifecycle.ts";
export type { HubHealth, HubOptions, HubState, HubStatus } from "./_types.ts";
export { importX25519Private, keyFingerprint } from "./_keys.ts";
export { MAX_DELAY_MS, PassphraseThrottle } from "./_throttle.ts";
export { DataDirLock, LOCK_FILE, type LockHolder } from "./_datalock.ts";
export { type DiskStatus, LOW_SPACE_BYTES } from "./_disk.ts";
export {
  type BackupFlags,
  type BackupResult,
  BackupService,
  type BackupSettings,
} from "./_backups.ts";
export type { BackupEntry } from "./_backup_folder.ts";
export { type BackupStatus, restoredMessage } from "./_backup_status.ts";
export { restoreBackup, type RestoreResult } from "./_restore.ts";
export { runRestoreCommand } from "./_restore_cli.ts";
