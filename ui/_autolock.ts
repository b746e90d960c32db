/**
 * Optional auto-lock: when the operator has not used the admin page for the
 * chosen number of minutes, the hub locks itself (phones cannot sync until it is
 * unlocked again, which is why it is off unless the operator turns it on).
 * The setting lives in the encrypted database (`hub_meta`), so it is only read
 * while unlocked, which is the only time it matters. Activity is any write
 * through the admin API or `POST /api/touch`, which the page sends (throttled)
 * while someone types or clicks.
 */
import { HubError } from "../core/mod.ts";
import type { Hub } from "../hub/mod.ts";

const META_KEY = "ui.auto_lock_minutes";

/** Longest idle time the operator may choose (one day). */
export const MAX_AUTO_LOCK_MINUTES = 24 * 60;

/** What `GET /api/auto-lock` answers. */
export interface AutoLockState {
  /** Minutes of inactivity before the hub locks; null when off. */
  minutes: number | null;
  /** Epoch ms of the operator's last activity. */
  lastActivityAt: number;
  /** When the hub will lock if nothing happens; null when off. */
  locksAt: number | null;
}

/** Options of {@link AutoLock}. */
export interface AutoLockOptions {
  /** Wall clock (tests). */
  now?: () => number;
  /** How often the idle time is checked. */
  checkMs?: number;
  /** Called after the hub was locked for idleness. */
  onLocked?: (minutes: number) => void;
}

/** The idle timer of one admin server. */
export class AutoLock {
  #hub: Hub;
  #now: () => number;
  #last: number;
  #timer: ReturnType<typeof setInterval>;
  #onLocked: (minutes: number) => void;
  #locking = false;

  /** Starts checking every `checkMs` (default 15 s). */
  constructor(hub: Hub, options: AutoLockOptions = {}) {
    this.#hub = hub;
    this.#now = options.now ?? Date.now;
    this.#last = this.#now();
    this.#onLocked = options.onLocked ?? (() => {});
    this.#timer = setInterval(() => void this.check(), options.checkMs ?? 15_000);
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  /** Records operator activity. */
  touch(): void {
    this.#last = this.#now();
  }

  /** The chosen minutes, or null (off, or locked so unreadable). */
  minutes(): number | null {
    if (this.#hub.state !== "unlocked") return null;
    const v = Number(this.#hub.store.getMeta(META_KEY) ?? "0");
    return Number.isInteger(v) && v > 0 ? v : null;
  }

  /** Sets the idle minutes (null or 0 turns it off); needs an unlocked hub. */
  set(minutes: unknown): AutoLockState {
    const off = minutes === null || minutes === 0;
    if (
      !off &&
      (typeof minutes !== "number" || !Number.isInteger(minutes) || minutes < 1 ||
        minutes > MAX_AUTO_LOCK_MINUTES)
    ) {
      throw new HubError(
        "bad_request",
        400,
        `minutes must be a whole number from 1 to ${MAX_AUTO_LOCK_MINUTES}, or null for off.`,
      );
    }
    this.#hub.store.setMeta(META_KEY, off ? "0" : String(minutes));
    this.touch();
    return this.state();
  }

  /** The current setting and deadline. */
  state(): AutoLockState {
    const minutes = this.minutes();
    return {
      minutes,
      lastActivityAt: this.#last,
      locksAt: minutes === null ? null : this.#last + minutes * 60_000,
    };
  }

  /** Locks the hub if it has been idle too long; returns true if it locked it. */
  async check(): Promise<boolean> {
    if (this.#locking) return false;
    let minutes: number | null;
    try {
      minutes = this.minutes();
    } catch {
      return false; // locked or closing meanwhile
    }
    if (minutes === null || this.#now() - this.#last < minutes * 60_000) return false;
    this.#locking = true;
    try {
      await this.#hub.lock();
      this.#hub.logger.log("info", "hub.auto_locked", { idleMinutes: minutes });
      this.#onLocked(minutes);
      return true;
    } finally {
      this.#locking = false;
    }
  }

  /** Stops the timer. */
  close(): void {
    clearInterval(this.#timer);
  }
}
