/**
 * The LAN server: exactly four routes (SPEC §1), everything else 404. One route
 * table; limits and error mapping applied once around it.
 */
import { HubError, LogGate, Logger, requestUrl } from "../core/mod.ts";
import type { AccessProvider } from "./_access.ts";
import { LoginLimiter } from "./_auth.ts";
import { BodyBudget, DEFAULT_BODY_PACE } from "./_http.ts";
import { jsonReply, lanErrorReply } from "./_reply.ts";
import { detachedContext, envelope, handshake, type RequestContext, type RpcDeps } from "./_rpc.ts";
import {
  DEFAULT_FRONT_LIMITS,
  Front,
  type FrontConn,
  type FrontLimits,
  isLoopback,
} from "./_front.ts";
import { DEFAULT_SESSION_LIMITS, type SessionLimits, SessionTable } from "./_sessions.ts";
import { buildRegistry, type Registry } from "./procedures/mod.ts";
import { DEFAULT_PULL_PAGE_BYTES, DEFAULT_PULL_PAGE_ROWS } from "../store/mod.ts";

/** Handshake rate per source address. */
export interface HandshakeRate {
  /** Handshakes allowed at once. */
  burst: number;
  /** Refill per second. */
  perSecond: number;
  /**
   * Exempt loopback (127.0.0.0/8, ::1). Off by default: a relay or proxy on the
   * hub's computer would otherwise make every LAN host unlimited. Tests and
   * benches that play many phones from one address opt in.
   */
  exemptLoopback?: boolean;
}

/**
 * Handshakes per source address: a burst of 60, then 2 a second. Each handshake
 * costs an X25519 operation, a disk write (the used key) and a session slot, and
 * needs no credentials, so one LAN host must not be able to flood them.
 *
 * @example
 * ```ts
 * import { DEFAULT_HANDSHAKE_RATE, LanServer } from "./mod.ts";
 *
 * DEFAULT_HANDSHAKE_RATE; // { burst: 60, perSecond: 2 }
 * // A bench playing 200 phones from this computer; beyond the rate a handshake answers 429.
 * const server = new LanServer({
 *   host: "127.0.0.1",
 *   port: 0,
 *   handshakeRate: { ...DEFAULT_HANDSHAKE_RATE, exemptLoopback: true },
 * }, () => null);
 * ```
 */
export const DEFAULT_HANDSHAKE_RATE: HandshakeRate = { burst: 60, perSecond: 2 };

class HandshakeLimiter {
  #buckets = new Map<string, { tokens: number; at: number }>();
  #rate: HandshakeRate;

  constructor(rate: HandshakeRate) {
    this.#rate = rate;
  }

  /** Takes one token for `addr`; false when its bucket is empty. */
  take(addr: string, now = Date.now()): boolean {
    if (this.#rate.exemptLoopback && isLoopback(addr)) return true;
    const { burst, perSecond } = this.#rate;
    const b = this.#buckets.get(addr) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    this.#buckets.delete(addr);
    if (this.#buckets.size >= 10_000) {
      this.#buckets.delete(this.#buckets.keys().next().value as string);
    }
    this.#buckets.set(addr, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

export { isLoopback } from "./_front.ts";

/** Options of the LAN server. */
export interface LanServerOptions {
  host: string;
  port: number;
  /** Largest request body; 128 MiB holds a 50,000-row push with room to spare. */
  maxBodyBytes?: number;
  /** Time allowed for a request body to arrive. */
  bodyTimeoutMs?: number;
  /** Minimum body rate (default 16 KiB per 5 s, see `_http.ts`). */
  bodyPace?: { minBytes: number; windowMs: number };
  /**
   * Connection limits and deadlines of the front that accepts LAN connections
   * (`_front.ts`); `false` serves with `Deno.serve` directly (no limits).
   */
  front?: Partial<FrontLimits> | false;
  sessions?: SessionLimits;
  /** Handshakes per source address (default {@link DEFAULT_HANDSHAKE_RATE}). */
  handshakeRate?: HandshakeRate;
  pullPageRows?: number;
  /** Bound on the JSON bytes of one pull reply (see store/_pull.ts). */
  pullPageBytes?: number;
  now?: () => number;
  /** Where the server logs (the hub hands its own in; default: stderr). */
  logger?: Logger;
}

/**
 * Default body limit.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_BODY_BYTES, LanServer } from "./mod.ts";
 *
 * DEFAULT_MAX_BODY_BYTES; // 134217728 (128 MiB)
 * // Refuse bodies over 32 MiB instead (HubError `too_large`, 413):
 * const server = new LanServer(
 *   { host: "0.0.0.0", port: 4001, maxBodyBytes: DEFAULT_MAX_BODY_BYTES / 4 },
 *   () => null,
 * );
 * ```
 */
export const DEFAULT_MAX_BODY_BYTES = 128 * 1024 * 1024;

/** What the admin API shows about the server. */
export interface LanServerStatus {
  running: boolean;
  host: string;
  port: number;
  urls: string[];
  sessions: number;
  /** Open LAN connections (null without the front). */
  connections: number | null;
  error: string | null;
}

type Route = (req: Request, deps: RpcDeps, ctx: RequestContext) => Promise<Response> | Response;

const ROUTES: Record<string, Route> = {
  "GET /rpc/heartbeat": () => jsonReply('{"status":"ok"}'),
  "POST /rpc/handshake": handshake,
  "POST /rpc/command": (req, deps, ctx) => envelope(req, deps, "command", ctx),
  "POST /rpc/query": (req, deps, ctx) => envelope(req, deps, "query", ctx),
};

/**
 * Lists the LAN URLs a phone can use to reach `host:port`.
 *
 * @example
 * ```ts
 * import { lanUrls } from "./mod.ts";
 *
 * lanUrls("192.168.1.20", 4001); // ["http://192.168.1.20:4001"]
 * lanUrls("0.0.0.0", 4001); // one per IPv4 interface: ["http://192.168.1.20:4001"]
 * // (["http://127.0.0.1:4001"] when none is found, e.g. without --allow-sys)
 * ```
 */
export function lanUrls(host: string, port: number): string[] {
  if (host !== "0.0.0.0" && host !== "::") return [`http://${host}:${port}`];
  const out: string[] = [];
  try {
    for (const ni of Deno.networkInterfaces()) {
      if (ni.family !== "IPv4" || ni.address.startsWith("127.")) continue;
      out.push(`http://${ni.address}:${port}`);
    }
  } catch {
    // Without --allow-sys the interfaces cannot be listed.
  }
  return out.length > 0 ? out : [`http://127.0.0.1:${port}`];
}

/**
 * The LAN-facing server.
 *
 * @example
 * ```ts
 * import { LanServer } from "./mod.ts";
 *
 * // `() => null`: no unlocked hub, so a handshake answers 503 `locked`.
 * const server = new LanServer({ host: "127.0.0.1", port: 0 }, () => null);
 * await server.start();
 * server.status().urls; // ["http://127.0.0.1:43609"] (port 0: any free port)
 * const res = await fetch(`http://127.0.0.1:${server.port}/rpc/heartbeat`);
 * await res.json(); // { status: "ok" }
 * await server.stop();
 * ```
 */
export class LanServer {
  readonly registry: Registry;
  readonly sessions: SessionTable;
  #options: Required<Omit<LanServerOptions, "now" | "logger">> & { now: () => number };
  #logger: Logger;
  #deps: RpcDeps;
  #server: Deno.HttpServer | null = null;
  #front: Front | null = null;
  #abort: AbortController | null = null;
  #inFlight = 0;
  #port: number;
  #error: string | null = null;
  #handshakes: HandshakeLimiter;
  #badRequests = new LogGate();

  /** Creates a stopped server. */
  constructor(options: LanServerOptions, access: AccessProvider) {
    this.#options = {
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      bodyTimeoutMs: 120_000,
      bodyPace: DEFAULT_BODY_PACE,
      front: {},
      sessions: DEFAULT_SESSION_LIMITS,
      handshakeRate: DEFAULT_HANDSHAKE_RATE,
      pullPageRows: DEFAULT_PULL_PAGE_ROWS,
      pullPageBytes: DEFAULT_PULL_PAGE_BYTES,
      now: Date.now,
      ...options,
    };
    this.#logger = options.logger ?? new Logger();
    this.#port = options.port;
    this.#handshakes = new HandshakeLimiter(this.#options.handshakeRate);
    this.registry = buildRegistry();
    this.sessions = new SessionTable(this.#options.sessions, this.#options.now);
    this.#deps = {
      access,
      sessions: this.sessions,
      registry: this.registry,
      services: {
        loginLimiter: new LoginLimiter(this.#options.now),
        pullPageRows: this.#options.pullPageRows,
        pullPageBytes: this.#options.pullPageBytes,
        logger: this.#logger,
      },
      maxBodyBytes: this.#options.maxBodyBytes,
      bodyTimeoutMs: this.#options.bodyTimeoutMs,
      bodyPace: this.#options.bodyPace,
      bodyBudget: new BodyBudget(2 * this.#options.maxBodyBytes),
      now: this.#options.now,
      logger: this.#logger,
    };
  }

  /** True while listening. */
  get running(): boolean {
    return this.#server !== null;
  }

  /** The bound port (resolved when 0 was asked for). */
  get port(): number {
    return this.#port;
  }

  /** Open client connections (null without the front). */
  get connections(): number | null {
    return this.#front?.size ?? null;
  }

  /** The front's counters (refused at accept, dropped by a deadline), for tests. */
  get frontCounters(): { refused: number; dropped: number; acceptErrors: number } | null {
    return this.#front?.counters ?? null;
  }

  /** The shared body budget (tests read what is held). */
  get bodyBudget(): BodyBudget {
    return this.#deps.bodyBudget;
  }

  /** Handles one request (exposed for in-process tests); every error reply is `_reply.ts`'s. */
  async handle(req: Request, remote?: string, conn?: FrontConn): Promise<Response> {
    try {
      const url = requestUrl(req);
      if (!url) throw this.#badRequest(remote, "malformed Host header");
      const route = ROUTES[`${req.method} ${url.pathname}`];
      if (!route) throw new HubError("not_found", 404, "Not found");
      if (url.pathname === "/rpc/handshake" && remote && !this.#handshakes.take(remote)) {
        throw new HubError(
          "rate_limited",
          429,
          "Too many handshakes from this address; wait a moment and retry.",
        );
      }
      const ctx: RequestContext = conn
        ? { source: conn.source, closeAfterReply: () => conn.closeAfterReply() }
        : detachedContext(remote ?? "unknown");
      return await route(req, this.#deps, ctx);
    } catch (err) {
      return lanErrorReply(err, this.#logger);
    }
  }

  /** A malformed request: 400 plain text, and at most one log line per source a minute. */
  #badRequest(remote: string | undefined, reason: string): HubError {
    const source = remote ?? "unknown";
    const suppressed = this.#badRequests.admit(source);
    if (suppressed !== null) {
      this.#logger.log("warn", "lan.bad_request", { source, reason, suppressed });
    }
    return new HubError("bad_request", 400, `Bad request: ${reason}.`);
  }

  /** Starts listening; a taken port is a clear `address_in_use` error. */
  start(): Promise<void> {
    if (this.#server) return Promise.resolve();
    const { host, port } = this.#options;
    const front = this.#options.front;
    // With the front, the LAN port is ours (Deno.listen) and Deno.serve sits on
    // an ephemeral loopback port behind it.
    let listener: Deno.TcpListener | null = null;
    try {
      if (front !== false) listener = Deno.listen({ hostname: host, port });
    } catch (err) {
      return Promise.reject(this.#startError(err, port));
    }
    return new Promise((resolve, reject) => {
      try {
        const abort = new AbortController();
        this.#abort = abort;
        this.#server = Deno.serve({
          hostname: listener ? "127.0.0.1" : host,
          port: listener ? 0 : port,
          signal: abort.signal,
          onListen: (addr) => {
            const bound = (addr as Deno.NetAddr).port;
            if (listener && front !== false) {
              this.#front = new Front(
                listener,
                bound,
                { ...DEFAULT_FRONT_LIMITS, ...front },
                this.#badRequests,
                this.#logger,
              );
              this.#port = (listener.addr as Deno.NetAddr).port;
            } else this.#port = bound;
            this.#error = null;
            this.#logger.log("info", "lan.listening", { host, port: this.#port });
            resolve();
          },
          onError: (err) => lanErrorReply(err, this.#logger),
        }, async (req, info) => {
          const peer = info.remoteAddr as Deno.NetAddr;
          const conn = this.#front?.lookup(peer.port);
          if (conn) this.#front!.begin(conn);
          this.#inFlight++;
          try {
            return await this.handle(req, conn?.source ?? peer.hostname, conn);
          } finally {
            this.#inFlight--;
            if (conn) this.#front?.end(conn);
          }
        });
      } catch (err) {
        this.#server = null;
        try {
          listener?.close();
        } catch { /* closed */ }
        reject(this.#startError(err, port));
      }
    });
  }

  #startError(err: unknown, port: number): HubError {
    if (err instanceof Deno.errors.AddrInUse) {
      this.#error =
        `Port ${port} is already in use (address already in use): another program, or another copy of the hub, is using it. Close it or start the hub with --port.`;
      return new HubError("address_in_use", 409, this.#error, { cause: err });
    }
    this.#error = `The LAN server could not start: ${(err as Error).message}`;
    return new HubError("server_start_failed", 500, this.#error, { cause: err });
  }

  /**
   * Stops listening (sessions are dropped). Requests being handled get up to 5 s
   * to finish, then every connection is closed: a graceful `shutdown()` would wait
   * forever for a client that never finishes sending its body.
   */
  async stop(): Promise<void> {
    const s = this.#server;
    if (!s) return;
    this.#server = null;
    this.sessions.clear();
    const deadline = Date.now() + 5_000;
    while (this.#inFlight > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await this.#front?.close();
    this.#front = null;
    this.#abort?.abort();
    this.#abort = null;
    await s.finished;
    this.#logger.log("info", "lan.stopped", {});
  }

  /** Drops a client's session (after revocation). */
  dropSession(clientId: string): void {
    this.sessions.drop(clientId);
  }

  /** Status for the admin API. */
  status(): LanServerStatus {
    return {
      running: this.running,
      host: this.#options.host,
      port: this.#port,
      urls: this.running ? lanUrls(this.#options.host, this.#port) : [],
      sessions: this.sessions.size,
      connections: this.connections,
      error: this.#error,
    };
  }
}
