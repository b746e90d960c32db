/**
 * Request hygiene shared by both servers: a URL that never throws on a malformed
 * Host header, and a log gate so a flood of bad requests from one source writes
 * at most one line a minute.
 */

/**
 * The request's URL, or null when the Host header (or absolute target) makes it
 * unparsable (`Host: a:b`, `[zz]`, `127.0.0.1:99999`): `new URL(req.url)` throws
 * on those, and a throw would answer 500 and log each time.
 *
 * @example
 * ```ts
 * import { requestUrl } from "./mod.ts";
 *
 * Deno.serve((req) => {
 *   const url = requestUrl(req); // null for `Host: a:b`
 *   if (!url) return new Response("Bad request", { status: 400 });
 *   return new Response(`you asked for ${url.pathname}`);
 * });
 * ```
 */
export function requestUrl(req: Request): URL | null {
  try {
    return new URL(req.url);
  } catch {
    return null;
  }
}

/**
 * Allows one log line per key (a source address) per `windowMs`, counting what
 * it suppressed. Bounded: at most `maxKeys` keys are remembered.
 *
 * @example
 * ```ts
 * import { LogGate } from "./mod.ts";
 *
 * let now = 0;
 * const gate = new LogGate(60_000, () => now);
 * gate.admit("192.168.1.50"); // 0: write the line
 * gate.admit("192.168.1.50"); // null: same minute, suppressed
 * gate.admit("192.168.1.50"); // null
 * now = 60_000;
 * gate.admit("192.168.1.50"); // 2: write it, saying 2 were suppressed
 * ```
 */
export class LogGate {
  #last = new Map<string, { at: number; suppressed: number }>();
  #windowMs: number;
  #maxKeys: number;
  #now: () => number;

  /** One line per key per `windowMs` (default one minute). */
  constructor(windowMs = 60_000, now: () => number = Date.now, maxKeys = 4096) {
    this.#windowMs = windowMs;
    this.#now = now;
    this.#maxKeys = maxKeys;
  }

  /**
   * Returns null when `key` already logged within the window, else how many lines
   * were suppressed since its last one (0 the first time).
   */
  admit(key: string): number | null {
    const now = this.#now();
    const e = this.#last.get(key);
    if (e && now - e.at < this.#windowMs) {
      e.suppressed++;
      return null;
    }
    const suppressed = e?.suppressed ?? 0;
    this.#last.delete(key);
    if (this.#last.size >= this.#maxKeys) {
      this.#last.delete(this.#last.keys().next().value as string);
    }
    this.#last.set(key, { at: now, suppressed: 0 });
    return suppressed;
  }
}
