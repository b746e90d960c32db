/**
 * The sync health record: what the last attempts of the relay came to, and the
 * line `GET /api/cloud/health` shows (SPEC §7; issue 5), put together from this
 * record, the schedule's state, the peer and the store's counts.
 */
import type { Store } from "../store/mod.ts";
import { CloudError, type CloudFailure } from "./_client.ts";
import { type CycleResult, LAST_SUCCESS_KEY } from "./_cycle.ts";
import type { CloudPeer } from "./_peer.ts";
import type { ScheduleState } from "./_schedule.ts";

/** The sync health line (SPEC §7; issue 5). */
export interface SyncHealth {
  registered: boolean;
  cloudUrl: string | null;
  cycleRunning: boolean;
  lastAttemptAt: number | null;
  lastSuccessAt: number | null;
  lastError: string | null;
  lastErrorKind: CloudFailure | "internal" | null;
  authFailed: boolean;
  offline: boolean;
  rateLimitedUntil: number | null;
  nextAttemptAt: number | null;
  consecutiveFailures: number;
  /** When the current run of failed cycles began (null after a success). */
  failingSince: number | null;
  pendingChanges: number;
  oldestPendingAgeMs: number | null;
  openConflicts: number;
  lastCycle: CycleResult | null;
}

/** What the health line is put together from, besides the record. */
export interface HealthSources {
  peer: CloudPeer | undefined;
  store: Store;
  schedule: ScheduleState;
  now: number;
}

/** The outcomes of the relay's attempts (kept in memory for one unlocked session). */
export class HealthRecord {
  #lastAttemptAt: number | null = null;
  #lastError: string | null = null;
  #lastErrorKind: SyncHealth["lastErrorKind"] = null;
  #failingSince: number | null = null;
  #lastCycle: CycleResult | null = null;

  /** A cycle began at `at`. */
  attempted(at: number): void {
    this.#lastAttemptAt = at;
  }

  /** The cycle succeeded: the failure run is over. */
  succeeded(result: CycleResult): void {
    this.#lastCycle = result;
    this.#lastError = null;
    this.#lastErrorKind = null;
    this.#failingSince = null;
  }

  /** The cycle failed with `err`; the first failure of a run marks when the run began. */
  failed(err: unknown, now: number): void {
    this.#lastError = err instanceof Error ? err.message : String(err);
    this.#lastErrorKind = err instanceof CloudError ? err.kind : "internal";
    this.#failingSince ??= this.#lastAttemptAt ?? now;
  }

  /** The health line as the admin API shows it. */
  view(s: HealthSources): SyncHealth {
    const { store, schedule } = s;
    const open = !store.closed;
    const pending = open ? store.pendingCloud() : { count: 0, oldestStamp: null };
    const last = open ? store.getMeta(LAST_SUCCESS_KEY) : undefined;
    return {
      registered: s.peer !== undefined,
      cloudUrl: s.peer?.url ?? null,
      cycleRunning: schedule.running,
      lastAttemptAt: this.#lastAttemptAt,
      lastSuccessAt: last ? Number(last) : null,
      lastError: this.#lastError,
      lastErrorKind: this.#lastErrorKind,
      authFailed: this.#lastErrorKind === "auth",
      offline: this.#lastErrorKind === "unreachable",
      rateLimitedUntil: schedule.rateLimitedUntil,
      nextAttemptAt: schedule.nextAttemptAt,
      consecutiveFailures: schedule.consecutiveFailures,
      failingSince: this.#failingSince,
      pendingChanges: pending.count,
      oldestPendingAgeMs: pending.oldestStamp === null
        ? null
        : Math.max(0, s.now - pending.oldestStamp),
      openConflicts: open ? store.openConflicts() : 0,
      lastCycle: this.#lastCycle,
    };
  }
}
