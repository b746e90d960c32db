/**
 * Backups of the store: take a consistent encrypted snapshot beside the running
 * hub, write it with the vault into one backup file (store/_backup_file.ts), and
 * prove the file restorable before anyone counts it as good. What is durable when:
 *
 * 1. `VACUUM INTO` a temp snapshot in the backup folder (encrypted under the same
 *    key; see store/_backup_snapshot.ts for the experiment that shows it).
 * 2. The backup file is written under a temp name (`.<name>.tmp-<uuid>`) and fsynced.
 * 3. It is verified from its bytes: checksum, header, the database section copied
 *    to a temp folder opens with the key, `integrity_check` says ok, and its row
 *    counts and clock equal the header's.
 * 4. Only then is it renamed to its final `*.hubbackup` name and the folder fsynced.
 *
 * So a file with the final name has been verified; a crash (or SIGKILL) at any
 * step leaves only temp files, which the next backup removes.
 */
import { HubError, join, syncDir } from "../core/mod.ts";
import type { Database } from "./_db.ts";
import type { ChangeClock } from "./_clock.ts";
import { inspectSnapshot, type SnapshotFacts, snapshotInto } from "./_backup_snapshot.ts";
import type { BackupStep } from "./_backup_worker.ts";
import {
  BACKUP_EXTENSION,
  type BackupHeader,
  checkBackupFile,
  type CheckedBackup,
  extractSection,
  readSection,
  writeBackupFile,
} from "./_backup_file.ts";

/** How far past max(wall clock, the backup's clock) a restored hub's clock starts. */
export const RESTORE_CLOCK_MARGIN_MS = 60 * 60 * 1000;

/** True when `HUB_BACKUP_INLINE=1` asks for backups on the main thread (the benchmark compares). */
function inlineAsked(): boolean {
  try {
    return Deno.env.get("HUB_BACKUP_INLINE") === "1";
  } catch {
    return false; // no env permission
  }
}

/** Runs one step in a Worker (its own connection); inline where Workers are unavailable. */
async function runStep<T>(step: BackupStep): Promise<T> {
  if (inlineAsked()) return inline(step) as T;
  let worker: Worker;
  try {
    worker = new Worker(new URL("./_backup_worker.ts", import.meta.url).href, { type: "module" });
  } catch {
    return inline(step) as T;
  }
  try {
    return await new Promise<T>((resolve, reject) => {
      worker.onmessage = (e) => {
        const m = e.data as { ok: boolean; result?: T; message?: string };
        if (m.ok) resolve(m.result as T);
        else reject(new Error(m.message));
      };
      worker.onerror = (e) => {
        // The worker could not load (e.g. a build without its module): the step's
        // own failures come as messages, so doing it here instead is safe.
        e.preventDefault();
        try {
          resolve(inline(step) as T);
        } catch (err) {
          reject(err);
        }
      };
      worker.postMessage(step);
    });
  } finally {
    worker.terminate();
  }
}

function inline(step: BackupStep): unknown {
  return step.op === "snapshot"
    ? snapshotInto(step.source, step.key, step.target)
    : inspectSnapshot(step.path, step.key, { integrity: step.integrity });
}

/** What a backup needs from the hub. */
export interface BackupSource {
  dbPath: string;
  vaultPath: string;
  keyHex: string;
  hub: { id: string; name: string };
  appVersion: string;
}

/** A backup written and verified. */
export interface WrittenBackup {
  path: string;
  header: BackupHeader;
  bytes: number;
  /** Milliseconds: snapshot, write, verify. */
  timings: { snapshotMs: number; writeMs: number; verifyMs: number };
}

function stampName(at: number): string {
  return new Date(at).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/** Temp files older than this are a killed backup's (a slow stick may take minutes to write one). */
export const LEFTOVER_AGE_MS = 30 * 60_000;

/**
 * Removes temp files a killed backup left in `dir` (never a finished backup, nor
 * a recent temp file: another hub may be writing it into a shared folder).
 */
export async function removeLeftovers(dir: string, now = Date.now()): Promise<number> {
  let removed = 0;
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !e.name.startsWith(".hub-backup-") || !/\.tmp-[0-9a-f-]{36}$/.test(e.name)) {
      continue;
    }
    const path = join(dir, e.name);
    const mtime = (await Deno.stat(path).catch(() => null))?.mtime?.getTime() ?? now;
    if (now - mtime < LEFTOVER_AGE_MS) continue;
    await Deno.remove(path).then(() => removed++).catch(() => {});
  }
  return removed;
}

/**
 * Takes a backup of the database at `source.dbPath` (while it is in use) into
 * `dir`, verifies it and gives it its final name. Throws when any step fails; a
 * failed backup leaves no file with the final name.
 */
export async function createBackup(
  source: BackupSource,
  dir: string,
  reason: string,
  now: () => number = Date.now,
): Promise<WrittenBackup> {
  const id = crypto.randomUUID();
  const takenAt = now();
  let name = `hub-backup-${stampName(takenAt)}${BACKUP_EXTENSION}`;
  for (let i = 2; await existsFile(join(dir, name)); i++) {
    name = `hub-backup-${stampName(takenAt)}-${i}${BACKUP_EXTENSION}`;
  }
  const snapshot = join(dir, `.hub-backup-snapshot.tmp-${id}`);
  const temp = join(dir, `.hub-backup-file.tmp-${id}`);
  const final = join(dir, name);
  try {
    let t = performance.now();
    // The vault as at rest, read before and after the snapshot: a key rotation or a
    // passphrase change that wrote the vault in between fails this backup (the next
    // one is taken as usual), so the vault in a file always opens its snapshot.
    const vault = await Deno.readFile(source.vaultPath);
    await runStep<null>({
      op: "snapshot",
      source: source.dbPath,
      key: source.keyHex,
      target: snapshot,
    });
    const facts = await runStep<SnapshotFacts>({
      op: "inspect",
      path: snapshot,
      key: source.keyHex,
      integrity: false,
    });
    const snapshotMs = performance.now() - t;
    t = performance.now();
    const vaultAfter = await Deno.readFile(source.vaultPath);
    if (vaultAfter.length !== vault.length || !vaultAfter.every((b, i) => b === vault[i])) {
      throw new HubError(
        "backup_keys_changed",
        409,
        "The hub's keys or passphrase changed during the backup; it will be taken again.",
      );
    }
    const { bytes } = await writeBackupFile(
      temp,
      {
        format: "hikma-local-hub-backup",
        version: 1,
        hub: source.hub,
        takenAt,
        takenAtText: new Date(takenAt).toISOString(),
        reason,
        appVersion: source.appVersion,
        schemaVersion: facts.schemaVersion,
        clock: facts.clock,
        cloudWatermark: facts.cloudWatermark,
        counts: facts.counts,
      },
      vault,
      snapshot,
    );
    await Deno.remove(snapshot);
    const writeMs = performance.now() - t;
    t = performance.now();
    const checked = await verifyBackup(temp, source.keyHex);
    const verifyMs = performance.now() - t;
    // Verified: only now does it get the name that counts it as good.
    await Deno.rename(temp, final);
    await syncDir(dir);
    return {
      path: final,
      header: checked.header,
      bytes,
      timings: {
        snapshotMs: Math.round(snapshotMs),
        writeMs: Math.round(writeMs),
        verifyMs: Math.round(verifyMs),
      },
    };
  } finally {
    await Deno.remove(snapshot).catch(() => {});
    await Deno.remove(temp).catch(() => {});
  }
}

async function existsFile(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Proves a backup file restorable with the database key: checksum and header,
 * the vault section is a vault, the database section (copied to a temp folder)
 * opens with the key, passes `integrity_check`, and holds the header's row counts
 * and clock. Throws `backup_damaged` (or the key's error) otherwise.
 */
export async function verifyBackup(path: string, keyHex: string): Promise<CheckedBackup> {
  const checked = await checkBackupFile(path);
  await checkVaultSection(path, checked);
  const tmp = await Deno.makeTempDir({ prefix: "hub-backup-verify-" });
  try {
    const db = join(tmp, "hub.db");
    await extractSection(path, checked.database, db);
    let facts: SnapshotFacts;
    try {
      facts = await runStep<SnapshotFacts>({
        op: "inspect",
        path: db,
        key: keyHex,
        integrity: true,
      });
    } catch (err) {
      throw new HubError(
        "backup_damaged",
        422,
        `The backup's database does not open with its key (${(err as Error).message}).`,
        { cause: err },
      );
    }
    compareFacts(path, checked.header, facts);
    return checked;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** Checks the vault section is a vault file (it is sealed: only the passphrase opens it). */
export async function checkVaultSection(path: string, checked: CheckedBackup): Promise<Uint8Array> {
  const bytes = await readSection(path, checked.vault);
  let doc: { format?: unknown } | null = null;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch { /* below */ }
  if (doc?.format !== "hikma-local-hub-vault") {
    throw new HubError("backup_damaged", 422, "The backup's vault section is not a hub vault.");
  }
  return bytes;
}

/** Throws unless a restored database holds what the backup's header says. */
export function compareFacts(path: string, header: BackupHeader, facts: SnapshotFacts): void {
  if (facts.integrity !== null && facts.integrity !== "ok") {
    throw new HubError(
      "backup_damaged",
      422,
      "The backup's database fails SQLite's integrity check; it cannot be restored.",
      { cause: new Error(`integrity_check of ${path}: ${facts.integrity.slice(0, 200)}`) },
    );
  }
  const names = new Set([...Object.keys(header.counts), ...Object.keys(facts.counts)]);
  for (const n of names) {
    if (header.counts[n] !== facts.counts[n]) {
      throw new HubError(
        "backup_damaged",
        422,
        `The backup's database does not hold the rows its header lists (${n}: ${
          facts.counts[n] ?? 0
        } instead of ${header.counts[n] ?? 0}).`,
      );
    }
  }
  if (facts.clock !== header.clock) {
    throw new HubError(
      "backup_damaged",
      422,
      "The backup's database does not match its header (change clock).",
    );
  }
}

/** Reads a checked database section's facts (restore: after copying it into place). */
export function inspectRestored(path: string, keyHex: string): Promise<SnapshotFacts> {
  return runStep<SnapshotFacts>({ op: "inspect", path, key: keyHex, integrity: true });
}

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
   * and records where the data came from. Returns the record.
   */
  markRestored(
    backup: { takenAt: number; clock: number; cloudWatermark: string | null },
    now: number,
  ): RestoreRecord {
    const clockFrom = Math.max(now, backup.clock, this.#clock.current()) +
      RESTORE_CLOCK_MARGIN_MS;
    this.#clock.advanceTo(clockFrom);
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
   * Called after a device pulled: if the cursor it came with is past the backup's
   * clock but not from this hub (at or below where the clock started after the
   * restore), the device synced with the old hub after the backup and may hold
   * changes this hub lost. It is remembered for the status. A cursor even past the
   * restored clock moves the clock beyond it, so no later change hides under it.
   */
  noteDevicePull(device: string, now: number): boolean {
    const record = this.restored();
    if (!record) return false;
    const row = this.#db.prepare("SELECT pull_cursor, name FROM devices WHERE client_id = ?")
      .get(device) as { pull_cursor: number | null; name: string | null } | undefined;
    const cursor = row?.pull_cursor ?? 0;
    // This hub hands out cursors at or above `clockFrom`; the backup's are at or below its clock.
    const fromOldHub = cursor > record.backupClock &&
      (cursor < record.clockFrom || cursor > this.#clock.current());
    if (!fromOldHub) return false;
    if (cursor > this.#clock.current()) this.#clock.advanceTo(cursor);
    if (record.devicesAfterBackup.some((d) => d.device === device)) return false;
    record.devicesAfterBackup.push({ device, name: row?.name ?? null, cursor, seenAt: now });
    record.acknowledgedAt = null; // a phone that may hold lost changes is news again
    this.#set(RESTORED, record);
    return true;
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
