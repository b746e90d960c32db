/**
 * Counters the status reads instead of counting tables: rows, deleted rows and
 * rows waiting for the cloud per synced table, tombstones waiting for the cloud,
 * and open conflicts. They are counted once when the store opens and then kept
 * by temporary triggers on this connection, so every writer (phones' pushes,
 * cloud merges, local procedures, clears, the operator's decisions) adjusts them
 * in the same transaction as its change: a rolled-back push rolls its counts
 * back too. The triggers and the counter table live in `temp` (memory, this
 * connection only), so the file on disk and its schema are unchanged.
 */
import type { Database } from "./_db.ts";
import { ident, type TableDef, TABLES } from "./_schema.ts";

/** The counter table's key for tombstones and for the conflict log. */
const TOMBSTONES = "~tombstones";
const CONFLICTS = "~conflicts";

/** Counts of one synced table as the status shows them. */
export interface CountRow {
  rows: number;
  deleted: number;
  pending: number;
}

function deletedExpr(t: TableDef, row: "NEW" | "OLD"): string {
  const removed = `${row}.local_server_deleted_at IS NOT NULL`;
  return t.softDelete ? `(${row}.is_deleted = 1 OR ${removed})` : `(${removed})`;
}

function pendingExpr(row: "NEW" | "OLD"): string {
  return `(${row}.local_server_pending = 1)`;
}

/** Creates the counter table and triggers on `db` and counts once (at open). */
export function installCounters(db: Database): void {
  db.exec(
    `CREATE TEMP TABLE IF NOT EXISTS hub_counts (
       id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, rows INTEGER NOT NULL,
       deleted INTEGER NOT NULL, pending INTEGER NOT NULL)`,
  );
  const statements: string[] = [];
  // Triggers find their counter row by integer key (the cheapest lookup, once per written row).
  const keys = counterKeys();
  for (const t of TABLES.values()) {
    const name = ident(t.name);
    const key = `id = ${keys.get(t.name)}`;
    const trig = (what: string) => ident(`hub_count_${t.name}_${what}`);
    statements.push(
      `CREATE TEMP TRIGGER IF NOT EXISTS ${trig("ins")} AFTER INSERT ON main.${name} BEGIN
         UPDATE hub_counts SET rows = rows + 1, deleted = deleted + ${deletedExpr(t, "NEW")},
           pending = pending + ${pendingExpr("NEW")} WHERE ${key};
       END`,
      `CREATE TEMP TRIGGER IF NOT EXISTS ${trig("del")} AFTER DELETE ON main.${name} BEGIN
         UPDATE hub_counts SET rows = rows - 1, deleted = deleted - ${deletedExpr(t, "OLD")},
           pending = pending - ${pendingExpr("OLD")} WHERE ${key};
       END`,
      `CREATE TEMP TRIGGER IF NOT EXISTS ${trig("upd")} AFTER UPDATE ON main.${name}
       WHEN ${deletedExpr(t, "OLD")} IS NOT ${deletedExpr(t, "NEW")}
         OR ${pendingExpr("OLD")} IS NOT ${pendingExpr("NEW")} BEGIN
         UPDATE hub_counts SET
           deleted = deleted + ${deletedExpr(t, "NEW")} - ${deletedExpr(t, "OLD")},
           pending = pending + ${pendingExpr("NEW")} - ${pendingExpr("OLD")} WHERE ${key};
       END`,
    );
  }
  statements.push(
    `CREATE TEMP TRIGGER IF NOT EXISTS hub_count_tombstones_ins AFTER INSERT ON main.tombstones
     BEGIN
       UPDATE hub_counts SET rows = rows + 1, pending = pending + ${pendingExpr("NEW")}
       WHERE id = ${keys.get(TOMBSTONES)};
     END`,
    `CREATE TEMP TRIGGER IF NOT EXISTS hub_count_tombstones_del AFTER DELETE ON main.tombstones
     BEGIN
       UPDATE hub_counts SET rows = rows - 1, pending = pending - ${pendingExpr("OLD")}
       WHERE id = ${keys.get(TOMBSTONES)};
     END`,
    `CREATE TEMP TRIGGER IF NOT EXISTS hub_count_tombstones_upd AFTER UPDATE ON main.tombstones
     WHEN ${pendingExpr("OLD")} IS NOT ${pendingExpr("NEW")} BEGIN
       UPDATE hub_counts SET pending = pending + ${pendingExpr("NEW")} - ${pendingExpr("OLD")}
       WHERE id = ${keys.get(TOMBSTONES)};
     END`,
    // For the conflict log, `pending` counts the open (undecided) entries.
    `CREATE TEMP TRIGGER IF NOT EXISTS hub_count_conflicts_ins AFTER INSERT ON main.conflicts
     BEGIN
       UPDATE hub_counts SET rows = rows + 1, pending = pending + (NEW.resolved_at IS NULL)
       WHERE id = ${keys.get(CONFLICTS)};
     END`,
    `CREATE TEMP TRIGGER IF NOT EXISTS hub_count_conflicts_del AFTER DELETE ON main.conflicts
     BEGIN
       UPDATE hub_counts SET rows = rows - 1, pending = pending - (OLD.resolved_at IS NULL)
       WHERE id = ${keys.get(CONFLICTS)};
     END`,
    `CREATE TEMP TRIGGER IF NOT EXISTS hub_count_conflicts_upd AFTER UPDATE OF resolved_at
     ON main.conflicts WHEN (OLD.resolved_at IS NULL) IS NOT (NEW.resolved_at IS NULL) BEGIN
       UPDATE hub_counts SET
         pending = pending + (NEW.resolved_at IS NULL) - (OLD.resolved_at IS NULL)
       WHERE id = ${keys.get(CONFLICTS)};
     END`,
  );
  db.transaction(() => {
    for (const s of statements) db.exec(s);
    const put = db.prepare(
      `INSERT OR REPLACE INTO temp.hub_counts (id, name, rows, deleted, pending)
       VALUES (?, ?, ?, ?, ?)`,
    );
    for (const [name, c] of Object.entries(countByScanning(db))) {
      put.run(keys.get(name), name, c.rows, c.deleted, c.pending);
    }
  }).immediate();
}

/** The counter rows' integer keys: synced tables in schema order, then tombstones, conflicts. */
function counterKeys(): Map<string, number> {
  const names = [...[...TABLES.values()].map((t) => t.name), TOMBSTONES, CONFLICTS];
  return new Map(names.map((n, i) => [n, i + 1]));
}

/**
 * Drops the counter table and triggers (before a rekey: SQLCipher's rekey leaves
 * the connection's temp schema locked for the next checkpoint otherwise).
 */
export function removeCounters(db: Database): void {
  const triggers = db.prepare("SELECT name FROM temp.sqlite_master WHERE type = 'trigger'")
    .pluck().all() as string[];
  for (const t of triggers) {
    if (t.startsWith("hub_count_")) db.exec(`DROP TRIGGER temp.${ident(t)}`);
  }
  db.exec("DROP TABLE IF EXISTS temp.hub_counts");
}

/**
 * Counts everything the counters keep by reading the tables (once at open, and
 * in tests to check the counters). Keys: table names, `~tombstones`, `~conflicts`.
 */
export function countByScanning(db: Database): Record<string, CountRow> {
  const out: Record<string, CountRow> = {};
  for (const t of TABLES.values()) {
    const deleted = t.softDelete
      ? "is_deleted = 1 OR local_server_deleted_at IS NOT NULL"
      : "local_server_deleted_at IS NOT NULL";
    out[t.name] = db.prepare(
      `SELECT count(*) AS rows, coalesce(sum(${deleted}), 0) AS deleted,
         coalesce(sum(local_server_pending = 1), 0) AS pending FROM ${ident(t.name)}`,
    ).get() as CountRow;
  }
  out[TOMBSTONES] = db.prepare(
    `SELECT count(*) AS rows, 0 AS deleted, coalesce(sum(local_server_pending = 1), 0) AS pending
     FROM tombstones`,
  ).get() as CountRow;
  out[CONFLICTS] = db.prepare(
    `SELECT count(*) AS rows, 0 AS deleted, coalesce(sum(resolved_at IS NULL), 0) AS pending
     FROM conflicts`,
  ).get() as CountRow;
  return out;
}

/** The kept counters (one small read of a memory table). */
export function readCounters(db: Database): Record<string, CountRow> {
  const rows = db.prepare("SELECT name, rows, deleted, pending FROM temp.hub_counts")
    .all() as (CountRow & { name: string })[];
  const out: Record<string, CountRow> = {};
  for (const r of rows) out[r.name] = { rows: r.rows, deleted: r.deleted, pending: r.pending };
  return out;
}

/** Keys of {@link readCounters} that are not synced tables. */
export const COUNTER_KEYS = { tombstones: TOMBSTONES, conflicts: CONFLICTS } as const;
