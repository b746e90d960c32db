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

/** Whether a field of this name is redacted. */
export function isSecretField(name: string): boolean {
  const n = name.toLowerCase().replaceAll("_", "").replaceAll("-", "");
  return REDACTED_PARTS.some((p) => n.includes(p));
}

/** Log levels in increasing severity. */
export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A sink receives already-redacted, serialised lines (tests capture them). */
export type LogSink = (line: string) => void;

let sink: LogSink = (line) => {
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
};
let threshold: LogLevel = initialLevel();

function initialLevel(): LogLevel {
  try {
    const v = Deno.env.get("HUB_LOG_LEVEL");
    if (v === "debug" || v === "info" || v === "warn" || v === "error") return v;
  } catch {
    // Without --allow-env the default applies.
  }
  return "info";
}

/** Replaces the output of the logger (returns the previous sink). */
export function setLogSink(next: LogSink): LogSink {
  const prev = sink;
  sink = next;
  return prev;
}

/** Sets the lowest level that is written. */
export function setLogLevel(level: LogLevel): void {
  threshold = level;
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

/** Writes one event. `fields` must not hold patient data; secrets are redacted anyway. */
export function log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
  if (ORDER[level] < ORDER[threshold]) return;
  const line = JSON.stringify({
    time: new Date().toISOString(),
    level,
    event,
    ...(redact(fields) as Record<string, unknown>),
  });
  try {
    sink(line);
  } catch {
    // A closed stderr must never take the hub down.
  }
}
