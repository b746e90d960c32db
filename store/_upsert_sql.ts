/**
 * The text of the upsert statements the write path runs, built once per table
 * and column set and cached (the statements themselves are prepared once per
 * connection, store/_read.ts). Only names from the schema reach this text;
 * values are bound.
 */
import { ident } from "./_schema.ts";

const guardedSqlCache = new Map<string, string>();

/** INSERT of `columns`; on conflict, update of the first `carried` ones if the stored row loses. */
export function guardedUpsertSql(
  table: string,
  columns: string[],
  carried: number,
  carriesUpdatedAt: boolean,
): string {
  const key = `${table}|${carried}|${carriesUpdatedAt ? 1 : 0}|${columns.join(",")}`;
  let sql = guardedSqlCache.get(key);
  if (sql) return sql;
  const t = ident(table);
  const cols = columns.map(ident);
  const set = cols.slice(0, carried).filter((c) => c !== '"id"').map((c) => `${c} = excluded.${c}`);
  set.push(
    "local_server_last_modified_at = excluded.local_server_last_modified_at",
    "local_server_pending = 1",
    "local_server_pushed_by = excluded.local_server_pushed_by",
    "local_server_pushed_after = excluded.local_server_pushed_after",
  );
  const newerOrEqual = carriesUpdatedAt
    ? ` AND (${t}.updated_at IS NULL OR excluded.updated_at IS NULL OR excluded.updated_at >= ${t}.updated_at)`
    : "";
  // The push mark is set on insert and on update; the created mark on insert only.
  sql = `INSERT INTO ${t} (${cols.join(", ")},
      local_server_created_at, local_server_last_modified_at, local_server_pending,
      local_server_pushed_by, local_server_pushed_after,
      local_server_created_by, local_server_created_after)
    VALUES (${cols.map(() => "?").join(", ")}, ?, ?, 1, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET ${set.join(", ")}
    WHERE ${t}.local_server_deleted_at IS NULL${newerOrEqual}`;
  if (guardedSqlCache.size > 2000) guardedSqlCache.clear();
  guardedSqlCache.set(key, sql);
  return sql;
}

const upsertSqlCache = new Map<string, string>();

/** The upsert statement for a set of columns (built once per table and column set). */
export function upsertSql(table: string, columns: string[], pending: 0 | 1): string {
  const key = `${table}|${pending}|${columns.join(",")}`;
  let sql = upsertSqlCache.get(key);
  if (sql) return sql;
  const cols = columns.map(ident);
  const set = cols.filter((c) => c !== '"id"').map((c) => `${c} = excluded.${c}`);
  set.push(
    "local_server_last_modified_at = excluded.local_server_last_modified_at",
    `local_server_pending = ${pending}`,
    "local_server_pushed_by = excluded.local_server_pushed_by",
    "local_server_pushed_after = excluded.local_server_pushed_after",
  );
  sql = `INSERT INTO ${ident(table)} (${cols.join(", ")},
      local_server_created_at, local_server_last_modified_at, local_server_pending,
      local_server_pushed_by, local_server_pushed_after,
      local_server_created_by, local_server_created_after)
    VALUES (${cols.map(() => "?").join(", ")}, ?, ?, ${pending}, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET ${set.join(", ")}`;
  if (upsertSqlCache.size > 2000) upsertSqlCache.clear();
  upsertSqlCache.set(key, sql);
  return sql;
}
