/**
 * What the store's own files share: the connection, the change clock and the
 * write transaction. The Store builds one and hands it to its narrow objects;
 * nothing outside `store/` gets it.
 */
import type { ChangeClock } from "./_clock.ts";
import type { Database } from "./_db.ts";

/** The connection, clock and write transaction of one open Store. */
export interface StoreParts {
  /** The connection. */
  readonly db: Database;
  /** The change clock. */
  readonly clock: ChangeClock;
  /** Runs `fn` in one write transaction (all or nothing). */
  transaction<T>(fn: () => T): T;
}
