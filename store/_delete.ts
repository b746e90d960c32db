/**
 * Soft deletions on the write path (a phone's push, a cloud merge, a procedure):
 * the row is marked deleted and restamped, never removed; a deletion of a row
 * this hub never had is kept as a tombstone.
 */
import { type ApplyContext, logConflict, pushMark, stripBookkeeping } from "./_apply.ts";
import { stmt as cached } from "./_read.ts";
import { ident, type TableDef } from "./_schema.ts";

/**
 * Soft-deletes a row by id. A row this hub never had is remembered as a
 * tombstone so the deletion still reaches other phones and the cloud.
 * Returns false when it was already deleted.
 */
export function deleteRow(ctx: ApplyContext, table: TableDef, id: string): boolean {
  const pending = ctx.source === "cloud" ? 0 : 1;
  if (ctx.source === "cloud") {
    // A cloud deletion wins over a local change still waiting for the cloud:
    // keep that local version in the conflict log rather than drop it silently.
    const local = cached(
      ctx.db,
      `SELECT * FROM ${
        ident(table.name)
      } WHERE id = ? AND local_server_pending = 1 AND local_server_deleted_at IS NULL`,
    ).get(id) as Record<string, unknown> | undefined;
    if (local) {
      logConflict(
        { ...ctx, source: "local" },
        table.name,
        id,
        null,
        typeof local.updated_at === "number" ? local.updated_at : null,
        stripBookkeeping(local),
      );
    }
  }
  const set = [
    table.columnNames.has("is_deleted") ? "is_deleted = 1" : null,
    table.columnNames.has("deleted_at") ? "deleted_at = coalesce(deleted_at, ?)" : null,
    "local_server_deleted_at = ?",
    "local_server_last_modified_at = ?",
    `local_server_pending = ${pending}`,
    "local_server_pushed_by = ?",
    "local_server_pushed_after = ?",
  ].filter(Boolean).join(", ");
  const [pushedBy, pushedAfter] = pushMark(ctx);
  const args: (number | string | null)[] = [];
  if (table.columnNames.has("deleted_at")) args.push(ctx.now);
  args.push(ctx.stamp, ctx.stamp, pushedBy, pushedAfter, id);
  const res = cached(
    ctx.db,
    `UPDATE ${ident(table.name)} SET ${set} WHERE id = ? AND local_server_deleted_at IS NULL`,
  ).run(...args);
  if (res.changes > 0) return true;
  const known = cached(ctx.db, `SELECT 1 FROM ${ident(table.name)} WHERE id = ?`).get(id);
  if (known) return false;
  const t = cached(
    ctx.db,
    `INSERT INTO tombstones (table_name, row_id, deleted_stamp, local_server_pending,
       pushed_by, pushed_after)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (table_name, row_id) DO NOTHING`,
  ).run(table.name, id, ctx.stamp, pending, pushedBy, pushedAfter);
  return t.changes > 0;
}
