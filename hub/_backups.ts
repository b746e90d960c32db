/**
 * Backups on the hub's side: the settings (folder, interval, how many to keep),
 * the schedule (every N minutes when something changed, on demand, before risky
 * operations) and the status the dashboard and health line show. What the folder
 * holds and which backups are kept is in hub/_backup_folder.ts, how the status is
 * worked out in hub/_backup_status.ts, restoring a backup in hub/_restore.ts.
 *
 * A backup folder that is not there (a USB stick pulled) is a warning on the
 * status, never an error that stops syncing; the folder is created only when the
 * operator names it (flag or admin API), never by the schedule, so a pulled
 * stick's empty mount point is not silently filled on the internal disk.
 */
import { type EventBus, HubError, type Logger } from "../core/mod.ts";
import {
  type BackupHeader,
  createBackup,
  removeLeftovers,
  type Store,
  type StoredBackupSettings,
} from "../store/mod.ts";
import type { VaultSecrets } from "../vault/mod.ts";
import { type BackupEntry, isFolder, listBackups, pruneBackups } from "./_backup_folder.ts";
import { type BackupStatus, backupStatus } from "./_backup_status.ts";

/** Minutes between scheduled backups when `--backup-every` is not given. */
export const DEFAULT_BACKUP_EVERY_MINUTES = 5;
/** Backups kept besides the newest of each of the last seven days. */
export const DEFAULT_KEEP_LAST = 10;
/** How often the schedule looks whether a backup is due. */
const TICK_MS = 5_000;

/** Backup settings. */
export type BackupSettings = StoredBackupSettings;

/** What the flags ask for (null: not given; stored settings stay). */
export interface BackupFlags {
  dir?: string | null;
  everyMinutes?: number | null;
}

/** What "back up now" answers. */
export interface BackupResult {
  file: string;
  bytes: number;
  header: BackupHeader;
  /** Milliseconds spent taking the snapshot, writing the file and proving it restorable. */
  timings: { snapshotMs: number; writeMs: number; verifyMs: number };
}

/** What the service needs of the hub (getters: it lives across locks and unlocks). */
export interface BackupHost {
  dataDir: string;
  dbPath: string;
  vaultPath: string;
  version: string;
  events: EventBus;
  /** Where the service's lines go (the hub's logger). */
  logger: Logger;
  /** The open store and vault secrets, or null while locked. */
  open(): { store: Store; secrets: VaultSecrets } | null;
  now?: () => number;
}

/**
 * The hub's backups: settings, schedule, status. The `Hub` owns one, reached as
 * `hub.backups`; it runs while the hub is unlocked.
 *
 * @example
 * ```ts
 * import type { Hub } from "./mod.ts";
 *
 * declare const hub: Hub; // the running, unlocked hub
 * await hub.backups.updateSettings({ dir: "/media/stick/hub-backups", everyMinutes: 15 });
 * const b = await hub.backups.backupNow(); // throws `backup_folder_missing` if the stick is out
 * b.file; // "hub-backup-20260101T120000Z.hubbackup"
 * (await hub.backups.status())?.warning; // null while all is well
 * ```
 */
export class BackupService {
  #host: BackupHost;
  #flags: BackupFlags;
  #settings: BackupSettings = {
    dir: null,
    everyMinutes: DEFAULT_BACKUP_EVERY_MINUTES,
    keepLast: DEFAULT_KEEP_LAST,
  };
  #timer: ReturnType<typeof setInterval> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #running = false;
  #lastAttempt = 0;
  #lastError: { at: number; message: string } | null = null;
  #folderMissing = false;
  #now: () => number;

  /** Creates the service; it starts with {@link unlocked}. */
  constructor(host: BackupHost, flags: BackupFlags = {}) {
    this.#host = host;
    this.#flags = flags;
    this.#now = host.now ?? Date.now;
    host.events.listen((e) => {
      if (e.type !== "sync") return;
      const d = e.data as { device: string; kind: string; cursor?: number };
      if (d.kind !== "pull" || d.cursor === undefined) return;
      const open = host.open();
      if (!open || open.store.closed) return;
      try {
        if (open.store.backups.noteDevicePull(d.device, d.cursor, this.#now())) {
          this.#host.logger.log("warn", "backup.device_synced_after_backup", { device: d.device });
          this.#publish("device_after_backup", "restore", null, null);
        }
      } catch (err) {
        this.#host.logger.log("warn", "backup.note_device_failed", { error: err });
      }
    });
  }

  #publish(outcome: string, reason: string, file: string | null, error: string | null): void {
    this.#host.events.publish("backup", { outcome, reason, file, error });
  }

  /** Loads the settings (flags win and are stored) and starts the schedule. */
  async unlocked(): Promise<void> {
    const open = this.#host.open();
    if (!open) return;
    const b = open.store.backups;
    const stored = b.settings();
    // Defaults, then what this database keeps, then the flags (a reset hub starts afresh).
    const s: BackupSettings = {
      dir: null,
      everyMinutes: DEFAULT_BACKUP_EVERY_MINUTES,
      keepLast: DEFAULT_KEEP_LAST,
      ...(stored ?? {}),
    };
    let changed = stored === null;
    if (this.#flags.dir !== undefined && this.#flags.dir !== null && this.#flags.dir !== s.dir) {
      s.dir = this.#flags.dir;
      changed = true;
    }
    if (
      this.#flags.everyMinutes !== undefined && this.#flags.everyMinutes !== null &&
      this.#flags.everyMinutes !== s.everyMinutes
    ) {
      s.everyMinutes = this.#flags.everyMinutes;
      changed = true;
    }
    this.#settings = s;
    if (this.#flags.dir) {
      // A folder that cannot be made is the status's warning, never a reason not to unlock.
      await this.#makeFolder(this.#flags.dir).catch((err) =>
        this.#host.logger.log("warn", "backup.folder_not_created", { error: err })
      );
    }
    if (changed) {
      try {
        b.saveSettings(s);
      } catch (err) {
        this.#host.logger.log("warn", "backup.settings_not_saved", { error: err });
      }
    }
    this.#lastAttempt = this.#now();
    this.#start();
  }

  #start(): void {
    this.stop();
    const timer = setInterval(() => void this.#tick(), TICK_MS);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** Stops the schedule (lock, shutdown). A backup already running finishes on its own. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Waits for a running backup (tests, shutdown). */
  async idle(): Promise<void> {
    await this.#queue.catch(() => {});
  }

  /** The current settings. */
  settings(): BackupSettings {
    return { ...this.#settings };
  }

  /** Changes and stores the settings (admin API); a named folder is created. */
  async updateSettings(patch: Partial<BackupSettings>): Promise<BackupSettings> {
    const open = this.#host.open();
    if (!open) throw new HubError("locked", 423, "Unlock the hub first.");
    const next = { ...this.#settings };
    if (patch.dir !== undefined) {
      if (patch.dir !== null && (typeof patch.dir !== "string" || patch.dir.trim() === "")) {
        throw new HubError("bad_request", 400, "dir must be a folder path, or null for none.");
      }
      next.dir = patch.dir === null ? null : patch.dir.trim();
    }
    if (patch.everyMinutes !== undefined) {
      const n = patch.everyMinutes;
      if (!Number.isInteger(n) || n < 1 || n > 24 * 60) {
        throw new HubError(
          "bad_request",
          400,
          "everyMinutes must be a whole number from 1 to 1440.",
        );
      }
      next.everyMinutes = n;
    }
    if (patch.keepLast !== undefined) {
      const n = patch.keepLast;
      if (!Number.isInteger(n) || n < 1 || n > 1000) {
        throw new HubError("bad_request", 400, "keepLast must be a whole number from 1 to 1000.");
      }
      next.keepLast = n;
    }
    if (next.dir) await this.#makeFolder(next.dir);
    open.store.backups.saveSettings(next);
    this.#settings = next;
    this.#folderMissing = false;
    this.#publish("settings", "settings", null, null);
    this.#host.logger.log("info", "backup.settings_changed", { everyMinutes: next.everyMinutes });
    return this.settings();
  }

  async #makeFolder(dir: string): Promise<void> {
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new HubError(
        "backup_folder",
        400,
        `The backup folder ${dir} cannot be created (${(err as Error).message}).`,
        { cause: err },
      );
    }
  }

  async #tick(): Promise<void> {
    const open = this.#host.open();
    const dir = this.#settings.dir;
    if (!open || !dir || this.#running) return;
    if (this.#now() - this.#lastAttempt < this.#settings.everyMinutes * 60_000) return;
    const last = open.store.backups.lastGood();
    if (last && last.clock >= open.store.backups.clockPosition()) return; // nothing changed
    await this.backupNow("schedule").catch(() => {});
  }

  /**
   * Takes a backup now (one at a time: a second call waits for the first).
   * Throws `backup_folder_missing` when the folder is not there, and the
   * backup's error otherwise; either is also published and shown on the status.
   */
  backupNow(reason = "manual"): Promise<BackupResult> {
    const run = this.#queue.then(() => this.#backup(reason));
    this.#queue = run.catch(() => {});
    return run;
  }

  /**
   * Before a risky operation (key rotation, passphrase change, clear, update): a
   * backup when a folder is set. A failure is logged and published, never a
   * reason to refuse the operation.
   */
  async before(reason: string): Promise<void> {
    if (!this.#settings.dir || !this.#host.open()) return;
    try {
      await this.backupNow(reason);
    } catch (err) {
      this.#host.logger.log("warn", "backup.before_failed", { reason, error: err });
    }
  }

  async #backup(reason: string): Promise<BackupResult> {
    const open = this.#host.open();
    if (!open) throw new HubError("locked", 423, "Unlock the hub first.");
    const dir = this.#settings.dir;
    if (!dir) {
      throw new HubError("no_backup_folder", 409, "Choose a backup folder first.");
    }
    this.#lastAttempt = this.#now();
    if (!(await isFolder(dir))) {
      const message =
        `The backup folder ${dir} is not there (a USB stick or network share not connected?). ` +
        "Phones keep syncing; connect it, or choose another folder.";
      if (!this.#folderMissing) this.#host.logger.log("warn", "backup.folder_missing", { reason });
      this.#folderMissing = true;
      this.#lastError = { at: this.#now(), message };
      this.#publish("folder_missing", reason, null, message);
      throw new HubError("backup_folder_missing", 409, message);
    }
    this.#folderMissing = false;
    this.#running = true;
    this.#publish("started", reason, null, null);
    try {
      await removeLeftovers(dir).catch(() => 0);
      // Cursors handed out from here on are at or above the backup's clock.
      open.store.backups.markSnapshot();
      const s = open.secrets;
      const written = await createBackup(
        {
          dbPath: this.#host.dbPath,
          vaultPath: this.#host.vaultPath,
          keyHex: s.dbKey,
          hub: { id: s.hubId, name: s.hubName },
          appVersion: this.#host.version,
        },
        dir,
        reason,
        this.#now,
      );
      const file = basename(written.path);
      const record = {
        file,
        takenAt: written.header.takenAt,
        clock: written.header.clock,
        bytes: written.bytes,
      };
      if (!open.store.closed) open.store.backups.saveLastGood(record);
      this.#lastError = null;
      const pruned = await listBackups(dir, s.hubId)
        .then((entries) => pruneBackups(dir, entries, this.#settings.keepLast, this.#now()))
        .catch(() => 0);
      this.#host.logger.log("info", "backup.ok", {
        reason,
        file,
        bytes: written.bytes,
        pruned,
        ...written.timings,
      });
      this.#publish("ok", reason, file, null);
      return { file, bytes: written.bytes, header: written.header, timings: written.timings };
    } catch (err) {
      const message = err instanceof HubError
        ? err.message
        : `The backup failed: ${(err as Error).message}`;
      this.#lastError = { at: this.#now(), message };
      this.#host.logger.log("error", "backup.failed", { reason, error: err });
      this.#publish("failed", reason, null, message);
      throw err instanceof HubError ? err : new HubError("backup_failed", 500, message, {
        cause: err,
      });
    } finally {
      this.#running = false;
    }
  }

  /** The operator has read the restore notice: the health line stops warning of it. */
  acknowledgeRestore(): void {
    const open = this.#host.open();
    if (!open) throw new HubError("locked", 423, "Unlock the hub first.");
    if (!open.store.backups.acknowledgeRestore(this.#now())) {
      throw new HubError("not_found", 404, "This hub was not restored from a backup.");
    }
    this.#publish("restore_acknowledged", "restore", null, null);
  }

  /** The good backups in the folder, newest first (only this hub's unless `all`). */
  async list(all = false): Promise<BackupEntry[]> {
    const dir = this.#settings.dir;
    if (!dir) return [];
    const hubId = this.#host.open()?.secrets.hubId ?? null;
    return await listBackups(dir, all ? null : hubId);
  }

  /** The backups part of the status (null while locked). */
  async status(): Promise<BackupStatus | null> {
    const open = this.#host.open();
    if (!open || open.store.closed) return null;
    const b = open.store.backups;
    const dir = this.#settings.dir;
    return backupStatus({
      settings: this.#settings,
      folder: !dir ? "unset" : (await isFolder(dir)) ? "ok" : "missing",
      running: this.#running,
      lastGood: b.lastGood(),
      clock: b.clockPosition(),
      lastError: this.#lastError,
      restored: b.restored(),
      now: this.#now(),
    });
  }
}

function basename(path: string): string {
  return path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
}
