/**
 * The hub's typed events, after Syncthing's `lib/events`: whoever changes
 * something publishes what changed, each event gets the next id of this launch,
 * and readers ask for everything `since` the last id they saw. The last events
 * are kept in a bounded ring; a reader whose cursor is from another launch or
 * fell out of the ring is told to `reset` (read everything again).
 *
 * Events carry facts, never patient data, secrets or tokens: device ids, counts,
 * states, outcomes.
 */

/** The hub's event types and what each carries. */
export interface HubEventMap {
  /** The lifecycle moved (set up, unlocked, locked, reset). */
  state: { state: "new" | "locked" | "unlocked" };
  /** The LAN server started or stopped (or failed to start). */
  server: { running: boolean; error: string | null };
  /** A phone pulled or pushed: how many rows, and what its push set aside. */
  sync: {
    device: string;
    kind: "pull" | "push";
    rows: number;
    conflicts: number;
    refused: number;
    /** A pull's cursor as the device sent it (facts about sync positions, never data). */
    cursor?: number;
  };
  /** A phone's command procedure (not a sync) ran: a patient registered, a visit saved... */
  change: { device: string; procedure: string };
  /** A device was seen (handshake), revoked, or removed from the list. */
  device: { device: string; action: "seen" | "revoked" | "removed" };
  /** Entries were added to the conflict log, or the operator decided one. */
  conflict: { action: "logged" | "decided"; id: number | null; count: number; open: number };
  /** A relay cycle started, succeeded or failed (the health line changed). */
  relay: {
    outcome: "started" | "ok" | "failed";
    pulled: number;
    pushed: number;
    conflicts: number;
    errorKind: string | null;
  };
  /** The cloud link changed (registered, clinics). */
  cloud: { registered: boolean };
  /** The updater's state changed (the `GET /api/update` reply). */
  update: Record<string, unknown>;
  /** The data folder's disk filled up, ran low, or has room again. */
  disk: Record<string, unknown>;
  /** The hub locked itself after that many idle minutes. */
  autolock: { minutes: number };
  /**
   * A backup started, succeeded or failed, its folder is missing, its settings
   * changed, or a device synced with the old hub after the restored backup.
   */
  backup: { outcome: string; reason: string; file: string | null; error: string | null };
  /** Data was cleared, or the database re-keyed: every count may have changed. */
  data: { action: "cleared" | "rekeyed" };

  // Views for the admin page, published by `ui/` right after the facts above so a
  // page needs no REST read to show them (docs/admin-api.md, "Event stream").
  /** The whole `GET /api/status` reply, when anything in it changed. */
  status: Record<string, unknown>;
  /** `GET /api/devices`. */
  devices: { devices: unknown[] };
  /** `GET /api/activity`. */
  activity: { buckets: unknown[] };
  /** The conflict log changed: how many are open and the newest id. */
  conflicts: { open: number; newestId: number };
  /** `GET /api/clinics`. */
  clinics: { registered: boolean; clinics: { id: string; name: string | null }[] };
}

/** One event type. */
export type HubEventType = keyof HubEventMap;

/** One recorded event. */
export interface BusEvent<M = HubEventMap, K extends keyof M = keyof M> {
  /** Which launch of the hub recorded it (random, new at every start). */
  launch: string;
  /** Increases by one within a launch, from 1. */
  id: number;
  type: K;
  /** Epoch ms when it was recorded. */
  at: number;
  data: M[K];
}

/** A position in the stream: `<launch>-<id>`, or a bare id meaning "this launch". */
export interface Cursor {
  launch: string | null;
  id: number;
}

/** What {@link EventBus.since} returns. */
export interface EventsSince<M = HubEventMap> {
  /** The events after the cursor, oldest first. */
  events: BusEvent<M>[];
  /** True when the cursor is from another launch, unknown, or events after it are gone. */
  reset: boolean;
  /** The newest id (the cursor to pass next time, with {@link EventBus.launch}). */
  lastId: number;
  launch: string;
}

/** Publishes one event (what the hub hands to the parts that change things). */
export type Publish = <K extends HubEventType>(type: K, data: HubEventMap[K]) => void;

/**
 * Events kept in memory; a reader away for longer than this gets a reset.
 *
 * @example
 * ```ts
 * import { DEFAULT_EVENT_CAPACITY, EventBus } from "./mod.ts";
 *
 * DEFAULT_EVENT_CAPACITY; // 500
 * const bus = new EventBus(); // keeps the newest 500 events
 * for (let i = 0; i < 600; i++) bus.publish("autolock", { minutes: 15 });
 * bus.since(50).reset; // true: events 51 to 100 fell out of the ring
 * bus.since(100).events.length; // 500
 * ```
 */
export const DEFAULT_EVENT_CAPACITY = 500;

/**
 * Formats a cursor for `since=` and the SSE `id:` line.
 *
 * @example
 * ```ts
 * import { formatCursor } from "./mod.ts";
 *
 * formatCursor("3f9a1c2e", 42); // "3f9a1c2e-42"
 * ```
 */
export function formatCursor(launch: string, id: number): string {
  return `${launch}-${id}`;
}

/**
 * Parses `since=` (or `Last-Event-ID`): `<launch>-<id>`, or a bare id (taken as
 * this launch, for scripts that read `lastId`). Returns null when malformed.
 *
 * @example
 * ```ts
 * import { parseCursor } from "./mod.ts";
 *
 * parseCursor("3f9a1c2e-42"); // { launch: "3f9a1c2e", id: 42 }
 * parseCursor("42"); // { launch: null, id: 42 }
 * parseCursor("latest"); // null
 * ```
 */
export function parseCursor(raw: string): Cursor | null {
  const m = /^(?:([A-Za-z0-9]{1,32})-)?(\d{1,15})$/.exec(raw.trim());
  if (!m) return null;
  return { launch: m[1] ?? null, id: Number(m[2]) };
}

/** Options of {@link EventBus}. */
export interface EventBusOptions {
  capacity?: number;
  now?: () => number;
  /** The launch id (tests fix it); random otherwise. */
  launch?: string;
}

/**
 * A bounded, typed event log with increasing ids and listeners.
 *
 * @example
 * ```ts
 * import { EventBus } from "./mod.ts";
 *
 * const bus = new EventBus();
 * bus.publish("device", { device: "phone-1", action: "seen" });
 * const got = bus.since({ launch: bus.launch, id: 0 });
 * got.events[0].type; // "device"
 * ```
 */
export class EventBus<M extends object = HubEventMap> {
  /** This launch's id. */
  readonly launch: string;
  #events: BusEvent<M>[] = [];
  #lastId = 0;
  #capacity: number;
  #now: () => number;
  #waiters = new Set<() => void>();
  #listeners = new Set<(e: BusEvent<M>) => void>();

  /** Creates an empty bus for a new launch. */
  constructor(options: EventBusOptions = {}) {
    this.#capacity = Math.max(1, options.capacity ?? DEFAULT_EVENT_CAPACITY);
    this.#now = options.now ?? Date.now;
    this.launch = options.launch ?? crypto.getRandomValues(new Uint8Array(4)).toHex();
  }

  /** The id of the newest event (0 before the first). */
  get lastId(): number {
    return this.#lastId;
  }

  /** Records an event, tells the listeners, and wakes every waiting reader. */
  publish<K extends keyof M>(type: K, data: M[K]): BusEvent<M, K> {
    const event: BusEvent<M, K> = {
      launch: this.launch,
      id: ++this.#lastId,
      type,
      at: this.#now(),
      data,
    };
    this.#events.push(event as BusEvent<M>);
    if (this.#events.length > this.#capacity) {
      this.#events.splice(0, this.#events.length - this.#capacity);
    }
    for (const listen of [...this.#listeners]) {
      try {
        listen(event as BusEvent<M>);
      } catch {
        // A listener's failure must not stop the publisher (a phone's sync).
      }
    }
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
    return event;
  }

  /** Calls `fn` with every event published from now on; returns the unsubscribe. */
  listen(fn: (e: BusEvent<M>) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * Events after `cursor` (a bare number: an id of this launch), oldest first.
   * `reset` when the cursor is null, from another launch, ahead of the newest id,
   * or older than the ring holds.
   */
  since(cursor: Cursor | number | null): EventsSince<M> {
    const reply = (events: BusEvent<M>[], reset: boolean) => ({
      events,
      reset,
      lastId: this.#lastId,
      launch: this.launch,
    });
    if (cursor === null) return reply([], true);
    const { launch, id } = typeof cursor === "number" ? { launch: null, id: cursor } : cursor;
    if (launch !== null && launch !== this.launch) return reply([], true);
    const oldest = this.#events[0]?.id ?? this.#lastId + 1;
    const valid = Number.isInteger(id) && id >= 0 && id <= this.#lastId && id >= oldest - 1;
    if (!valid) return reply([], true);
    return reply(this.#events.filter((e) => e.id > id), false);
  }

  /** Resolves at the next publish, after `timeoutMs`, or when `signal` aborts. */
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
