/**
 * The numbers the status shows (rows, deleted rows and rows waiting for the
 * cloud per synced table, tombstones waiting for the cloud, open conflicts),
 * read from indexes rather than kept by triggers: a per-row trigger on the
 * synced tables made every phone push pay for it (measured: 20 % on a bare
 * push and a slowdown that grew with the write-ahead log in the hub, 30,000 →
 * 7,000 rows/s over HTTP), while these reads touch only index pages:
 * - rows: `count(*)`, which SQLite answers from the table's smallest index;
 * - deleted: a partial index on deleted rows (migration 5), so only those are read;
 * - waiting for the cloud: the partial index on pending rows (migration 1);
 * - open conflicts: the partial index on undecided entries (migration 1).
 * They are exact at any moment: nothing to keep in step, nothing to roll back.
 */
import type { Database } from "./_db.ts";
import { ident, type TableDef, TABLES } from "./_schema.ts";
import { stmt } from "./_read.ts";

/** Counts of one synced table as the status shows them. */
export interface CountRow {
  rows: number;
  deleted: number;
  pending: number;
}

/**
 * The deleted-row condition of a table, verbatim as its partial index has it
 * (the planner uses the index only for the same expression).
 */
export function deletedCondition(t: TableDef): string {
  return t.softDelete
    ? "(is_deleted = 1 OR local_server_deleted_at IS NOT NULL)"
    : "local_server_deleted_at IS NOT NULL";
}

/** The partial indexes on deleted rows (migration 5). */
export function deletedIndexSql(): string[] {
  return [...TABLES.values()].map((t) =>
    `CREATE INDEX IF NOT EXISTS ${ident(`${t.name}_deleted`)} ON ${ident(t.name)} (id)
     WHERE ${deletedCondition(t)}`
  );
}

/** Counts of every synced table, from its indexes (one read transaction). */
export function tableCounts(db: Database): Record<string, CountRow> {
  return db.transaction(() => {
    const out: Record<string, CountRow> = {};
    for (const t of TABLES.values()) {
      const name = ident(t.name);
      out[t.name] = {
        rows: stmt(db, `SELECT count(*) FROM ${name}`).pluck(true).get() as number,
        deleted: stmt(db, `SELECT count(*) FROM ${name} WHERE ${deletedCondition(t)}`)
          .pluck(true).get() as number,
        pending: stmt(db, `SELECT count(*) FROM ${name} WHERE local_server_pending = 1`)
          .pluck(true).get() as number,
      };
    }
    return out;
  })();
}

/** Tombstones still waiting for the cloud. */
export function pendingTombstones(db: Database): number {
  return stmt(db, "SELECT count(*) FROM tombstones WHERE local_server_pending = 1").pluck(true)
    .get() as number;
}

/**
 * The same numbers by reading every row (tests check the indexed counts
 * against it). Keys: table names, `~tombstones`, `~conflicts`.
 */
export function countByScanning(db: Database): Record<string, CountRow> {
  const out: Record<string, CountRow> = {};
  for (const t of TABLES.values()) {
    out[t.name] = db.prepare(
      `SELECT count(*) AS rows, coalesce(sum(${deletedCondition(t)}), 0) AS deleted,
         coalesce(sum(local_server_pending = 1), 0) AS pending FROM ${ident(t.name)} NOT INDEXED`,
    ).get() as CountRow;
  }
  out["~tombstones"] = db.prepare(
    `SELECT count(*) AS rows, 0 AS deleted, coalesce(sum(local_server_pending = 1), 0) AS pending
     FROM tombstones`,
  ).get() as CountRow;
  out["~conflicts"] = db.prepare(
    `SELECT count(*) AS rows, 0 AS deleted, coalesce(sum(resolved_at IS NULL), 0) AS pending
     FROM conflicts`,
  ).get() as CountRow;
  return out;
}
