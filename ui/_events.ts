/**
 * The admin API's event stream (`GET /api/events`). It serves the hub's own
 * events (`hub.events`, core/events.ts): the facts the hub's parts publish where
 * they change something (state, server, sync, device, conflict, relay, cloud,
 * data, update, disk, autolock), with ids that increase within a launch and carry
 * it, so a page that reconnects with `since=<launch>-<id>` (or `Last-Event-ID`)
 * gets exactly what it missed, and a cursor from another launch or older than
 * the ring gets one `reset`.
 *
 * Nothing here polls. {@link AdminFeed} listens to the facts and, right after
 * them, publishes the page's views (`status`, `devices`, `activity`,
 * `conflicts`, `clinics`) into the same stream when they differ from the last
 * ones published; the status is cheap (counts read from indexes, store/_counters.ts).
 */
import {
  type BusEvent,
  type Cursor,
  type EventBus,
  formatCursor,
  type HubEventType,
} from "../core/mod.ts";
import type { Hub, HubStatus } from "../hub/mod.ts";
import type { Updater } from "../update/mod.ts";
import { authorisedClinics } from "./_clinics.ts";

/** The page's views, published after the facts that change them. */
type View = "status" | "devices" | "activity" | "conflicts" | "clinics";

const ALL_VIEWS: readonly View[] = ["status", "devices", "activity", "conflicts", "clinics"];

/** Which views each fact may change (views and page-only events change none). */
const TOUCHES: Partial<Record<HubEventType, readonly View[]>> = {
  state: ALL_VIEWS,
  server: ["status"],
  sync: ["status", "devices", "activity"],
  change: ["status"],
  device: ["status", "devices"],
  conflict: ["status", "conflicts"],
  relay: ["status", "conflicts", "clinics"],
  cloud: ["status", "clinics"],
  data: ["status", "conflicts", "clinics"],
  disk: ["status"],
  backup: ["status"],
};

/** Options of {@link AdminFeed}. */
export interface AdminFeedOptions {
  /** Wall clock (tests). */
  now?: () => number;
  /** Its changes are published as `update` events. */
  updater?: Updater;
  /** How long facts are gathered before the views are read once for all of them. */
  delayMs?: number;
  /**
   * How often the disk is looked at (free space changes without any other fact);
   * a change of its state (full, running low, fine) is published as `disk`.
   */
  diskCheckMs?: number;
}

/** Publishes the page's views into the hub's event stream after the facts that change them. */
export class AdminFeed {
  /** The stream served (the hub's event bus). */
  readonly events: EventBus;
  #hub: Hub;
  #now: () => number;
  #delayMs: number;
  #dirty = new Set<View>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #flushing: Promise<void> | null = null;
  #keys = new Map<View, string>();
  #releases: (() => void)[] = [];

  /** Starts listening to `hub.events`. */
  constructor(hub: Hub, options: AdminFeedOptions = {}) {
    this.#hub = hub;
    this.events = hub.events;
    this.#now = options.now ?? Date.now;
    this.#delayMs = options.delayMs ?? 50;
    this.#releases.push(hub.events.listen((e) => this.#onFact(e)));
    const updater = options.updater;
    if (updater) {
      this.#releases.push(
        updater.watch((s) => hub.events.publish("update", s as unknown as Record<string, unknown>)),
      );
    }
    const disk = setInterval(() => void this.#checkDisk(), options.diskCheckMs ?? 30_000);
    this.#releases.push(() => clearInterval(disk));
  }

  #diskKey = "";

  async #checkDisk(): Promise<void> {
    if (this.#hub.state !== "unlocked") return;
    try {
      const d = await this.#hub.diskStatus();
      const key = `${d.full}|${d.warning ?? ""}`;
      if (key === this.#diskKey) return;
      this.#diskKey = key;
      this.#hub.events.publish("disk", {
        full: d.full,
        warning: d.warning,
        freeBytes: d.freeBytes,
      });
    } catch (err) {
      this.#hub.logger.log("debug", "admin.events.disk_failed", { error: err });
    }
  }

  #onFact(e: BusEvent): void {
    const views = TOUCHES[e.type];
    if (!views) return;
    for (const v of views) this.#dirty.add(v);
    if (this.#timer === null) {
      // Facts come in bursts (a push: sync and conflict); read the views once after them.
      this.#timer = setTimeout(() => {
        this.#timer = null;
        void this.settle();
      }, this.#delayMs);
    }
  }

  /**
   * Reads and publishes the changed views now. After an admin write every view
   * is read (a failed unlock changes `unlockFailures`, which no fact reports).
   */
  refresh(): Promise<void> {
    for (const v of ALL_VIEWS) this.#dirty.add(v);
    return this.settle();
  }

  /** Publishes the current status even if unchanged (a stream starting with `reset`). */
  async republishStatus(): Promise<void> {
    await this.settle();
    this.#keys.delete("status");
    this.#dirty.add("status");
    await this.settle();
  }

  /** Publishes the views the facts so far changed; resolves when they are in the stream. */
  settle(): Promise<void> {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#flushing) {
      return this.#flushing.then(() => this.#dirty.size ? this.settle() : undefined);
    }
    if (this.#dirty.size === 0) return Promise.resolve();
    const run = (async () => {
      while (this.#dirty.size > 0) {
        const views = new Set(this.#dirty);
        this.#dirty.clear();
        try {
          await this.#publishViews(views);
        } catch (err) {
          // The hub was locked or closed mid-read; the lock's own fact follows.
          this.#hub.logger.log("debug", "admin.events.view_failed", { error: err });
        }
      }
    })().finally(() => {
      this.#flushing = null;
    });
    this.#flushing = run;
    return run;
  }

  async #publishViews(views: Set<View>): Promise<void> {
    const hub = this.#hub;
    if (views.has("status")) {
      const status = await hub.status();
      this.#offer("status", status, statusKey(status));
    }
    if (hub.state !== "unlocked") return;
    const store = hub.store;
    if (views.has("devices")) {
      const devices = store.devices.list();
      this.#offer("devices", { devices }, JSON.stringify(devices));
    }
    if (views.has("activity")) {
      const buckets = store.devices.activitySince(this.#now() - 24 * 3_600_000);
      this.#offer("activity", { buckets }, JSON.stringify(buckets));
    }
    if (views.has("conflicts")) {
      const newestId = store.conflicts.list({ limit: 1 })[0]?.id ?? 0;
      const open = store.openConflicts();
      this.#offer("conflicts", { open, newestId }, `${open}/${newestId}`);
    }
    if (views.has("clinics")) {
      const clinics = authorisedClinics(hub);
      this.#offer("clinics", clinics, JSON.stringify(clinics));
    }
  }

  #offer<V extends View>(type: V, data: unknown, key: string): void {
    if (this.#keys.get(type) === key) return;
    this.#keys.set(type, key);
    // deno-lint-ignore no-explicit-any
    this.events.publish(type, data as any);
  }

  /** Stops listening (server shutdown). */
  close(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    for (const release of this.#releases.splice(0)) release();
  }
}

/** The status minus what changes every millisecond by itself (ages). */
function statusKey(status: HubStatus): string {
  // Free space moves all the time; only a change the operator must see is an event.
  const disk = { full: status.disk.full, warning: status.disk.warning };
  const cloud = status.cloud ? { ...status.cloud, oldestPendingAgeMs: null, disk } : null;
  return JSON.stringify({ ...status, cloud, disk });
}

/** An event as the JSON long-poll answers it. */
export interface WireEvent {
  /** Increases by one within a launch. */
  id: number;
  /** The launch of the hub that recorded it. */
  launch: string;
  type: string;
  at: number;
  data: unknown;
}

/** An event for the JSON answer. */
export function wireEvent(e: BusEvent): WireEvent {
  return { id: e.id, launch: e.launch, type: e.type, at: e.at, data: e.data };
}

/** Formats one event as a Server-Sent Events message; its `id` is `<launch>-<id>`. */
export function sseMessage(e: { launch: string; id: number; type: string; data: unknown }): string {
  return `id: ${formatCursor(e.launch, e.id)}\nevent: ${e.type}\ndata: ${
    JSON.stringify(e.data)
  }\n\n`;
}

/** Options of {@link eventStream}. */
export interface EventStreamOptions {
  /** Comment lines sent this often keep proxies and the browser from timing out. */
  keepAliveMs?: number;
  /** Closes the stream (server shutdown). */
  signal?: AbortSignal;
}

/**
 * A Server-Sent Events body: first the events after `since` (or a `reset`
 * followed by the current status), then every new event as it is published,
 * until the client goes away or `signal` aborts.
 */
export function eventStream(
  feed: AdminFeed,
  since: Cursor | null,
  options: EventStreamOptions = {},
): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  const stop = new AbortController();
  const signals = options.signal ? [stop.signal, options.signal] : [stop.signal];
  const done = AbortSignal.any(signals);
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (text: string) => {
        try {
          controller.enqueue(enc.encode(text));
        } catch {
          stop.abort();
        }
      };
      write("retry: 2000\n\n");
      const events = feed.events;
      let cursor: Cursor | null = since;
      let lastWrite = Date.now();
      (async () => {
        await feed.settle();
        while (!done.aborted) {
          const got = events.since(cursor);
          if (got.reset) {
            write(sseMessage({ launch: got.launch, id: got.lastId, type: "reset", data: {} }));
            cursor = { launch: got.launch, id: got.lastId };
            lastWrite = Date.now();
            // The page starts from a fresh status without asking for one.
            await feed.republishStatus();
            continue;
          }
          for (const e of got.events) write(sseMessage(e));
          if (got.events.length > 0) {
            cursor = { launch: got.launch, id: got.lastId };
            lastWrite = Date.now();
          } else if (Date.now() - lastWrite >= keepAliveMs) {
            write(": keep-alive\n\n");
            lastWrite = Date.now();
          }
          await events.wait(keepAliveMs, done);
        }
        try {
          controller.close();
        } catch {
          // Already closed by the client.
        }
      })();
    },
    cancel() {
      stop.abort();
    },
  });
}
