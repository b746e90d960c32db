/**
 * The change clock: every write gets a stamp strictly greater than every stamp
 * issued or handed out before, even if the wall clock steps back (SPEC §5). Stamps
 * are epoch milliseconds when the wall clock is ahead, `last + 1` otherwise.
 *
 * Durability: a stamp is persisted in the same transaction as the rows that carry
 * it, and {@link ChangeClock.handOut} persists the value before a client sees it,
 * so after a crash the clock resumes above anything a phone could hold as a cursor.
 */
import type { Database } from "./_db.ts";

/**
 * Reads the wall clock; tests inject one that steps back.
 *
 * @example
 * ```ts
 * import { Store, type WallClock } from "./mod.ts";
 *
 * declare const keyHex: string; // the database key, from the open vault
 * const behind: WallClock = () => Date.now() - 60_000; // a clock a minute behind
 * const store = Store.open("data/hub.db", keyHex, { now: behind });
 * ```
 */
export type WallClock = () => number;

/**
 * Strictly monotonic, persisted change clock.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const upTo = store.clock.handOut(); // stamps above it wait for the next cycle
 * ```
 */
export class ChangeClock {
  #db: Database;
  #now: WallClock;
  #last: number;
  #saved: () => number;
  #save: (value: string) => void;

  /** Loads the clock from `hub_meta` (and never below a stamp already in the data). */
  constructor(db: Database, now: WallClock = Date.now, highestStamp = 0) {
    this.#db = db;
    this.#now = now;
    const read = db.prepare("SELECT value FROM hub_meta WHERE key = 'clock'");
    this.#saved = () => Number((read.get() as { value: string } | undefined)?.value ?? 0);
    this.#last = Math.max(this.#saved(), highestStamp);
    const stmt = db.prepare(
      "INSERT INTO hub_meta (key, value) VALUES ('clock', ?) " +
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    );
    this.#save = (value) => stmt.run(value);
  }

  /** The highest stamp issued so far. */
  current(): number {
    return this.#last;
  }

  /**
   * Issues a new stamp. Call inside the write's transaction: the stamp is saved
   * with it, so a rolled-back write also rolls back the saved clock (the in-memory
   * value stays ahead, which only skips a number).
   */
  next(): number {
    const stamp = Math.max(this.#now(), this.#last + 1);
    this.#last = stamp;
    this.#save(String(stamp));
    return stamp;
  }

  /**
   * Returns the current stamp for a client to keep as its cursor, first making
   * sure it is on disk, so no later write can ever be stamped at or below it.
   */
  handOut(): number {
    // Read what is on disk rather than trust memory: next() saved its stamp inside
    // the writer's transaction, and a rollback took that save away with it.
    if (this.#saved() < this.#last) this.#save(String(this.#last));
    return this.#last;
  }

  /** Moves the clock forward to at least `stamp` (e.g. a cursor a client already holds). */
  advanceTo(stamp: number): void {
    if (!Number.isSafeInteger(stamp) || stamp <= this.#last) return;
    this.#db.transaction(() => {
      this.#last = stamp;
      this.#save(String(stamp));
    })();
  }
}
