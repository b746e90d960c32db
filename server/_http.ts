/** HTTP helpers of the LAN server: bounded body reads (replies are `_reply.ts`'s). */
import { HubError } from "../core/mod.ts";

/**
 * How a body must arrive. A minimum rate, not only one long deadline: within
 * every `windowMs` the body either completes or at least `minBytes` more arrive,
 * so a client sending a byte every few seconds is cut off within one window
 * instead of holding its place for the whole `timeoutMs`.
 */
export interface BodyPace {
  maxBytes: number;
  timeoutMs: number;
  minBytes: number;
  windowMs: number;
}

/** Default body pace: 16 KiB per 5 s at least (a phone on Wi-Fi sends MB/s). */
export const DEFAULT_BODY_PACE = { minBytes: 16 * 1024, windowMs: 5_000 } as const;

/**
 * Reads a request body in steps (a prefix first, then the rest), enforcing the
 * size limit (Content-Length first, then while reading, so a lying header cannot
 * get more in), the overall deadline and the minimum rate. `charge` is asked
 * before each chunk is kept; false stops the read with 503 (the shared body
 * budget is spent). Reading stops as soon as a limit is passed.
 */
export class BodyReader {
  #reader: ReadableStreamDefaultReader<Uint8Array> | null;
  #pace: BodyPace;
  #charge: (n: number) => boolean;
  #chunks: Uint8Array[] = [];
  #total = 0;
  #done = false;
  #pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
  #deadline: number;
  #windowStart: number;
  #windowBytes = 0;

  /** Starts reading `req`'s body under `pace`. */
  constructor(req: Request, pace: BodyPace, charge: (n: number) => boolean = () => true) {
    const declared = req.headers.get("content-length");
    if (declared !== null && Number(declared) > pace.maxBytes) {
      throw new HubError("too_large", 413, `Request body is larger than ${pace.maxBytes} bytes.`);
    }
    this.#reader = req.body ? req.body.getReader() : null;
    if (!this.#reader) this.#done = true;
    this.#pace = pace;
    this.#charge = charge;
    const now = Date.now();
    this.#deadline = now + pace.timeoutMs;
    this.#windowStart = now;
  }

  /** Bytes read so far. */
  get total(): number {
    return this.#total;
  }

  /** True once the whole body is in. */
  get done(): boolean {
    return this.#done;
  }

  /** Reads until at least `n` bytes are in (or the body ends); returns what is in. */
  async readAtLeast(n: number): Promise<Uint8Array> {
    await this.#pump(n);
    return this.#joined();
  }

  /** Reads the whole body. */
  async readAll(): Promise<Uint8Array<ArrayBuffer>> {
    await this.#pump(Infinity);
    return this.#joined();
  }

  /** Stops reading (the rest of the body is left unread). */
  cancel(): void {
    this.#reader?.cancel().catch(() => {});
    this.#reader = null;
  }

  async #pump(until: number): Promise<void> {
    const reader = this.#reader;
    if (!reader) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      while (!this.#done && this.#total < until) {
        this.#pending ??= reader.read();
        const now = Date.now();
        const checkAt = Math.min(this.#windowStart + this.#pace.windowMs, this.#deadline);
        const tick = new Promise<"tick">((resolve) => {
          timer = setTimeout(() => resolve("tick"), Math.max(0, checkAt - now));
        });
        const r = await Promise.race([this.#pending, tick]);
        clearTimeout(timer);
        if (r === "tick") {
          const at = Date.now();
          if (at >= this.#deadline) {
            throw new HubError("timeout", 408, "The request body took too long to arrive.");
          }
          if (this.#windowBytes < this.#pace.minBytes) {
            throw new HubError("too_slow", 408, "The request body is arriving too slowly.");
          }
          this.#windowStart = at;
          this.#windowBytes = 0;
          continue;
        }
        this.#pending = null;
        if (r.done) {
          this.#done = true;
          break;
        }
        const value = r.value;
        if (this.#total + value.length > this.#pace.maxBytes) {
          throw new HubError(
            "too_large",
            413,
            `Request body is larger than ${this.#pace.maxBytes} bytes.`,
          );
        }
        if (!this.#charge(value.length)) {
          throw new HubError(
            "busy",
            503,
            "The hub is busy receiving other requests; try again shortly.",
          );
        }
        this.#total += value.length;
        this.#windowBytes += value.length;
        this.#chunks.push(value);
      }
    } catch (err) {
      clearTimeout(timer);
      this.cancel();
      if (err instanceof HubError) throw err;
      // The client went away mid-body (BadResource, reset): its fault, not ours.
      throw new HubError("client_gone", 400, "The connection closed before the body arrived.", {
        cause: err,
      });
    }
  }

  #joined(): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(this.#total);
    let off = 0;
    for (const c of this.#chunks) {
      out.set(c, off);
      off += c.length;
    }
    this.#chunks = out.length > 0 ? [out] : [];
    return out;
  }
}

/** Reads a whole request body under `pace` (see {@link BodyReader}). */
export async function readBody(
  req: Request,
  maxBytes: number,
  timeoutMs: number,
  pace: { minBytes: number; windowMs: number } = DEFAULT_BODY_PACE,
): Promise<Uint8Array<ArrayBuffer>> {
  return await new BodyReader(req, { maxBytes, timeoutMs, ...pace }).readAll();
}

/**
 * Bytes of request bodies held right now, in all and per source address. A
 * chunk is charged as it arrives (what is held, not what is announced), so a
 * slow or lying upload holds only what it really sent; one source may hold at
 * most `perSource` (half the total by default), so it cannot take every phone's
 * place.
 */
export class BodyBudget {
  readonly max: number;
  readonly perSource: number;
  #inFlight = 0;
  #bySource = new Map<string, number>();

  /** A budget of `max` bytes, at most `perSource` of them for one address. */
  constructor(max: number, perSource = Math.floor(max / 2)) {
    this.max = max;
    this.perSource = perSource;
  }

  /** Bytes held in all. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Bytes held by one source. */
  heldBy(source: string): number {
    return this.#bySource.get(source) ?? 0;
  }

  /** An account for one request from `source`; always `release()` it. */
  account(source: string): { charge: (n: number) => boolean; release: () => void } {
    let held = 0;
    return {
      charge: (n) => {
        const mine = this.#bySource.get(source) ?? 0;
        if (this.#inFlight + n > this.max || mine + n > this.perSource) return false;
        this.#inFlight += n;
        this.#bySource.set(source, mine + n);
        held += n;
        return true;
      },
      release: () => {
        if (held === 0) return;
        this.#inFlight -= held;
        const left = (this.#bySource.get(source) ?? held) - held;
        if (left <= 0) this.#bySource.delete(source);
        else this.#bySource.set(source, left);
        held = 0;
      },
    };
  }
}

/** Parses a JSON object body; throws 400 with a plain reason. */
export function parseJsonObject(bytes: Uint8Array): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new HubError("bad_request", 400, "Body is not valid JSON.");
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new HubError("bad_request", 400, "Body must be a JSON object.");
  }
  return v as Record<string, unknown>;
}
