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
 * over (a wiped phone keeps its client id and pulls from 0): from then on every
 * row it pushed before is sent to it again, until it pushes anew.
 */
import type { Database } from "./_db.ts";
import { stmt } from "./_read.ts";

/** A device's pull and push state, as the pull and push need it. */
export interface DeviceSyncState {
  /** `timestamp` handed out by the device's last pull. */
  pullTimestamp: number | null;
  /** The pull timestamp its last push was marked with. */
  pushAfter: number | null;
  /** Rows it pushed with a stamp at or below this are sent to it again (it started over). */
  rewoundStamp: number;
}

const NO_STATE: DeviceSyncState = { pullTimestamp: null, pushAfter: null, rewoundStamp: 0 };

/** Reads a device's sync state (an unknown device has none). */
export function deviceSyncState(db: Database, clientId: string): DeviceSyncState {
  const r = stmt(
    db,
    `SELECT pull_timestamp AS pullTimestamp, push_after AS pushAfter,
       rewound_stamp AS rewoundStamp FROM devices WHERE client_id = ?`,
  ).get(clientId) as DeviceSyncState | undefined;
  return r ?? NO_STATE;
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
  stmt(db, "UPDATE devices SET rewound_stamp = ?, push_after = NULL WHERE client_id = ?")
    .run(stamp, clientId);
  return { ...state, pushAfter: null, rewoundStamp: stamp };
}

/** Records the end of a pull: the timestamp handed out and how much still waits. */
export function finishDevicePull(
  db: Database,
  clientId: string,
  timestamp: number,
  waiting: number,
  now: number,
): void {
  ensureDevice(db, clientId, now);
  stmt(
    db,
    `UPDATE devices SET pull_timestamp = ?, waiting_rows = ?, waiting_checked_at = ?
     WHERE client_id = ?`,
  ).run(timestamp, waiting, now, clientId);
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
