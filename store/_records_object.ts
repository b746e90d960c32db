/** `store.records`: generic reads and writes of one clinical table, for the procedures. */
import {
  changeRecords,
  deleteRecord,
  getRecord,
  listRecords,
  type ListSpec,
  patchRecord,
  putRecord,
  requireRecord,
} from "./_clinical_records.ts";
import type { LocalWriteMeta, LocalWriter } from "./_local.ts";
import type { StoreParts } from "./_parts.ts";
import type { Row } from "./_read.ts";

/**
 * Clinical rows by table, reached as `store.records`. Every write is one local
 * change: one transaction, one stamp, pending for the cloud.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const visit = store.records.put({ now: Date.now() }, "visits", { patient_id: "p1" });
 * const where = { patient_id: "p1" };
 * store.records.list("visits", { where, orderBy: "created_at DESC", limit: 50 });
 * ```
 */
export class Records {
  readonly #parts: StoreParts;

  /** Wraps the Store's parts (the Store builds it). */
  constructor(parts: StoreParts) {
    this.#parts = parts;
  }

  /** Live rows of `table` matching every `where` column, in `orderBy` order. */
  list(table: string, spec: ListSpec): Row[] {
    return listRecords(this.#parts.db, table, spec);
  }

  /** One live row by id, or undefined. */
  get(table: string, id: string, columns?: readonly string[]): Row | undefined {
    return getRecord(this.#parts.db, table, id, columns);
  }

  /** Throws `not_found` unless a live row with this id exists. */
  require(table: string, id: string): void {
    requireRecord(this.#parts.db, table, id);
  }

  /** Creates a row, or updates the live row with that id; a missing id gets a new UUID. */
  put(meta: LocalWriteMeta, table: string, row: Row): Row {
    return putRecord(this.#parts, meta, table, row);
  }

  /** Changes the given columns of a live row; `not_found` when there is none. */
  patch(meta: LocalWriteMeta, table: string, id: string, changes: Row): Row {
    return patchRecord(this.#parts, meta, table, id, changes);
  }

  /** Soft-deletes a live row; `not_found` when there is none. */
  delete(meta: LocalWriteMeta, table: string, id: string): void {
    deleteRecord(this.#parts, meta, table, id);
  }

  /** Runs several writes as one change (one transaction, one stamp). */
  change<T>(meta: LocalWriteMeta, fn: (w: LocalWriter) => T): T {
    return changeRecords(this.#parts, meta, fn);
  }
}
