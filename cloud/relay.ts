/**
 * The relay between this hub and the clinic's cloud (SPEC §7), put together
 * from three small parts: the cycle (`_cycle.ts`, one pull → merge → push
 * against a {@link CloudPeer} and the store), the schedule (`_schedule.ts`, when
 * cycles run) and the health record (`_health.ts`, what the operator sees). The
 * hub owns the peer (built once per registration) and hands it in; nothing runs
 * while locked (the hub stops the relay before closing the store).
 */
import { HubError, type HubEventMap, Logger } from "../core/mod.ts";
import type { Store } from "../store/mod.ts";
import { CloudError } from "./_client.ts";
import { type CycleResult, type CycleSizes, runCycle } from "./_cycle.ts";
import { HealthRecord, type SyncHealth } from "./_health.ts";
import type { CloudPeer } from "./_peer.ts";
import { CycleSchedule, REAL_TIMERS, type RelayTiming, type Timers } from "./_schedule.ts";

/** Timing and batching of the relay. */
export type RelaySchedule = RelayTiming & CycleSizes;

/**
 * Defaults: a cycle every 5 minutes; retries from 15 s up to 15 minutes.
 *
 * @example
 * ```ts
 * import { DEFAULT_SCHEDULE, Relay } from "./mod.ts";
 * import type { CloudPeer } from "./mod.ts";
 * import type { Store } from "../store/mod.ts";
 *
 * declare const store: Store;
 * declare const peer: CloudPeer;
 * DEFAULT_SCHEDULE.intervalMs; // 300000
 * // every minute instead; the other fields keep their defaults
 * const relay = new Relay({ store, peer: () => peer, schedule: { intervalMs: 60_000 } });
 * ```
 */
export const DEFAULT_SCHEDULE: RelaySchedule = {
  intervalMs: 5 * 60_000,
  backoffBaseMs: 15_000,
  backoffMaxMs: 15 * 60_000,
  probeMs: 15_000,
  mergeBatchRows: 2_000,
  pushChunkRows: 5_000,
};

/** What the relay needs from the hub. */
export interface RelayDeps {
  store: Store;
  /** The cloud peer of the current link (undefined until registered); the hub builds it. */
  peer: () => CloudPeer | undefined;
  schedule?: Partial<RelaySchedule>;
  now?: () => number;
  /** Jitter source in [0, 1) (tests fix it). */
  random?: () => number;
  /** Timers (tests hand in a fake clock's). */
  timers?: Timers;
  /** Told when a cycle starts and how it ended (the hub publishes it as a `relay` event). */
  onCycle?: (outcome: HubEventMap["relay"]) => void;
  /** Where the relay logs (the hub hands its own in; default: stderr). */
  logger?: Logger;
}

/**
 * Background relay for one unlocked hub.
 *
 * @example
 * ```ts
 * import { Relay } from "./mod.ts";
 * import type { CloudPeer } from "./mod.ts";
 * import { Store } from "../store/mod.ts";
 *
 * declare const store: Store;
 * declare const peer: CloudPeer; // the hub's CloudClient, or a fake in tests
 * const relay = new Relay({ store, peer: () => peer });
 * relay.start(); // a cycle now, then every 5 minutes
 * const result = await relay.syncNow(); // counts pulled and pushed per table
 * relay.health().pendingChanges;
 * await relay.stop();
 * ```
 */
export class Relay {
  #deps: RelayDeps;
  #sizes: CycleSizes;
  #now: () => number;
  #health = new HealthRecord();
  #schedule: CycleSchedule<CycleResult>;
  #logger: Logger;

  /** Creates a stopped relay. */
  constructor(deps: RelayDeps) {
    this.#deps = deps;
    const s = { ...DEFAULT_SCHEDULE, ...deps.schedule };
    this.#sizes = s;
    this.#now = deps.now ?? Date.now;
    this.#logger = deps.logger ?? new Logger();
    this.#schedule = new CycleSchedule({
      run: (signal) => this.#cycle(signal),
      probe: () => deps.peer()?.reachable() ?? Promise.resolve(false),
      timing: s,
      now: this.#now,
      random: deps.random ?? Math.random,
      timers: deps.timers ?? REAL_TIMERS,
      logger: this.#logger,
    });
  }

  /** Starts the schedule with a cycle right away (on unlock). */
  start(): void {
    this.#schedule.start();
  }

  /** Stops timers, aborts a running cycle and waits for it to end. */
  stop(): Promise<void> {
    return this.#schedule.stop();
  }

  /** Runs a cycle now (after any running one) and returns what it did; throws on failure. */
  syncNow(): Promise<CycleResult> {
    return this.#schedule.runNow();
  }

  /** The health line for the admin API. */
  health(): SyncHealth {
    return this.#health.view({
      peer: this.#deps.peer(),
      store: this.#deps.store,
      schedule: this.#schedule.state(),
      now: this.#now(),
    });
  }

  /** One cycle, recorded in the health record. */
  async #cycle(signal: AbortSignal): Promise<CycleResult> {
    const peer = this.#deps.peer();
    if (!peer) throw new HubError("not_registered", 409, "Link the hub to the cloud first.");
    this.#health.attempted(this.#now());
    const tell = this.#deps.onCycle ?? (() => {});
    tell({ outcome: "started", pulled: 0, pushed: 0, conflicts: 0, errorKind: null });
    try {
      const result = await runCycle({
        peer,
        store: this.#deps.store,
        sizes: this.#sizes,
        now: this.#now,
        signal,
        logger: this.#logger,
      });
      this.#health.succeeded(result);
      tell({
        outcome: "ok",
        pulled: total(result.pulled),
        pushed: total(result.pushed),
        conflicts: result.merged.conflicts,
        errorKind: null,
      });
      return result;
    } catch (err) {
      this.#health.failed(err, this.#now());
      const errorKind = err instanceof CloudError ? err.kind : "internal";
      tell({ outcome: "failed", pulled: 0, pushed: 0, conflicts: 0, errorKind });
      throw err;
    }
  }
}

function total(o: Record<string, number>): number {
  return Object.values(o).reduce((a, b) => a + b, 0);
}
