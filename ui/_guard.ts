/**
 * Who may use the admin API. Security decisions made here:
 * - the server binds 127.0.0.1 only, and `Host` must name loopback with our port
 *   (defeats DNS rebinding);
 * - CLI and tests send `Authorization: Bearer <per-launch token>`;
 * - a browser gets an HttpOnly SameSite=Strict cookie by redeeming a one-time
 *   launch code (handed over through a 0600 file, never argv), or, once the hub
 *   is set up, by giving the passphrase (throttled like an unlock); its writes
 *   must carry a matching `Origin` and the `X-CSRF-Token` of its session;
 * - sessions are kept in memory only, so a cookie dies with the launch that
 *   issued it (docs/security.md); at most {@link MAX_BROWSER_SESSIONS} are kept,
 *   the least recently used forgotten first, so weeks of sign-ins stay bounded.
 */
import { timingSafeEqual } from "../core/mod.ts";

/**
 * Cookie name of a browser session.
 *
 * @example
 * ```ts
 * import { SESSION_COOKIE } from "./mod.ts";
 *
 * SESSION_COOKIE; // "hub_admin"
 * // GET /launch?code=... and POST /api/session answer with
 * // set-cookie: hub_admin=<session id>; HttpOnly; SameSite=Strict; Path=/
 * ```
 */
export const SESSION_COOKIE = "hub_admin";
/**
 * Header a browser write must carry.
 *
 * @example
 * ```ts
 * import { CSRF_HEADER } from "./mod.ts";
 *
 * CSRF_HEADER; // "x-csrf-token"
 * // In the admin page (same origin, session cookie sent by the browser):
 * const { csrf } = await (await fetch("/api/session")).json();
 * await fetch("/api/lock", { method: "POST", headers: { [CSRF_HEADER]: csrf } });
 * // without the header the write answers 403 "Forbidden: missing or wrong CSRF token."
 * ```
 */
export const CSRF_HEADER = "x-csrf-token";

const LAUNCH_CODE_TTL_MS = 10 * 60_000;

/**
 * Browser sessions kept at most; beyond it the least recently used one is
 * forgotten (its tab is asked for the passphrase again). Every sign-in (a launch
 * link, the desktop window's page without a session, the passphrase) makes a
 * session and a launch lasts weeks, so without a bound the table only grows.
 *
 * @example
 * ```ts
 * import { AdminGuard, MAX_BROWSER_SESSIONS } from "./mod.ts";
 *
 * MAX_BROWSER_SESSIONS; // 64
 * const guard = new AdminGuard();
 * for (let i = 0; i < 1000; i++) guard.newSession();
 * guard.browserSessionCount; // 64
 * ```
 */
export const MAX_BROWSER_SESSIONS = 64;

function random(): string {
  return crypto.getRandomValues(new Uint8Array(32)).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
}

/** Outcome of authenticating a request. */
export type GuardResult =
  | { ok: true; via: "bearer" | "cookie"; csrf?: string }
  | { ok: false; status: number; error: string };

/**
 * Per-launch admin credentials.
 *
 * @example
 * ```ts
 * import { AdminGuard } from "./mod.ts";
 *
 * const guard = new AdminGuard(); // a random per-launch token
 * guard.setPort(4002);
 * guard.hostAllowed("127.0.0.1:4002"); // true
 * guard.hostAllowed("hub.example.test:4002"); // false (DNS rebinding)
 * const req = new Request("http://127.0.0.1:4002/api/status", {
 *   headers: { authorization: `Bearer ${guard.token}` },
 * });
 * guard.check(req); // { ok: true, via: "bearer" }
 * const code = guard.newLaunchCode(); // handed to the browser through a 0600 file
 * guard.redeem(code); // a new session id (for the cookie); redeemed again: null
 * ```
 */
export class AdminGuard {
  /** The per-launch bearer token (printed on the ready line). */
  readonly token: string;
  #port = 0;
  #browserSessions = new Map<string, string>(); // session id → csrf token
  #launchCodes = new Map<string, number>(); // code → expiry

  /** Makes fresh credentials. */
  constructor(token = random()) {
    this.token = token;
  }

  /** Browser sessions held (at most {@link MAX_BROWSER_SESSIONS}). */
  get browserSessionCount(): number {
    return this.#browserSessions.size;
  }

  /** Sets the port the admin server listens on (Host/Origin checks use it). */
  setPort(port: number): void {
    this.#port = port;
  }

  /** True if `Host` is a loopback name with our port. */
  hostAllowed(host: string | null): boolean {
    if (!host) return false;
    const p = String(this.#port);
    return host === `127.0.0.1:${p}` || host === `localhost:${p}` || host === `[::1]:${p}`;
  }

  /** Issues a one-time code that a browser redeems for a session cookie. */
  newLaunchCode(now = Date.now()): string {
    for (const [c, exp] of this.#launchCodes) if (exp < now) this.#launchCodes.delete(c);
    const code = random();
    this.#launchCodes.set(code, now + LAUNCH_CODE_TTL_MS);
    return code;
  }

  /** Redeems a launch code (once); returns the new session id or null. */
  redeem(code: string, now = Date.now()): string | null {
    const exp = this.#launchCodes.get(code);
    if (exp === undefined) return null;
    this.#launchCodes.delete(code);
    if (exp < now) return null;
    return this.newSession().sid;
  }

  /**
   * Starts a browser session (after a launch code or the passphrase). Sessions
   * live in memory: none outlives this launch of the hub.
   */
  newSession(): { sid: string; csrf: string } {
    const sid = random();
    const csrf = random();
    if (this.#browserSessions.size >= MAX_BROWSER_SESSIONS) {
      // The Map is in last-use order (check() re-inserts): the first is the least recently used.
      this.#browserSessions.delete(this.#browserSessions.keys().next().value as string);
    }
    this.#browserSessions.set(sid, csrf);
    return { sid, csrf };
  }

  /** True when a browser write carries `Origin: http://<Host>` (same-origin). */
  sameOrigin(req: Request): boolean {
    const origin = req.headers.get("origin");
    return origin !== null && origin === `http://${req.headers.get("host")}`;
  }

  /** Checks credentials (and CSRF for browser writes). */
  check(req: Request): GuardResult {
    const auth = req.headers.get("authorization");
    if (auth?.startsWith("Bearer ")) {
      const given = new TextEncoder().encode(auth.slice(7).trim());
      if (timingSafeEqual(given, new TextEncoder().encode(this.token))) {
        return { ok: true, via: "bearer" };
      }
      return { ok: false, status: 401, error: "Unauthorized: wrong admin token." };
    }
    const sid = cookieValue(req.headers.get("cookie"), SESSION_COOKIE);
    const csrf = sid ? this.#browserSessions.get(sid) : undefined;
    if (!sid || csrf === undefined) {
      return { ok: false, status: 401, error: "Unauthorized: open the admin page from the hub." };
    }
    // Refresh its place: at the cap, the sessions in use are the last to be forgotten.
    this.#browserSessions.delete(sid);
    this.#browserSessions.set(sid, csrf);
    if (req.method !== "GET" && req.method !== "HEAD") {
      const origin = req.headers.get("origin");
      const host = req.headers.get("host");
      if (!origin || origin !== `http://${host}`) {
        return { ok: false, status: 403, error: "Forbidden: cross-origin request." };
      }
      const given = req.headers.get(CSRF_HEADER) ?? "";
      if (
        !timingSafeEqual(new TextEncoder().encode(given), new TextEncoder().encode(csrf))
      ) {
        return { ok: false, status: 403, error: "Forbidden: missing or wrong CSRF token." };
      }
    }
    return { ok: true, via: "cookie", csrf };
  }
}

/** Reads one cookie. */
export function cookieValue(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return null;
}
