/**
 * When the relay runs a cycle: at start (unlock), every interval, on demand,
 * at once when an unreachable cloud answers a probe again, and after a failure
 * with exponential backoff and jitter (a 429 waits at least its Retry-After, a
 * refused key the longest delay). One cycle at a time. It knows what a cycle's
 * failure means for the next attempt, nothing about what a cycle does.
 */
import { HubError, lockedError, type Logger } from "../core/mod.ts";
import { CloudError } from "./_client.ts";

/** Timing of the relay. */
export interface RelayTiming {
  /** Time between cycles when all is well. */
  intervalMs: number;
  /** First retry delay after a failure (doubles each time). */
  backoffBaseMs: number;
  /** Longest retry delay. */
  backoffMaxMs: number;
  /** How often to test whether an unreachable cloud is back. */
  probeMs: number;
}

/** Timers the schedule uses (tests hand in a fake clock's); handles are opaque. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

type Handle = ReturnType<typeof setTimeout>;

/** The platform's timers. */
export const REAL_TIMERS: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as Handle),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as Handle),
};

/** What the schedule shows in the sync health. */
export interface ScheduleState {
  running: boolean;
  /** Null while stopped, and when there is nothing to do (not registered). */
  nextAttemptAt: number | null;
  consecutiveFailures: number;
  rateLimitedUntil: number | null;
}

/** What the schedule runs and how it tests the cloud. */
export interface ScheduleDeps<T> {
  /** One cycle; `signal` aborts when the schedule stops. */
  run: (signal: AbortSignal) => Promise<T>;
  /** Whether the cloud answers again (polled while it is unreachable). */
  probe: () => Promise<boolean>;
  timing: RelayTiming;
  now: () => number;
  /** In [0, 1): spreads retries of many hubs (jitter). */
  random: () => number;
  timers: Timers;
  logger: Logger;
}

/**
 * The delay before the retry after failure number `failures` (1 for the first):
 * `base · 2^(failures−1)`, at most `max`, times a jitter factor in [0.5, 1).
 */
export function backoffDelay(failures: number, t: RelayTiming, random: () => number): number {
  const delay = Math.min(t.backoffBaseMs * 2 ** (failures - 1), t.backoffMaxMs);
  return Math.round(delay * (0.5 + random() * 0.5));
}

/** Runs cycles one at a time, on a timer and on demand. */
export class CycleSchedule<T> {
  #d: ScheduleDeps<T>;
  #timer: unknown = null;
  #probe: unknown = null;
  #running: Promise<T> | null = null;
  #abort = new AbortController();
  #stopped = true;
  #nextAttemptAt: number | null = null;
  #failures = 0;
  #rateLimitedUntil: number | null = null;

  /** Creates a stopped schedule. */
  constructor(deps: ScheduleDeps<T>) {
    this.#d = deps;
  }

  /** Starts with a cycle right away. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#abort = new AbortController();
    this.#after(0);
  }

  /** Stops timers, aborts a running cycle and waits for it to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) this.#d.timers.clearTimeout(this.#timer);
    this.#timer = null;
    this.#stopProbe();
    this.#abort.abort(new Error("relay stopped"));
    await this.#running?.catch(() => {});
  }

  /** Runs a cycle now (after any running one); throws its failure, or `locked` when stopped. */
  async runNow(): Promise<T> {
    // A loop, not an `if`: callers waiting on the same cycle must not all start
    // one when it ends (one cycle at a time); the first to wake up goes next.
    while (this.#running) await this.#running.catch(() => {});
    if (this.#stopped) throw lockedError();
    return await this.#cycle();
  }

  /** The schedule's part of the sync health. */
  state(): ScheduleState {
    return {
      running: this.#running !== null,
      nextAttemptAt: this.#stopped ? null : this.#nextAttemptAt,
      consecutiveFailures: this.#failures,
      rateLimitedUntil: this.#rateLimitedUntil,
    };
  }

  #after(delayMs: number): void {
    if (this.#stopped) return;
    if (this.#timer !== null) this.#d.timers.clearTimeout(this.#timer);
    this.#nextAttemptAt = this.#d.now() + delayMs;
    this.#timer = this.#d.timers.setTimeout(() => {
      this.#timer = null;
      if (this.#running) return this.#after(this.#d.timing.intervalMs);
      this.#cycle().catch(() => {});
    }, delayMs);
  }

  #cycle(): Promise<T> {
    const run = this.#d.run(this.#abort.signal).then(
      (r) => {
        this.#settled(null);
        return r;
      },
      (err) => {
        this.#settled(err);
        throw err;
      },
    ).finally(() => {
      if (this.#running === run) this.#running = null;
    });
    this.#running = run;
    return run;
  }

  /** Decides the next attempt from how the cycle ended. */
  #settled(err: unknown): void {
    const t = this.#d.timing;
    if (!err) {
      this.#failures = 0;
      this.#rateLimitedUntil = null;
      this.#stopProbe();
      this.#after(t.intervalMs);
      return;
    }
    if (err instanceof HubError && err.code === "not_registered") {
      this.#nextAttemptAt = null;
      return;
    }
    this.#failures++;
    let delay = backoffDelay(this.#failures, t, this.#d.random);
    if (err instanceof CloudError) {
      if (err.kind === "rate_limited" && err.retryAfterSeconds !== null) {
        const wait = Math.ceil(err.retryAfterSeconds * 1000);
        this.#rateLimitedUntil = this.#d.now() + wait;
        delay = Math.max(delay, wait);
      }
      if (err.kind === "auth") delay = t.backoffMaxMs;
      if (err.kind === "unreachable") this.#startProbe();
    }
    this.#after(delay);
  }

  /** While the cloud is unreachable, test cheaply and sync at once when it answers. */
  #startProbe(): void {
    if (this.#probe !== null || this.#stopped) return;
    this.#probe = this.#d.timers.setInterval(async () => {
      if (this.#running || this.#stopped) return;
      if (!await this.#d.probe().catch(() => false)) return;
      this.#stopProbe();
      if (!this.#running && !this.#stopped) {
        this.#d.logger.log("info", "cloud.reachable_again", {});
        this.#after(0);
      }
    }, this.#d.timing.probeMs);
  }

  #stopProbe(): void {
    if (this.#probe !== null) this.#d.timers.clearInterval(this.#probe);
    this.#probe = null;
  }
}
