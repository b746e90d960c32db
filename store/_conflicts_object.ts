/** `store.conflicts`: the conflict log as the operator reads and decides it. */
import { type ConflictRecord, listConflicts } from "./_conflicts.ts";
import { type ConflictView, keepNewer, listConflictViews, restoreOlder } from "./_conflict_view.ts";
import type { StoreParts } from "./_parts.ts";

/**
 * Which conflicts to list: `open` keeps the undecided ones; `limit` is 1–1,000 (default 200).
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const open = store.conflicts.views({ open: true, limit: 50 });
 * ```
 */
export interface ConflictQuery {
  open?: boolean;
  limit?: number;
}

/**
 * The conflict log of a Store, reached as `store.conflicts`.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * for (const c of store.conflicts.views({ open: true })) {
 *   store.conflicts.keepNewer(c.id, Date.now());
 * }
 * ```
 */
export class Conflicts {
  readonly #parts: StoreParts;

  /** Wraps the Store's parts (the Store builds it). */
  constructor(parts: StoreParts) {
    this.#parts = parts;
  }

  /** Logged conflicts as stored (losing row included), newest first. */
  list(query: ConflictQuery = {}): ConflictRecord[] {
    return listConflicts(this.#parts.db, query);
  }

  /** Logged conflicts as the operator sees them (field differences, authors), newest first. */
  views(query: ConflictQuery = {}): ConflictView[] {
    return listConflictViews(this.#parts.db, query);
  }

  /** "Keep the newer one": marks the conflict decided (`already_decided` if it was). */
  keepNewer(id: number, now: number): void {
    keepNewer(this.#parts.db, id, now);
  }

  /**
   * "Restore the older one": writes the older version over the record as a new
   * local change and marks the conflict decided, in one transaction.
   */
  restoreOlder(id: number, now: number): { table: string; id: string } {
    return restoreOlder(this.#parts, id, now);
  }
}
