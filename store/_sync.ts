/**
 * Sync with phones (SPEC §5): pulling changes after a cursor and applying a push.
 *
 * Pull paging. A reply is bounded to about `maxRows` rows so that neither the
 * hub nor the phone ever holds hundreds of MB as one string. Changes go out
 * oldest first; the page ends at the stamp Tp of the last change included
 * (whole transactions only) and `timestamp` = Tp, so the phone's next pull
 * continues there. A row first received inside the page but changed again after
 * Tp is sent with it, as `created`, in its current state: otherwise the next
 * page would list it as `updated`, which a phone that never had it skips.
 */
import { HubError } from "../core/mod.ts";
import type { ChangeClock } from "./_clock.ts";
import type { Database } from "./_db.ts";
import { stmt as prepared } from "./_read.ts";
import {
  type ApplyContext,
  type ApplyCounts,
  deleteRow,
  emptyCounts,
  upsertRow,
} from "./_apply.ts";
import {
  ident,
  PHONE_READ_ONLY_TABLES,
  PHONE_TABLES,
  SECRET_COLUMNS,
  type TableDef,
  TABLES,
} from "./_schema.ts";

const PHONE_TABLE_SET: ReadonlySet<string> = new Set(PHONE_TABLES);

/** Default bound on rows in one pull reply. */
export const DEFAULT_PULL_PAGE_ROWS = 20_000;

/**
 * A push takes a new stamp every this many rows (still one transaction). Pull
 * pages end on a stamp, so without this a 50,000-row push would have to go out
 * as one 50,000-row reply, whatever the page bound.
 */
export const PUSH_ROWS_PER_STAMP = 500;

/** The result of a pull: the reply JSON, already serialised, and what it holds. */
export interface PullResult {
  /** `{"changes": {...}, "timestamp": T}` as JSON text. */
  json: string;
  timestamp: number;
  rows: number;
  /** True when changes after `timestamp` remain (the phone gets them next sync). */
  more: boolean;
}

/**
 * SQL rendering a row's data columns (secrets left out) as one JSON object.
 * SQLite builds the text in C, which is about 1.5× faster than making a JS
 * object per row and JSON.stringify-ing it (bench/lan_bench.ts), and gives the
 * same text: TEXT as JSON strings (JSON columns stay strings, as phones expect),
 * INTEGER and REAL as numbers that read back to the same value.
 */
function rowJson(t: TableDef): string {
  const secret = new Set(SECRET_COLUMNS[t.name] ?? []);
  return `json_object(${
    t.columns.filter((c) => !secret.has(c.name)).map((c) => `'${c.name}', ${ident(c.name)}`)
      .join(", ")
  })`;
}

/**
 * Finds the page boundary. A change's key is when the phone must first hear of
 * the row: its first-received stamp if that is after the cursor (the row goes
 * as `created`, in its current state), else its last-modified stamp (`updated` or
 * `deleted`). The page holds every change with a key in (cursor, Tp], so the
 * count used to pick Tp is exactly what the page carries (plus the rest of the
 * last transaction).
 */
function pageBoundary(db: Database, cursor: number, upTo: number, maxRows: number): number {
  const nth = (keys: number[]) => {
    keys.sort((a, b) => a - b);
    return keys.length > maxRows ? keys[maxRows - 1] : upTo;
  };
  // First the rows first received after the cursor (the lsc index gives them in
  // order). Their n-th key bounds where the page can end, so the scan of
  // changed rows below only reads up to there (on a first sync, one page's
  // worth, not the whole database once per page).
  const keys: number[] = [];
  for (const name of PHONE_TABLES) {
    const created = prepared(
      db,
      `SELECT local_server_created_at FROM ${ident(name)}
       WHERE local_server_created_at > ? AND local_server_created_at <= ?
       ORDER BY local_server_created_at LIMIT ?`,
    ).pluck(true).all(cursor, upTo, maxRows + 1) as number[];
    for (const k of created) keys.push(k);
  }
  const tomb = prepared(
    db,
    `SELECT deleted_stamp FROM tombstones WHERE deleted_stamp > ? AND deleted_stamp <= ?
     ORDER BY deleted_stamp LIMIT ?`,
  ).pluck(true).all(cursor, upTo, maxRows + 1) as number[];
  for (const k of tomb) keys.push(k);
  const bound = nth(keys);
  for (const name of PHONE_TABLES) {
    const changed = prepared(
      db,
      `SELECT local_server_last_modified_at FROM ${ident(name)}
       WHERE local_server_last_modified_at > ? AND local_server_last_modified_at <= ?
         AND local_server_created_at <= ?
       ORDER BY local_server_last_modified_at LIMIT ?`,
    ).pluck(true).all(cursor, bound, cursor, maxRows + 1) as number[];
    for (const k of changed) keys.push(k);
  }
  return nth(keys);
}

/**
 * Collects the changes after `cursor` for a phone. `timestamp` is taken from the
 * change clock before reading (and persisted), so a write racing the pull is
 * stamped above it and comes in the next pull.
 */
export function pullChanges(
  db: Database,
  clock: ChangeClock,
  cursor: number,
  maxRows = DEFAULT_PULL_PAGE_ROWS,
): PullResult {
  return db.transaction(() => {
    const upTo = clock.handOut();
    if (cursor >= upTo) {
      return { json: `{"changes":{},"timestamp":${upTo}}`, timestamp: upTo, rows: 0, more: false };
    }
    const tp = pageBoundary(db, cursor, upTo, maxRows);
    const parts: string[] = [];
    let rows = 0;
    for (const name of PHONE_TABLES) {
      const t = TABLES.get(name)!;
      const json = rowJson(t);
      const created: string[] = [];
      const updated: string[] = [];
      const deleted: string[] = [];
      // Rows first received in (cursor, Tp]: `created`, in their current state
      // (one deleted since was never on this phone and is left out).
      const firstSeen = prepared(
        db,
        `SELECT ${json}, local_server_deleted_at FROM ${ident(name)}
         WHERE local_server_created_at > ? AND local_server_created_at <= ?`,
      ).raw(true);
      for (const [row, d] of firstSeen.iterate(cursor, tp) as Iterable<[string, number | null]>) {
        if (d === null) created.push(row);
      }
      // Rows the phone already had, changed in (cursor, Tp]: `updated` or `deleted`.
      const changed = prepared(
        db,
        `SELECT ${json}, local_server_deleted_at, id FROM ${ident(name)}
         WHERE local_server_last_modified_at > ? AND local_server_last_modified_at <= ?
           AND local_server_created_at <= ?`,
      ).raw(true);
      for (
        const [row, d, id] of changed.iterate(cursor, tp, cursor) as Iterable<
          [string, number | null, string]
        >
      ) {
        if (d !== null) deleted.push(JSON.stringify(id));
        else updated.push(row);
      }
      const tombs = prepared(
        db,
        `SELECT row_id FROM tombstones WHERE table_name = ? AND deleted_stamp > ? AND deleted_stamp <= ?`,
      ).pluck(true).all(name, cursor, tp) as string[];
      for (const id of tombs) deleted.push(JSON.stringify(id));
      const n = created.length + updated.length + deleted.length;
      if (n === 0) continue;
      rows += n;
      parts.push(
        `${JSON.stringify(name)}:{"created":[${created.join(",")}],"updated":[${
          updated.join(",")
        }],"deleted":[${deleted.join(",")}]}`,
      );
    }
    return {
      json: `{"changes":{${parts.join(",")}},"timestamp":${tp}}`,
      timestamp: tp,
      rows,
      more: tp < upTo,
    };
  })();
}

/** Counts of a push, per table and in total. */
export interface PushResult {
  tables: Record<string, ApplyCounts>;
  total: ApplyCounts;
  ignoredTables: string[];
}

function asArray(table: string, kind: string, v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    throw new HubError("bad_params", 400, `changes.${table}.${kind} must be an array.`);
  }
  return v;
}

/**
 * Applies a phone's push in one transaction: all of it or none of it. Rows are
 * upserted by id (newer `updated_at` wins; the loser is logged), deletions (ids or
 * whole row objects) are soft. Unknown tables and columns are dropped; pushes to
 * the phone-read-only tables are ignored.
 */
export function pushChanges(
  db: Database,
  clock: ChangeClock,
  changes: unknown,
  options: { deviceId?: string | null; now?: number } = {},
): PushResult {
  if (changes === null || typeof changes !== "object" || Array.isArray(changes)) {
    throw new HubError("bad_params", 400, "changes must be an object of tables.");
  }
  const result: PushResult = { tables: {}, total: emptyCounts(), ignoredTables: [] };
  db.transaction(() => {
    const ctx: ApplyContext = {
      db,
      stamp: clock.next(),
      now: options.now ?? Date.now(),
      source: "phone",
      deviceId: options.deviceId ?? null,
    };
    let written = 0;
    for (const [name, set] of Object.entries(changes as Record<string, unknown>)) {
      const t = TABLES.get(name);
      // Only tables the phone's schema has; the read-only ones are the cloud's to change.
      if (!t || !PHONE_TABLE_SET.has(name) || PHONE_READ_ONLY_TABLES.has(name)) {
        result.ignoredTables.push(name);
        continue;
      }
      if (set === null || typeof set !== "object" || Array.isArray(set)) {
        throw new HubError("bad_params", 400, `changes.${name} must be an object.`);
      }
      const s = set as Record<string, unknown>;
      const counts = emptyCounts();
      for (
        const row of [
          ...asArray(name, "created", s.created),
          ...asArray(name, "updated", s.updated),
        ]
      ) {
        counts[upsertRow(ctx, t, row)]++;
        if (++written % PUSH_ROWS_PER_STAMP === 0) ctx.stamp = clock.next();
      }
      for (const d of asArray(name, "deleted", s.deleted)) {
        const id = typeof d === "string"
          ? d
          : (d && typeof d === "object")
          ? (d as Record<string, unknown>).id
          : undefined;
        if (typeof id !== "string" || id.length === 0) {
          throw new HubError(
            "bad_params",
            400,
            `changes.${name}.deleted holds an entry without an id.`,
          );
        }
        if (deleteRow(ctx, t, id)) counts.deleted++;
        else counts.unchanged++;
        if (++written % PUSH_ROWS_PER_STAMP === 0) ctx.stamp = clock.next();
      }
      result.tables[name] = counts;
      for (const k of Object.keys(counts) as (keyof ApplyCounts)[]) result.total[k] += counts[k];
    }
  }).immediate();
  return result;
}
