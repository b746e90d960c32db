/**
 * The conflict log: every version of a row that lost to a newer one, and every
 * pushed row the pusher had no right to write (with the `reason`), kept for the operator.
 */
import type { Database } from "./_db.ts";

/**
 * One logged conflict. The losing row is included (the admin API is loopback-only).
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const [newest]: ConflictRecord[] = store.conflicts.list({ limit: 1 });
 * const since = newest?.id ?? 0;
 * ```
 */
export interface ConflictRecord {
  id: number;
  table: string;
  rowId: string;
  source: string;
  deviceId: string | null;
  keptUpdatedAt: number | null;
  lostUpdatedAt: number | null;
  lostRow: unknown;
  /** Why the version was set aside when it did not simply lose to a newer one (a refused push). */
  reason: string | null;
  detectedAt: number;
  resolvedAt: number | null;
}

/** Lists conflicts, newest first; `open` limits to unresolved ones. */
export function listConflicts(
  db: Database,
  options: { open?: boolean; limit?: number } = {},
): ConflictRecord[] {
  const limit = Math.min(Math.max(options.limit ?? 200, 1), 1000);
  const rows = db.prepare(
    `SELECT id, table_name AS "table", row_id AS rowId, source, device_id AS deviceId,
       kept_updated_at AS keptUpdatedAt, lost_updated_at AS lostUpdatedAt, lost_row AS lostRow,
       reason, detected_at AS detectedAt, resolved_at AS resolvedAt
     FROM conflicts ${options.open ? "WHERE resolved_at IS NULL" : ""}
     ORDER BY id DESC LIMIT ?`,
  ).all(limit) as (ConflictRecord & { lostRow: string })[];
  return rows.map((r) => ({ ...r, lostRow: JSON.parse(r.lostRow) }));
}

/** Number of unresolved conflicts. */
export function openConflictCount(db: Database): number {
  return (db.prepare("SELECT count(*) AS n FROM conflicts WHERE resolved_at IS NULL").get() as {
    n: number;
  }).n;
}

/** Marks a conflict as seen by the operator. */
export function resolveConflict(db: Database, id: number, now: number): boolean {
  return db.prepare("UPDATE conflicts SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL")
    .run(now, id).changes === 1;
}
