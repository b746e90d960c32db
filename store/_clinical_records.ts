/**
 * Generic reads and writes of one clinical table, for the procedures whose
 * semantics are "create / change / soft-delete / list by a key": visits,
 * events, vitals, problems, appointments, prescriptions and their items,
 * dispensing records. Table and column names are checked against the schema
 * before they reach SQL; values are always bound.
 */
import type { Database } from "./_db.ts";
import { type LocalWriteMeta, type LocalWriter, notFound, writeLocal } from "./_local.ts";
import { all, live, one, type Row } from "./_read.ts";
import { ident, tableDef } from "./_schema.ts";
import type { SqlValue } from "./_rows.ts";
import type { StoreParts } from "./_parts.ts";

/**
 * How to list rows of a table.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const spec: ListSpec = { where: { patient_id: "p1" }, orderBy: "created_at DESC, id", limit: 50 };
 * const visits = store.records.list("visits", spec);
 * ```
 */
export interface ListSpec {
  /** Columns to answer with (default: every data column). */
  columns?: readonly string[];
  /** Equality filters, column → value (columns must exist in the table). */
  where?: Record<string, SqlValue>;
  /** Sort, e.g. `created_at DESC, id` (code constants only, checked against the schema). */
  orderBy: string;
  /** Bound on rows. */
  limit: number;
}

const ORDER_TERM = /^([a-z_]+)( (ASC|DESC))?$/;

function checkedColumns(table: string, columns: readonly string[]): string {
  const def = tableDef(table);
  for (const c of columns) {
    if (!def.columnNames.has(c)) throw new Error(`${table} has no column ${c}`);
  }
  return columns.map(ident).join(", ");
}

function checkedOrder(table: string, orderBy: string): string {
  const def = tableDef(table);
  for (const term of orderBy.split(", ")) {
    const m = ORDER_TERM.exec(term);
    if (!m || !def.columnNames.has(m[1])) throw new Error(`bad ORDER BY for ${table}: ${orderBy}`);
  }
  return orderBy;
}

function columnList(table: string, columns?: readonly string[]): string {
  return checkedColumns(table, columns ?? tableDef(table).columns.map((c) => c.name));
}

/** Live rows of `table` matching every `where` column, in `orderBy` order. */
export function listRecords(db: Database, table: string, spec: ListSpec): Row[] {
  const where = Object.entries(spec.where ?? {});
  checkedColumns(table, where.map(([c]) => c));
  const conds = [live(), ...where.map(([c]) => `${ident(c)} = ?`)];
  return all(
    db,
    `SELECT ${columnList(table, spec.columns)} FROM ${ident(table)}
     WHERE ${conds.join(" AND ")} ORDER BY ${checkedOrder(table, spec.orderBy)} LIMIT ?`,
    ...where.map(([, v]) => v),
    spec.limit,
  );
}

/** One live row by id, or undefined. */
export function getRecord(
  db: Database,
  table: string,
  id: string,
  columns?: readonly string[],
): Row | undefined {
  return one(
    db,
    `SELECT ${columnList(table, columns)} FROM ${ident(table)} WHERE id = ? AND ${live()}`,
    id,
  );
}

/**
 * Picks `columns` out of a row (answers list fewer columns than the table has).
 *
 * @example
 * ```ts
 * import { type Store, VISIT_COLUMNS } from "./mod.ts";
 *
 * declare const store: Store;
 * const answer = pick(store.records.get("visits", "v1")!, VISIT_COLUMNS);
 * ```
 */
export function pick(row: Row, columns?: readonly string[]): Row {
  if (!columns) return row;
  const out: Row = {};
  for (const c of columns) out[c] = row[c] ?? null;
  return out;
}

/**
 * Creates a row, or updates the live row with that id (upsert, as the
 * reference's create commands do). A missing id gets a new UUID. Returns the stored row.
 */
export function putRecord(store: StoreParts, meta: LocalWriteMeta, table: string, row: Row): Row {
  return writeLocal(store, meta, (w) => w.put(table, withId(row)));
}

/**
 * Gives a row without an id a new UUID.
 *
 * @example
 * ```ts
 * const row = withId({ patient_id: "p1" }); // { patient_id: "p1", id: "<a new UUID>" }
 * ```
 */
export function withId(row: Row): Row {
  return typeof row.id === "string" && row.id.length > 0
    ? row
    : { ...row, id: crypto.randomUUID() };
}

/** Changes the given columns of a live row; `not_found` when there is none. */
export function patchRecord(
  store: StoreParts,
  meta: LocalWriteMeta,
  table: string,
  id: string,
  changes: Row,
): Row {
  return writeLocal(store, meta, (w) => w.patch(table, id, changes));
}

/** Soft-deletes a live row; `not_found` when there is none. */
export function deleteRecord(
  store: StoreParts,
  meta: LocalWriteMeta,
  table: string,
  id: string,
): void {
  writeLocal(store, meta, (w) => {
    w.require(table, id);
    w.remove(table, id);
  });
}

/** Runs several writes as one change (one transaction, one stamp). */
export function changeRecords<T>(
  store: StoreParts,
  meta: LocalWriteMeta,
  fn: (w: LocalWriter) => T,
): T {
  return writeLocal(store, meta, fn);
}

/** Throws `not_found` unless a live row with this id exists. */
export function requireRecord(db: Database, table: string, id: string): void {
  if (!one(db, `SELECT 1 AS x FROM ${ident(table)} WHERE id = ? AND ${live()}`, id)) {
    throw notFound(table, id);
  }
}
