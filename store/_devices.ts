/** The devices (phones and tablets) that have handshaken with this hub, and used client keys. */
import { type Database, isDiskFull } from "./_db.ts";

/**
 * One device as the admin API shows it.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * declare const clientId: string; // the calling phone's
 * const device: DeviceRecord | undefined = store.devices.get(clientId);
 * const revoked = device?.revokedAt !== null;
 * ```
 */
export interface DeviceRecord {
  clientId: string;
  name: string | null;
  firstSeen: number;
  lastSeen: number;
  lastSync: number | null;
  lastUserId: string | null;
  rowsPulled: number;
  rowsPushed: number;
  handshakes: number;
  revokedAt: number | null;
  /**
   * Changes that were still waiting for the device after its last pull (the app
   * pulls one page per sync, so a device catching up needs more syncs); 0 once
   * it has everything.
   */
  waitingRows: number;
  /** When that was counted (its last pull), or null if it never pulled. */
  waitingCheckedAt: number | null;
}

/**
 * Remembers a client public key (by SHA-256 digest). Returns false if it was
 * seen before: a key is good for one handshake only, across restarts.
 */
export function rememberClientKey(db: Database, digest: string, now: number): boolean {
  return db.prepare(
    "INSERT INTO used_client_keys (digest, seen_at) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING",
  ).run(digest, now).changes === 1;
}

/** Records a handshake; returns the device (with its revocation state). */
export function touchDevice(
  db: Database,
  clientId: string,
  name: string | null,
  now: number,
): DeviceRecord {
  db.prepare(
    `INSERT INTO devices (client_id, name, first_seen, last_seen, handshakes) VALUES (?, ?, ?, ?, 1)
     ON CONFLICT (client_id) DO UPDATE SET last_seen = excluded.last_seen,
       name = coalesce(excluded.name, devices.name), handshakes = devices.handshakes + 1`,
  ).run(clientId, name, now, now);
  return getDevice(db, clientId)!;
}

/** Reads one device. */
export function getDevice(db: Database, clientId: string): DeviceRecord | undefined {
  const r = db.prepare(
    `SELECT client_id AS clientId, name, first_seen AS firstSeen, last_seen AS lastSeen,
       last_sync AS lastSync, last_user_id AS lastUserId, rows_pulled AS rowsPulled,
       rows_pushed AS rowsPushed, handshakes, revoked_at AS revokedAt,
       waiting_rows AS waitingRows, waiting_checked_at AS waitingCheckedAt
     FROM devices WHERE client_id = ?`,
  ).get(clientId) as DeviceRecord | undefined;
  return r;
}

/**
 * The `hub_meta` key marking a revoked device as removed from the operator's list.
 * The device row stays (its revocation must outlive the list entry: a removed
 * phone must still be refused), so no migration is needed.
 */
function removedKey(clientId: string): string {
  return `device.removed.${clientId}`;
}

/** All devices, most recently seen first; revoked ones the operator removed are left out. */
export function listDevices(db: Database): DeviceRecord[] {
  return db.prepare(
    `SELECT client_id AS clientId, name, first_seen AS firstSeen, last_seen AS lastSeen,
       last_sync AS lastSync, last_user_id AS lastUserId, rows_pulled AS rowsPulled,
       rows_pushed AS rowsPushed, handshakes, revoked_at AS revokedAt,
       waiting_rows AS waitingRows, waiting_checked_at AS waitingCheckedAt
     FROM devices WHERE NOT EXISTS
       (SELECT 1 FROM hub_meta WHERE key = 'device.removed.' || devices.client_id)
     ORDER BY last_seen DESC`,
  ).all() as DeviceRecord[];
}

/**
 * Removes a revoked device from the list (it stays revoked). Returns "removed",
 * "unknown", or "not_revoked" (only revoked devices may be removed).
 */
export function removeRevokedDevice(
  db: Database,
  clientId: string,
  now: number,
): "removed" | "unknown" | "not_revoked" {
  const d = getDevice(db, clientId);
  if (!d) return "unknown";
  if (d.revokedAt === null) return "not_revoked";
  db.prepare(
    "INSERT INTO hub_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  ).run(removedKey(clientId), String(now));
  return "removed";
}

/** Marks a device revoked; returns false if unknown. */
export function revokeDevice(db: Database, clientId: string, now: number): boolean {
  return db.prepare(
    "UPDATE devices SET revoked_at = coalesce(revoked_at, ?) WHERE client_id = ?",
  ).run(now, clientId).changes === 1;
}

/** Counts a sync against a device and in the activity log (for the dashboard chart). */
export function recordSync(
  db: Database,
  clientId: string,
  kind: "pull" | "push",
  rows: number,
  now: number,
  userId: string | null,
): void {
  // Bookkeeping only: on a full disk it is skipped, so a pull still answers.
  try {
    recordSyncRows(db, clientId, kind, rows, now, userId);
  } catch (err) {
    if (!isDiskFull(err)) throw err;
  }
}

function recordSyncRows(
  db: Database,
  clientId: string,
  kind: "pull" | "push",
  rows: number,
  now: number,
  userId: string | null,
): void {
  db.transaction(() => {
    db.prepare(
      `UPDATE devices SET last_sync = ?, last_seen = ?, last_user_id = coalesce(?, last_user_id),
         rows_pulled = rows_pulled + ?, rows_pushed = rows_pushed + ? WHERE client_id = ?`,
    ).run(now, now, userId, kind === "pull" ? rows : 0, kind === "push" ? rows : 0, clientId);
    db.prepare(
      "INSERT INTO activity (at, kind, device_id, rows_in, rows_out) VALUES (?, ?, ?, ?, ?)",
    ).run(now, kind, clientId, kind === "push" ? rows : 0, kind === "pull" ? rows : 0);
  })();
}

/** Sync activity bucketed by hour since `since` (for the 24-hour chart). */
export function activitySince(
  db: Database,
  since: number,
): { hour: number; kind: string; events: number; rowsIn: number; rowsOut: number }[] {
  return db.prepare(
    `SELECT (at / 3600000) * 3600000 AS hour, kind, count(*) AS events,
       sum(rows_in) AS rowsIn, sum(rows_out) AS rowsOut
     FROM activity WHERE at >= ? GROUP BY hour, kind ORDER BY hour`,
  ).all(since) as { hour: number; kind: string; events: number; rowsIn: number; rowsOut: number }[];
}
