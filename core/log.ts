/**
 * One structured logger: one JSON object per line on stderr. Fields whose name
 * looks like a secret are replaced at any depth before anything is written, so a
 * careless call can not leak a passphrase, key or token into a log file.
 */

/**
 * A field is redacted when its name, lower-cased without `_` and `-`, contains
 * one of these: every secret the hub holds is named so (`dbKey`,
 * `pendingDbKey`, `hubPrivateKey`, `jwtKey`, `apiKey`, `sessionToken`, `csrf`,
 * `passphrase`, `hashed_password`, `cookie`, `authorization`, the envelope's
 * `payload`). Matching by part, not by the whole name, so a new secret field
 * named like the others is covered without a change here.
 */
const REDACTED_PARTS = [
  "key",
  "token",
  "secret",
  "password",
  "passphrase",
  "private",
  "csrf",
  "cookie",
  "authorization",
  "payload",
  "jwt",
  "signature",
];

/**
 * Whether a field of this name is redacted.
 *
 * @example
 * ```ts
 * import { isSecretField } from "./mod.ts";
 *
 * isSecretField("dbKey"); // true
 * isSecretField("hashed_password"); // true
 * isSecretField("X-CSRF-Token"); // true
 * isSecretField("hubId"); // false
 * ```
 */
export function isSecretField(name: string): boolean {
  const n = name.toLowerCase().replaceAll("_", "").replaceAll("-", "");
  return REDACTED_PARTS.some((p) => n.includes(p));
}

/** Log levels in increasing severity. */
export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A sink receives already-redacted, serialised lines (tests capture them). */
export type LogSink = (line: string) => void;

/**
 * The hub's usual sink: one line on stderr.
 *
 * @example
 * ```ts
 * import { Logger, stderrSink } from "./mod.ts";
 *
 * const logger = new Logger({ level: "info", sink: stderrSink });
 * logger.log("info", "hub.ready", { admin: "http://127.0.0.1:4002" });
 * // stderr: {"time":"2026-01-05T09:00:00.000Z","level":"info","event":"hub.ready","admin":"http://127.0.0.1:4002"}
 * ```
 */
export const stderrSink: LogSink = (line) => {
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
};

/**
 * The level `HUB_LOG_LEVEL` asks for; `info` when unset, invalid or unreadable.
 *
 * @example
 * ```ts
 * import { levelFromEnv, Logger } from "./mod.ts";
 *
 * // HUB_LOG_LEVEL=debug deno run --allow-env ... main.ts
 * levelFromEnv(); // "debug" ("info" when unset, misspelt or without --allow-env)
 * const logger = new Logger({ level: levelFromEnv() }); // what `new Logger()` does
 * ```
 */
export function levelFromEnv(): LogLevel {
  try {
    const v = Deno.env.get("HUB_LOG_LEVEL");
    if (v === "debug" || v === "info" || v === "warn" || v === "error") return v;
  } catch {
    // Without --allow-env the default applies.
  }
  return "info";
}

/** Deeper than this a value is not written at all (never written unredacted). */
const MAX_DEPTH = 12;

function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth > MAX_DEPTH) return "[too deep]";
  if (value instanceof Error) return { name: value.name, message: value.message };
  // Raw bytes are keys or ciphertext more often than not: only their size is told.
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    return `[${value.byteLength} bytes]`;
  }
  if (seen.has(value)) return "[circular]";
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, seen));
  const entries = value instanceof Map
    ? [...value.entries()].map(([k, v]) => [String(k), v] as const)
    : Object.entries(value as Record<string, unknown>);
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    out[k] = isSecretField(k) ? "[redacted]" : redact(v, depth + 1, seen);
  }
  return out;
}

/** Options of a {@link Logger}. */
export interface LoggerOptions {
  /** Lowest level written (default: {@link levelFromEnv}). */
  level?: LogLevel;
  /** Where lines go (default: {@link stderrSink}). */
  sink?: LogSink;
}

/**
 * The structured logger. `main.ts` makes one and hands it to the `Hub`, which
 * hands it to every part (servers, relay, updater, event feed); nothing logs
 * through a global. Secrets are redacted by field name at any depth.
 *
 * @example
 * ```ts
 * import { Logger } from "./mod.ts";
 *
 * const lines: string[] = [];
 * const logger = new Logger({ level: "debug", sink: (l) => lines.push(l) });
 * logger.log("info", "hub.unlocked", { dbKey: "never written" }); // dbKey: "[redacted]"
 * ```
 */
export class Logger {
  /** Lowest level written. */
  readonly level: LogLevel;
  #sink: LogSink;

  /** A logger writing at `level` and above to `sink`. */
  constructor(options: LoggerOptions = {}) {
    this.level = options.level ?? levelFromEnv();
    this.#sink = options.sink ?? stderrSink;
  }

  /** Writes one event. `fields` must not hold patient data; secrets are redacted anyway. */
  log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
    if (ORDER[level] < ORDER[this.level]) return;
    const line = JSON.stringify({
      time: new Date().toISOString(),
      level,
      event,
      ...(redact(fields) as Record<string, unknown>),
    });
    try {
      this.#sink(line);
    } catch {
      // A closed stderr must never take the hub down.
    }
  }
}

/**
 * A logger that keeps its lines in memory (tests read them; the oldest half is
 * dropped past `max`).
 *
 * @example
 * ```ts
 * import { memoryLogger } from "./mod.ts";
 *
 * const { logger, lines } = memoryLogger();
 * logger.log("warn", "x", {});
 * lines.length; // 1
 * ```
 */
export function memoryLogger(
  options: { level?: LogLevel; max?: number } = {},
): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const max = options.max ?? 20_000;
  const logger = new Logger({
    level: options.level ?? "info",
    sink: (line) => {
      lines.push(line);
      if (lines.length > max) lines.splice(0, Math.floor(max / 2));
    },
  });
  return { logger, lines };
}
