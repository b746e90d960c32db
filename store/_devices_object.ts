/** `store.devices`: the phones and tablets that handshook, their syncs and used client keys. */
import type { Database } from "./_db.ts";
import {
  activitySince,
  type DeviceRecord,
  getDevice,
  listDevices,
  recordSync,
  rememberClientKey,
  removeRevokedDevice,
  revokeDevice,
  touchDevice,
} from "./_devices.ts";

/**
 * One hour of sync activity (for the 24-hour chart).
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const buckets = store.devices.activitySince(Date.now() - 24 * 3_600_000);
 * const pulls = buckets.filter((b) => b.kind === "pull").reduce((n, b) => n + b.events, 0);
 * ```
 */
export interface ActivityBucket {
  /** Start of the hour, epoch ms. */
  hour: number;
  /** `pull` or `push`. */
  kind: string;
  /** Syncs in that hour. */
  events: number;
  /** Rows pushed to the hub. */
  rowsIn: number;
  /** Rows pulled from the hub. */
  rowsOut: number;
}

/**
 * The devices of a Store, reached as `store.devices`.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * declare const clientId: string; // the calling phone's
 * const device = store.devices.get(clientId);
 * if (device?.revokedAt) throw new Error("revoked");
 * ```
 */
export class Devices {
  readonly #db: Database;

  /** Wraps the Store's connection (the Store builds it). */
  constructor(db: Database) {
    this.#db = db;
  }

  /** One device, or undefined if it never handshook. */
  get(clientId: string): DeviceRecord | undefined {
    return getDevice(this.#db, clientId);
  }

  /** Every device, most recently seen first. */
  list(): DeviceRecord[] {
    return listDevices(this.#db);
  }

  /** Records a handshake; returns the device (with its revocation state). */
  touch(clientId: string, name: string | null, now: number): DeviceRecord {
    return touchDevice(this.#db, clientId, name, now);
  }

  /**
   * Remembers a client public key (by SHA-256 digest). False if it was seen
   * before: a key is good for one handshake only, across restarts.
   */
  rememberClientKey(digest: string, now: number): boolean {
    return rememberClientKey(this.#db, digest, now);
  }

  /** Revokes a device; false when there is no such device. */
  revoke(clientId: string, now: number): boolean {
    return revokeDevice(this.#db, clientId, now);
  }

  /** Forgets a revoked device (a device still allowed is refused). */
  removeRevoked(clientId: string, now: number): "removed" | "unknown" | "not_revoked" {
    return removeRevokedDevice(this.#db, clientId, now);
  }

  /** Counts one pull or push of `rows` rows by a device (and the user it synced as). */
  recordSync(
    clientId: string,
    kind: "pull" | "push",
    rows: number,
    now: number,
    userId: string | null,
  ): void {
    recordSync(this.#db, clientId, kind, rows, now, userId);
  }

  /** Sync activity bucketed by hour since `since`. */
  activitySince(since: number): ActivityBucket[] {
    return activitySince(this.#db, since);
  }
}
