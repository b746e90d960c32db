/**
 * Backups on the hub's side: the settings (folder, interval, how many to keep),
 * the schedule (every N minutes when something changed, on demand, before risky
 * operations), keeping the last K plus one a day for a week, the status the
 * dashboard and health line show, and restoring a backup into a data folder.
 *
 * A backup folder that is not there (a USB stick pulled) is a warning on the
 * status, never an error that stops syncing; the folder is created only when the
 * operator names it (flag or admin API), never by the schedule, so a pulled
 * stick's empty mount point is not silently filled on the internal disk.
 */
import { type EventBus, exists, HubError, join, Logger, syncDir } from "../core/mod.ts";
import {
  BACKUP_EXTENSION,
  type BackupHeader,
  checkBackupFile,
  checkVaultSection,
  compareFacts,
  createBackup,
  extractSection,
  inspectRestored,
  type LastGoodBackup,
  peekBackupHeader,
  removeLeftovers,
  type RestoreRecord,
  Store,
  type StoredBackupSettings,
} from "../store/mod.ts";
import { openVault, type VaultSecrets } from "../vault/mod.ts";

/** Minutes between scheduled backups when `--backup-every` is not given. */
export const DEFAULT_BACKUP_EVERY_MINUTES = 5;
/** Backups kept besides one a day for {@link KEEP_DAILY_DAYS} days. */
export const DEFAULT_KEEP_LAST = 10;
/** Days for which the newest backup of each day is kept. */
export const KEEP_DAILY_DAYS = 7;
/** How often the schedule looks whether a backup is due. */
const TICK_MS = 5_000;

/** Backup settings. */
export type BackupSettings = StoredBackupSettings;

/** What the flags ask for (null: not given; stored settings stay). */
export interface BackupFlags {
  dir?: string | null;
  everyMinutes?: number | null;
}

/** One backup in the folder. */
export interface BackupEntry {
  file: string;
  bytes: number;
  takenAt: number;
  reason: string;
  clock: number;
  hubId: string;
  counts: Record<string, number>;
}

/** What "back up now" answers. */
export interface BackupResult {
  file: string;
  bytes: number;
  header: BackupHeader;
  /** Milliseconds spent taking the snapshot, writing the file and proving it restorable. */
  timings: { snapshotMs: number; writeMs: number; verifyMs: number };
}

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

/** The hub's backups: settings, schedule, status. */
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
      const d = e.data as { device: string; kind: string };
      if (d.kind !== "pull") return;
      const open = host.open();
      if (!open || open.store.closed) return;
      try {
        if (open.store.backups.noteDevicePull(d.device, this.#now())) {
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
      const pruned = await this.#prune(dir, s.hubId).catch(() => 0);
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
    if (!dir || !(await isFolder(dir))) return [];
    const hubId = this.#host.open()?.secrets.hubId;
    const out: BackupEntry[] = [];
    for await (const e of Deno.readDir(dir)) {
      if (!e.isFile || !e.name.endsWith(BACKUP_EXTENSION) || e.name.startsWith(".")) continue;
      const path = join(dir, e.name);
      const h = await peekBackupHeader(path);
      if (!h) continue;
      if (!all && hubId && h.hub?.id !== hubId) continue;
      const size = (await Deno.stat(path).catch(() => null))?.size ?? 0;
      out.push({
        file: e.name,
        bytes: size,
        takenAt: h.takenAt,
        reason: h.reason,
        clock: h.clock,
        hubId: h.hub?.id,
        counts: h.counts,
      });
    }
    return out.sort((a, b) => b.takenAt - a.takenAt || b.file.localeCompare(a.file));
  }

  /** Keeps the newest `keepLast` plus the newest of each of the last 7 days; removes the rest. */
  async #prune(dir: string, hubId: string): Promise<number> {
    const entries = (await this.list()).filter((e) => e.hubId === hubId);
    const keep = new Set(entries.slice(0, this.#settings.keepLast).map((e) => e.file));
    const cutoff = this.#now() - KEEP_DAILY_DAYS * 24 * 3_600_000;
    const days = new Set<string>();
    for (const e of entries) {
      if (e.takenAt < cutoff) continue;
      const day = new Date(e.takenAt).toISOString().slice(0, 10);
      if (!days.has(day)) {
        days.add(day);
        keep.add(e.file);
      }
    }
    let removed = 0;
    for (const e of entries) {
      if (keep.has(e.file)) continue;
      await Deno.remove(join(dir, e.file)).then(() => removed++).catch(() => {});
    }
    if (removed > 0) await syncDir(dir);
    return removed;
  }

  /** The backups part of the status (null while locked). */
  async status(): Promise<BackupStatus | null> {
    const open = this.#host.open();
    if (!open || open.store.closed) return null;
    const b = open.store.backups;
    const s = this.#settings;
    const now = this.#now();
    const folder = !s.dir ? "unset" : (await isFolder(s.dir)) ? "ok" : "missing";
    const last = b.lastGood();
    const lastGood = last ? { ...last, ageMs: Math.max(0, now - last.takenAt) } : null;
    const changedSince = !last || last.clock < b.clockPosition();
    const stale = s.dir !== null && changedSince &&
      (lastGood ? lastGood.ageMs > staleAfterMs(s.everyMinutes) : false);
    let warning: string | null = null;
    if (folder === "missing") {
      warning =
        `The backup folder ${s.dir} is not there (USB stick pulled?): no backups are taken.`;
    } else if (stale && lastGood) {
      warning = `The last good backup is ${Math.round(lastGood.ageMs / 60_000)} minutes old.`;
    } else if (folder === "ok" && !lastGood && this.#lastError) {
      warning = this.#lastError.message;
    }
    const restored = b.restored();
    return {
      dir: s.dir,
      everyMinutes: s.everyMinutes,
      keepLast: s.keepLast,
      folder,
      running: this.#running,
      lastGood,
      lastError: this.#lastError,
      stale,
      warning,
      restored: restored ? { ...restored, message: restoredMessage(restored.backupTakenAt) } : null,
    };
  }
}

/** What a restored hub tells the operator. */
export function restoredMessage(takenAt: number): string {
  return `This hub was restored from a backup taken at ${new Date(takenAt).toISOString()}: ` +
    "changes made after that time that were not relayed to the cloud may be missing.";
}

async function isFolder(dir: string): Promise<boolean> {
  try {
    return (await Deno.stat(dir)).isDirectory;
  } catch {
    return false;
  }
}

function basename(path: string): string {
  return path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
}

/** What {@link restoreBackup} did. */
export interface RestoreResult {
  hubId: string;
  hubName: string;
  backupTakenAt: number;
  counts: Record<string, number>;
  clockFrom: number;
}

/**
 * Restores a backup file into `dataDir` (new, or without a hub in it): checks the
 * whole file, opens its vault with the passphrase, copies the database into place,
 * checks it (integrity, counts), moves the change clock past anything the old hub
 * may have handed out, and records the restore. The vault is put in place last:
 * until then the folder holds no hub, so a crash part-way restores nothing.
 */
export async function restoreBackup(options: {
  from: string;
  dataDir: string;
  passphrase: string;
  now?: () => number;
  /** Where the restore's line goes (default: stderr). */
  logger?: Logger;
}): Promise<RestoreResult> {
  const now = options.now ?? Date.now;
  const checked = await checkBackupFile(options.from);
  const vaultBytes = await checkVaultSection(options.from, checked);
  const dir = options.dataDir;
  const vaultPath = join(dir, "hub.vault");
  const dbPath = join(dir, "hub.db");
  if (await exists(vaultPath)) {
    throw new HubError(
      "data_dir_in_use",
      409,
      `${dir} already holds a hub (hub.vault). Restore into an empty or new folder, ` +
        "or reset that hub first.",
    );
  }
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  // A database without a vault can never be opened again: move it aside, as setup does.
  for (const suffix of ["", "-wal", "-shm", "-journal"]) {
    const p = dbPath + suffix;
    if (await exists(p)) await Deno.rename(p, `${p}.orphaned-${now()}`);
  }
  // What an earlier restore cut short left behind (encrypted, but of no use).
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory && /^\.restore-[0-9a-f-]{36}$/.test(e.name)) {
      await Deno.remove(join(dir, e.name), { recursive: true }).catch(() => {});
    }
  }
  const staging = join(dir, `.restore-${crypto.randomUUID()}`);
  await Deno.mkdir(staging, { mode: 0o700 });
  try {
    const stagedVault = join(staging, "hub.vault");
    await Deno.writeFile(stagedVault, vaultBytes, { mode: 0o600 });
    let secrets: VaultSecrets;
    try {
      const vault = await openVault(stagedVault, options.passphrase);
      secrets = structuredClone(vault.secrets);
      vault.close();
    } catch (err) {
      if (err instanceof HubError && err.code === "wrong_passphrase") {
        throw new HubError(
          "wrong_passphrase",
          401,
          "Wrong passphrase for this backup: use the passphrase the hub had when the backup " +
            `was taken (${checked.header.takenAtText}).`,
        );
      }
      throw err;
    }
    const stagedDb = join(staging, "hub.db");
    await extractSection(options.from, checked.database, stagedDb);
    const key = secrets.dbKey;
    const facts = await inspectRestored(stagedDb, key).catch((err) => {
      throw new HubError(
        "backup_damaged",
        422,
        `The backup's database does not open with its key (${(err as Error).message}).`,
        { cause: err },
      );
    });
    compareFacts(options.from, checked.header, facts);
    const store = Store.open(stagedDb, key);
    let record: RestoreRecord;
    try {
      record = store.backups.markRestored({
        takenAt: checked.header.takenAt,
        clock: checked.header.clock,
        cloudWatermark: checked.header.cloudWatermark,
      }, now());
    } finally {
      store.close();
    }
    // Database first, vault last (its presence makes the folder a hub).
    for (const suffix of ["-wal", "-shm"]) await Deno.remove(stagedDb + suffix).catch(() => {});
    await Deno.rename(stagedDb, dbPath);
    await Deno.rename(stagedVault, vaultPath);
    await syncDir(dir);
    (options.logger ?? new Logger()).log("warn", "hub.restored", {
      hubId: secrets.hubId,
      backupTakenAt: checked.header.takenAtText,
    });
    return {
      hubId: secrets.hubId,
      hubName: secrets.hubName,
      backupTakenAt: checked.header.takenAt,
      counts: checked.header.counts,
      clockFrom: record.clockFrom,
    };
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
}
