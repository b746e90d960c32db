/**
 * Opening the SQLCipher database. Settings decided here, once:
 * - SQLCipher 4 format (`cipher='sqlcipher'`, `legacy=4`) set before the key on
 *   every open, so the file opens in real SQLCipher 4; the library's default is ChaCha20.
 * - A raw 256-bit key (`x'..'`), so no second KDF runs on open (the vault's KDF already did).
 * - WAL with `synchronous=FULL`: a committed transaction survives a power cut.
 * - The WAL is bounded: `journal_size_limit` truncates it back to 16 MiB after
 *   each checkpoint, so space freed on a full disk is not held by an old WAL.
 * - A full disk (`SQLITE_FULL`) inside any transaction becomes one `disk_full`
 *   error whose message the phone sees ("The hub's disk is full"), never an
 *   internal error and never a false success (the transaction rolled back).
 */
import BetterSqlite3 from "better-sqlite3-multiple-ciphers";
import { HubError } from "../core/mod.ts";

/** The database handle type used throughout `store/`. */
export type Database = BetterSqlite3.Database;

/** Tunables for the connection (measured in bench/store_bench.ts). */
export const CACHE_KIB = 64 * 1024;

/** The WAL is truncated back to this size after a checkpoint. */
export const WAL_SIZE_LIMIT = 16 * 1024 * 1024;

/** The message a phone (and the operator) sees when a write finds the disk full. */
export const DISK_FULL_MESSAGE = "The hub's disk is full";

/** True for SQLite's "database or disk is full" (and the OS's ENOSPC under it). */
export function isDiskFull(err: unknown): boolean {
  if (err instanceof HubError) return err.code === "disk_full";
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === "SQLITE_FULL" ||
    /database or disk is full|No space left/i.test(String(e?.message));
}

/** Converts a disk-full error into the one `disk_full` HubError (others pass through). */
export function diskFullError(err: unknown): unknown {
  if (err instanceof HubError || !isDiskFull(err)) return err;
  return new HubError(
    "disk_full",
    507,
    `${DISK_FULL_MESSAGE}. Nothing was saved; free some space on the hub's computer and sync again.`,
    { cause: err },
  );
}

/**
 * The disk-full state of one connection: set (to the time) when a transaction
 * meets a full disk, cleared when a later transaction writes successfully.
 */
export interface DiskState {
  fullSince: number | null;
}

/**
 * Wraps `db.transaction` once, here, so that every transaction (the store's, the
 * sync code's, the procedures') reports a full disk the same way and tells the
 * store whether the disk is full.
 */
function watchTransactions(db: Database, disk: DiskState): void {
  const original = db.transaction.bind(db);
  const changes = db.prepare("SELECT total_changes() AS n");
  // deno-lint-ignore no-explicit-any
  const guard = (f: (...a: any[]) => unknown) => (...args: unknown[]) => {
    // Only while the disk is known full: did this transaction write? Then it is not.
    const before = disk.fullSince === null ? 0 : (changes.get() as { n: number }).n;
    try {
      const r = f(...args);
      if (disk.fullSince !== null && !db.inTransaction) {
        if ((changes.get() as { n: number }).n > before) disk.fullSince = null;
      }
      return r;
    } catch (err) {
      const mapped = diskFullError(err);
      if (mapped !== err) disk.fullSince ??= Date.now();
      throw mapped;
    }
  };
  db.transaction = ((fn: (...a: unknown[]) => unknown) => {
    const tx = original(fn);
    const out = guard(tx) as unknown as typeof tx;
    for (const k of ["default", "deferred", "immediate", "exclusive"] as const) {
      (out as unknown as Record<string, unknown>)[k] = guard(tx[k]);
    }
    return out;
  }) as typeof db.transaction;
}

function applyCipher(db: Database, keyHex: string): void {
  if (!/^[0-9a-f]{64}$/.test(keyHex)) throw new Error("database key must be 64 hex characters");
  db.pragma("cipher = 'sqlcipher'");
  db.pragma("legacy = 4");
  db.pragma(`key = "x'${keyHex}'"`);
}

/**
 * Opens (or creates) the encrypted database with a raw key. Throws `wrong_db_key`
 * when the key does not fit the file, so the caller can try a pending rotation key.
 */
export function openDatabase(
  path: string,
  keyHex: string,
  disk: DiskState = { fullSince: null },
): Database {
  const db = new BetterSqlite3(path);
  try {
    applyCipher(db, keyHex);
    // The first read decrypts page 1; a wrong key fails here.
    db.prepare("SELECT count(*) FROM sqlite_master").get();
  } catch (err) {
    db.close();
    const msg = err instanceof Error ? err.message : String(err);
    if (/not a database|encrypted/i.test(msg)) {
      throw new HubError("wrong_db_key", 500, "The database key does not open hub.db.", {
        cause: err,
      });
    }
    throw new HubError("db_open_failed", 500, `hub.db could not be opened: ${msg}`, {
      cause: err,
    });
  }
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma(`cache_size = -${CACHE_KIB}`);
  db.pragma("temp_store = MEMORY");
  // Checkpoint every ~40 MB of WAL instead of ~4 MB: each checkpoint re-encrypts
  // pages, and fewer of them made batched upserts ~1.3x → ~1.2x plain (bench/RESULTS.md).
  db.pragma("wal_autocheckpoint = 10000");
  db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
  db.pragma("busy_timeout = 5000");
  watchTransactions(db, disk);
  return db;
}

/**
 * Re-encrypts the whole database under a new raw key. WAL is checkpointed and
 * switched to a rollback journal first: the rekey then rewrites every page inside
 * one journaled transaction, so a crash leaves the file wholly under one key.
 *
 * The salt is kept (`x'<key><salt>'`), as SQLCipher's own rekey does. The library
 * would otherwise draw a new one, and since the salt lives in page 1 and feeds the
 * HMAC key, a crash after page 1 was rewritten but before the commit left a hot
 * journal that neither key could roll back (found by tests/hub/crash_test.ts).
 */
export function rekeyDatabase(db: Database, newKeyHex: string): void {
  if (!/^[0-9a-f]{64}$/.test(newKeyHex)) throw new Error("database key must be 64 hex characters");
  const salt = String(db.pragma("cipher_salt", { simple: true })).toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(salt)) throw new Error("could not read the database's cipher salt");
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.pragma("journal_mode = DELETE");
  db.pragma(`rekey = "x'${newKeyHex}${salt}'"`);
  db.pragma("journal_mode = WAL");
}
