/**
 * The admin API's routes (docs/admin-api.md): one table of method, `URLPattern`
 * path and handler, and the request bodies they accept (zod). Handlers return
 * data or throw `HubError`; `admin.ts` runs the guard before them and maps what
 * they throw once (`_reply.ts`).
 */
import { z } from "zod";
import { HubError, parseCursor } from "../core/mod.ts";
import type { Hub } from "../hub/mod.ts";
import { pairingPayload, pairingSvg } from "./_pairing.ts";
import { type AdminFeed, eventStream, wireEvent } from "./_events.ts";
import { eventStreamReply } from "./_reply.ts";
import type { AutoLock } from "./_autolock.ts";
import { authorisedClinics } from "./_clinics.ts";
import type { Updater } from "../update/mod.ts";
import { BACKUP_ROUTES } from "./_backup_routes.ts";

/** What a route handler is given. */
export interface Ctx {
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

/** A route handler: its result is sent as JSON (or as is, when a `Response`). */
export type Handler = (ctx: Ctx) => Promise<unknown> | unknown;

const MAX_JSON = 64 * 1024;

/** Reads a JSON object body (at most 64 KiB; an empty body is `{}`). */
export async function body(req: Request): Promise<Record<string, unknown>> {
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

async function autoStartServer(ctx: Ctx): Promise<void> {
  if (ctx.state.serverStoppedByOperator || ctx.hub.server.running) return;
  try {
    await ctx.hub.startServer();
  } catch (err) {
    ctx.hub.logger.log("warn", "lan.autostart_failed", { error: err });
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
  ["GET", "/api/devices", ({ hub }) => ({ devices: hub.store.devices.list() })],
  ["POST", "/api/devices/:id/revoke", ({ hub, params }) => {
    const id = decodeURIComponent(params.id);
    if (!hub.store.devices.revoke(id, Date.now())) {
      throw new HubError("not_found", 404, "No such device.");
    }
    hub.server.dropSession(id);
    hub.logger.log("info", "device.revoked", { device: id });
    hub.events.publish("device", { device: id, action: "revoked" });
    return { ok: true };
  }],
  ["POST", "/api/devices/:id/remove", ({ hub, params }) => {
    const id = decodeURIComponent(params.id);
    const r = hub.store.devices.removeRevoked(id, Date.now());
    if (r === "unknown") throw new HubError("not_found", 404, "No such device.");
    if (r === "not_revoked") {
      throw new HubError(
        "not_revoked",
        409,
        "Only a revoked device can be removed from the list. Revoke it first.",
      );
    }
    hub.logger.log("info", "device.removed_from_list", { device: id });
    hub.events.publish("device", { device: id, action: "removed" });
    return { ok: true };
  }],
  ["GET", "/api/conflicts", ({ hub, url }) => ({
    conflicts: hub.store.conflicts.views({
      open: url.searchParams.get("open") === "1",
      limit: Number(url.searchParams.get("limit") ?? "200") || 200,
    }),
  })],
  ["POST", "/api/conflicts/:id(\\d+)/keep-newer", ({ hub, params }) => {
    hub.store.conflicts.keepNewer(Number(params.id), Date.now());
    hub.logger.log("info", "conflict.decided", {
      conflict: Number(params.id),
      decision: "keep_newer",
    });
    publishDecided(hub, Number(params.id));
    return { ok: true };
  }],
  ["POST", "/api/conflicts/:id(\\d+)/restore-older", ({ hub, params }) => {
    const r = hub.store.conflicts.restoreOlder(Number(params.id), Date.now());
    hub.logger.log("info", "conflict.decided", {
      conflict: Number(params.id),
      decision: "restore_older",
      table: r.table,
    });
    publishDecided(hub, Number(params.id));
    return { ok: true, ...r };
  }],
  ["GET", "/api/activity", ({ hub }) => ({
    buckets: hub.store.devices.activitySince(Date.now() - 24 * 3_600_000),
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

/** The route table with compiled patterns (admin.ts matches requests against it). */
export const ROUTES: [string, URLPattern, Handler][] = ROUTE_TABLE.map((
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
    return eventStreamReply(eventStream(feed, since, { signal: ctx.closing }));
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
