/**
 * `store.backups`: what the store keeps about backups in `hub_meta` (the settings,
 * the last good backup, the restore record) and the change clock's jump after a
 * restore. Taking, verifying and reading backup files is in store/_backup.ts and
 * store/_backup_verify.ts; they need no connection.
 */
import type { Database } from "./_db.ts";
import type { ChangeClock } from "./_clock.ts";

/**
 * How far past max(wall clock, the backup's clock) a restored hub's clock starts,
 * so that no cursor the old hub handed out after the backup hides a later change
 * (the two computers' clocks may disagree).
 *
 * @example
 * ```ts
 * import { RESTORE_CLOCK_MARGIN_MS } from "../store/mod.ts";
 *
 * declare const backupClock: number; // the change clock in the backup's header
 * RESTORE_CLOCK_MARGIN_MS; // 3600000 (one hour)
 * const clockFrom = Math.max(Date.now(), backupClock) + RESTORE_CLOCK_MARGIN_MS;
 * ```
 */
export const RESTORE_CLOCK_MARGIN_MS = 60 * 60 * 1000;

/** What a restored hub remembers of the backup it came from (`hub_meta` `backup.restored`). */
export interface RestoreRecord {
  /** When the backup was taken, its clock, and the cloud watermark it held. */
  backupTakenAt: number;
  backupClock: number;
  cloudWatermark: string | null;
  /** When it was restored, and where the clock started afterwards. */
  restoredAt: number;
  clockFrom: number;
  /** Devices that came back with a cursor from after the backup: they synced with the old hub. */
  devicesAfterBackup: { device: string; name: string | null; cursor: number; seenAt: number }[];
  /** When the operator said they had read it (the health line stops warning; the card keeps it). */
  acknowledgedAt?: number | null;
  /** Devices whose first pull after the restore was looked at (later pulls tell nothing). */
  judged?: string[];
}

/** Backup settings as stored (`hub_meta` `backup.settings`). */
export interface StoredBackupSettings {
  dir: string | null;
  everyMinutes: number;
  keepLast: number;
}

/** The last good backup as stored (`hub_meta` `backup.last_good`). */
export interface LastGoodBackup {
  file: string;
  takenAt: number;
  clock: number;
  bytes: number;
}

const RESTORED = "backup.restored";
const SETTINGS = "backup.settings";
const LAST_GOOD = "backup.last_good";

/**
 * The store's side of backups that needs the connection: the restore record, the
 * settings, the last good backup, and the clock jump after a restore. Reached as
 * `store.backups`.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const last = store.backups.lastGood();
 * const changedSince = !last || last.clock < store.backups.clockPosition();
 * store.backups.restored()?.devicesAfterBackup; // [] on a hub no phone came back to
 * ```
 */
export class StoreBackups {
  #db: Database;
  #clock: ChangeClock;

  /** Wraps the store's connection and clock (store.ts builds it). */
  constructor(db: Database, clock: ChangeClock) {
    this.#db = db;
    this.#clock = clock;
  }

  #get<T>(key: string): T | null {
    const v = this.#db.prepare("SELECT value FROM hub_meta WHERE key = ?").pluck(true).get(key) as
      | string
      | undefined;
    if (v === undefined) return null;
    try {
      return JSON.parse(v) as T;
    } catch {
      return null;
    }
  }

  #set(key: string, value: unknown): void {
    this.#db.prepare(
      "INSERT INTO hub_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ).run(key, JSON.stringify(value));
  }

  /** The change clock's position (to tell whether anything changed since a backup). */
  clockPosition(): number {
    return this.#clock.current();
  }

  /**
   * After a restore: moves the clock past anything the old hub may have handed out
   * after the backup (stamps are its wall clock's milliseconds, so at least
   * max(now, backup clock), plus a margin for the two computers' clocks disagreeing)
   * and records where the data came from. The devices' pull and push positions
   * are forgotten: they are the backup's, and the phones have synced with the old
   * hub since. A cursor a phone then brings is taken as sent (its first pull is
   * not rewound to the backup's position, which would send it the backup's older
   * versions of records it changed and pushed to the old hub, over its own, before
   * a force upload could bring them back). Returns the record.
   */
  markRestored(
    backup: { takenAt: number; clock: number; cloudWatermark: string | null },
    now: number,
  ): RestoreRecord {
    const clockFrom = Math.max(now, backup.clock, this.#clock.current()) +
      RESTORE_CLOCK_MARGIN_MS;
    this.#clock.advanceTo(clockFrom);
    this.#db.prepare(
      `UPDATE devices SET pull_cursor = NULL, pull_timestamp = NULL, push_after = NULL,
         rewound_stamp = 0, rewound_cursor = 0`,
    ).run();
    const record: RestoreRecord = {
      backupTakenAt: backup.takenAt,
      backupClock: backup.clock,
      cloudWatermark: backup.cloudWatermark,
      restoredAt: now,
      clockFrom,
      devicesAfterBackup: [],
    };
    this.#set(RESTORED, record);
    return record;
  }

  /** Records that the operator has read the restore notice; false when there is none. */
  acknowledgeRestore(now: number): boolean {
    const record = this.restored();
    if (!record) return false;
    record.acknowledgedAt = now;
    this.#set(RESTORED, record);
    return true;
  }

  /** The restore record, or null for a hub that was never restored. */
  restored(): RestoreRecord | null {
    return this.#get<RestoreRecord>(RESTORED);
  }

  /**
   * Takes a fresh stamp just before a snapshot, so that every cursor handed out
   * before the backup is below the backup's clock and every one handed out after
   * it is at or above it (a pull that finds nothing new hands out the clock as it
   * is). Returns the stamp.
   */
  markSnapshot(): number {
    return this.#db.transaction(() => this.#clock.next()).immediate();
  }

  /**
   * Called after a device's first pull since the restore, with the cursor it sent:
   * a cursor at or past the backup's clock that this hub did not hand out (below
   * where its clock started after the restore) means the device synced with the
   * old hub after the backup and may hold changes this hub lost. It is remembered
   * for the status. A cursor even past the restored clock moves the clock beyond
   * it, so no later change hides under it. Later pulls are not looked at: the app
   * sets its own clock as its cursor after a force upload, which says nothing of
   * the old hub.
   */
  noteDevicePull(device: string, cursor: number, now: number): boolean {
    const record = this.restored();
    if (!record) return false;
    const judged = record.judged ?? [];
    if (judged.includes(device)) return false;
    record.judged = [...judged, device];
    // This hub hands out cursors at or above `clockFrom`; the backup's are at or below its clock.
    const fromOldHub = cursor >= record.backupClock &&
      (cursor < record.clockFrom || cursor > this.#clock.current());
    if (fromOldHub) {
      if (cursor > this.#clock.current()) this.#clock.advanceTo(cursor);
      const row = this.#db.prepare("SELECT name FROM devices WHERE client_id = ?").get(device) as
        | { name: string | null }
        | undefined;
      record.devicesAfterBackup.push({ device, name: row?.name ?? null, cursor, seenAt: now });
      record.acknowledgedAt = null; // a phone that may hold lost changes is news again
    }
    this.#set(RESTORED, record);
    return fromOldHub;
  }

  /** The stored settings, or null. */
  settings(): StoredBackupSettings | null {
    return this.#get<StoredBackupSettings>(SETTINGS);
  }

  /** Stores the settings. */
  saveSettings(s: StoredBackupSettings): void {
    this.#set(SETTINGS, s);
  }

  /** The last good backup, or null. */
  lastGood(): LastGoodBackup | null {
    return this.#get<LastGoodBackup>(LAST_GOOD);
  }

  /** Records the last good backup. */
  saveLastGood(b: LastGoodBackup): void {
    this.#set(LAST_GOOD, b);
  }
}
