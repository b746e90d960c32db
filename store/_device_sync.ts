/**
 * What the hub keeps per device between its pulls and pushes (SPEC §5).
 *
 * The app pulls, then pushes, and only then stores the pull's `timestamp` as
 * its cursor. So the rows a push writes would come straight back in the
 * device's next pull, which the app cannot always take (a row it has deleted
 * locally is created again and fails on a duplicate key). Each pushed row is
 * therefore marked with the device and the `timestamp` of that device's pull
 * just before the push; a later pull by the same device from that cursor or a
 * later one leaves the row out while its current version is still the pushed
 * one. A device whose cursor goes back behind its own last push has started
 * over (a wiped phone keeps its client id and pulls from 0), or lost the reply
 * to its last push: from then on every row it pushed before, from a pull after
 * that older cursor, is sent to it again (the rows it pushed from a pull at or
 * before that cursor it held then and holds still).
 */
import type { Database } from "./_db.ts";
import { stmt } from "./_read.ts";

/** A device's pull and push state, as the pull and push need it. */
export interface DeviceSyncState {
  /** `timestamp` handed out by the device's last pull. */
  pullTimestamp: number | null;
  /** The cursor the device's last pull started from. */
  pullCursor: number | null;
  /** The pull timestamp its last push was marked with. */
  pushAfter: number | null;
  /**
   * It started over: rows it pushed with a stamp at or below this, from a pull
   * after {@link rewoundCursor}, are sent to it again.
   */
  rewoundStamp: number;
  /** The cursor it started over from. */
  rewoundCursor: number;
}

const NO_STATE: DeviceSyncState = {
  pullTimestamp: null,
  pullCursor: null,
  pushAfter: null,
  rewoundStamp: 0,
  rewoundCursor: 0,
};

/** Reads a device's sync state (an unknown device has none). */
export function deviceSyncState(db: Database, clientId: string): DeviceSyncState {
  const r = stmt(
    db,
    `SELECT pull_timestamp AS pullTimestamp, pull_cursor AS pullCursor, push_after AS pushAfter,
       rewound_stamp AS rewoundStamp, rewound_cursor AS rewoundCursor
     FROM devices WHERE client_id = ?`,
  ).get(clientId) as DeviceSyncState | undefined;
  return r ?? NO_STATE;
}

/**
 * The cursor a device's pull starts from. A device only holds cursors this hub
 * handed it: the cursor of its last pull, or that pull's `timestamp` once its
 * push went through. A cursor beyond the last timestamp handed to it was made
 * elsewhere (the app's force upload stores the phone's own clock as its cursor;
 * a phone that also syncs with the cloud brings the cloud's) and would hide every
 * change in between. Such a pull starts from its last pull's cursor, the earliest
 * position the device can hold: at worst it is sent the hub's current versions of
 * rows it has. A device without a recorded pull (new, or after a restore, which
 * forgets the backup's positions) is taken at its word.
 *
 * @example
 * ```ts
 * import { startCursor } from "./_device_sync.ts";
 * import type { DeviceSyncState } from "./_device_sync.ts";
 *
 * const state: DeviceSyncState = {
 *   pullCursor: 1000,
 *   pullTimestamp: 2000,
 *   pushAfter: 2000,
 *   rewoundStamp: 0,
 *   rewoundCursor: 0,
 * };
 * startCursor(state, 2000); // 2000: the timestamp it was handed
 * startCursor(state, 9000); // 1000: a cursor it was never handed
 * ```
 */
export function startCursor(state: DeviceSyncState, sent: number): number {
  if (state.pullTimestamp === null || state.pullCursor === null) return sent;
  return sent > state.pullTimestamp ? Math.min(sent, state.pullCursor) : sent;
}

function ensureDevice(db: Database, clientId: string, now: number): void {
  stmt(
    db,
    `INSERT INTO devices (client_id, first_seen, last_seen) VALUES (?, ?, ?)
     ON CONFLICT (client_id) DO NOTHING`,
  ).run(clientId, now, now);
}

/**
 * Called at the start of a pull, in its transaction: a cursor behind the
 * device's own last push means it no longer holds what it pushed, so the rows
 * it pushed up to now (`stamp`) are sent to it again. Returns the state the
 * pull must use.
 */
export function beginDevicePull(
  db: Database,
  clientId: string,
  cursor: number,
  stamp: number,
): DeviceSyncState {
  const state = deviceSyncState(db, clientId);
  if (state.pushAfter === null || cursor >= state.pushAfter) return state;
  stmt(
    db,
    `UPDATE devices SET rewound_stamp = ?, rewound_cursor = ?, push_after = NULL
     WHERE client_id = ?`,
  ).run(stamp, cursor, clientId);
  return { ...state, pushAfter: null, rewoundStamp: stamp, rewoundCursor: cursor };
}

/** Records the end of a pull: its cursor, the timestamp handed out, how much still waits. */
export function finishDevicePull(
  db: Database,
  clientId: string,
  cursor: number,
  timestamp: number,
  waiting: number,
  now: number,
): void {
  ensureDevice(db, clientId, now);
  stmt(
    db,
    `UPDATE devices SET pull_cursor = ?, pull_timestamp = ?, waiting_rows = ?,
       waiting_checked_at = ? WHERE client_id = ?`,
  ).run(cursor, timestamp, waiting, now, clientId);
}

/**
 * The pull timestamp a push's rows are marked with: the device's last pull, when
 * the push belongs to it (its `lastPulledAt` is that pull's cursor, as the app
 * sends it, or its timestamp, as WatermelonDB's `synchronize()` does). Otherwise
 * (no pull recorded, or another pull) the push's own stamp, which hides nothing:
 * better a row sent back than one never sent.
 */
export function pushMarkFor(
  state: DeviceSyncState,
  lastPulledAt: number | null,
  stamp: number,
): number {
  if (state.pullTimestamp === null) return stamp;
  if (lastPulledAt !== null && lastPulledAt !== state.pullCursor) {
    if (lastPulledAt !== state.pullTimestamp) return stamp;
  }
  return state.pullTimestamp;
}

/** Records that a push was marked with `pushedAfter`. */
export function recordDevicePush(
  db: Database,
  clientId: string,
  pushedAfter: number,
  now: number,
): void {
  ensureDevice(db, clientId, now);
  stmt(db, "UPDATE devices SET push_after = ? WHERE client_id = ?").run(pushedAfter, clientId);
}
