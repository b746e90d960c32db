/**
 * A phone's pull (SPEC §5): the changes after a cursor, one bounded page.
 *
 * Pull paging. A reply is bounded to about `maxBytes` of JSON (and `maxRows`
 * rows) so that the phone, which decrypts and parses the whole reply in plain
 * JavaScript before it writes a row, finishes one sync in a few seconds
 * (bench/phone_pipeline_bench.ts), and the hub never holds hundreds of MB as one
 * string. Changes go out oldest first; the page ends at the stamp Tp of the last
 * change included (whole transactions only) and `timestamp` = Tp, so the
 * phone's next pull continues there. A row first received inside the page but
 * changed again after Tp is sent with it, as `created`, in its current state:
 * otherwise the next page would list it as `updated`, which a phone that never
 * had it skips.
 *
 * Deletions go out as `{"id": ...}` objects (the app reads `.id` of each entry),
 * every one after the cursor, also of rows first received after it: the app
 * pushes after it pulls and keeps the older cursor, so it may hold such a row.
 * A device's own pushes are left out of its pulls (store/_device_sync.ts).
 */
import type { ChangeClock } from "./_clock.ts";
import type { Database } from "./_db.ts";
import { stmt as prepared } from "./_read.ts";
import { BOOLEAN_COLUMNS } from "./_column_kinds.ts";
import { beginDevicePull, deviceSyncState, finishDevicePull, startCursor } from "./_device_sync.ts";
import { ident, PHONE_TABLES, SECRET_COLUMNS, type TableDef, TABLES } from "./_schema.ts";

/**
 * Default bound on rows in one pull reply.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const page = store.phoneSync.pull(0, { maxRows: DEFAULT_PULL_PAGE_ROWS });
 * ```
 */
export const DEFAULT_PULL_PAGE_ROWS = 20_000;

/**
 * Default bound on the JSON of one pull reply, chosen from what a phone must
 * decrypt, decode and parse in one go (bench/RESULTS.md, "Phone-side pull cost").
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const page = store.phoneSync.pull(0, { maxBytes: DEFAULT_PULL_PAGE_BYTES / 2 });
 * ```
 */
export const DEFAULT_PULL_PAGE_BYTES = 4 * 1024 * 1024;

/** Estimated JSON bytes of one `deleted` entry. */
const DELETED_ENTRY_BYTES = 48;

/**
 * Options of {@link pullChanges}.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * declare const clientId: string; // the calling phone's
 * declare const lastPulledAt: number; // the cursor the phone sent
 * const options: PullOptions = { maxRows: 5_000, deviceId: clientId, now: Date.now() };
 * const page = store.phoneSync.pull(lastPulledAt, options);
 * ```
 */
export interface PullOptions {
  /** Bound on rows in the reply (default {@link DEFAULT_PULL_PAGE_ROWS}). */
  maxRows?: number;
  /** Bound on the reply's JSON bytes (default {@link DEFAULT_PULL_PAGE_BYTES}). */
  maxBytes?: number;
  /** The pulling device: its own latest pushes are left out. */
  deviceId?: string | null;
  /** Wall-clock time, for the device's record. */
  now?: number;
}

/**
 * The result of a pull: the reply JSON, already serialised, and what it holds.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * declare const lastPulledAt: number; // the cursor the phone sent
 * const page: PullResult = store.phoneSync.pull(lastPulledAt);
 * if (page.more) console.log(`${page.waiting} changes wait for the next sync`);
 * ```
 */
export interface PullResult {
  /** `{"changes": {...}, "timestamp": T}` as JSON text. */
  json: string;
  timestamp: number;
  rows: number;
  /** True when changes after `timestamp` remain (the phone gets them next sync). */
  more: boolean;
  /** About how many changes still wait for the phone after this page (0 when none). */
  waiting: number;
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
    t.columns.filter((c) => !secret.has(c.name)).map((c) => {
      const col = ident(c.name);
      // Flags are JSON booleans, as the cloud sends them (store/_column_kinds.ts).
      const value = BOOLEAN_COLUMNS.has(c.name) && c.type === "INTEGER"
        ? `json(iif(${col} IS NULL, 'null', iif(${col} <> 0, 'true', 'false')))`
        : col;
      return `'${c.name}', ${value}`;
    }).join(", ")
  })`;
}

/**
 * Leaves out rows whose current version the pulling device pushed itself from
 * a pull at or before `cursor` (it holds them), unless it has started over since
 * (a row it pushed at or before the rewound stamp, after the rewound cursor).
 * Parameters: device id, cursor, rewound stamp, rewound cursor.
 */
const NOT_OWN_PUSH = `NOT coalesce(local_server_pushed_by = ? AND ? >= local_server_pushed_after
  AND NOT (local_server_last_modified_at <= ? AND local_server_pushed_after > ?), 0)`;

/**
 * True for a row the pulling device created by its own push from a pull at or
 * before `cursor`: it holds the row, or has deleted it locally, so a later
 * version goes to it as `updated` (merged if present, skipped if deleted) and
 * never as `created` (which the app would create again and fail on). Same
 * parameters and starting-over rule as {@link NOT_OWN_PUSH}.
 */
const CREATED_BY_IT = `coalesce(local_server_created_by = ? AND ? >= local_server_created_after
  AND NOT (local_server_created_at <= ? AND local_server_created_after > ?), 0)`;

/** {@link NOT_OWN_PUSH} for tombstones (deletions of rows this hub never had). */
const NOT_OWN_TOMBSTONE = `NOT coalesce(pushed_by = ? AND ? >= pushed_after
  AND NOT (deleted_stamp <= ? AND pushed_after > ?), 0)`;

/** A change key and the JSON bytes it is estimated to add to a page. */
type Key = [key: number, bytes: number];

/**
 * The stamp at which a page of `keys` must end so that it stays within
 * `maxRows` and `maxBytes` (at least one change, so every pull makes progress);
 * `upTo` when everything fits. `partial`: some changes after the collected
 * keys were not collected.
 */
function cut(
  keys: Key[],
  upTo: number,
  maxRows: number,
  maxBytes: number,
  partial: boolean,
): number {
  keys.sort((a, b) => a[0] - b[0]);
  let bytes = 0;
  for (let i = 0; i < keys.length; i++) {
    bytes += keys[i][1];
    if (i + 1 >= maxRows || bytes >= maxBytes) {
      return i + 1 < keys.length || partial ? keys[i][0] : upTo;
    }
  }
  return upTo;
}

/**
 * SQL for the size of one row: the lengths of its values. Cheap (no JSON is
 * built); {@link jsonRatio} turns it into JSON bytes (keys, quotes, escapes).
 */
function rawSize(t: TableDef): string {
  const secret = new Set(SECRET_COLUMNS[t.name] ?? []);
  return t.columns.filter((c) => !secret.has(c.name))
    .map((c) => `coalesce(length(${ident(c.name)}), 4)`).join(" + ");
}

/** JSON bytes per byte of {@link rawSize} for a table, from a small sample after `cursor`. */
function jsonRatio(db: Database, t: TableDef, cursor: number): number {
  const r = prepared(
    db,
    `SELECT sum(length(${rowJson(t)})), sum(${rawSize(t)}) FROM (SELECT * FROM ${ident(t.name)}
       WHERE local_server_last_modified_at > ? ORDER BY local_server_last_modified_at LIMIT 32)`,
  ).raw(true).get(cursor) as [number | null, number | null];
  return r[0] && r[1] ? Math.max(r[0] / r[1], 1) : 1.5;
}

/**
 * Collects the keys and estimated sizes of `rows` (in key order) into `keys`,
 * stopping once this table alone fills a page: where the page ends is decided
 * no later than that. Returns true when it stopped early.
 */
function collect(
  keys: Key[],
  rows: Iterable<[number, number]>,
  ratio: number,
  maxRows: number,
  maxBytes: number,
): boolean {
  let bytes = 0;
  let n = 0;
  for (const [k, size] of rows) {
    const w = Math.max(size * ratio, DELETED_ENTRY_BYTES);
    keys.push([k, w]);
    bytes += w;
    if (++n > maxRows || bytes > maxBytes) return true;
  }
  return false;
}

/**
 * Finds the page boundary. A change's key is when the phone must first hear of
 * the row: its first-received stamp if that is after the cursor (the row goes
 * as `created`, in its current state), else its last-modified stamp (`updated` or
 * `deleted`). The page holds every change with a key in (cursor, Tp] (plus the
 * rest of the last stamp); each change weighs its row's size, so the page is
 * bounded by bytes whatever the rows' sizes. The device's own pushes, which
 * the page will leave out, are not counted.
 */
function pageBoundary(
  db: Database,
  cursor: number,
  upTo: number,
  maxRows: number,
  maxBytes: number,
  own: unknown[],
): number {
  const ratios = new Map<string, number>();
  const ratio = (t: TableDef) => {
    let r = ratios.get(t.name);
    if (r === undefined) ratios.set(t.name, r = jsonRatio(db, t, cursor));
    return r;
  };
  // First the rows first received after the cursor. Where they alone would end
  // the page bounds where it can end, so the scan of changed rows below only
  // reads up to there (on a first sync, one page's worth, not the whole
  // database once per page).
  const keys: Key[] = [];
  let partial = false;
  for (const name of PHONE_TABLES) {
    const t = TABLES.get(name)!;
    const rows = prepared(
      db,
      `SELECT local_server_created_at, ${rawSize(t)} FROM ${ident(name)}
       WHERE local_server_created_at > ? AND local_server_created_at <= ? AND ${NOT_OWN_PUSH}
       ORDER BY local_server_created_at`,
    ).raw(true).iterate(cursor, upTo, ...own) as Iterable<[number, number]>;
    if (collect(keys, rows, ratio(t), maxRows, maxBytes)) partial = true;
  }
  const tombs = prepared(
    db,
    `SELECT deleted_stamp, 0 FROM tombstones WHERE deleted_stamp > ? AND deleted_stamp <= ?
       AND ${NOT_OWN_TOMBSTONE} ORDER BY deleted_stamp`,
  ).raw(true).iterate(cursor, upTo, ...own) as Iterable<[number, number]>;
  if (collect(keys, tombs, 1, maxRows, maxBytes)) partial = true;
  const bound = cut(keys, upTo, maxRows, maxBytes, partial);
  for (const name of PHONE_TABLES) {
    const t = TABLES.get(name)!;
    const rows = prepared(
      db,
      `SELECT local_server_last_modified_at, ${rawSize(t)} FROM ${ident(name)}
       WHERE local_server_last_modified_at > ? AND local_server_last_modified_at <= ?
         AND local_server_created_at <= ? AND ${NOT_OWN_PUSH}
       ORDER BY local_server_last_modified_at`,
    ).raw(true).iterate(cursor, bound, cursor, ...own) as Iterable<[number, number]>;
    if (collect(keys, rows, ratio(t), maxRows, maxBytes)) partial = true;
  }
  // Changed rows after `bound` were not looked at: the page cannot reach past it.
  if (bound < upTo) partial = true;
  return Math.min(cut(keys, upTo, maxRows, maxBytes, partial), bound);
}

/**
 * About how many changes come after `tp`: rows changed and rows deleted without
 * a row (an index count; it includes the device's own pushes, which it will not
 * be sent, so it can be high while a device that pushed a lot catches up).
 */
function countAfter(db: Database, tp: number): number {
  let n = prepared(db, "SELECT count(*) FROM tombstones WHERE deleted_stamp > ?").pluck(true)
    .get(tp) as number;
  for (const name of PHONE_TABLES) {
    n += prepared(
      db,
      `SELECT count(*) FROM ${ident(name)} WHERE local_server_last_modified_at > ?`,
    ).pluck(true).get(tp) as number;
  }
  return n;
}

/**
 * Collects the changes after `cursor` for a phone. `timestamp` is taken from the
 * change clock before reading (and persisted), so a write racing the pull is
 * stamped above it and comes in the next pull.
 */
export function pullChanges(
  db: Database,
  clock: ChangeClock,
  sent: number,
  options: PullOptions = {},
): PullResult {
  const maxRows = options.maxRows ?? DEFAULT_PULL_PAGE_ROWS;
  const maxBytes = options.maxBytes ?? DEFAULT_PULL_PAGE_BYTES;
  const device = options.deviceId ?? null;
  const now = options.now ?? Date.now();
  return db.transaction(() => {
    const upTo = clock.handOut();
    // A cursor never handed to this device starts from its last pull (see startCursor).
    const cursor = device ? startCursor(deviceSyncState(db, device), sent) : sent;
    const state = device ? beginDevicePull(db, device, cursor, upTo) : null;
    if (cursor >= upTo) {
      if (device) finishDevicePull(db, device, cursor, upTo, 0, now);
      return {
        json: `{"changes":{},"timestamp":${upTo}}`,
        timestamp: upTo,
        rows: 0,
        more: false,
        waiting: 0,
      };
    }
    // With no device every row qualifies (an id no row carries).
    const own = [device ?? "", cursor, state?.rewoundStamp ?? 0, state?.rewoundCursor ?? 0];
    const tp = pageBoundary(db, cursor, upTo, maxRows, maxBytes, own);
    const parts: string[] = [];
    let rows = 0;
    for (const name of PHONE_TABLES) {
      const t = TABLES.get(name)!;
      const json = rowJson(t);
      const created: string[] = [];
      const updated: string[] = [];
      const deleted: string[] = [];
      // Rows first received in (cursor, Tp]: `created`, in their current state
      // (`updated` to the device that created them, see CREATED_BY_IT); one
      // deleted since goes in `deleted` (the phone may hold it, see above).
      const firstSeen = prepared(
        db,
        `SELECT iif(local_server_deleted_at IS NULL, ${json}, NULL), id, ${CREATED_BY_IT}
         FROM ${ident(name)}
         WHERE local_server_created_at > ? AND local_server_created_at <= ? AND ${NOT_OWN_PUSH}`,
      ).raw(true);
      for (
        const [row, id, mine] of firstSeen.iterate(...own, cursor, tp, ...own) as Iterable<
          [string | null, string, number]
        >
      ) {
        if (row === null) deleted.push(deletedEntry(id));
        else if (mine) updated.push(row);
        else created.push(row);
      }
      // Rows the phone already had, changed in (cursor, Tp]: `updated` or `deleted`.
      const changed = prepared(
        db,
        `SELECT iif(local_server_deleted_at IS NULL, ${json}, NULL), id FROM ${ident(name)}
         WHERE local_server_last_modified_at > ? AND local_server_last_modified_at <= ?
           AND local_server_created_at <= ? AND ${NOT_OWN_PUSH}`,
      ).raw(true);
      for (
        const [row, id] of changed.iterate(cursor, tp, cursor, ...own) as Iterable<
          [string | null, string]
        >
      ) {
        if (row !== null) updated.push(row);
        else deleted.push(deletedEntry(id));
      }
      const tombs = prepared(
        db,
        `SELECT row_id FROM tombstones WHERE table_name = ? AND deleted_stamp > ? AND deleted_stamp <= ?
           AND ${NOT_OWN_TOMBSTONE}`,
      ).pluck(true).all(name, cursor, tp, ...own) as string[];
      for (const id of tombs) deleted.push(deletedEntry(id));
      const n = created.length + updated.length + deleted.length;
      if (n === 0) continue;
      rows += n;
      parts.push(
        `${JSON.stringify(name)}:{"created":[${created.join(",")}],"updated":[${
          updated.join(",")
        }],"deleted":[${deleted.join(",")}]}`,
      );
    }
    const more = tp < upTo;
    const waiting = more ? countAfter(db, tp) : 0;
    if (device) finishDevicePull(db, device, cursor, tp, waiting, now);
    return {
      json: `{"changes":{${parts.join(",")}},"timestamp":${tp}}`,
      timestamp: tp,
      rows,
      more,
      waiting,
    };
  })();
}

/** One `deleted` entry of a pull: an object, as the app reads `.id` of each. */
function deletedEntry(id: string): string {
  return `{"id":${JSON.stringify(id)}}`;
}
