/**
 * The store side of the cloud relay: merging batches of cloud rows, reading the
 * local changes still waiting for the cloud, and marking them relayed.
 *
 * What is durable when: each merged batch is its own transaction with a fresh
 * stamp (so phones receive cloud rows on their next pull); rows stay pending
 * until the cloud confirmed the push that carried them; the watermark moves
 * only after a whole cycle succeeded. A cycle cut anywhere is simply repeated:
 * merges are idempotent (newer-wins upserts, equal rows unchanged) and the
 * cloud's push is an idempotent upsert too.
 */
import type { ChangeClock } from "./_clock.ts";
import type { Database } from "./_db.ts";
import { type ApplyCounts, emptyCounts, ROWS_PER_STAMP, upsertRow } from "./_apply.ts";
import { deleteRow } from "./_delete.ts";
import { ident, TABLES } from "./_schema.ts";

/**
 * Meta key of the cloud watermark (the cloud `timestamp` of the last good cycle).
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * store.setMeta(CLOUD_WATERMARK_KEY, "0"); // the next cycle pulls everything
 * ```
 */
export const CLOUD_WATERMARK_KEY = "cloud.watermark";

/**
 * One change from the cloud.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const value = { id: "p1", surname: "Diaz" }; // the row as the cloud sent it
 * const change: CloudChange = { table: "patients", kind: "updated", value };
 * store.relay.merge([change], Date.now());
 * ```
 */
export interface CloudChange {
  table: string;
  kind: "created" | "updated" | "deleted";
  value: unknown;
}

/**
 * Starts a full pull (watermark 0) whose ids are recorded, so that
 * {@link sweepAfterFullPull} can find the rows the cloud no longer has.
 *
 * Why: at watermark 0 the cloud lists no deletions. When a first sync is cut
 * part-way, the rows it merged stay on the hub while the watermark stays 0; a
 * row the cloud deletes before the first complete cycle would then never be
 * deleted here. The recorded ids live in a TEMP table (memory, this connection).
 */
export function beginFullPull(db: Database): void {
  db.exec(
    `CREATE TEMP TABLE IF NOT EXISTS cloud_seen (table_name TEXT NOT NULL, row_id TEXT NOT NULL,
       PRIMARY KEY (table_name, row_id)) WITHOUT ROWID`,
  );
  db.exec("DELETE FROM temp.cloud_seen");
}

/**
 * After a complete full pull: soft-deletes (as cloud deletions, so phones get
 * them and nothing is pushed back) the rows of `tables` that came from the cloud,
 * are not waiting for the cloud, and were not in the pull. Returns how many.
 */
export function sweepAfterFullPull(
  db: Database,
  clock: ChangeClock,
  tables: Iterable<string>,
  now = Date.now(),
): number {
  let n = 0;
  db.transaction(() => {
    const ctx = { db, stamp: clock.next(), now, source: "cloud" as const };
    for (const name of tables) {
      const t = TABLES.get(name);
      if (!t) continue;
      const gone = db.prepare(
        `SELECT id FROM ${ident(name)} WHERE local_server_pending = 0
           AND local_server_deleted_at IS NULL
           AND id NOT IN (SELECT row_id FROM temp.cloud_seen WHERE table_name = ?)`,
      ).raw(true).all(name) as [string][];
      for (const [id] of gone) if (deleteRow(ctx, t, id)) n++;
    }
    db.exec("DELETE FROM temp.cloud_seen");
  }).immediate();
  return n;
}

/**
 * Merges a batch of cloud changes in one transaction; unknown tables are dropped.
 * With `recordSeen` (a full pull, see {@link beginFullPull}) the ids are recorded.
 */
export function mergeCloudBatch(
  db: Database,
  clock: ChangeClock,
  batch: CloudChange[],
  now = Date.now(),
  recordSeen = false,
): { tables: Record<string, ApplyCounts>; dropped: number } {
  const tables: Record<string, ApplyCounts> = {};
  let dropped = 0;
  db.transaction(() => {
    const ctx = { db, stamp: clock.next(), now, source: "cloud" as const };
    let written = 0;
    const seen = recordSeen
      ? db.prepare("INSERT OR IGNORE INTO temp.cloud_seen (table_name, row_id) VALUES (?, ?)")
      : null;
    for (const c of batch) {
      const t = TABLES.get(c.table);
      if (!t) {
        dropped++;
        continue;
      }
      if (seen && c.kind !== "deleted" && c.value && typeof c.value === "object") {
        const id = (c.value as Record<string, unknown>).id;
        if (typeof id === "string") seen.run(c.table, id);
      }
      const counts = tables[c.table] ??= emptyCounts();
      if (c.kind === "deleted") {
        const id = typeof c.value === "string"
          ? c.value
          : (c.value && typeof c.value === "object")
          ? (c.value as Record<string, unknown>).id
          : undefined;
        if (typeof id !== "string" || id === "") {
          dropped++;
          continue;
        }
        if (deleteRow(ctx, t, id)) counts.deleted++;
        else counts.unchanged++;
      } else {
        counts[upsertRow(ctx, t, c.value)]++;
      }
      if (++written % ROWS_PER_STAMP === 0) ctx.stamp = clock.next();
    }
  }).immediate();
  return { tables, dropped };
}

/**
 * A chunk of local changes for one cloud push.
 *
 * @example
 * ```ts
 * import type { PendingChunk, Store } from "./mod.ts";
 * import type { CloudPeer } from "../cloud/mod.ts";
 *
 * declare const store: Store;
 * declare const peer: CloudPeer;
 * const upTo = store.clock.handOut();
 * const chunk: PendingChunk = store.relay.readPending(upTo, 5_000, null);
 * if (chunk.rows > 0) await peer.push(chunk.json, AbortSignal.timeout(60_000));
 * ```
 */
export interface PendingChunk {
  /** `{table: {created, updated, deleted}}` as JSON text. */
  json: string;
  rows: number;
  perTable: Record<string, number>;
  /** Resume point for the next chunk, or null when this was the last. */
  next: PendingCursor | null;
}

/**
 * Where the next chunk starts: table index, then (stamp, id) after which to continue.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const upTo = store.clock.handOut();
 * let cursor: PendingCursor | null = null;
 * do {
 *   const chunk = store.relay.readPending(upTo, 5_000, cursor);
 *   cursor = chunk.next;
 * } while (cursor);
 * ```
 */
export interface PendingCursor {
  tableIndex: number;
  stamp: number;
  id: string;
}

const TABLE_NAMES = [...TABLES.keys()];

/**
 * Reads up to `maxRows` pending changes with stamps ≤ `upTo` (taken when the
 * push began, so later writes wait for the next cycle). Deleted rows go as id
 * strings (the cloud answers 500 to objects); rows the cloud never had go in
 * `created`, the others in `updated`.
 */
export function readPendingChunk(
  db: Database,
  upTo: number,
  maxRows: number,
  from: PendingCursor | null,
): PendingChunk {
  // One entry per table: a table can have both pending rows and tombstones in a
  // chunk, and a JSON object with a repeated key would silently drop one of them.
  const out = new Map<string, { created: string[]; updated: string[]; deleted: string[] }>();
  const entry = (t: string) => {
    let e = out.get(t);
    if (!e) out.set(t, e = { created: [], updated: [], deleted: [] });
    return e;
  };
  const perTable: Record<string, number> = {};
  let rows = 0;
  let next: PendingCursor | null = null;
  db.transaction(() => {
    let ti = from?.tableIndex ?? 0;
    let after: { stamp: number; id: string } | null = from
      ? { stamp: from.stamp, id: from.id }
      : null;
    for (; ti <= TABLE_NAMES.length; ti++) {
      if (rows >= maxRows) {
        next = { tableIndex: ti, stamp: -1, id: "" };
        break;
      }
      const created: string[] = [];
      const updated: string[] = [];
      const deleted: string[] = [];
      if (ti === TABLE_NAMES.length) {
        const limit = maxRows - rows;
        const tomb = db.prepare(
          `SELECT table_name, row_id, deleted_stamp FROM tombstones
           WHERE local_server_pending = 1 AND deleted_stamp <= ?
             AND (deleted_stamp > ? OR (deleted_stamp = ? AND row_id > ?))
           ORDER BY deleted_stamp, row_id LIMIT ?`,
        ).raw(true).all(upTo, after?.stamp ?? -1, after?.stamp ?? -1, after?.id ?? "", limit) as [
          string,
          string,
          number,
        ][];
        const byTable = new Map<string, string[]>();
        for (const [t, id] of tomb) {
          if (!byTable.has(t)) byTable.set(t, []);
          byTable.get(t)!.push(JSON.stringify(id));
        }
        for (const [t, ids] of byTable) {
          entry(t).deleted.push(...ids);
          perTable[t] = (perTable[t] ?? 0) + ids.length;
        }
        rows += tomb.length;
        if (tomb.length === limit && limit > 0) {
          const last = tomb[tomb.length - 1];
          next = { tableIndex: ti, stamp: last[2], id: last[1] };
        }
        break;
      }
      const name = TABLE_NAMES[ti];
      const t = TABLES.get(name)!;
      const cols = t.columns.map((c) => ident(c.name)).join(", ");
      const limit = maxRows - rows;
      const list = db.prepare(
        `SELECT ${cols}, local_server_last_modified_at AS __s, local_server_deleted_at AS __d
         FROM ${ident(name)}
         WHERE local_server_pending = 1 AND local_server_last_modified_at <= ?
           AND (local_server_last_modified_at > ? OR (local_server_last_modified_at = ? AND id > ?))
         ORDER BY local_server_last_modified_at, id LIMIT ?`,
      ).all(upTo, after?.stamp ?? -1, after?.stamp ?? -1, after?.id ?? "", limit) as Record<
        string,
        unknown
      >[];
      after = null;
      let lastStamp = -1;
      for (const r of list) {
        const d = r.__d;
        lastStamp = r.__s as number;
        delete r.__s;
        delete r.__d;
        if (d !== null) deleted.push(JSON.stringify(r.id));
        else if (r.server_created_at === null || r.server_created_at === undefined) {
          created.push(JSON.stringify(r));
        } else updated.push(JSON.stringify(r));
      }
      if (list.length > 0) {
        const e = entry(name);
        e.created.push(...created);
        e.updated.push(...updated);
        e.deleted.push(...deleted);
        perTable[name] = list.length;
        rows += list.length;
      }
      if (list.length === limit) {
        next = { tableIndex: ti, stamp: lastStamp, id: String(list[list.length - 1].id) };
        break;
      }
    }
  })();
  const json = [...out].map(([t, e]) =>
    `${JSON.stringify(t)}:{"created":[${e.created.join(",")}],"updated":[${
      e.updated.join(",")
    }],"deleted":[${e.deleted.join(",")}]}`
  ).join(",");
  return { json: `{${json}}`, rows, perTable, next };
}

/**
 * Marks every change with a stamp ≤ `upTo` as relayed (after the cloud accepted
 * them all). A row changed again after `upTo` has a higher stamp and stays pending.
 */
export function clearPending(db: Database, upTo: number): number {
  let n = 0;
  db.transaction(() => {
    for (const name of TABLE_NAMES) {
      n += db.prepare(
        `UPDATE ${ident(name)} SET local_server_pending = 0
         WHERE local_server_pending = 1 AND local_server_last_modified_at <= ?`,
      ).run(upTo).changes;
    }
    n += db.prepare(
      "UPDATE tombstones SET local_server_pending = 0 WHERE local_server_pending = 1 AND deleted_stamp <= ?",
    ).run(upTo).changes;
  }).immediate();
  return n;
}
