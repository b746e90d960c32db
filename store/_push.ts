/**
 * A phone's push (SPEC §5): applied in one transaction, all or nothing. Each
 * row is upserted by id through the store's one write path (newer `updated_at`
 * wins, the loser is logged); a guard decides per row whether the pusher may
 * write it; the device's push mark keeps its own rows out of its next pull
 * (store/_device_sync.ts).
 */
import { HubError } from "../core/mod.ts";
import type { ChangeClock } from "./_clock.ts";
import type { Database } from "./_db.ts";
import {
  type ApplyContext,
  type ApplyCounts,
  emptyCounts,
  refuseRow,
  ROWS_PER_STAMP,
  upsertRow,
} from "./_apply.ts";
import { deleteRow } from "./_delete.ts";
import { deviceSyncState, pushMarkFor, recordDevicePush } from "./_device_sync.ts";
import { PHONE_READ_ONLY_TABLES, PHONE_TABLES, TABLES } from "./_schema.ts";

const PHONE_TABLE_SET: ReadonlySet<string> = new Set(PHONE_TABLES);

/**
 * Counts of a push, per table and in total.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * declare const clientId: string; // the calling phone's
 * declare const changes: unknown; // the `changes` object the phone sent
 * const r: PushResult = store.phoneSync.push(changes, { deviceId: clientId });
 * console.log(r.total.upserted, r.total.conflicts, r.refused);
 * ```
 */
export interface PushResult {
  tables: Record<string, ApplyCounts>;
  total: ApplyCounts;
  ignoredTables: string[];
  /** Rows and deletions the guard refused (each is in the conflict log). */
  refused: number;
}

/**
 * Decides whether the pusher may write one pushed row (`row`) or deletion
 * (`row` null) of `table`: null to apply it, else the reason it is refused.
 * Runs inside the push's transaction, before the row is applied.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * declare const changes: unknown; // the `changes` object the phone sent
 * const guard: PushGuard = (table, _id, row) =>
 *   table === "patients" && row === null ? "patients are not deleted by sync" : null;
 * store.phoneSync.push(changes, { guard });
 * ```
 */
export type PushGuard = (
  table: string,
  id: string,
  row: Record<string, unknown> | null,
) => string | null;

/**
 * How to apply one push.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * declare const clientId: string; // the calling phone's
 * declare const lastPulledAt: number; // the cursor the phone sent
 * declare const changes: unknown; // the `changes` object the phone sent
 * const options: PushOptions = { deviceId: clientId, lastPulledAt, now: Date.now() };
 * store.phoneSync.push(changes, options);
 * ```
 */
export interface PushOptions {
  /** The pushing device (its pushed rows are not sent back to it; conflicts name it). */
  deviceId?: string | null;
  /** Wall-clock time of the push, ms. */
  now?: number;
  /** The cursor of the device's pull just before this push. */
  lastPulledAt?: number | null;
  /** Who may write what; a refused row is logged and skipped, the rest applied. */
  guard?: PushGuard;
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
  options: PushOptions = {},
): PushResult {
  const device = options.deviceId ?? null;
  if (changes === null || typeof changes !== "object" || Array.isArray(changes)) {
    throw new HubError("bad_params", 400, "changes must be an object of tables.");
  }
  const result: PushResult = { tables: {}, total: emptyCounts(), ignoredTables: [], refused: 0 };
  const guard = options.guard;
  db.transaction(() => {
    const stamp = clock.next();
    const now = options.now ?? Date.now();
    // Rows this push writes are the device's own from its last pull on.
    const pushedAfter = device
      ? pushMarkFor(deviceSyncState(db, device), options.lastPulledAt ?? null, stamp)
      : null;
    if (device) recordDevicePush(db, device, pushedAfter!, now);
    const ctx: ApplyContext = {
      db,
      stamp,
      now,
      source: "phone",
      deviceId: device,
      pushedAfter,
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
        const id = (row as Record<string, unknown> | null)?.id;
        const refusal = guard && typeof id === "string" && id !== ""
          ? guard(name, id, row as Record<string, unknown>)
          : null;
        if (refusal !== null) {
          refuseRow(ctx, t, id as string, row, refusal);
          result.refused++;
        } else counts[upsertRow(ctx, t, row)]++;
        if (++written % ROWS_PER_STAMP === 0) ctx.stamp = clock.next();
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
        const refusal = guard ? guard(name, id, null) : null;
        if (refusal !== null) {
          refuseRow(ctx, t, id, null, refusal);
          result.refused++;
        } else if (deleteRow(ctx, t, id)) counts.deleted++;
        else counts.unchanged++;
        if (++written % ROWS_PER_STAMP === 0) ctx.stamp = clock.next();
      }
      result.tables[name] = counts;
      for (const k of Object.keys(counts) as (keyof ApplyCounts)[]) result.total[k] += counts[k];
    }
  }).immediate();
  return result;
}
