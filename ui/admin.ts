/**
 * The loopback admin API (docs/admin-api.md). JSON in, JSON out, errors as
 * `{"error": message, "code": ...}` with a fitting status. One route table; the
 * guard (host, token/cookie, CSRF) and error mapping are applied once around it.
 */
import { z } from "zod";
import { type EventBus, HubError, log, LogGate, parseCursor, requestUrl } from "../core/mod.ts";
import type { Hub } from "../hub/mod.ts";
import {
  activitySince,
  keepNewer,
  listConflictViews,
  listDevices,
  removeRevokedDevice,
  restoreOlder,
  revokeDevice,
} from "../store/mod.ts";
import { AdminGuard } from "./_guard.ts";
import { sessionCookie, signInWithPassphrase } from "./_signin.ts";
import { pairingPayload, pairingSvg } from "./_pairing.ts";
import { STATIC_FILES } from "./_page.ts";
import { AdminFeed, eventStream, wireEvent } from "./_events.ts";
import { AutoLock } from "./_autolock.ts";
import { authorisedClinics } from "./_clinics.ts";
import type { Updater } from "../update/mod.ts";
import { BACKUP_ROUTES } from "./_backup_routes.ts";

/** Options for {@link startAdminServer}. */
export interface AdminServerOptions {
  /** Port on 127.0.0.1; 0 = any free port. */
  port: number;
  /** Fixed token (tests); random otherwise. */
  token?: string;
  /** The updater, when this build has one (GET /api/update answers 404 otherwise). */
  updater?: Updater;
  /** How often the auto-lock checks idleness (default 15 s). */
  autoLockCheckMs?: number;
  /** Wall clock for auto-lock and events (tests). */
  now?: () => number;
}

/** A running admin server. */
export interface AdminServer {
  url: string;
  port: number;
  guard: AdminGuard;
  /** The hub's events behind `GET /api/events`. */
  events: EventBus;
  /** The idle auto-lock (tests call `check()`). */
  autoLock: AutoLock;
  /** Handles one request (in-process tests). */
  handle(req: Request): Promise<Response>;
  close(): Promise<void>;
}

interface Ctx {
  hub: Hub;
  req: Request;
  params: Record<string, string>;
  url: URL;
  csrf?: string;
  feed: AdminFeed;
  autoLock: AutoLock;
  /** Aborted when the server shuts down (ends event streams). */
  closing: AbortSignal;
  /** Set when the operator stopped the LAN server on purpose (no auto-start on unlock). */
  state: { serverStoppedByOperator: boolean };
  updater?: Updater;
}

function updaterOf(ctx: Ctx): Updater {
  if (!ctx.updater) throw new HubError("not_found", 404, "Not found.");
  return ctx.updater;
}

type Handler = (ctx: Ctx) => Promise<unknown> | unknown;

const MAX_JSON = 64 * 1024;

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

async function body(req: Request): Promise<Record<string, unknown>> {
  const len = Number(req.headers.get("content-length") ?? "0");
  if (len > MAX_JSON) throw new HubError("too_large", 413, "Request body too large.");
  const text = await req.text();
  if (text.length > MAX_JSON) throw new HubError("too_large", 413, "Request body too large.");
  if (text.trim() === "") return {};
  try {
    const v = JSON.parse(text);
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
  } catch {
    // fall through
  }
  throw new HubError("bad_request", 400, "Body must be a JSON object.");
}

/** Reads a JSON body and checks it against `schema` (a 400 naming the field when it does not fit). */
async function input<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  const parsed = schema.safeParse(await body(req));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.length ? issue.path.join(".") : "body";
  throw new HubError("bad_request", 400, `${field} is required, as text.`);
}

/** The admin API's request bodies (extra fields are ignored). */
const BODY = {
  passphrase: z.object({ passphrase: z.string() }),
  change: z.object({ current: z.string(), next: z.string() }),
  clear: z.object({
    passphrase: z.string(),
    force: z.unknown().optional().transform((v) => v === true),
  }),
  reset: z.object({
    confirm: z.unknown().optional().transform((v) => typeof v === "string" ? v : ""),
  }),
  register: z.object({
    url: z.unknown().optional(),
    apiKey: z.unknown().optional(),
    allowInsecure: z.unknown().optional().transform((v) => v === true),
  }),
  autoLock: z.object({ minutes: z.unknown().optional().transform((v) => v ?? null) }),
};

/** The one place an error becomes a reply: `HubError` as is, anything else as 500. */
function errorReply(err: unknown, path: string): Response {
  if (err instanceof HubError) {
    const headers: Record<string, string> = {};
    const retry = err.details?.retryAfterSeconds;
    if (typeof retry === "number") headers["retry-after"] = String(retry);
    return json(err.status, { error: err.message, code: err.code, ...err.details }, headers);
  }
  log("error", "admin.unexpected", { path, error: err });
  return json(500, { error: "Internal error; see the hub's log." });
}

async function autoStartServer(ctx: Ctx): Promise<void> {
  if (ctx.state.serverStoppedByOperator || ctx.hub.server.running) return;
  try {
    await ctx.hub.startServer();
  } catch (err) {
    log("warn", "lan.autostart_failed", { error: err });
  }
}

/** The admin API's routes: method, `URLPattern` path, handler. */
const ROUTE_TABLE: [string, string, Handler][] = [
  ["GET", "/api/status", ({ hub }) => hub.status()],
  ["GET", "/api/session", ({ csrf }) => ({ csrf: csrf ?? null })],
  ["POST", "/api/setup", async (ctx) => {
    await ctx.hub.setup((await input(ctx.req, BODY.passphrase)).passphrase);
    await autoStartServer(ctx);
    return ctx.hub.status();
  }],
  ["POST", "/api/unlock", async (ctx) => {
    await ctx.hub.unlock((await input(ctx.req, BODY.passphrase)).passphrase);
    await autoStartServer(ctx);
    return ctx.hub.status();
  }],
  ["POST", "/api/lock", async ({ hub }) => {
    await hub.lock();
    return hub.status();
  }],
  ["POST", "/api/passphrase", async ({ hub, req }) => {
    const b = await input(req, BODY.change);
    await hub.changePassphrase(b.current, b.next);
    return { ok: true };
  }],
  ["POST", "/api/rotate-key", ({ hub }) => hub.rotateKey()],
  ["POST", "/api/clear", async ({ hub, req }) => {
    const b = await input(req, BODY.clear);
    return await hub.clear(b.passphrase, b.force);
  }],
  ["POST", "/api/reset", async ({ hub, req }) => {
    await hub.reset((await input(req, BODY.reset)).confirm);
    return hub.status();
  }],
  ["POST", "/api/server/start", async (ctx) => {
    ctx.state.serverStoppedByOperator = false;
    await ctx.hub.startServer();
    return ctx.hub.server.status();
  }],
  ["POST", "/api/server/stop", async (ctx) => {
    ctx.state.serverStoppedByOperator = true;
    await ctx.hub.stopServer();
    return ctx.hub.server.status();
  }],
  ["POST", "/api/cloud/register", async ({ hub, req }) => {
    const b = await input(req, BODY.register);
    return await hub.registerCloud(b.url, b.apiKey, b.allowInsecure);
  }],
  ["POST", "/api/cloud/sync", ({ hub }) => hub.syncCloud()],
  ["GET", "/api/cloud/health", ({ hub }) => {
    const h = hub.cloudHealth();
    if (!h) throw new HubError("locked", 423, "Unlock the hub first.");
    return h;
  }],
  ["GET", "/api/update", (ctx) => updaterOf(ctx).status()],
  ["POST", "/api/update/check", (ctx) => updaterOf(ctx).check()],
  ["POST", "/api/update/install", (ctx) => updaterOf(ctx).install()],
  ["GET", "/api/devices", ({ hub }) => ({ devices: listDevices(hub.store.db) })],
  ["POST", "/api/devices/:id/revoke", ({ hub, params }) => {
    const id = decodeURIComponent(params.id);
    if (!revokeDevice(hub.store.db, id, Date.now())) {
      throw new HubError("not_found", 404, "No such device.");
    }
    hub.server.dropSession(id);
    log("info", "device.revoked", { device: id });
    hub.events.publish("device", { device: id, action: "revoked" });
    return { ok: true };
  }],
  ["POST", "/api/devices/:id/remove", ({ hub, params }) => {
    const id = decodeURIComponent(params.id);
    const r = removeRevokedDevice(hub.store.db, id, Date.now());
    if (r === "unknown") throw new HubError("not_found", 404, "No such device.");
    if (r === "not_revoked") {
      throw new HubError(
        "not_revoked",
        409,
        "Only a revoked device can be removed from the list. Revoke it first.",
      );
    }
    log("info", "device.removed_from_list", { device: id });
    hub.events.publish("device", { device: id, action: "removed" });
    return { ok: true };
  }],
  ["GET", "/api/conflicts", ({ hub, url }) => ({
    conflicts: listConflictViews(hub.store.db, {
      open: url.searchParams.get("open") === "1",
      limit: Number(url.searchParams.get("limit") ?? "200") || 200,
    }),
  })],
  ["POST", "/api/conflicts/:id(\\d+)/keep-newer", ({ hub, params }) => {
    keepNewer(hub.store.db, Number(params.id), Date.now());
    log("info", "conflict.decided", { conflict: Number(params.id), decision: "keep_newer" });
    publishDecided(hub, Number(params.id));
    return { ok: true };
  }],
  ["POST", "/api/conflicts/:id(\\d+)/restore-older", ({ hub, params }) => {
    const r = restoreOlder(hub.store, Number(params.id), Date.now());
    log("info", "conflict.decided", {
      conflict: Number(params.id),
      decision: "restore_older",
      table: r.table,
    });
    publishDecided(hub, Number(params.id));
    return { ok: true, ...r };
  }],
  ["GET", "/api/activity", ({ hub }) => ({
    buckets: activitySince(hub.store.db, Date.now() - 24 * 3_600_000),
  })],
  ["GET", "/api/pairing", async ({ hub, url }) => {
    const access = hub.vault.secrets;
    const server = hub.server.status();
    if (!server.running) {
      throw new HubError("server_stopped", 409, "Start the server to pair a device.");
    }
    const wanted = url.searchParams.get("url");
    if (wanted !== null && !server.urls.includes(wanted)) {
      throw new HubError("bad_request", 400, "That address is not one of this computer's.");
    }
    const lanUrl = wanted ?? server.urls[0];
    const payload = pairingPayload(lanUrl, access.hubId, access.hubPublicKey);
    return { payload, svg: await pairingSvg(payload), url: lanUrl, urls: server.urls };
  }],
  ["GET", "/api/events", eventsRoute],
  ["GET", "/api/clinics", ({ hub }) => authorisedClinics(hub)],
  ["GET", "/api/auto-lock", ({ hub, autoLock }) => {
    if (hub.state !== "unlocked") throw new HubError("locked", 423, "Unlock the hub first.");
    return autoLock.state();
  }],
  ["POST", "/api/auto-lock", async ({ hub, req, autoLock }) => {
    const b = await input(req, BODY.autoLock);
    if (hub.state !== "unlocked") throw new HubError("locked", 423, "Unlock the hub first.");
    return autoLock.set(b.minutes);
  }],
  ["POST", "/api/touch", () => ({ ok: true })],
  ...BACKUP_ROUTES,
];

const ROUTES: [string, URLPattern, Handler][] = ROUTE_TABLE.map((
  [method, pathname, handler],
) => [method, new URLPattern({ pathname }), handler]);

/** Tells the stream the operator decided a conflict (counts and the list changed). */
function publishDecided(hub: Hub, id: number): void {
  hub.events.publish("conflict", {
    action: "decided",
    id,
    count: 1,
    open: hub.store.openConflicts(),
  });
}

/** Longest wait of a long-polling `GET /api/events` (seconds). */
const MAX_EVENTS_WAIT_S = 55;

/** `GET /api/events`: Server-Sent Events, or JSON long-poll for scripts (docs/admin-api.md). */
async function eventsRoute(ctx: Ctx): Promise<unknown> {
  const { req, url, feed } = ctx;
  // The browser's Last-Event-ID is newer than the `since` its first connect put in the URL.
  const raw = req.headers.get("last-event-id") ?? url.searchParams.get("since");
  const since = raw === null || raw.trim() === "" ? null : parseCursor(raw);
  if (raw !== null && raw.trim() !== "" && since === null) {
    throw new HubError(
      "bad_request",
      400,
      "since must be an event cursor (<launch>-<id>, as the last event's id) or an id.",
    );
  }
  if ((req.headers.get("accept") ?? "").includes("text/event-stream")) {
    return new Response(eventStream(feed, since, { signal: ctx.closing }), {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }
  const wait = Math.min(
    Math.max(Number(url.searchParams.get("wait") ?? "25") || 0, 0),
    MAX_EVENTS_WAIT_S,
  );
  // Views follow the facts by a few milliseconds: answer with both.
  await feed.settle();
  let got = feed.events.since(since);
  if (!got.reset && got.events.length === 0 && wait > 0) {
    await feed.events.wait(wait * 1000, ctx.closing);
    await feed.settle();
    got = feed.events.since(since);
  }
  return {
    events: got.events.map(wireEvent),
    reset: got.reset,
    lastId: got.lastId,
    launch: got.launch,
    cursor: `${got.launch}-${got.lastId}`,
  };
}

/** Starts the admin server on 127.0.0.1 (before the LAN server; see ENGINEERING.md). */
export function startAdminServer(hub: Hub, options: AdminServerOptions): Promise<AdminServer> {
  const guard = new AdminGuard(options.token);
  const state = { serverStoppedByOperator: false };
  const closing = new AbortController();
  const events = hub.events;
  // Download progress and new versions reach the page as `update` events.
  const feed = new AdminFeed(hub, { now: options.now, updater: options.updater });
  const autoLock = new AutoLock(hub, {
    now: options.now,
    checkMs: options.autoLockCheckMs,
    onLocked: (minutes) => void events.publish("autolock", { minutes }),
  });

  // Malformed requests (a Host that is not a valid authority) answer 400 plain
  // text and log at most one line per source a minute; nothing reaches stderr
  // outside the JSON logger (an uncaught throw would print a stack trace there).
  const badRequests = new LogGate();
  function badRequest(source: string, reason: string): Response {
    const suppressed = badRequests.admit(source);
    if (suppressed !== null) log("warn", "admin.bad_request", { source, reason, suppressed });
    return new Response(`Bad request: ${reason}.\n`, {
      status: 400,
      headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
    });
  }

  async function handle(req: Request, info?: Deno.ServeHandlerInfo): Promise<Response> {
    const url = requestUrl(req);
    const source = (info?.remoteAddr as Deno.NetAddr | undefined)?.hostname ?? "local";
    if (!url) return badRequest(source, "malformed Host header");
    if (!guard.hostAllowed(req.headers.get("host"))) {
      return json(403, { error: "Forbidden: the admin API answers only on this computer." });
    }
    const file = req.method === "GET" ? STATIC_FILES[url.pathname] : undefined;
    if (file) {
      // The page and its code carry no secrets, so they answer without a session
      // (the desktop runtime polls `/` before anyone has logged in).
      return new Response(file.body, {
        headers: {
          "content-type": file.type,
          "cache-control": "no-store",
          "content-security-policy":
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
          "x-frame-options": "DENY",
          "x-content-type-options": "nosniff",
          "referrer-policy": "no-referrer",
        },
      });
    }
    if (url.pathname === "/launch" && req.method === "GET") {
      const sid = guard.redeem(url.searchParams.get("code") ?? "");
      if (!sid) return json(403, { error: "This link has expired. Start the hub again." });
      return new Response(null, {
        status: 303,
        headers: {
          location: "/",
          "set-cookie": sessionCookie(sid),
          "cache-control": "no-store",
        },
      });
    }
    if (!url.pathname.startsWith("/api/")) return json(404, { error: "Not found." });
    if (url.pathname === "/api/session" && req.method === "POST") return await signIn(req);
    const auth = guard.check(req);
    // `state` tells a page without a session whether it can sign in with the passphrase.
    if (!auth.ok) {
      return json(auth.status, { error: auth.error, code: "no_session", state: hub.state });
    }
    for (const [method, pattern, handler] of ROUTES) {
      const m = pattern.exec({ pathname: url.pathname });
      if (!m) continue;
      if (method !== req.method) continue;
      const write = method !== "GET";
      // Any write is the operator at work (resets the idle auto-lock).
      if (write) autoLock.touch();
      try {
        const result = await handler({
          hub,
          req,
          url,
          params: m.pathname.groups as Record<string, string>,
          csrf: auth.ok ? auth.csrf : undefined,
          state,
          updater: options.updater,
          feed,
          autoLock,
          closing: closing.signal,
        });
        if (result instanceof Response) return result;
        return json(200, result ?? {});
      } catch (err) {
        return errorReply(err, url.pathname);
      } finally {
        // The write's views are in the stream before its reply (a failed unlock too).
        if (write) await feed.refresh();
      }
    }
    return json(404, { error: "Not found." });
  }

  /** `POST /api/session`: sign in with the passphrase (ui/_signin.ts). */
  async function signIn(req: Request): Promise<Response> {
    try {
      const b = await body(req);
      const wasLocked = hub.state === "locked";
      const { csrf, cookie } = await signInWithPassphrase(hub, guard, req, b.passphrase);
      autoLock.touch();
      // Signing in to a locked hub unlocks it, and an unlock starts the LAN server.
      if (wasLocked && !state.serverStoppedByOperator && !hub.server.running) {
        await hub.startServer().catch((err) => log("warn", "lan.autostart_failed", { error: err }));
      }
      await feed.refresh();
      log("info", "admin.signed_in", {});
      return json(200, { csrf, state: hub.state }, { "set-cookie": cookie });
    } catch (err) {
      await feed.refresh();
      return errorReply(err, "/api/session");
    }
  }

  return new Promise((resolve, reject) => {
    let server: Deno.HttpServer;
    try {
      server = Deno.serve({
        hostname: "127.0.0.1",
        port: options.port,
        onError: (err) => {
          const suppressed = badRequests.admit("onError");
          if (suppressed !== null) log("error", "admin.unexpected", { error: err, suppressed });
          return json(500, { error: "Internal error; see the hub's log." });
        },
        onListen: (addr) => {
          const port = (addr as Deno.NetAddr).port;
          guard.setPort(port);
          resolve({
            url: `http://127.0.0.1:${port}`,
            port,
            guard,
            events,
            autoLock,
            handle,
            close: async () => {
              closing.abort();
              feed.close();
              autoLock.close();
              await server.shutdown();
            },
          });
        },
      }, handle);
    } catch (err) {
      feed.close();
      autoLock.close();
      if (err instanceof Deno.errors.AddrInUse) {
        reject(
          new HubError(
            "address_in_use",
            409,
            `Admin port ${options.port} is already in use (address already in use). Choose another with --admin-port.`,
          ),
        );
      } else reject(err);
    }
  });
}
