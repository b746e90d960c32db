/**
 * The HTTP client of the cloud's hub API (SPEC §7). It knows URLs, headers,
 * status codes, timeouts and the shape of a pull reply; it does not know the
 * database. It is the relay's `CloudPeer`.
 */
import { HubError } from "../core/mod.ts";
import { ChangesFormatError, streamChanges, type StreamedChange } from "./_changes_stream.ts";
import type { CloudPeer, PullEnd } from "./_peer.ts";

/** Why a cloud call failed, in the terms the sync health shows. */
export type CloudFailure = "auth" | "rate_limited" | "unreachable" | "server" | "protocol";

/**
 * A failed cloud call.
 *
 * @example
 * ```ts
 * import { CloudError } from "./mod.ts";
 *
 * const err = new CloudError("rate_limited", "The cloud asked us to slow down for 30 s.", {
 *   retryAfterSeconds: 30,
 *   status: 429,
 * });
 * err.code; // "cloud_rate_limited"
 * err.kind; // "rate_limited"
 * err.retryAfterSeconds; // 30
 * ```
 */
export class CloudError extends HubError {
  /** The kind of failure. */
  readonly kind: CloudFailure;
  /** For 429: seconds the cloud asked us to wait. */
  readonly retryAfterSeconds: number | null;

  /** Creates the error. */
  constructor(
    kind: CloudFailure,
    message: string,
    options: { retryAfterSeconds?: number | null; cause?: unknown; status?: number } = {},
  ) {
    super(`cloud_${kind}`, options.status ?? 502, message, { cause: options.cause });
    this.kind = kind;
    this.retryAfterSeconds = options.retryAfterSeconds ?? null;
  }
}

/** The hub's device row as the cloud's verify-key returns it. */
export interface CloudDevice {
  id: string;
  name: string;
  clinic_ids: string[];
  [key: string]: unknown;
}

/** Timeouts of cloud calls. */
export interface CloudTimeouts {
  /** Until response headers arrive. */
  connectMs: number;
  /** For a whole pull or push body. */
  transferMs: number;
}

/** Longest wait for a pull reply's headers (a large first sync is computed before they are sent). */
const PULL_HEADERS_MS = 5 * 60_000;

/**
 * Defaults: generous, since a clinic's uplink may be slow.
 *
 * @example
 * ```ts
 * import { CloudClient, DEFAULT_TIMEOUTS } from "./mod.ts";
 *
 * DEFAULT_TIMEOUTS; // { connectMs: 30000, transferMs: 900000 }
 * const key = "hh_" + "0".repeat(64);
 * const cloud = new CloudClient("https://cloud.example.org", key, {
 *   ...DEFAULT_TIMEOUTS,
 *   connectMs: 10_000,
 * });
 * ```
 */
export const DEFAULT_TIMEOUTS: CloudTimeouts = { connectMs: 30_000, transferMs: 15 * 60_000 };

/**
 * Checks a cloud URL: https, or http only for loopback or with explicit opt-in.
 *
 * @example
 * ```ts
 * import { checkCloudUrl } from "./mod.ts";
 *
 * checkCloudUrl(" https://cloud.example.org/hikma/ "); // "https://cloud.example.org/hikma"
 * checkCloudUrl("http://127.0.0.1:3000"); // "http://127.0.0.1:3000"
 * checkCloudUrl("http://192.168.1.5:3000", true); // "http://192.168.1.5:3000"
 * checkCloudUrl("http://cloud.example.org"); // throws HubError `insecure_url`
 * ```
 */
export function checkCloudUrl(raw: string, allowInsecure = false): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new HubError("bad_url", 400, "The cloud address is not a valid URL.");
  }
  const loopback = url.hostname === "localhost" || url.hostname === "127.0.0.1" ||
    url.hostname === "[::1]";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && (loopback || allowInsecure))) {
    throw new HubError(
      "insecure_url",
      400,
      "The cloud address must start with https:// (plain http is allowed only for this computer, or when explicitly allowed).",
    );
  }
  if (url.username || url.password) {
    throw new HubError(
      "bad_url",
      400,
      "The cloud address must not contain a user name or password.",
    );
  }
  return url.origin + url.pathname.replace(/\/+$/, "");
}

function retryAfter(res: Response): number | null {
  const h = res.headers.get("retry-after");
  if (!h) return null;
  const n = Number(h);
  if (Number.isFinite(n) && n >= 0) return Math.min(n, 3600);
  const at = Date.parse(h);
  return Number.isNaN(at) ? null : Math.max(0, Math.min((at - Date.now()) / 1000, 3600));
}

/**
 * Client of one cloud server; the hub builds one per registration and hands it
 * to the relay as its {@link CloudPeer}.
 *
 * @example
 * ```ts
 * import { CloudClient, DEFAULT_TIMEOUTS } from "./mod.ts";
 *
 * const key = "hh_" + "0".repeat(64);
 * const cloud = new CloudClient("https://cloud.example.org", key, DEFAULT_TIMEOUTS);
 * const device = await cloud.verifyKey(); // the hub's device row: id, name, clinic_ids
 * ```
 */
export class CloudClient implements CloudPeer {
  readonly baseUrl: string;
  #apiKey: string;
  #timeouts: CloudTimeouts;

  /** `baseUrl` must already be checked with {@link checkCloudUrl}. */
  constructor(baseUrl: string, apiKey: string, timeouts: CloudTimeouts = DEFAULT_TIMEOUTS) {
    this.baseUrl = baseUrl;
    this.#apiKey = apiKey;
    this.#timeouts = timeouts;
  }

  /**
   * Fetches with a limit on the time until the response headers arrive. The
   * caller's `signal` stays attached to the response: it must still be able to
   * abort reading the body (a transfer timeout, or the relay stopping).
   */
  async #fetch(
    path: string,
    init: RequestInit,
    signal?: AbortSignal,
    headersMs = this.#timeouts.connectMs,
  ): Promise<Response> {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(new Error("timeout")), headersMs);
    try {
      return await fetch(this.baseUrl + path, {
        ...init,
        signal: signal ? AbortSignal.any([ctl.signal, signal]) : ctl.signal,
      });
    } catch (err) {
      // The operator gets what to do; the low-level reason ("error sending
      // request...") stays in `cause`, for the log.
      const what = ctl.signal.aborted
        ? `did not answer within ${Math.round(headersMs / 1000)} s (timed out)`
        : "could not be reached";
      throw new CloudError(
        "unreachable",
        `The cloud at ${this.baseUrl} ${what}. Check this computer's internet ` +
          "connection and the cloud's address; changes wait here and go out by themselves " +
          "once it is reachable.",
        { cause: err },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async #failure(res: Response): Promise<CloudError> {
    const body = await res.text().catch(() => "");
    let detail = "";
    try {
      const j = JSON.parse(body);
      if (j && typeof j.error === "string") detail = j.error;
    } catch {
      // not JSON
    }
    if (res.status === 401 || res.status === 403) {
      return new CloudError(
        "auth",
        "The cloud refused the hub's API key (it was revoked or is wrong). Ask the cloud's " +
          "administrator for a new key, then re-register the hub with it: Maintenance, " +
          "“Link to another cloud or key”.",
        { status: 401 },
      );
    }
    if (res.status === 429) {
      const s = retryAfter(res);
      return new CloudError(
        "rate_limited",
        `The cloud asked us to slow down${s !== null ? ` for ${s} s` : ""}.`,
        {
          retryAfterSeconds: s,
          status: 429,
        },
      );
    }
    const why = detail ? ` (${detail.slice(0, 200)})` : "";
    if (res.status === 404) {
      return new CloudError(
        "server",
        `No Hikma Health sync service answers at ${this.baseUrl} (HTTP 404). Check the cloud's ` +
          "address: it is the server's base address, such as https://clinic.example.org, " +
          "without a path.",
        { status: 502 },
      );
    }
    if (res.status >= 500) {
      return new CloudError(
        "server",
        `The cloud had an internal error (HTTP ${res.status})${why}. The hub tries again by ` +
          "itself; if this keeps happening, tell the cloud's administrator.",
        { status: 502 },
      );
    }
    return new CloudError(
      "server",
      `The cloud refused the request (HTTP ${res.status})${why}. Check the cloud's address; ` +
        "if it is right, tell the cloud's administrator.",
      { status: 502 },
    );
  }

  /** POST /api/hub/verify-key → the hub's device row. */
  async verifyKey(): Promise<CloudDevice> {
    const res = await this.#fetch("/api/hub/verify-key", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ api_key: this.#apiKey }),
    });
    if (!res.ok) throw await this.#failure(res);
    let j: Record<string, unknown>;
    try {
      j = await res.json();
    } catch (err) {
      throw new CloudError("protocol", "The cloud's verify-key answer is not JSON.", {
        cause: err,
      });
    }
    const device = (j.device && typeof j.device === "object" ? j.device : j) as Record<
      string,
      unknown
    >;
    if (typeof device.id !== "string") {
      throw new CloudError("protocol", "The cloud's verify-key answer has no device id.");
    }
    return {
      ...device,
      id: device.id,
      name: typeof device.name === "string" ? device.name : "Local Sync Hub",
      clinic_ids: Array.isArray(device.clinic_ids) ? device.clinic_ids.map(String) : [],
    };
  }

  /** Where the cloud is (the checked base URL). */
  get url(): string {
    return this.baseUrl;
  }

  /**
   * GET /api/v2/sync, read as a stream (see `_changes_stream.ts`): each row goes
   * to `onChange` as it arrives; the whole pull, body included, is bounded by
   * the transfer timeout. A broken or stalled body is `unreachable`, a malformed
   * one `protocol`; what `onChange` throws passes through unchanged.
   */
  async pull(
    lastPulledAt: number,
    onChange: (change: StreamedChange) => void | Promise<void>,
    signal: AbortSignal,
  ): Promise<PullEnd> {
    const transfer = AbortSignal.any([signal, AbortSignal.timeout(this.#timeouts.transferMs)]);
    const res = await this.#pullResponse(lastPulledAt, transfer);
    // Errors of the caller's merge are the caller's, not a broken connection.
    const caller = { failed: false, error: undefined as unknown };
    let summary;
    try {
      summary = await streamChanges(res.body!, async (c) => {
        try {
          await onChange(c);
        } catch (err) {
          caller.failed = true;
          caller.error = err;
          throw err;
        }
      });
    } catch (err) {
      if (caller.failed) throw caller.error;
      if (err instanceof HubError) throw err;
      if (err instanceof ChangesFormatError) {
        throw new CloudError("protocol", `The cloud's pull reply is malformed: ${err.message}`);
      }
      throw new CloudError(
        "unreachable",
        `The connection to the cloud broke during the pull (${(err as Error).message}).`,
        { cause: err },
      );
    }
    if (summary.success !== true || typeof summary.timestamp !== "number") {
      throw new CloudError(
        "protocol",
        "The cloud's pull reply has no success flag or timestamp.",
      );
    }
    return { timestamp: summary.timestamp };
  }

  /** A TCP connect to the cloud's host and port: cheap, and enough to tell it is back. */
  async reachable(): Promise<boolean> {
    const url = new URL(this.baseUrl);
    const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
    try {
      const conn = await Deno.connect({ hostname: url.hostname, port });
      conn.close();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The pull's response, whose body {@link pull} streams. The cloud may build a
   * whole first-sync reply before its headers go out, so the wait for them is
   * longer than `connectMs`: up to 5 minutes, within `transferMs`.
   */
  async #pullResponse(lastPulledAt: number, signal: AbortSignal): Promise<Response> {
    const q = `lastPulledAt=${encodeURIComponent(String(lastPulledAt))}&peerType=sync_hub`;
    const headersMs = Math.max(
      this.#timeouts.connectMs,
      Math.min(this.#timeouts.transferMs, PULL_HEADERS_MS),
    );
    const res = await this.#fetch(
      `/api/v2/sync?${q}`,
      {
        method: "GET",
        headers: { authorization: `Bearer ${this.#apiKey}`, accept: "application/json" },
      },
      signal,
      headersMs,
    );
    if (!res.ok || !res.body) throw await this.#failure(res);
    return res;
  }

  /**
   * POST /api/v2/sync with a changes object. The whole exchange is bounded by the
   * transfer timeout, headers included: they come only after the upload and the
   * cloud's writes, which for a full chunk on a slow uplink outlast `connectMs`.
   */
  async push(changesJson: string, signal?: AbortSignal): Promise<void> {
    const limit = AbortSignal.timeout(this.#timeouts.transferMs);
    const all = signal ? AbortSignal.any([signal, limit]) : limit;
    const res = await this.#fetch(
      "/api/v2/sync?peerType=sync_hub",
      {
        method: "POST",
        headers: {
          authorization: `Bearer ${this.#apiKey}`,
          "content-type": "application/json",
        },
        body: changesJson,
      },
      all,
      this.#timeouts.transferMs,
    );
    if (!res.ok) throw await this.#failure(res);
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new CloudError(
        "unreachable",
        `The connection to the cloud broke during the push (${(err as Error).message}).`,
        { cause: err },
      );
    }
    try {
      const j = JSON.parse(text);
      if (j && j.success === false) {
        throw new CloudError(
          "server",
          `The cloud refused the push: ${String(j.error ?? "no reason")}`,
        );
      }
    } catch (err) {
      if (err instanceof CloudError) throw err;
      throw new CloudError("protocol", "The cloud's push answer is not JSON.");
    }
  }
}
