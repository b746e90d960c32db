/**
 * The admin API's event stream (`GET /api/events`): a bounded, in-memory log of
 * what changed, with strictly increasing ids so a page that reconnects with
 * `since=<last id>` (or `Last-Event-ID`) gets exactly what it missed. When the
 * ids it asks for are no longer held (or belong to another launch) it gets one
 * `reset` event and reloads everything through the REST endpoints.
 *
 * The log is fed by {@link HubWatcher}, which polls the hub's own snapshots
 * (status, devices, activity, conflicts, clinics) while someone listens and appends an
 * event only when a snapshot changed. Polling keeps the hub free of UI hooks;
 * one poll costs one status read (a count per table) and four small queries.
 */
import { log } from "../core/mod.ts";
import type { Hub, HubStatus } from "../hub/mod.ts";
import { activitySince, listConflicts, listDevices, openConflictCount } from "../store/mod.ts";
import { authorisedClinics } from "./_clinics.ts";

/** One event of the stream. */
export interface HubEvent {
  /** Strictly increasing within one launch of the hub, starting at 1. */
  id: number;
  /** `status`, `devices`, `activity`, `conflicts`, `clinics`, `autolock`, `update`. */
  type: string;
  /** Epoch ms when it was recorded. */
  at: number;
  /** The snapshot (see docs/admin-api.md, "Event stream"). */
  data: unknown;
}

/** What {@link EventLog.since} returns. */
export interface EventsSince {
  /** The events after `since`, oldest first. */
  events: HubEvent[];
  /** True when events after `since` were dropped or `since` is unknown: reload everything. */
  reset: boolean;
  /** The newest id (the cursor to pass next time). */
  lastId: number;
}

/** Events kept in memory; a page away for longer than this gets a reset. */
export const DEFAULT_EVENT_CAPACITY = 500;

/** A bounded log of events with increasing ids. */
export class EventLog {
  #events: HubEvent[] = [];
  #lastId = 0;
  #capacity: number;
  #waiters = new Set<() => void>();
  #now: () => number;

  /** Creates an empty log holding at most `capacity` events. */
  constructor(capacity = DEFAULT_EVENT_CAPACITY, now: () => number = Date.now) {
    this.#capacity = Math.max(1, capacity);
    this.#now = now;
  }

  /** The id of the newest event (0 before the first). */
  get lastId(): number {
    return this.#lastId;
  }

  /** Appends an event and wakes everyone waiting. */
  append(type: string, data: unknown): HubEvent {
    const event: HubEvent = { id: ++this.#lastId, type, at: this.#now(), data };
    this.#events.push(event);
    if (this.#events.length > this.#capacity) {
      this.#events.splice(0, this.#events.length - this.#capacity);
    }
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
    return event;
  }

  /** Events with an id greater than `since`; `reset` when some of them are gone. */
  since(since: number): EventsSince {
    const oldest = this.#events[0]?.id ?? this.#lastId + 1;
    const valid = Number.isInteger(since) && since >= 0 && since <= this.#lastId &&
      since >= oldest - 1;
    if (!valid) return { events: [], reset: true, lastId: this.#lastId };
    return {
      events: this.#events.filter((e) => e.id > since),
      reset: false,
      lastId: this.#lastId,
    };
  }

  /** Resolves at the next append, after `timeoutMs`, or when `signal` aborts. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.#waiters.add(done);
      signal?.addEventListener("abort", done);
    });
  }
}

/** Options of {@link HubWatcher}. */
export interface HubWatcherOptions {
  /** Time between polls while someone listens. */
  intervalMs?: number;
  /** Wall clock (tests). */
  now?: () => number;
  /** More snapshots to watch: each is read every poll; a change appends an event named by its key. */
  sources?: Record<string, () => unknown>;
}

/** Polls the hub while subscribed and appends an event whenever a snapshot changed. */
export class HubWatcher {
  /** The log this watcher appends to. */
  readonly events: EventLog;
  #hub: Hub;
  #intervalMs: number;
  #now: () => number;
  #subscribers = 0;
  #timer: ReturnType<typeof setInterval> | null = null;
  #polling: Promise<void> | null = null;
  #again = false;
  #keys = new Map<string, string>();
  #sources: Record<string, () => unknown>;

  /** Creates a watcher feeding `events` from `hub`. */
  constructor(hub: Hub, events: EventLog, options: HubWatcherOptions = {}) {
    this.#hub = hub;
    this.events = events;
    this.#intervalMs = options.intervalMs ?? 2000;
    this.#now = options.now ?? Date.now;
    this.#sources = options.sources ?? {};
  }

  /** Registers a listener; polling runs while there is at least one. Returns the release. */
  subscribe(): () => void {
    this.#subscribers++;
    if (this.#timer === null) {
      this.#timer = setInterval(() => void this.poll(), this.#intervalMs);
      Deno.unrefTimer(this.#timer as unknown as number);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#subscribers--;
      if (this.#subscribers === 0) this.#stopTimer();
    };
  }

  /** Polls now if someone listens (after an admin write, so pages see it at once). */
  nudge(): void {
    if (this.#subscribers > 0) void this.poll();
  }

  /** Stops polling (server shutdown). */
  close(): void {
    this.#subscribers = 0;
    this.#stopTimer();
  }

  #stopTimer(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Takes one set of snapshots; a poll asked for while one runs runs once more after it. */
  poll(): Promise<void> {
    if (this.#polling) {
      this.#again = true;
      return this.#polling;
    }
    const run = (async () => {
      do {
        this.#again = false;
        try {
          await this.#pollOnce();
        } catch (err) {
          // The hub was locked or closed mid-read; the next poll sees the new state.
          log("debug", "admin.events.poll_failed", { error: err });
        }
      } while (this.#again);
    })().finally(() => {
      this.#polling = null;
    });
    this.#polling = run;
    return run;
  }

  async #pollOnce(): Promise<void> {
    for (const [type, read] of Object.entries(this.#sources)) {
      const data = read();
      this.#offer(type, data, JSON.stringify(data));
    }
    const status = await this.#hub.status();
    this.#offer("status", status, statusKey(status));
    if (this.#hub.state !== "unlocked") return;
    const db = this.#hub.store.db;
    const devices = listDevices(db);
    this.#offer("devices", { devices }, JSON.stringify(devices));
    const buckets = activitySince(db, this.#now() - 24 * 3_600_000);
    this.#offer("activity", { buckets }, JSON.stringify(buckets));
    const newest = listConflicts(db, { limit: 1 })[0]?.id ?? 0;
    const open = openConflictCount(db);
    this.#offer("conflicts", { open, newestId: newest }, `${open}/${newest}`);
    const clinics = authorisedClinics(this.#hub);
    this.#offer("clinics", clinics, JSON.stringify(clinics));
  }

  #offer(type: string, data: unknown, key: string): void {
    if (this.#keys.get(type) === key) return;
    this.#keys.set(type, key);
    this.events.append(type, data);
  }
}

/** The status minus what changes every millisecond by itself (ages). */
function statusKey(status: HubStatus): string {
  // Free space moves all the time; only a change the operator must see is an event.
  const disk = { full: status.disk.full, warning: status.disk.warning };
  const cloud = status.cloud ? { ...status.cloud, oldestPendingAgeMs: null, disk } : null;
  return JSON.stringify({ ...status, cloud, disk });
}

/** Formats one event as a Server-Sent Events message. */
export function sseMessage(event: HubEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/** Options of {@link eventStream}. */
export interface EventStreamOptions {
  /** Comment lines sent this often keep proxies and the browser from timing out. */
  keepAliveMs?: number;
  /** Closes the stream (server shutdown). */
  signal?: AbortSignal;
}

/**
 * A Server-Sent Events body: first the events after `since` (or a `reset`),
 * then every new event as it is appended, until the client goes away or
 * `signal` aborts.
 */
export function eventStream(
  watcher: HubWatcher,
  since: number | null,
  options: EventStreamOptions = {},
): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  const stop = new AbortController();
  const signals = options.signal ? [stop.signal, options.signal] : [stop.signal];
  const done = AbortSignal.any(signals);
  let release: (() => void) | null = null;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      release = watcher.subscribe();
      const write = (text: string) => {
        try {
          controller.enqueue(enc.encode(text));
        } catch {
          stop.abort();
        }
      };
      write("retry: 2000\n\n");
      const events = watcher.events;
      let cursor = since ?? -1;
      // Take fresh snapshots before the first answer, so the page starts current.
      void watcher.poll();
      let lastWrite = Date.now();
      (async () => {
        while (!done.aborted) {
          const got = events.since(cursor);
          if (got.reset) {
            write(sseMessage({ id: got.lastId, type: "reset", at: Date.now(), data: {} }));
            cursor = got.lastId;
            lastWrite = Date.now();
            continue;
          }
          for (const e of got.events) write(sseMessage(e));
          if (got.events.length > 0) {
            cursor = got.lastId;
            lastWrite = Date.now();
          } else if (Date.now() - lastWrite >= keepAliveMs) {
            write(": keep-alive\n\n");
            lastWrite = Date.now();
          }
          await events.wait(keepAliveMs, done);
        }
        release?.();
        try {
          controller.close();
        } catch {
          // Already closed by the client.
        }
      })();
    },
    cancel() {
      stop.abort();
      release?.();
    },
  });
}
