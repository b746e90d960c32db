/**
 * In-memory stand-ins for the relay's unit tests: a cloud peer (no HTTP) that
 * serves changes, records pushes and fails on request, a fake clock whose
 * timers fire only when a test moves time on, and a relay on a fresh store.
 */
import type { CloudPeer, PullEnd, StreamedChange, Timers } from "../../cloud/mod.ts";
import { Relay, type RelaySchedule } from "../../cloud/mod.ts";
import { Store } from "../../store/mod.ts";
// _fixtures.ts also keeps the relay's log lines out of the test output.
import { phonePatient, TEST_LOGGER } from "./_fixtures.ts";

/** A cloud held in memory. */
export class FakePeer implements CloudPeer {
  readonly url = "https://cloud.example.test";
  /** Changes the next pulls serve (every pull serves them all). */
  serve: StreamedChange[] = [];
  /** The timestamp pulls end with. */
  timestamp = 1_700_000_000_000;
  /** Watermarks the pulls asked for, in order. */
  pulls: number[] = [];
  /** Push bodies the peer accepted (parsed). */
  // deno-lint-ignore no-explicit-any
  accepted: any[] = [];
  /** Push calls, accepted or not. */
  pushCalls = 0;
  /** Fails the pull when set. */
  pullError: Error | null = null;
  /** Fails push call number `n` (0-based) when it returns an error. */
  pushError: (n: number) => Error | null = () => null;
  /** What `reachable` answers. */
  isReachable = true;
  /** When set, a pull waits for it (or for the signal) before serving. */
  gate: Promise<void> | null = null;
  /** Pulls and pushes running now, and the most at once. */
  inFlight = 0;
  maxInFlight = 0;

  /** Serves {@link serve}, then ends with {@link timestamp}. */
  async pull(
    watermark: number,
    onChange: (change: StreamedChange) => void | Promise<void>,
    signal: AbortSignal,
  ): Promise<PullEnd> {
    this.pulls.push(watermark);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      if (this.gate) {
        await Promise.race([
          this.gate,
          new Promise((_, reject) =>
            signal.addEventListener("abort", () => reject(signal.reason), { once: true })
          ),
        ]);
      }
      if (this.pullError) throw this.pullError;
      for (const c of this.serve) await onChange(c);
      return { timestamp: this.timestamp };
    } finally {
      this.inFlight--;
    }
  }

  /** Accepts the chunk unless {@link pushError} says otherwise. */
  push(changesJson: string, _signal: AbortSignal): Promise<void> {
    const err = this.pushError(this.pushCalls++);
    if (err) return Promise.reject(err);
    this.accepted.push(JSON.parse(changesJson));
    return Promise.resolve();
  }

  /** Answers {@link isReachable}. */
  reachable(): Promise<boolean> {
    return Promise.resolve(this.isReachable);
  }

  /** Ids of every row and tombstone the peer accepted, in order (repeats kept). */
  acceptedIds(): string[] {
    const ids: string[] = [];
    for (const body of this.accepted) {
      for (const t of Object.values(body) as Record<string, unknown[]>[]) {
        for (const kind of ["created", "updated"]) {
          for (const r of t[kind] ?? []) ids.push(String((r as { id: string }).id));
        }
        for (const id of t.deleted ?? []) ids.push(String(id));
      }
    }
    return ids;
  }
}

interface FakeTimer {
  at: number;
  fn: () => void;
  every: number | null;
}

/** Time that moves only when the test says so; its timers fire in order of due time. */
export class FakeClock implements Timers {
  now = Date.UTC(2026, 10, 29, 9, 0, 0);
  #next = 1;
  #timers = new Map<number, FakeTimer>();

  /** Schedules `fn` once, `ms` from now. */
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.now + ms, fn, every: null });
    return id;
  }

  /** Cancels a timer. */
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Schedules `fn` every `ms`. */
  setInterval(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.now + ms, fn, every: ms });
    return id;
  }

  /** Cancels a repeating timer. */
  clearInterval(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Timers still set. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time on by `ms`, firing what falls due and letting each fired cycle finish. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      let due: [number, FakeTimer] | null = null;
      for (const e of this.#timers) if (e[1].at <= end && (!due || e[1].at < due[1].at)) due = e;
      if (!due) break;
      const [id, t] = due;
      this.now = t.at;
      if (t.every === null) this.#timers.delete(id);
      else t.at += t.every;
      t.fn();
      await drain();
    }
    this.now = end;
    await drain();
  }
}

/** Lets promise chains and zero-delay real timers (the merge's yields) run out. */
export async function drain(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
}

/** A relay on a fresh store, with a fake peer and a fake clock. */
export interface Rig extends AsyncDisposable {
  store: Store;
  peer: FakePeer;
  clock: FakeClock;
  relay: Relay;
  /** Whether the relay has a peer (false: not registered). */
  registered: boolean;
}

/** Timings of the rig: retries from 1 s doubling to 8 s, probes every 500 ms. */
export const RIG_SCHEDULE: RelaySchedule = {
  intervalMs: 60_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 8_000,
  probeMs: 500,
  mergeBatchRows: 2,
  pushChunkRows: 4,
};

/** Builds a relay on a new store; `random` fixes the jitter (0.5 → delays × 0.75). */
export async function rig(options: { random?: number; registered?: boolean } = {}): Promise<Rig> {
  const dir = await Deno.makeTempDir({ prefix: "relay-unit-" });
  const store = Store.open(`${dir}/hub.db`, "cd".repeat(32));
  const peer = new FakePeer();
  const clock = new FakeClock();
  const r: Rig = {
    store,
    peer,
    clock,
    registered: options.registered ?? true,
    relay: undefined as unknown as Relay,
    async [Symbol.asyncDispose]() {
      await r.relay.stop();
      store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
  r.relay = new Relay({
    logger: TEST_LOGGER,
    store,
    peer: () => r.registered ? peer : undefined,
    schedule: RIG_SCHEDULE,
    now: () => clock.now,
    random: () => options.random ?? 0.5,
    timers: clock,
  });
  return r;
}

/** `n` patients recorded on a phone (waiting for the cloud), series `series`. */
export function phoneRecords(store: Store, n: number, series = 40): string[] {
  const rows = Array.from({ length: n }, (_, i) => phonePatient(i, series));
  store.phoneSync.push({ patients: { created: rows, updated: [], deleted: [] } });
  return rows.map((r) => String(r.id));
}
