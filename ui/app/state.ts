/// <reference lib="dom" />
/**
 * The page's state as signals, kept current by the admin API's event stream
 * (`GET /api/events`, Server-Sent Events). The stream's ids increase; the
 * browser reconnects with `Last-Event-ID` and the hub replays what was missed,
 * or sends `reset`, on which everything is fetched again.
 */
import { batch, signal } from "@preact/signals";
import { api, ApiError, openSession } from "./api.ts";
import type { ActivityBucket, Clinic, Conflict, Device, HubStatus, UpdateStatus } from "./types.ts";

/** Whether this browser has a session with the hub. */
export const session = signal<"checking" | "ok" | "none">("checking");
/** Without a session: the hub's state as its refusal said (`new` cannot be signed in to). */
export const signedOutState = signal<string | null>(null);
/** The hub's status; null until first read. */
export const status = signal<HubStatus | null>(null);
/** Paired devices. */
export const devices = signal<Device[]>([]);
/** Sync activity buckets of the last 24 hours. */
export const activity = signal<ActivityBucket[]>([]);
/** The conflict log (newest first). */
export const conflicts = signal<Conflict[]>([]);
/** Authorised clinics. */
export const clinics = signal<{ registered: boolean; clinics: Clinic[] } | null>(null);
/** False while the event stream is down (the page shows a notice). */
export const live = signal(true);
/** True when the hub stopped answering altogether. */
export const hubDown = signal(false);
/** The clock relative times are computed from (ticks every few seconds). */
export const now = signal(Date.now());
/** The screen shown while unlocked. */
export const view = signal<"dashboard" | "pair" | "maintenance">("dashboard");
/** First-run wizard step after the passphrase was set; null outside the wizard. */
export const setupStep = signal<"cloud" | "pair" | null>(null);
/** The updater's state; null when this hub has no update API (the banner stays hidden). */
export const update = signal<UpdateStatus | null>(null);
/** Minutes of idleness after which the hub locked itself (shown on the unlock screen). */
export const autoLocked = signal<number | null>(null);

/** Applies a status read, fetching the unlocked-only lists when the hub just unlocked. */
export function applyStatus(next: HubStatus): void {
  const before = status.value?.state;
  status.value = next;
  hubDown.value = false;
  if (next.state === "unlocked" && before !== "unlocked") void refreshUnlocked();
  if (next.state === "unlocked") autoLocked.value = null;
}

/** Reads the status again. */
export async function refreshStatus(): Promise<void> {
  try {
    applyStatus(await api.status());
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      signedOutState.value = typeof err.body.state === "string" ? err.body.state : null;
      session.value = "none";
    } else if (err instanceof ApiError && err.status === 0) hubDown.value = true;
  }
}

/** Reads the lists that exist only while unlocked. */
export async function refreshUnlocked(): Promise<void> {
  const [d, a, c, k] = await Promise.allSettled([
    api.devices(),
    api.activity(),
    api.conflicts(),
    api.clinics(),
  ]);
  batch(() => {
    if (d.status === "fulfilled") devices.value = d.value.devices;
    if (a.status === "fulfilled") activity.value = a.value.buckets;
    if (c.status === "fulfilled") conflicts.value = c.value.conflicts;
    if (k.status === "fulfilled") clinics.value = k.value;
  });
}

/** Reads the updater's state; a 404 means this hub has no update API. */
export async function refreshUpdate(): Promise<void> {
  try {
    update.value = await api.update();
  } catch {
    update.value = null;
  }
}

/** Reads everything (on start and on a `reset` event). */
export async function refreshAll(): Promise<void> {
  void refreshUpdate();
  await refreshStatus();
  if (status.value?.state === "unlocked") await refreshUnlocked();
}

let source: EventSource | null = null;
let lastId: string | null = null;
let retryTimer: ReturnType<typeof setTimeout> | undefined;

function on(es: EventSource, type: string, fn: (data: unknown) => void): void {
  es.addEventListener(type, (e) => {
    const m = e as MessageEvent<string>;
    if (m.lastEventId) lastId = m.lastEventId;
    try {
      fn(JSON.parse(m.data));
    } catch {
      // A malformed event is skipped; the next reset repairs the state.
    }
  });
}

/** Opens the event stream (and reopens it after the browser gave up). */
function connect(): void {
  source?.close();
  const es = new EventSource(lastId === null ? "/api/events" : `/api/events?since=${lastId}`);
  source = es;
  es.onopen = () => {
    live.value = true;
  };
  es.onerror = () => {
    live.value = false;
    if (es.readyState === EventSource.CLOSED) {
      // The browser stops retrying after a non-200 answer: check why, then try again.
      clearTimeout(retryTimer);
      retryTimer = setTimeout(async () => {
        await refreshStatus();
        if (session.value === "ok") connect();
      }, 3000);
    }
  };
  on(es, "reset", () => void refreshAll());
  on(es, "status", (d) => applyStatus(d as HubStatus));
  on(es, "devices", (d) => devices.value = (d as { devices: Device[] }).devices);
  on(es, "activity", (d) => activity.value = (d as { buckets: ActivityBucket[] }).buckets);
  on(es, "conflicts", () => {
    api.conflicts().then((r) => conflicts.value = r.conflicts, () => {});
  });
  on(es, "clinics", (d) => clinics.value = d as { registered: boolean; clinics: Clinic[] });
  on(es, "update", (d) => update.value = d as UpdateStatus);
  on(es, "autolock", (d) => autoLocked.value = (d as { minutes: number }).minutes);
}

let lastTouch = 0;

/** Tells the hub the operator is at work (for auto-lock), at most every 30 s. */
function touch(): void {
  if (status.value?.state !== "unlocked") return;
  const t = Date.now();
  if (t - lastTouch < 30_000) return;
  lastTouch = t;
  api.touch().catch(() => {});
}

/**
 * In the desktop build the window has no launch link: the page asks the hub for a
 * one-time code through the window's `hubLaunchCode` binding and redeems it.
 * Returns true when it navigated away.
 */
async function desktopLaunch(): Promise<boolean> {
  const bindings = (globalThis as { bindings?: { hubLaunchCode?: () => Promise<unknown> } })
    .bindings;
  if (typeof bindings?.hubLaunchCode !== "function") return false;
  try {
    const code = await bindings.hubLaunchCode();
    if (typeof code !== "string" || code === "") return false;
    location.replace(`/launch?code=${encodeURIComponent(code)}`);
    return true;
  } catch {
    return false;
  }
}

/** Starts the page: session, first read, event stream, clock, activity reports. */
export async function start(): Promise<void> {
  let ok = false;
  try {
    const s = await openSession();
    ok = s.ok;
    if (!s.ok) signedOutState.value = s.state;
  } catch {
    hubDown.value = true;
    return;
  }
  if (!ok && await desktopLaunch()) return;
  session.value = ok ? "ok" : "none";
  if (!ok) return;
  await refreshAll();
  connect();
  setInterval(() => now.value = Date.now(), 5000);
  for (const type of ["keydown", "pointerdown"]) {
    document.addEventListener(type, touch, { passive: true, capture: true });
  }
}
