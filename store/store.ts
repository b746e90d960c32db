/**
 * The Store: one long-lived SQLCipher connection, its migrations, the change
 * clock, and the operations the lifecycle needs (counts, rekey, clear). The
 * connection is private: the rest of the program reaches data through the narrow
 * objects the Store hands out (`store.devices`, `store.phoneSync`, ...), each a
 * small class in its own file holding the connection privately.
 */
import { HubError } from "../core/mod.ts";
import { ChangeClock, type WallClock } from "./_clock.ts";
import {
  type Database,
  diskFullError,
  type DiskState,
  isDiskFull,
  openDatabase,
  rekeyDatabase,
} from "./_db.ts";
import { migrate } from "./_migrations.ts";
import { countByScanning, type CountRow, pendingTombstones, tableCounts } from "./_counters.ts";
import { openConflictCount } from "./_conflicts.ts";
import { stmt } from "./_read.ts";
import { ident, TABLES } from "./_schema.ts";
import type { StoreParts } from "./_parts.ts";
import { Devices } from "./_devices_object.ts";
import { Conflicts } from "./_conflicts_object.ts";
import { PhoneSync } from "./_phone_sync.ts";
import { RelayStore } from "./_relay_store.ts";
import { People } from "./_people_object.ts";
import { Records } from "./_records_object.ts";
import { Patients } from "./_patients_object.ts";
import { Clinical } from "./_clinical_object.ts";
import { StoreBackups } from "./_backups_object.ts";

/**
 * Makes hub.db readable by its owner only. SQLite gives the -wal, -shm and
 * journal files the database file's mode, so setting it here covers them too.
 */
function restrictFileMode(path: string): void {
  if (Deno.build.os === "windows") return;
  try {
    Deno.writeFileSync(path, new Uint8Array(0), { createNew: true, mode: 0o600 });
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
  }
  Deno.chmodSync(path, 0o600);
}

/**
 * Options for {@link Store.open}.
 *
 * @example
 * ```ts
 * import { Store } from "./mod.ts";
 *
 * declare const keyHex: string; // the database key, from the open vault
 * const store = Store.open("data/hub.db", keyHex, { now: () => Date.now(), maxPageCount: 10_000 });
 * ```
 */
export interface StoreOptions {
  /** Wall clock for the change clock (tests step it back). */
  now?: WallClock;
  /** Caps the file at this many pages (tests: a full disk without filling one). */
  maxPageCount?: number;
}

/**
 * Row counts of one table.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const { rows, deleted } = store.counts().patients;
 * const live = rows - deleted;
 * ```
 */
export interface TableCount {
  rows: number;
  deleted: number;
}

/** Reads a Store's private connection; set once by the class (for store/testing.ts). */
let readConnection: (store: Store) => Database;

/**
 * The connection of a Store, for `store/testing.ts` only (tests and benches that
 * seed or inspect raw rows). Not exported by `store/mod.ts`.
 */
export function storeConnection(store: Store): Database {
  return readConnection(store);
}

/**
 * The encrypted database of an unlocked hub. Its connection is private; data is
 * reached through the narrow objects below.
 *
 * @example
 * ```ts
 * import { Store } from "./mod.ts";
 *
 * declare const keyHex: string; // the database key, from the open vault
 * const store = Store.open("data/hub.db", keyHex);
 * const devices = store.devices.list();
 * store.close();
 * ```
 */
export class Store {
  static {
    readConnection = (store) => store.#db;
  }

  readonly #db: Database;
  /** The change clock. */
  readonly clock: ChangeClock;
  /** Devices that handshook, their syncs and used client keys. */
  readonly devices: Devices;
  /** The conflict log, as the operator reads and decides it. */
  readonly conflicts: Conflicts;
  /** A phone's pull and push. */
  readonly phoneSync: PhoneSync;
  /** What the relay cycle reads and writes: merges, pending chunks, the watermark. */
  readonly relay: RelayStore;
  /** Users, permissions and clinics, for login and authorisation. */
  readonly people: People;
  /** Generic reads and writes of clinical tables. */
  readonly records: Records;
  /** Patient search, records and registration. */
  readonly patients: Patients;
  /** Appointments, pharmacy and forms. */
  readonly clinical: Clinical;
  /** The store's side of backups: restore record, settings, last good backup. */
  readonly backups: StoreBackups;
  #closed = false;
  #disk: DiskState;
  /** The database file. */
  readonly path: string;

  private constructor(
    path: string,
    db: Database,
    clock: ChangeClock,
    disk: DiskState,
  ) {
    this.path = path;
    this.#db = db;
    this.clock = clock;
    this.#disk = disk;
    const parts: StoreParts = { db, clock, transaction: (fn) => this.transaction(fn) };
    this.devices = new Devices(db);
    this.conflicts = new Conflicts(parts);
    this.phoneSync = new PhoneSync(parts);
    this.relay = new RelayStore(parts, (k) => this.getMeta(k), (k, v) => this.setMeta(k, v));
    this.people = new People(db);
    this.records = new Records(parts);
    this.patients = new Patients(parts);
    this.clinical = new Clinical(parts);
    this.backups = new StoreBackups(db, clock);
  }

  /** Opens `path` with the raw key, runs migrations and loads the clock. */
  static open(path: string, keyHex: string, options: StoreOptions = {}): Store {
    restrictFileMode(path);
    const disk: DiskState = { fullSince: null };
    const db = openDatabase(path, keyHex, disk);
    try {
      if (options.maxPageCount !== undefined) {
        db.pragma(`max_page_count = ${Math.floor(options.maxPageCount)}`);
      }
      // A full disk at start: the hub still opens (reads work); migrations wait.
      try {
        migrate(db);
      } catch (err) {
        if (!isDiskFull(err)) throw err;
        disk.fullSince ??= Date.now();
      }
      let highest = 0;
      for (const t of TABLES.values()) {
        const r = db.prepare(
          `SELECT max(local_server_last_modified_at) AS m FROM ${ident(t.name)}`,
        ).get() as { m: number | null };
        highest = Math.max(highest, r.m ?? 0);
      }
      const clock = new ChangeClock(db, options.now ?? Date.now, highest);
      return new Store(path, db, clock, disk);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Since when writes have found the disk full (null: the last check found room). */
  get diskFullSince(): number | null {
    return this.#disk.fullSince;
  }

  /**
   * Checks whether a 1 MiB write fits now (committed, then deleted); sets the
   * disk-full state when it does not. Run at unlock, so a hub that starts on a
   * full disk says so at once. It never clears the state: a small probe may fit
   * (in free pages, or in the WAL file's old space) where a phone's push does
   * not, so only a real write that succeeds clears it.
   */
  probeWrite(): boolean {
    try {
      this.transaction(() =>
        this.#db.prepare(
          "INSERT INTO hub_meta (key, value) VALUES ('disk.probe', hex(randomblob(524288))) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        ).run()
      );
      this.transaction(() =>
        this.#db.prepare("DELETE FROM hub_meta WHERE key = 'disk.probe'").run()
      );
      return true;
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      this.#disk.fullSince ??= Date.now();
      // Free what the WAL holds, so space freed by the operator is usable.
      try {
        this.#db.pragma("wal_checkpoint(TRUNCATE)");
      } catch { /* nothing to free */ }
      return false;
    }
  }

  /** Checkpoints and truncates the WAL when it has grown past `bytes` (after big writes). */
  checkpointIfLarge(bytes = 64 * 1024 * 1024): void {
    try {
      if (Deno.statSync(`${this.path}-wal`).size > bytes) {
        this.#db.pragma("wal_checkpoint(TRUNCATE)");
      }
    } catch { /* no WAL, or busy: the next call tries again */ }
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `fn` in one write transaction (all or nothing). */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  /** Row counts per synced table, read from indexes (store/_counters.ts), exact. */
  counts(): Record<string, TableCount> {
    const counted = tableCounts(this.#db);
    const out: Record<string, TableCount> = {};
    for (const t of TABLES.values()) {
      const c = counted[t.name];
      out[t.name] = { rows: c.rows, deleted: c.deleted };
    }
    return out;
  }

  /**
   * How many local changes wait for the cloud, and the stamp of the oldest: the
   * pending index of each table (partial, ordered by stamp) answers both.
   */
  pendingCloud(): { count: number; oldestStamp: number | null } {
    let count = 0;
    let oldest: number | null = null;
    const add = (r: [number, number | null]) => {
      count += r[0];
      if (r[1] !== null) oldest = oldest === null ? r[1] : Math.min(oldest, r[1]);
    };
    this.#db.transaction(() => {
      for (const t of TABLES.values()) {
        add(
          stmt(
            this.#db,
            `SELECT count(*), min(local_server_last_modified_at) FROM ${
              ident(t.name)
            } WHERE local_server_pending = 1`,
          ).raw(true).get() as [number, number | null],
        );
      }
      add(
        stmt(
          this.#db,
          "SELECT count(*), min(deleted_stamp) FROM tombstones WHERE local_server_pending = 1",
        ).raw(true).get() as [number, number | null],
      );
    })();
    return { count, oldestStamp: oldest };
  }

  /** Undecided entries of the conflict log (its partial index). */
  openConflicts(): number {
    return openConflictCount(this.#db);
  }

  /**
   * The status numbers as read from indexes beside the same numbers counted row
   * by row (tests check they agree after every kind of write).
   */
  checkCounters(): { kept: Record<string, CountRow>; counted: Record<string, CountRow> } {
    return this.#db.transaction(() => {
      const kept = tableCounts(this.#db);
      const counted = countByScanning(this.#db);
      kept["~tombstones"] = {
        rows: counted["~tombstones"].rows,
        deleted: 0,
        pending: pendingTombstones(this.#db),
      };
      kept["~conflicts"] = {
        rows: counted["~conflicts"].rows,
        deleted: 0,
        pending: openConflictCount(this.#db),
      };
      return { kept, counted };
    })();
  }

  /** Reads a value from the hub's own key/value table. */
  getMeta(key: string): string | undefined {
    const r = this.#db.prepare("SELECT value FROM hub_meta WHERE key = ?").get(key) as
      | { value: string }
      | undefined;
    return r?.value;
  }

  /** Writes a value to the hub's own key/value table. */
  setMeta(key: string, value: string): void {
    try {
      this.#db.prepare(
        "INSERT INTO hub_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      ).run(key, value);
    } catch (err) {
      if (isDiskFull(err)) this.#disk.fullSince ??= Date.now();
      throw diskFullError(err);
    }
  }

  /** Re-encrypts the database under a new raw key (see rekeyDatabase for crash safety). */
  rekey(newKeyHex: string): void {
    rekeyDatabase(this.#db, newKeyHex);
  }

  /**
   * Forgets bookkeeping that only grows: sync activity older than 30 days (the
   * dashboard shows 24 hours) and used client-key digests older than 30 days. A
   * replay of a handshake older than that yields a session whose key the replayer
   * does not have; the phone itself handshakes again before every use. Returns
   * the rows removed.
   */
  prune(now = Date.now()): { activity: number; usedClientKeys: number } {
    const cutoff = now - 30 * 24 * 3_600_000;
    return this.transaction(() => ({
      activity: this.#db.prepare("DELETE FROM activity WHERE at < ?").run(cutoff).changes,
      usedClientKeys: this.#db.prepare("DELETE FROM used_client_keys WHERE seen_at < ?").run(cutoff)
        .changes,
    }));
  }

  /**
   * Deletes every synced row, tombstone and the cloud watermark (the conflict log stays), so the
   * next relay cycle pulls everything again. Devices and the clock are kept (phones'
   * cursors stay valid: the clock never goes back). Returns the rows deleted per table.
   */
  clearData(): Record<string, number> {
    const deleted: Record<string, number> = {};
    this.transaction(() => {
      for (const t of TABLES.values()) {
        deleted[t.name] = this.#db.prepare(`DELETE FROM ${ident(t.name)}`).run().changes;
      }
      deleted.tombstones = this.#db.prepare("DELETE FROM tombstones").run().changes;
      // The conflict log is kept: it holds the only copies of versions that lost.
      this.#db.prepare("DELETE FROM hub_meta WHERE key LIKE 'cloud.%'").run();
      this.clock.next();
    });
    return deleted;
  }

  /** Checkpoints the WAL and closes the connection (the key leaves memory with it). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#db.pragma("wal_checkpoint(TRUNCATE)");
    } catch {
      // Closing must not fail because a checkpoint could not run.
    }
    this.#db.close();
  }

  /** Throws the not-found error for a table name outside the schema. */
  static assertTable(name: string): void {
    if (!TABLES.has(name)) throw new HubError("bad_table", 400, `Unknown table ${name}.`);
  }
}
