/**
 * Writing incoming rows (from a phone's push or the cloud's pull) into the
 * store: upsert by id, newer `updated_at` wins, the losing version goes to the
 * conflict log (deletions: store/_delete.ts, statement text: store/_upsert_sql.ts).
 * Callers run these inside one transaction and pass the stamp of that transaction.
 */
import type { Database } from "./_db.ts";
import { stmt as cached } from "./_read.ts";
import { addMissing, type PreparedRow, prepareRow } from "./_rows.ts";
import { ident, type TableDef } from "./_schema.ts";
import { guardedUpsertSql, upsertSql } from "./_upsert_sql.ts";

/**
 * A batch of writes (a phone's push, a cloud merge) takes a new stamp every this
 * many rows, still in one transaction. Pull pages end on whole stamps, so
 * without this a 50,000-row push would go out as one 50,000-row reply, whatever
 * the page budget (about 0.5 MB of JSON per stamp for typical rows).
 */
export const ROWS_PER_STAMP = 500;

/** Where a change came from; decides whether it still has to reach the cloud. */
export type ChangeSource = "phone" | "cloud" | "local";

/** Context for one batch of writes. */
export interface ApplyContext {
  db: Database;
  stamp: number;
  now: number;
  source: ChangeSource;
  deviceId?: string | null;
  /**
   * For a phone's push: the timestamp the pushing device's last pull handed out.
   * Rows this push writes are marked as that device's, so its later pulls from
   * that cursor on leave them out (it holds them already; SPEC §5).
   */
  pushedAfter?: number | null;
}

/** The push mark a write leaves on the row: the pushing device, or none. */
export function pushMark(ctx: ApplyContext): [string | null, number | null] {
  if (ctx.source !== "phone" || !ctx.deviceId) return [null, null];
  return [ctx.deviceId, ctx.pushedAfter ?? ctx.stamp];
}

/**
 * Counts of what happened to a batch.
 *
 * @example
 * ```ts
 * import type { CloudChange, Store } from "./mod.ts";
 *
 * declare const store: Store;
 * declare const batch: CloudChange[]; // one page of the cloud's changes
 * const { tables } = store.relay.merge(batch, Date.now());
 * const counts: ApplyCounts | undefined = tables.patients;
 * ```
 */
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

/** Records the losing version of a row (and, for a refused push, why). */
export function logConflict(
  ctx: ApplyContext,
  table: string,
  rowId: string,
  keptUpdatedAt: number | null,
  lostUpdatedAt: number | null,
  lostRow: unknown,
  reason: string | null = null,
): void {
  cached(
    ctx.db,
    `INSERT INTO conflicts (table_name, row_id, source, device_id, kept_updated_at,
       lost_updated_at, lost_row, detected_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    table,
    rowId,
    ctx.source,
    ctx.deviceId ?? null,
    keptUpdatedAt,
    lostUpdatedAt,
    JSON.stringify(lostRow),
    ctx.now,
    reason,
  );
}

/**
 * Sets aside a pushed row (`raw`; null for a deletion, logged as `{id,
 * is_deleted: true}`) the pusher had no right to write: it is kept in the
 * conflict log with the reason, for the operator, and the stored row, if any,
 * goes back to the pushing phone on its next pull (it holds a version the hub
 * did not take). Nothing else changes.
 */
export function refuseRow(
  ctx: ApplyContext,
  table: TableDef,
  id: string,
  raw: unknown,
  reason: string,
): void {
  const existing = cached(
    ctx.db,
    `SELECT ${table.columnNames.has("updated_at") ? "updated_at" : "NULL AS updated_at"}
       FROM ${ident(table.name)} WHERE id = ?`,
  ).get(id) as { updated_at: number | null } | undefined;
  const pushed = raw && typeof raw === "object"
    ? (raw as Record<string, unknown>).updated_at
    : null;
  logConflict(
    ctx,
    table.name,
    id,
    existing?.updated_at ?? null,
    typeof pushed === "number" ? pushed : null,
    raw && typeof raw === "object" ? raw : { id, is_deleted: true },
    reason,
  );
  if (!existing || ctx.source !== "phone") return;
  const deletion = !raw || typeof raw !== "object" ||
    isTruthy((raw as Record<string, unknown>).is_deleted);
  if (deletion) resendAsCreated(ctx, table, id);
  else resend(ctx, table, id);
}

/**
 * The pushing phone deleted a row the hub kept (a refused deletion). After its
 * push succeeds the app forgets the row entirely, so an `updated` version would
 * be skipped (SPEC §5): the row goes to it as `created`, which the app creates
 * again (another phone that holds it merges it). Not pending: nothing goes to the cloud.
 */
function resendAsCreated(ctx: ApplyContext, table: TableDef, id: string): void {
  cached(
    ctx.db,
    `UPDATE ${ident(table.name)} SET local_server_created_at = ?,
       local_server_last_modified_at = ?, local_server_created_by = NULL,
       local_server_created_after = NULL, local_server_pushed_by = NULL,
       local_server_pushed_after = NULL WHERE id = ?`,
  ).run(ctx.stamp, ctx.stamp, id);
}

/** Columns the cloud manages; a difference only there is not a change phones need. */
const SERVER_COLUMNS = new Set(["server_created_at", "last_modified"]);

function sameText(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "string" || typeof b !== "string") return false;
  const c = a.trimStart()[0];
  if (c !== "{" && c !== "[") return false;
  try {
    return canonical(JSON.parse(a)) === canonical(JSON.parse(b));
  } catch {
    return false;
  }
}

function canonical(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${
    Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(",")
  }}`;
}

/**
 * Compares an incoming row with the stored one: `same`, `server-only` (differs
 * only in cloud bookkeeping columns) or `different`. JSON text is compared by value.
 */
function compareStored(
  db: Database,
  table: TableDef,
  row: PreparedRow,
): "same" | "server-only" | "different" {
  const cols = row.columns.map((c) => ident(c)).join(", ");
  const current = cached(db, `SELECT ${cols} FROM ${ident(table.name)} WHERE id = ?`).raw(true)
    .get(row.id) as unknown[] | undefined;
  if (!current) return "different";
  let serverOnly = false;
  for (let i = 0; i < row.values.length; i++) {
    if (sameText(row.values[i], current[i])) continue;
    if (SERVER_COLUMNS.has(row.columns[i])) serverOnly = true;
    else return "different";
  }
  return serverOnly ? "server-only" : "same";
}

function currentRow(db: Database, table: TableDef, id: string): Record<string, unknown> {
  return cached(db, `SELECT * FROM ${ident(table.name)} WHERE id = ?`).get(id) as Record<
    string,
    unknown
  >;
}

function isTruthy(v: unknown): boolean {
  return v === true || v === 1 || v === "1" || v === "true";
}

/**
 * Upserts one row. Returns what happened:
 * - an incoming row older than the stored one (by `updated_at`) loses and is
 *   logged in the conflict log;
 * - a row deleted here stays deleted; the incoming version is logged;
 * - from the cloud: a row equal to the stored one (the cloud echoing our own
 *   push) changes nothing; one that wins over a local change still waiting for
 *   the cloud replaces it, and the local version is logged;
 * - a row arriving with `is_deleted` set is also marked deleted for phones.
 * Phone and local writes are marked pending for the cloud; cloud writes are not.
 */
export function upsertRow(
  ctx: ApplyContext,
  table: TableDef,
  raw: unknown,
  skipColumns?: ReadonlySet<string>,
): "upserted" | "conflicts" | "unchanged" {
  const row = prepareRow(table, raw, ctx.now, { fillMissing: false, skip: skipColumns });
  const incomingDeleted = table.softDelete &&
    isTruthy((raw as Record<string, unknown>).is_deleted);
  if (ctx.source !== "cloud") {
    return upsertLocal(ctx, table, row, raw, incomingDeleted, skipColumns);
  }
  const existing = cached(
    ctx.db,
    `SELECT ${table.columnNames.has("updated_at") ? "updated_at" : "NULL AS updated_at"},
       local_server_deleted_at, local_server_pending FROM ${ident(table.name)} WHERE id = ?`,
  ).get(row.id) as (Existing & { local_server_pending: number }) | undefined;
  if (existing) {
    if (existing.local_server_deleted_at !== null) {
      if (incomingDeleted) return "unchanged";
      logConflict(ctx, table.name, row.id, existing.updated_at, row.updatedAt, raw);
      return "conflicts";
    }
    if (
      existing.updated_at !== null && row.updatedAt !== null && row.updatedAt < existing.updated_at
    ) {
      logConflict(ctx, table.name, row.id, existing.updated_at, row.updatedAt, raw);
      return "conflicts";
    }
    if (ctx.source === "cloud") {
      // The cloud keeps only the columns its models know, so its echo of our own
      // push can lack values we hold (SPEC §7). The same `updated_at` is the same
      // version: it changes nothing here and goes to no phone.
      const echo = !incomingDeleted && existing.updated_at !== null &&
        row.updatedAt === existing.updated_at;
      const cmp = echo ? "server-only" : compareStored(ctx.db, table, row);
      if (cmp !== "different") {
        if (cmp === "server-only") {
          // Keep the cloud's bookkeeping without a new stamp: nothing for phones.
          const set = row.columns.filter((c) => SERVER_COLUMNS.has(c));
          if (set.length === 0) return "unchanged";
          cached(
            ctx.db,
            `UPDATE ${ident(table.name)} SET ${
              set.map((c) => `${ident(c)} = ?`).join(", ")
            } WHERE id = ?`,
          ).run(...set.map((c) => row.values[row.columns.indexOf(c)]), row.id);
        }
        return "unchanged";
      }
      if (existing.local_server_pending === 1) {
        const local = currentRow(ctx.db, table, row.id);
        logConflict(
          { ...ctx, source: "local" },
          table.name,
          row.id,
          row.updatedAt,
          existing.updated_at,
          stripBookkeeping(local),
        );
      }
    }
  }
  // Only a new row gets values for NOT NULL columns the sender left out; an
  // update leaves the columns it does not carry as they are.
  if (!existing) addMissing(table, row, ctx.now, skipColumns);
  const pending = ctx.source === "cloud" ? 0 : 1;
  const sql = upsertSql(table.name, row.columns, pending);
  const mark = pushMark(ctx);
  cached(ctx.db, sql).run(...row.values, ctx.stamp, ctx.stamp, ...mark, ...mark);
  if (incomingDeleted) {
    cached(
      ctx.db,
      `UPDATE ${
        ident(table.name)
      } SET local_server_deleted_at = ? WHERE id = ? AND local_server_deleted_at IS NULL`,
    ).run(ctx.stamp, row.id);
  }
  return "upserted";
}

/**
 * A phone's or a procedure's write, in one statement on the common path: the
 * insert carries every NOT NULL value (filled where the sender left one out),
 * while the update sets only the columns the sender carried, and only when the
 * stored row is not deleted and not newer. When the stored row wins, the
 * incoming version goes to the conflict log.
 */
function upsertLocal(
  ctx: ApplyContext,
  table: TableDef,
  row: PreparedRow,
  raw: unknown,
  incomingDeleted: boolean,
  skipColumns?: ReadonlySet<string>,
): "upserted" | "conflicts" | "unchanged" {
  const carried = row.columns.length;
  const carriesUpdatedAt = table.columnNames.has("updated_at") &&
    row.columns.includes("updated_at");
  addMissing(table, row, ctx.now, skipColumns);
  const sql = guardedUpsertSql(table.name, row.columns, carried, carriesUpdatedAt);
  const mark = pushMark(ctx);
  const res = cached(ctx.db, sql).run(...row.values, ctx.stamp, ctx.stamp, ...mark, ...mark);
  if (res.changes === 0) {
    const existing = cached(
      ctx.db,
      `SELECT ${table.columnNames.has("updated_at") ? "updated_at" : "NULL AS updated_at"},
         local_server_deleted_at FROM ${ident(table.name)} WHERE id = ?`,
    ).get(row.id) as Existing | undefined;
    if (existing?.local_server_deleted_at != null && incomingDeleted) return "unchanged";
    logConflict(ctx, table.name, row.id, existing?.updated_at ?? null, row.updatedAt, raw);
    if (ctx.source === "phone") resend(ctx, table, row.id);
    return "conflicts";
  }
  if (incomingDeleted) {
    cached(
      ctx.db,
      `UPDATE ${
        ident(table.name)
      } SET local_server_deleted_at = ? WHERE id = ? AND local_server_deleted_at IS NULL`,
    ).run(ctx.stamp, row.id);
  }
  return "upserted";
}

/**
 * The pushing phone now holds a version that lost: give the stored row a new
 * stamp (not pending, so nothing new goes to the cloud) so that the phone's next
 * pull brings it the version that won, or the deletion. The row's push mark
 * stays: the device that pushed the winner holds it already.
 */
function resend(ctx: ApplyContext, table: TableDef, id: string): void {
  cached(ctx.db, `UPDATE ${ident(table.name)} SET local_server_last_modified_at = ? WHERE id = ?`)
    .run(ctx.stamp, id);
}

/** A stored row without the hub's bookkeeping columns. */
export function stripBookkeeping(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) if (!k.startsWith("local_server_")) out[k] = v;
  return out;
}
