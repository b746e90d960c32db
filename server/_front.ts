/**
 * The LAN front: accepts TCP connections itself and relays each to the real
 * HTTP server (`Deno.serve` on an ephemeral loopback port), because `Deno.serve`
 * has no header-read, idle or minimum-rate timeout, never closes a silent
 * connection, and ends the process when its accept loop meets the open-files
 * limit (ENGINEERING.md). Limits decided here:
 *
 * - connections per source address (`perSource`, 16) and in total (`total`,
 *   512, lowered to fit the process's open-files limit: each relayed connection
 *   costs three descriptors); beyond either a new connection is closed at once;
 * - `headerMs` (10 s): from connect, or from the first byte of a request, until
 *   the server has its headers; a silent or slowloris client is dropped;
 * - `idleMs` (60 s): an open connection between requests with no traffic;
 * - `writeMs` (30 s): a reply the client does not read;
 * - an accept error (EMFILE...) pauses accepting briefly and never ends the
 *   process. Body progress (a minimum rate) is enforced where bodies are read
 *   (`_http.ts`), which can then ask the front to close the connection.
 *
 * The upstream connection is opened only when the client sends its first byte,
 * so an idle connection costs one descriptor.
 */
import { LogGate, Logger } from "../core/mod.ts";
import { rawBadRequest } from "./_reply.ts";

/** Limits of the front. */
export interface FrontLimits {
  perSource: number;
  total: number;
  headerMs: number;
  idleMs: number;
  writeMs: number;
  /** Exempt loopback from `perSource` (tests and benches that play many phones). */
  exemptLoopback?: boolean;
}

/**
 * Defaults used by the CLI.
 *
 * @example
 * ```ts
 * import { DEFAULT_FRONT_LIMITS, LanServer } from "./mod.ts";
 *
 * DEFAULT_FRONT_LIMITS.perSource; // 16 connections per address
 * DEFAULT_FRONT_LIMITS.headerMs; // 10000 (a silent client is dropped after 10 s)
 * // Given limits are merged over these (`total` is lowered to fit the open-files limit):
 * const server = new LanServer(
 *   { host: "0.0.0.0", port: 4001, front: { perSource: 32 } },
 *   () => null,
 * );
 * ```
 */
export const DEFAULT_FRONT_LIMITS: FrontLimits = {
  perSource: 16,
  total: 512,
  headerMs: 10_000,
  idleMs: 60_000,
  writeMs: 30_000,
};

/** What a request handler learns about the client connection it came on. */
export interface FrontConn {
  /** The client's address (the LAN host, not the relay). */
  readonly source: string;
  /** Closes the client connection once the reply has gone out (unread body left). */
  closeAfterReply(): void;
}

type State = "new" | "headers" | "handler" | "idle";

class Conn implements FrontConn {
  readonly source: string;
  readonly client: Deno.TcpConn;
  upstream: Deno.TcpConn | null = null;
  state: State = "new";
  since: number;
  lastActivity: number;
  /** Last time reply bytes went to the client (or a handler ended). */
  lastReply: number;
  writingSince = 0;
  closeWhenQuiet = false;
  closed = false;
  #onClose: (c: Conn) => void;

  constructor(client: Deno.TcpConn, source: string, now: number, onClose: (c: Conn) => void) {
    this.client = client;
    this.source = source;
    this.since = now;
    this.lastActivity = now;
    this.lastReply = now;
    this.#onClose = onClose;
  }

  closeAfterReply(): void {
    this.closeWhenQuiet = true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.client.close();
    } catch { /* already closed */ }
    try {
      this.upstream?.close();
    } catch { /* already closed */ }
    this.#onClose(this);
  }
}

/** The open-files limit of this process, when the platform tells it. */
function openFilesLimit(): number | null {
  try {
    const line = Deno.readTextFileSync("/proc/self/limits").split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = Number(line?.split(/\s+/)[3]);
    return Number.isFinite(soft) && soft > 0 ? soft : null;
  } catch {
    return null;
  }
}

/**
 * True for loopback addresses (127.0.0.0/8, ::1).
 *
 * @example
 * ```ts
 * import { isLoopback } from "./mod.ts";
 *
 * isLoopback("127.0.0.1"); // true
 * isLoopback("::1"); // true
 * isLoopback("::ffff:127.0.0.1"); // true
 * isLoopback("192.168.1.37"); // false
 * ```
 */
export function isLoopback(addr: string): boolean {
  return addr.startsWith("127.") || addr === "::1" || addr.startsWith("::ffff:127.");
}

/** Accepts LAN connections and relays them to an upstream loopback port. */
export class Front {
  readonly limits: FrontLimits;
  #listener: Deno.TcpListener;
  #upstreamPort: number;
  #conns = new Set<Conn>();
  #bySource = new Map<string, number>();
  /** Upstream local port → connection, so the handler knows the real client. */
  #byUpstreamPort = new Map<number, Conn>();
  #sweep: ReturnType<typeof setInterval>;
  #stopped = false;
  #gate = new LogGate();
  /** Shared with the server's own bad-request replies: one line per source a minute in all. */
  #badRequests: LogGate;
  #logger: Logger;
  #accepting: Promise<void>;
  /** Connections refused at accept (limits) and dropped by a deadline, for status and tests. */
  readonly counters = { refused: 0, dropped: 0, acceptErrors: 0 };

  /** Starts accepting on `listener`, relaying to 127.0.0.1:`upstreamPort`. */
  constructor(
    listener: Deno.TcpListener,
    upstreamPort: number,
    limits: FrontLimits,
    badRequests: LogGate = new LogGate(),
    logger: Logger = new Logger(),
  ) {
    this.#badRequests = badRequests;
    this.#logger = logger;
    const fds = openFilesLimit();
    // Three descriptors per relayed connection, and room for the database, the
    // admin server and the phones' own requests in flight.
    const fit = fds === null ? limits.total : Math.max(8, Math.floor((fds - 200) / 3));
    this.limits = { ...limits, total: Math.min(limits.total, fit) };
    this.#listener = listener;
    this.#upstreamPort = upstreamPort;
    this.#sweep = setInterval(() => this.#check(), 500);
    this.#accepting = this.#acceptLoop();
  }

  /** Open client connections. */
  get size(): number {
    return this.#conns.size;
  }

  /** The connection an upstream request came on (by the relay's local port). */
  lookup(upstreamRemotePort: number): FrontConn | undefined {
    return this.#byUpstreamPort.get(upstreamRemotePort);
  }

  /** Marks a request as being handled (no front deadline applies meanwhile). */
  begin(conn: FrontConn): void {
    const c = conn as Conn;
    c.state = "handler";
  }

  /** Marks the end of a request's handler. */
  end(conn: FrontConn): void {
    const c = conn as Conn;
    if (c.state === "handler") c.state = "idle";
    c.lastActivity = c.lastReply = Date.now();
  }

  /** Stops accepting and closes every connection. */
  async close(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#sweep);
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    for (const c of [...this.#conns]) c.close();
    await this.#accepting;
  }

  async #acceptLoop(): Promise<void> {
    let backoff = 10;
    while (!this.#stopped) {
      let client: Deno.TcpConn;
      try {
        client = await this.#listener.accept();
        backoff = 10;
      } catch (err) {
        if (this.#stopped || err instanceof Deno.errors.BadResource) return;
        // EMFILE and friends: the connection stays in the kernel's backlog; wait
        // for descriptors to free up instead of ending the process.
        this.counters.acceptErrors++;
        if (this.#gate.admit("accept") !== null) {
          this.#logger.log("error", "lan.accept_failed", { error: err, open: this.#conns.size });
        }
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 1000);
        continue;
      }
      const source = (client.remoteAddr as Deno.NetAddr).hostname;
      const mine = this.#bySource.get(source) ?? 0;
      const sourceCapped = mine >= this.limits.perSource &&
        !(this.limits.exemptLoopback && isLoopback(source));
      if (this.#conns.size >= this.limits.total || sourceCapped) {
        this.counters.refused++;
        if (this.#gate.admit(`refuse:${source}`) !== null) {
          this.#logger.log("warn", "lan.connection_refused", {
            source,
            reason: sourceCapped ? "per_source" : "total",
            open: this.#conns.size,
          });
        }
        try {
          client.close();
        } catch { /* gone */ }
        continue;
      }
      try {
        client.setNoDelay(true);
      } catch { /* not fatal */ }
      const conn = new Conn(client, source, Date.now(), (c) => this.#forget(c));
      this.#conns.add(conn);
      this.#bySource.set(source, mine + 1);
      this.#relay(conn).catch(() => conn.close());
    }
  }

  #forget(c: Conn): void {
    if (!this.#conns.delete(c)) return;
    const n = (this.#bySource.get(c.source) ?? 1) - 1;
    if (n <= 0) this.#bySource.delete(c.source);
    else this.#bySource.set(c.source, n);
    if (c.upstream) {
      this.#byUpstreamPort.delete((c.upstream.localAddr as Deno.NetAddr).port);
    }
  }

  /**
   * Copies client → upstream (connecting on the first byte) and upstream → client.
   * The head of each request (request line and headers) is held back until it is
   * complete and checked, so a malformed one gets a plain-text 400 here (the
   * server behind would answer an empty one).
   */
  async #relay(c: Conn): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    let down: Promise<void> | null = null;
    let head: Uint8Array | null = null;
    try {
      while (!c.closed) {
        const n = await c.client.read(buf);
        if (n === null) break;
        const now = Date.now();
        c.lastActivity = now;
        if (c.state === "new" || c.state === "idle") {
          c.state = "headers";
          c.since = now;
          head = new Uint8Array(0);
        }
        let chunk: Uint8Array = buf.subarray(0, n);
        if (head !== null) {
          const joined: Uint8Array = new Uint8Array(head.length + n);
          joined.set(head);
          joined.set(chunk, head.length);
          const end = headEnd(joined);
          if (end < 0 && joined.length < MAX_HEAD_BYTES) {
            head = joined;
            continue;
          }
          const fault = end < 0 ? "request head too large" : checkHead(joined.subarray(0, end));
          if (fault) {
            const suppressed = this.#badRequests.admit(c.source);
            if (suppressed !== null) {
              this.#logger.log("warn", "lan.bad_request", {
                source: c.source,
                reason: fault,
                suppressed,
              });
            }
            await writeAll(c.client, rawBadRequest(fault)).catch(() => {});
            break;
          }
          head = null;
          chunk = joined;
        }
        if (!c.upstream) {
          try {
            c.upstream = await Deno.connect({ hostname: "127.0.0.1", port: this.#upstreamPort });
          } catch (err) {
            if (this.#gate.admit("upstream") !== null) {
              this.#logger.log("error", "lan.relay_connect_failed", { error: err });
            }
            break;
          }
          if (c.closed) break;
          this.#byUpstreamPort.set((c.upstream.localAddr as Deno.NetAddr).port, c);
          down = this.#down(c);
        }
        await writeAll(c.upstream, chunk);
      }
    } finally {
      // The client finished sending (or failed): let the reply finish, then close.
      if (down && !c.closed) {
        try {
          await c.upstream?.closeWrite();
        } catch { /* gone */ }
        await down;
      }
      c.close();
    }
  }

  async #down(c: Conn): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    try {
      while (!c.closed) {
        const n = await c.upstream!.read(buf);
        if (n === null) break;
        c.writingSince = Date.now();
        await writeAll(c.client, buf.subarray(0, n));
        c.writingSince = 0;
        c.lastActivity = c.lastReply = Date.now();
      }
    } catch {
      // Either side went away.
    } finally {
      c.close();
    }
  }

  /** Applies the deadlines (every 500 ms). */
  #check(): void {
    const now = Date.now();
    const l = this.limits;
    for (const c of this.#conns) {
      let why: string | null = null;
      if (c.closeWhenQuiet && c.state !== "handler" && now - c.lastReply > 200) {
        // A body was left unread: close once the reply is out, whatever still arrives.
        why = "unread_body";
      } else if (c.writingSince && now - c.writingSince > l.writeMs) why = "reply_not_read";
      else if ((c.state === "new" || c.state === "headers") && now - c.since > l.headerMs) {
        why = c.state === "new" ? "silent" : "slow_headers";
      } else if (c.state === "idle" && now - c.lastActivity > l.idleMs) why = "idle";
      if (!why) continue;
      if (why !== "idle" && why !== "unread_body") {
        this.counters.dropped++;
        if (this.#gate.admit(`drop:${c.source}`) !== null) {
          this.#logger.log("warn", "lan.connection_dropped", { source: c.source, reason: why });
        }
      }
      c.close();
    }
  }
}

/** The longest request head (request line + headers) held back for checking. */
const MAX_HEAD_BYTES = 64 * 1024;
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const REQUEST_LINE = new RegExp(`^${TOKEN} [\\x21-\\x7e]+ HTTP/1\\.[01]$`);
const HEADER_LINE = new RegExp(`^${TOKEN}:[\\t\\x20-\\x7e\\x80-\\xff]*$`);

/** Where a request head ends (index of its blank line), or -1 while incomplete. */
function headEnd(bytes: Uint8Array): number {
  // Blank lines before a request line are ignored (RFC 9112 §2.2).
  let start = 0;
  while (start < bytes.length && (bytes[start] === 13 || bytes[start] === 10)) start++;
  for (let i = start; i + 1 < bytes.length; i++) {
    if (bytes[i] !== 10) continue;
    if (bytes[i + 1] === 10) return i;
    if (bytes[i + 1] === 13 && bytes[i + 2] === 10) return i;
  }
  return -1;
}

/** What is wrong with a request head (request line and header lines), or null. */
function checkHead(bytes: Uint8Array): string | null {
  // latin1: every byte one character, so nothing is lost to UTF-8 decoding.
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  const lines = text.replace(/^(\r?\n)+/, "").replace(/\r$/, "").split(/\r?\n/);
  if (!REQUEST_LINE.test(lines[0] ?? "")) return "malformed request line";
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    if (!HEADER_LINE.test(line)) return "malformed header";
  }
  return null;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}
