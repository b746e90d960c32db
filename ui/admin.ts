/**
 * The loopback admin API (docs/admin-api.md). JSON in, JSON out, errors as
 * `{"error": message, "code": ...}` with a fitting status. One route table (`_routes.ts`); the
 * guard (host, token/cookie, CSRF) and error mapping are applied once around it.
 */
import { type EventBus, HubError, LogGate, requestUrl } from "../core/mod.ts";
import type { Hub } from "../hub/mod.ts";
import { AdminGuard } from "./_guard.ts";
import { sessionCookie, signInWithPassphrase } from "./_signin.ts";
import { STATIC_FILES } from "./_page.ts";
import { AdminFeed } from "./_events.ts";
import {
  adminErrorReply,
  INTERNAL_MESSAGE,
  jsonReply,
  launchRedirect,
  staticFileReply,
} from "./_reply.ts";
import { AutoLock } from "./_autolock.ts";
import { body, ROUTES } from "./_routes.ts";
import type { Updater } from "../update/mod.ts";

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

/** A path outside the API's routes. */
function notFound(): HubError {
  return new HubError("not_found", 404, "Not found.", { reply: "message" });
}

/**
 * Starts the admin server on 127.0.0.1 (before the LAN server; see ENGINEERING.md).
 *
 * @example
 * ```ts
 * import { startAdminServer } from "./mod.ts";
 * import { Hub } from "../hub/mod.ts";
 *
 * const hub = new Hub({
 *   dataDir: "/srv/hub/data",
 *   version: "1.4.0",
 *   lan: { host: "0.0.0.0", port: 4001 },
 * });
 * await hub.init();
 * const admin = await startAdminServer(hub, { port: 4002 }); // 0: any free port
 * admin.url; // "http://127.0.0.1:4002"
 * const res = await fetch(`${admin.url}/api/status`, {
 *   headers: { authorization: `Bearer ${admin.guard.token}` },
 * });
 * (await res.json()).state; // "new" on first run, else "locked" until unlocked
 * await admin.close();
 * ```
 */
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
  function badRequest(source: string, reason: string): HubError {
    const suppressed = badRequests.admit(source);
    if (suppressed !== null) {
      hub.logger.log("warn", "admin.bad_request", { source, reason, suppressed });
    }
    return new HubError("bad_request", 400, `Bad request: ${reason}.`, { reply: "text" });
  }

  /** Every request; any error thrown on the way is mapped once, by `adminErrorReply`. */
  async function handle(req: Request, info?: Deno.ServeHandlerInfo): Promise<Response> {
    try {
      return await dispatch(req, info);
    } catch (err) {
      return adminErrorReply(err, requestUrl(req)?.pathname ?? "?", hub.logger);
    }
  }

  async function dispatch(req: Request, info?: Deno.ServeHandlerInfo): Promise<Response> {
    const url = requestUrl(req);
    const source = (info?.remoteAddr as Deno.NetAddr | undefined)?.hostname ?? "local";
    if (!url) throw badRequest(source, "malformed Host header");
    if (!guard.hostAllowed(req.headers.get("host"))) {
      throw new HubError(
        "forbidden_host",
        403,
        "Forbidden: the admin API answers only on this computer.",
        { reply: "message" },
      );
    }
    const file = req.method === "GET" ? STATIC_FILES[url.pathname] : undefined;
    // The page and its code carry no secrets, so they answer without a session
    // (the desktop runtime polls `/` before anyone has logged in).
    if (file) return staticFileReply(file);
    if (url.pathname === "/launch" && req.method === "GET") {
      const sid = guard.redeem(url.searchParams.get("code") ?? "");
      if (!sid) {
        throw new HubError("link_expired", 403, "This link has expired. Start the hub again.", {
          reply: "message",
        });
      }
      return launchRedirect(sessionCookie(sid));
    }
    if (!url.pathname.startsWith("/api/")) throw notFound();
    if (url.pathname === "/api/session" && req.method === "POST") return await signIn(req);
    const auth = guard.check(req);
    // `state` tells a page without a session whether it can sign in with the passphrase.
    if (!auth.ok) {
      throw new HubError("no_session", auth.status, auth.error, { details: { state: hub.state } });
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
        return jsonReply(result ?? {});
      } finally {
        // The write's views are in the stream before its reply (a failed unlock too).
        if (write) await feed.refresh();
      }
    }
    throw notFound();
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
        await hub.startServer().catch((err) =>
          hub.logger.log("warn", "lan.autostart_failed", { error: err })
        );
      }
      await feed.refresh();
      hub.logger.log("info", "admin.signed_in", {});
      return jsonReply({ csrf, state: hub.state }, { "set-cookie": cookie });
    } catch (err) {
      await feed.refresh();
      throw err;
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
          if (suppressed !== null) {
            hub.logger.log("error", "admin.unexpected", { error: err, suppressed });
          }
          const internal = new HubError("internal", 500, INTERNAL_MESSAGE, { reply: "message" });
          return adminErrorReply(internal, "onError", hub.logger);
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
