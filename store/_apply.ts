/**
 * Writing incoming rows (from a phone's push or the cloud's pull) into the
 * store: upsert by id, newer `updated_at` wins, the losing version goes to the
 * conflict log, deletions are soft. Callers run these inside one transaction and
 * pass the stamp of that transaction.
 */
import type { Database } from "./_db.ts";
import type { Statement as BetterSqlite3Statement } from "better-sqlite3-multiple-ciphers";
import { type PreparedRow, prepareRow } from "./_rows.ts";
import { ident, type TableDef } from "./_schema.ts";

/** Where a change came from; decides whether it still has to reach the cloud. */
export type ChangeSource = "phone" | "cloud" | "local";

/** Context for one batch of writes. */
export interface ApplyContext {
  db: Database;
  stamp: number;
  now: number;
  source: ChangeSource;
  deviceId?: string | null;
}

/** Counts of what happened to a batch. */
export interface ApplyCounts {
  upserted: number;
  deleted: number;
  conflicts: number;
  unchanged: number;
}

/** Makes empty counts. */
export function emptyCounts(): ApplyCounts {
  return { upserted: 0, deleted: 0, conflicts: 0, unchanged: 0 };
}

interface Existing {
  updated_at: number | null;
  local_server_deleted_at: number | null;
}

// deno-lint-ignore no-explicit-any
type Stmt = BetterSqlite3Statement<any[]>;
const stmtCache = new WeakMap<Database, Map<string, Stmt>>();

function cached(db: Database, sql: string): Stmt {
  let m = stmtCache.get(db);
  if (!m) stmtCache.set(db, m = new Map());
  let s = m.get(sql);
  if (!s) {
    s = db.prepare(sql) as Stmt;
    if (m.size > 500) m.clear();
    m.set(sql, s);
  }
  return s;
}

/** Records the losing version of a row. */
export function logConflict(
  ctx: ApplyContext,
  table: string,
  rowId: string,
  keptUpdatedAt: number | null,
  lostUpdatedAt: number | null,
  lostRow: unknown,
): void {
  cached(
    ctx.db,
    `INSERT INTO conflicts (table_name, row_id, source, device_id, kept_updated_at,
       lost_updated_at, lost_row, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    table,
    rowId,
    ctx.source,
    ctx.deviceId ?? null,
    keptUpdatedAt,
    lostUpdatedAt,
    JSON.stringify(lostRow),
    ctx.now,
  );
}

function sameValues(db: Database, table: TableDef, row: PreparedRow): boolean {
  const cols = row.columns.map((c) => ident(c)).join(", ");
  const current = cached(db, `SELECT ${cols} FROM ${ident(table.name)} WHERE id = ?`).raw(true)
    .get(row.id) as unknown[] | undefined;
  if (!current) return false;
  return row.values.every((v, i) => v === current[i]);
}

/**
 * Upserts one row. Returns what happened. An incoming row older than the stored
 * one (by `updated_at`) loses and is logged; a row deleted here stays deleted
 * and the incoming version is logged; a cloud row identical to the stored one
 * (the cloud echoing our own push) changes nothing.
 */
export function upsertRow(
  ctx: ApplyContext,
  table: TableDef,
  raw: unknown,
  skipColumns?: ReadonlySet<string>,
): "upserted" | "conflicts" | "unchanged" {
  const row = prepareRow(table, raw, ctx.now, { fillMissing: true, skip: skipColumns });
  const existing = cached(
    ctx.db,
    `SELECT ${table.columnNames.has("updated_at") ? "updated_at" : "NULL AS updated_at"},
       local_server_deleted_at FROM ${ident(table.name)} WHERE id = ?`,
  ).get(row.id) as Existing | undefined;
  if (existing) {
    if (existing.local_server_deleted_at !== null) {
      logConflict(ctx, table.name, row.id, existing.updated_at, row.updatedAt, raw);
      return "conflicts";
    }
    if (
      existing.updated_at !== null && row.updatedAt !== null && row.updatedAt < existing.updated_at
    ) {
      logConflict(ctx, table.name, row.id, existing.updated_at, row.updatedAt, raw);
      return "conflicts";
    }
    if (ctx.source === "cloud" && sameValues(ctx.db, table, row)) return "unchanged";
  }
  const pending = ctx.source === "cloud" ? 0 : 1;
  const cols = row.columns.map(ident);
  const sql = `INSERT INTO ${ident(table.name)} (${cols.join(", ")},
      local_server_created_at, local_server_last_modified_at, local_server_pending)
    VALUES (${cols.map(() => "?").join(", ")}, ?, ?, ${pending})
    ON CONFLICT (id) DO UPDATE SET ${
    cols.filter((c) => c !== '"id"').map((c) => `${c} = excluded.${c}`).join(", ")
  }${
    row.columns.length > 1 ? ", " : ""
  }local_server_last_modified_at = excluded.local_server_last_modified_at,
      local_server_pending = ${pending === 1 ? 1 : "local_server_pending"}`;
  cached(ctx.db, sql).run(...row.values, ctx.stamp, ctx.stamp);
  return "upserted";
}

/**
 * Soft-deletes a row by id. A row this hub never had is remembered as a
 * tombstone so the deletion still reaches other phones and the cloud.
 * Returns false when it was already deleted.
 */
export function deleteRow(ctx: ApplyContext, table: TableDef, id: string): boolean {
  const pending = ctx.source === "cloud" ? 0 : 1;
  const set = [
    table.columnNames.has("is_deleted") ? "is_deleted = 1" : null,
    table.columnNames.has("deleted_at") ? "deleted_at = coalesce(deleted_at, ?)" : null,
    "local_server_deleted_at = ?",
    "local_server_last_modified_at = ?",
    pending ? "local_server_pending = 1" : null,
  ].filter(Boolean).join(", ");
  const args: (number | string)[] = [];
  if (table.columnNames.has("deleted_at")) args.push(ctx.now);
  args.push(ctx.stamp, ctx.stamp, id);
  const res = cached(
    ctx.db,
    `UPDATE ${ident(table.name)} SET ${set} WHERE id = ? AND local_server_deleted_at IS NULL`,
  ).run(...args);
  if (res.changes > 0) return true;
  const known = cached(ctx.db, `SELECT 1 FROM ${ident(table.name)} WHERE id = ?`).get(id);
  if (known) return false;
  const t = cached(
    ctx.db,
    `INSERT INTO tombstones (table_name, row_id, deleted_stamp, local_server_pending)
     VALUES (?, ?, ?, ?) ON CONFLICT (table_name, row_id) DO NOTHING`,
  ).run(table.name, id, ctx.stamp, pending);
  return t.changes > 0;
}
