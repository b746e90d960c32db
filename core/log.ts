/**
 * One structured logger: one JSON object per line on stderr. Field names on the
 * redaction list are replaced before anything is written, so a careless call can
 * not leak a passphrase, key or token into a log file.
 */

const REDACTED_KEYS = new Set([
  "passphrase",
  "password",
  "hashed_password",
  "token",
  "key",
  "dbkey",
  "apikey",
  "api_key",
  "secret",
  "authorization",
  "cookie",
  "payload",
  "private",
  "privatekey",
  "jwt",
]);

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

function redact(value: unknown, depth = 0): unknown {
  if (depth > 4 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = REDACTED_KEYS.has(k.toLowerCase().replaceAll("_", "").replaceAll("-", "")) ||
        REDACTED_KEYS.has(k.toLowerCase())
      ? "[redacted]"
      : redact(v, depth + 1);
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
