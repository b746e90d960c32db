/**
 * Every reply the admin API builds. Errors become replies in exactly one place,
 * {@link adminErrorReply} (Hono's `onError`): route handlers, the guard and the
 * sign-in throw `HubError` and never build an error reply themselves.
 */
import { HubError, type Logger } from "../core/mod.ts";
import type { StaticFile } from "./_page.ts";

const NO_STORE = { "cache-control": "no-store" };

/** A 200 JSON reply (success replies only). */
export function jsonReply(body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    headers: { "content-type": "application/json", ...NO_STORE, ...headers },
  });
}

/** The page and its code, with the headers that keep it from being framed or sniffed. */
export function staticFileReply(file: StaticFile): Response {
  return new Response(file.body, {
    headers: {
      "content-type": file.type,
      ...NO_STORE,
      "content-security-policy":
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      "x-frame-options": "DENY",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    },
  });
}

/** `GET /launch`: the session cookie is set and the browser sent on to the page. */
export function launchRedirect(cookie: string): Response {
  return new Response(null, {
    status: 303,
    headers: { location: "/", "set-cookie": cookie, ...NO_STORE },
  });
}

/** A Server-Sent Events stream (`GET /api/events`). */
export function eventStreamReply(stream: ReadableStream<Uint8Array>): Response {
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      ...NO_STORE,
      "x-accel-buffering": "no",
    },
  });
}

/** The message of every unexpected failure (the details are in the hub's log only). */
export const INTERNAL_MESSAGE = "Internal error; see the hub's log.";

/**
 * The one mapping from a thrown error to an admin reply (docs/admin-api.md):
 * - `HubError`: its status with `{"error":message,"code":code,...details}` and a
 *   `retry-after` header when `details.retryAfterSeconds` is set; with
 *   `reply: "message"` only `{"error":message}`; with `reply: "text"` the message as
 *   plain text (a request too malformed for JSON);
 * - anything else: logged to `logger` with the path, and `500 {"error":"Internal error; ..."}`.
 */
export function adminErrorReply(err: unknown, path: string, logger: Logger): Response {
  if (!(err instanceof HubError)) {
    logger.log("error", "admin.unexpected", { path, error: err });
    err = new HubError("internal", 500, INTERNAL_MESSAGE, { cause: err, reply: "message" });
  }
  const e = err as HubError;
  if (e.reply === "text") {
    return new Response(e.message + "\n", {
      status: e.status,
      headers: { "content-type": "text/plain; charset=utf-8", ...NO_STORE },
    });
  }
  const headers: Record<string, string> = {};
  const retry = e.details?.retryAfterSeconds;
  if (typeof retry === "number") headers["retry-after"] = String(retry);
  const body = e.reply === "message"
    ? { error: e.message }
    : { error: e.message, code: e.code, ...e.details };
  return new Response(JSON.stringify(body), {
    status: e.status,
    headers: { "content-type": "application/json", ...NO_STORE, ...headers },
  });
}
