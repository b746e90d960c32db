/**
 * The backups part of the hub's status, as the dashboard and the health line show
 * it: the settings, whether the folder is there, the last good backup and its age,
 * whether changes wait too long for one, one warning sentence, and the restore
 * notice of a hub restored from a backup. Worked out from facts handed in, so it
 * has no state of its own.
 */
import type { LastGoodBackup, RestoreRecord, StoredBackupSettings } from "../store/mod.ts";

/** The backups part of the status. */
export interface BackupStatus {
  dir: string | null;
  everyMinutes: number;
  keepLast: number;
  /** `unset`: no folder chosen; `missing`: chosen but not there (stick pulled?). */
  folder: "ok" | "missing" | "unset";
  running: boolean;
  lastGood: (LastGoodBackup & { ageMs: number }) | null;
  lastError: { at: number; message: string } | null;
  /** Changes since the last good backup and it is older than {@link staleAfterMs}. */
  stale: boolean;
  /** One sentence for the health line, or null when all is well. */
  warning: string | null;
  /** Set on a hub restored from a backup: what may be missing, and which phones may hold it. */
  restored:
    | (RestoreRecord & { message: string })
    | null;
}

/** The age past which an unbacked-up change is a warning: three intervals, at least an hour. */
export function staleAfterMs(everyMinutes: number): number {
  return Math.max(60 * 60_000, 3 * everyMinutes * 60_000);
}

/**
 * What a restored hub tells the operator (the status, the health line, the
 * `restore` command).
 *
 * @example
 * ```ts
 * import { restoredMessage } from "../hub/mod.ts";
 *
 * restoredMessage(Date.UTC(2026, 0, 1, 12));
 * // "This hub was restored from a backup taken at 2026-01-01T12:00:00.000Z: changes made
 * //  after that time that were not relayed to the cloud may be missing."
 * ```
 */
export function restoredMessage(takenAt: number): string {
  return `This hub was restored from a backup taken at ${new Date(takenAt).toISOString()}: ` +
    "changes made after that time that were not relayed to the cloud may be missing.";
}

/** The facts the status is worked out from. */
export interface BackupFacts {
  settings: StoredBackupSettings;
  folder: BackupStatus["folder"];
  running: boolean;
  lastGood: LastGoodBackup | null;
  /** The change clock's position now. */
  clock: number;
  lastError: { at: number; message: string } | null;
  restored: RestoreRecord | null;
  now: number;
}

/** The backups part of the status, from its facts. */
export function backupStatus(f: BackupFacts): BackupStatus {
  const s = f.settings;
  const last = f.lastGood;
  const lastGood = last ? { ...last, ageMs: Math.max(0, f.now - last.takenAt) } : null;
  const changedSince = !last || last.clock < f.clock;
  const stale = s.dir !== null && changedSince &&
    (lastGood ? lastGood.ageMs > staleAfterMs(s.everyMinutes) : false);
  let warning: string | null = null;
  if (f.folder === "missing") {
    warning = `The backup folder ${s.dir} is not there (USB stick pulled?): no backups are taken.`;
  } else if (stale && lastGood) {
    warning = `The last good backup is ${Math.round(lastGood.ageMs / 60_000)} minutes old.`;
  } else if (f.folder === "ok" && !lastGood && f.lastError) {
    warning = f.lastError.message;
  }
  const restored = f.restored;
  return {
    dir: s.dir,
    everyMinutes: s.everyMinutes,
    keepLast: s.keepLast,
    folder: f.folder,
    running: f.running,
    lastGood,
    lastError: f.lastError,
    stale,
    warning,
    restored: restored ? { ...restored, message: restoredMessage(restored.backupTakenAt) } : null,
  };
}
