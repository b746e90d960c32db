/**
 * Opening the SQLCipher database. Settings decided here, once:
 * - SQLCipher 4 format (`cipher='sqlcipher'`, `legacy=4`) set before the key on
 *   every open, so the file opens in real SQLCipher 4; the library's default is ChaCha20.
 * - A raw 256-bit key (`x'..'`), so no second KDF runs on open (the vault's KDF already did).
 * - WAL with `synchronous=FULL`: a committed transaction survives a power cut.
 */
import BetterSqlite3 from "better-sqlite3-multiple-ciphers";
import { HubError } from "../core/mod.ts";

/** The database handle type used throughout `store/`. */
export type Database = BetterSqlite3.Database;

/** Tunables for the connection (measured in bench/store_bench.ts). */
export const CACHE_KIB = 64 * 1024;

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
export function openDatabase(path: string, keyHex: string): Database {
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
  db.pragma("busy_timeout = 5000");
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
