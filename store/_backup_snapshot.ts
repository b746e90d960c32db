/**
 * The two SQLite operations of a backup, kept free of the Store so that they can
 * run on their own connection in a Worker (store/_backup_worker.ts) while the
 * main thread keeps serving phones:
 *
 * - {@link snapshotInto}: `VACUUM INTO` from a second, read-only connection. It
 *   reads one consistent snapshot (a WAL read transaction: a push is in it whole or
 *   not at all) while the writer goes on. Measured on this SQLite3MultipleCiphers
 *   build: `VACUUM INTO` from an encrypted main database writes the copy through the
 *   same cipher and key (SQLCipher 4 pages, no plaintext, opens with the key and
 *   only with it), whereas the online backup API refuses an unkeyed target
 *   ("backup is not supported with incompatible source and target databases") and
 *   `sqlcipher_export` does not exist. So no unencrypted copy ever touches a disk.
 * - {@link inspectSnapshot}: opens a snapshot with the key and reads what the
 *   backup's header states (row counts, change clock, cloud watermark), optionally
 *   after `PRAGMA integrity_check`.
 *
 * {@link runStep} runs either one in a Worker (inline where Workers are unavailable).
 */
import BetterSqlite3 from "better-sqlite3-multiple-ciphers";
import type { BackupStep } from "./_backup_worker.ts";

/** What a snapshot holds, read from the snapshot itself (so it matches it exactly). */
export interface SnapshotFacts {
  /** The change clock's position: the highest stamp issued or handed out. */
  clock: number;
  /** Rows per table (every table, synced or not). */
  counts: Record<string, number>;
  /** The relay's cloud watermark (`cloud.watermark` in `hub_meta`), null before the first cycle. */
  cloudWatermark: string | null;
  /** `PRAGMA user_version` (migrations run). */
  schemaVersion: number;
  /** `ok`, or the first problems `PRAGMA integrity_check` found; null when not run. */
  integrity: string | null;
}

function openKeyed(path: string, keyHex: string, readonly: boolean): BetterSqlite3.Database {
  if (!/^[0-9a-f]{64}$/.test(keyHex)) throw new Error("database key must be 64 hex characters");
  const db = new BetterSqlite3(path, { readonly, fileMustExist: true });
  try {
    // As in store/_db.ts: SQLCipher 4 settings before the key, on every open.
    db.pragma("cipher = 'sqlcipher'");
    db.pragma("legacy = 4");
    db.pragma(`key = "x'${keyHex}'"`);
    db.pragma("busy_timeout = 5000");
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Writes a consistent, encrypted copy of the database at `source` to `target` (must not exist). */
export function snapshotInto(source: string, keyHex: string, target: string): void {
  const db = openKeyed(source, keyHex, true);
  try {
    db.prepare("VACUUM INTO ?").run(target);
  } finally {
    db.close();
  }
}

/** Opens `path` with the key and reads its facts; throws when the key does not open it. */
export function inspectSnapshot(
  path: string,
  keyHex: string,
  options: { integrity: boolean },
): SnapshotFacts {
  const db = openKeyed(path, keyHex, true);
  try {
    let integrity: string | null = null;
    if (options.integrity) {
      const rows = db.pragma("integrity_check(20)", { simple: false }) as {
        integrity_check: string;
      }[];
      integrity = rows.map((r) => r.integrity_check).join("; ");
    }
    return db.transaction(() => {
      const names = db.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      ).pluck(true).all() as string[];
      const counts: Record<string, number> = {};
      let clock = 0;
      for (const name of names) {
        const q = `"${name.replaceAll('"', '""')}"`;
        counts[name] = db.prepare(`SELECT count(*) FROM ${q}`).pluck(true).get() as number;
        const cols = db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck(true).all(
          name,
        ) as string[];
        if (cols.includes("local_server_last_modified_at")) {
          const m = db.prepare(`SELECT max(local_server_last_modified_at) FROM ${q}`).pluck(true)
            .get() as number | null;
          clock = Math.max(clock, m ?? 0);
        }
      }
      const meta = (key: string) =>
        names.includes("hub_meta")
          ? db.prepare("SELECT value FROM hub_meta WHERE key = ?").pluck(true).get(key) as
            | string
            | undefined
          : undefined;
      clock = Math.max(clock, Number(meta("clock") ?? 0) || 0);
      return {
        clock,
        counts,
        cloudWatermark: meta("cloud.watermark") ?? null,
        schemaVersion: db.pragma("user_version", { simple: true }) as number,
        integrity,
      };
    })();
  } finally {
    db.close();
  }
}

/** True when `HUB_BACKUP_INLINE=1` asks for backups on the main thread (the benchmark compares). */
function inlineAsked(): boolean {
  try {
    return Deno.env.get("HUB_BACKUP_INLINE") === "1";
  } catch {
    return false; // no env permission
  }
}

/** Runs one step in a Worker (its own connection); inline where Workers are unavailable. */
export async function runStep<T>(step: BackupStep): Promise<T> {
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
