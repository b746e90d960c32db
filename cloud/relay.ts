/**
 * The relay: pull → merge → push cycles between this hub and the clinic's cloud
 * (SPEC §7), run on unlock, on a timer, at once when the cloud comes back, and
 * on demand; one at a time; failures back off exponentially with jitter, and a
 * 429 waits at least its Retry-After. Nothing runs while locked (the Hub stops
 * the relay before closing the store).
 */
import { HubError, lockedError, log } from "../core/mod.ts";
import {
  beginFullPull,
  clearPending,
  CLOUD_WATERMARK_KEY,
  type CloudChange,
  mergeCloudBatch,
  openConflictCount,
  type PendingCursor,
  readPendingChunk,
  type Store,
  sweepAfterFullPull,
  TABLES,
} from "../store/mod.ts";
import type { CloudLink } from "../vault/mod.ts";
import { ChangesFormatError, streamChanges } from "./_changes_stream.ts";
import { CloudClient, CloudError, type CloudFailure, type CloudTimeouts } from "./_client.ts";

/** Timing and batching of the relay. */
export interface RelaySchedule {
  /** Time between cycles when all is well. */
  intervalMs: number;
  /** First retry delay after a failure (doubles each time). */
  backoffBaseMs: number;
  /** Longest retry delay. */
  backoffMaxMs: number;
  /** How often to test whether an unreachable cloud is back. */
  probeMs: number;
  /** Cloud rows merged per transaction. */
  mergeBatchRows: number;
  /** Local changes sent per push request. */
  pushChunkRows: number;
}

/** Defaults: a cycle every 5 minutes; retries from 15 s up to 15 minutes. */
export const DEFAULT_SCHEDULE: RelaySchedule = {
  intervalMs: 5 * 60_000,
  backoffBaseMs: 15_000,
  backoffMaxMs: 15 * 60_000,
  probeMs: 15_000,
  mergeBatchRows: 2_000,
  pushChunkRows: 5_000,
};

/** What one cycle did. */
export interface CycleResult {
  pulled: Record<string, number>;
  pushed: Record<string, number>;
  merged: { upserted: number; deleted: number; unchanged: number; conflicts: number };
  droppedRows: number;
  durationMs: number;
  cloudTimestamp: number;
}

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

/** What the relay needs from the hub. */
export interface RelayDeps {
  store: Store;
  /** The current cloud link from the vault (undefined until registered). */
  link: () => CloudLink | undefined;
  schedule?: Partial<RelaySchedule>;
  timeouts?: CloudTimeouts;
  now?: () => number;
}

const LAST_SUCCESS_KEY = "cloud.last_success";

/** Background relay for one unlocked hub. */
export class Relay {
  #deps: RelayDeps;
  #s: RelaySchedule;
  #now: () => number;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #probe: ReturnType<typeof setInterval> | null = null;
  #running: Promise<CycleResult> | null = null;
  #abort = new AbortController();
  #stopped = true;
  #h = {
    lastAttemptAt: null as number | null,
    lastError: null as string | null,
    lastErrorKind: null as SyncHealth["lastErrorKind"],
    rateLimitedUntil: null as number | null,
    nextAttemptAt: null as number | null,
    failures: 0,
    failingSince: null as number | null,
    lastCycle: null as CycleResult | null,
  };

  /** Creates a stopped relay. */
  constructor(deps: RelayDeps) {
    this.#deps = deps;
    this.#s = { ...DEFAULT_SCHEDULE, ...deps.schedule };
    this.#now = deps.now ?? Date.now;
  }

  /** Starts the schedule with a cycle right away (on unlock). */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#abort = new AbortController();
    this.#schedule(0);
  }

  /** Stops timers, aborts a running cycle and waits for it to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#probe) clearInterval(this.#probe);
    this.#timer = null;
    this.#probe = null;
    this.#abort.abort(new Error("relay stopped"));
    await this.#running?.catch(() => {});
  }

  /** Runs a cycle now (after any running one) and returns what it did; throws on failure. */
  async syncNow(): Promise<CycleResult> {
    // A loop, not an `if`: callers waiting on the same cycle must not all start
    // one when it ends (one cycle at a time); the first to wake up goes next.
    while (this.#running) await this.#running.catch(() => {});
    if (this.#stopped) throw lockedError();
    return await this.#cycle();
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#h.nextAttemptAt = this.#now() + delayMs;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#running) return this.#schedule(this.#s.intervalMs);
      this.#cycle().catch(() => {});
    }, delayMs);
  }

  #cycle(): Promise<CycleResult> {
    const run = this.#runCycle().then(
      (r) => {
        this.#after(null);
        return r;
      },
      (err) => {
        this.#after(err);
        throw err;
      },
    ).finally(() => {
      if (this.#running === run) this.#running = null;
    });
    this.#running = run;
    return run;
  }

  #after(err: unknown): void {
    if (!err) {
      this.#h.failures = 0;
      this.#h.failingSince = null;
      this.#h.lastError = null;
      this.#h.lastErrorKind = null;
      this.#h.rateLimitedUntil = null;
      this.#stopProbe();
      this.#schedule(this.#s.intervalMs);
      return;
    }
    if (err instanceof HubError && err.code === "not_registered") {
      this.#h.nextAttemptAt = null;
      return;
    }
    if (this.#h.failures === 0) this.#h.failingSince = this.#h.lastAttemptAt ?? this.#now();
    this.#h.failures++;
    let delay = Math.min(this.#s.backoffBaseMs * 2 ** (this.#h.failures - 1), this.#s.backoffMaxMs);
    delay = Math.round(delay * (0.5 + Math.random() * 0.5));
    if (err instanceof CloudError) {
      if (err.kind === "rate_limited" && err.retryAfterSeconds !== null) {
        const wait = Math.ceil(err.retryAfterSeconds * 1000);
        this.#h.rateLimitedUntil = this.#now() + wait;
        delay = Math.max(delay, wait);
      }
      if (err.kind === "auth") delay = this.#s.backoffMaxMs;
      if (err.kind === "unreachable") this.#startProbe();
    }
    this.#schedule(delay);
  }

  /** While the cloud is unreachable, test cheaply (TCP connect) and sync at once when it answers. */
  #startProbe(): void {
    if (this.#probe || this.#stopped) return;
    const link = this.#deps.link();
    if (!link) return;
    const url = new URL(link.url);
    const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
    this.#probe = setInterval(async () => {
      if (this.#running || this.#stopped) return;
      try {
        const conn = await Deno.connect({ hostname: url.hostname, port });
        conn.close();
      } catch {
        return;
      }
      this.#stopProbe();
      if (!this.#running && !this.#stopped) {
        log("info", "cloud.reachable_again", {});
        this.#schedule(0);
      }
    }, this.#s.probeMs);
  }

  #stopProbe(): void {
    if (this.#probe) clearInterval(this.#probe);
    this.#probe = null;
  }

  async #runCycle(): Promise<CycleResult> {
    const link = this.#deps.link();
    if (!link) {
      throw new HubError("not_registered", 409, "Link the hub to the cloud first.");
    }
    const store = this.#deps.store;
    const started = this.#now();
    const t0 = performance.now();
    this.#h.lastAttemptAt = started;
    const signal = this.#abort.signal;
    const client = new CloudClient(link.url, link.apiKey, this.#deps.timeouts);
    const result: CycleResult = {
      pulled: {},
      pushed: {},
      merged: { upserted: 0, deleted: 0, unchanged: 0, conflicts: 0 },
      droppedRows: 0,
      durationMs: 0,
      cloudTimestamp: 0,
    };
    try {
      const watermark = Number(store.getMeta(CLOUD_WATERMARK_KEY) ?? "0");
      // Until a first cycle succeeded, deletions can only be found by what a
      // complete full pull lacks (see beginFullPull).
      const firstSync = watermark === 0 && store.getMeta(LAST_SUCCESS_KEY) === undefined;
      if (firstSync) beginFullPull(store.db);
      // 1. Pull and merge in bounded batches.
      const transfer = AbortSignal.any([signal, AbortSignal.timeout(client.transferMs)]);
      const res = await client.pull(watermark, transfer);
      let batch: CloudChange[] = [];
      const flush = () => {
        if (batch.length === 0) return;
        if (store.closed) throw new HubError("locked", 423, "The hub was locked during sync.");
        const merged = mergeCloudBatch(store.db, store.clock, batch, this.#now(), firstSync);
        result.droppedRows += merged.dropped;
        for (const c of Object.values(merged.tables)) {
          result.merged.upserted += c.upserted;
          result.merged.deleted += c.deleted;
          result.merged.unchanged += c.unchanged;
          result.merged.conflicts += c.conflicts;
        }
        batch = [];
      };
      let summary;
      try {
        summary = await streamChanges(res.body!, async (c) => {
          result.pulled[c.table] = (result.pulled[c.table] ?? 0) + 1;
          batch.push(c);
          if (batch.length >= this.#s.mergeBatchRows) {
            flush();
            // Let phones' requests in between batches.
            await new Promise((r) => setTimeout(r, 0));
          }
        });
      } catch (err) {
        if (err instanceof HubError) throw err;
        if (err instanceof ChangesFormatError) {
          throw new CloudError("protocol", `The cloud's pull reply is malformed: ${err.message}`);
        }
        throw new CloudError(
          "unreachable",
          `The connection to the cloud broke during the pull (${(err as Error).message}).`,
          { cause: err },
        );
      }
      flush();
      if (summary.success !== true || typeof summary.timestamp !== "number") {
        throw new CloudError(
          "protocol",
          "The cloud's pull reply has no success flag or timestamp.",
        );
      }
      result.cloudTimestamp = summary.timestamp;
      if (firstSync) {
        if (store.closed) throw new HubError("locked", 423, "The hub was locked during sync.");
        const kept = Object.keys(result.pulled).filter((t) => TABLES.has(t));
        result.merged.deleted += sweepAfterFullPull(store.db, store.clock, kept, this.#now());
      }
      // 2. Push what waits for the cloud, up to a stamp taken now.
      if (signal.aborted) throw new HubError("aborted", 503, "Sync stopped.");
      const upTo = store.clock.handOut();
      let cursor: PendingCursor | null = null;
      do {
        const chunk = readPendingChunk(store.db, upTo, this.#s.pushChunkRows, cursor);
        if (chunk.rows > 0) {
          await client.push(chunk.json, signal);
          for (const [t, n] of Object.entries(chunk.perTable)) {
            result.pushed[t] = (result.pushed[t] ?? 0) + n;
          }
        }
        cursor = chunk.next;
      } while (cursor);
      // 3. Only now: mark relayed and move the watermark.
      if (store.closed) throw new HubError("locked", 423, "The hub was locked during sync.");
      store.transaction(() => {
        clearPending(store.db, upTo);
        store.setMeta(CLOUD_WATERMARK_KEY, String(summary.timestamp));
        store.setMeta(LAST_SUCCESS_KEY, String(this.#now()));
      });
      result.durationMs = Math.round(performance.now() - t0);
      this.#h.lastCycle = result;
      log("info", "cloud.cycle", {
        outcome: "ok",
        durationMs: result.durationMs,
        pulled: sum(result.pulled),
        pushed: sum(result.pushed),
        merged: result.merged,
        dropped: result.droppedRows,
      });
      return result;
    } catch (err) {
      const kind: SyncHealth["lastErrorKind"] = err instanceof CloudError ? err.kind : "internal";
      this.#h.lastError = err instanceof Error ? err.message : String(err);
      this.#h.lastErrorKind = kind;
      log(kind === "internal" ? "error" : "warn", "cloud.cycle", {
        outcome: "failed",
        kind,
        durationMs: Math.round(performance.now() - t0),
        pulled: sum(result.pulled),
        pushed: sum(result.pushed),
        error: this.#h.lastError,
        // The low-level reason (kept out of the operator's message).
        cause: err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined,
      });
      throw err;
    }
  }

  /** The health line for the admin API. */
  health(): SyncHealth {
    const link = this.#deps.link();
    const store = this.#deps.store;
    const open = !store.closed;
    const pending = open ? store.pendingCloud() : { count: 0, oldestStamp: null };
    const last = open ? store.getMeta(LAST_SUCCESS_KEY) : undefined;
    const now = this.#now();
    return {
      registered: link !== undefined,
      cloudUrl: link?.url ?? null,
      cycleRunning: this.#running !== null,
      lastAttemptAt: this.#h.lastAttemptAt,
      lastSuccessAt: last ? Number(last) : null,
      lastError: this.#h.lastError,
      lastErrorKind: this.#h.lastErrorKind,
      authFailed: this.#h.lastErrorKind === "auth",
      offline: this.#h.lastErrorKind === "unreachable",
      rateLimitedUntil: this.#h.rateLimitedUntil,
      nextAttemptAt: this.#stopped ? null : this.#h.nextAttemptAt,
      consecutiveFailures: this.#h.failures,
      failingSince: this.#h.failingSince,
      pendingChanges: pending.count,
      oldestPendingAgeMs: pending.oldestStamp === null
        ? null
        : Math.max(0, now - pending.oldestStamp),
      openConflicts: open ? openConflictCount(store.db) : 0,
      lastCycle: this.#h.lastCycle,
    };
  }
}

function sum(o: Record<string, number>): number {
  return Object.values(o).reduce((a, b) => a + b, 0);
}
