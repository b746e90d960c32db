/**
 * Every reply the LAN server builds. Errors become replies in exactly one place,
 * {@link lanErrorReply}, whatever the stage (connection, handshake, envelope,
 * procedure); handlers throw `HubError` and never build an error reply themselves.
 * The shapes are the SPEC's (§2–3) and the phone app depends on them byte for byte.
 */
import { HubError, type Logger } from "../core/mod.ts";

const TEXT_HEADERS = { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" };
const JSON_HEADERS = { "content-type": "application/json", "cache-control": "no-store" };

/** A 200 JSON reply from already-serialised text (success replies only). */
export function jsonReply(body: string): Response {
  return new Response(body, { headers: JSON_HEADERS });
}

/**
 * The one mapping from a thrown error to a LAN reply:
 * - a `HubError` with `reply: "envelope"` (a procedure failed):
 *   `200 {"payload":"","success":false,"error":message}`, never sealed;
 * - any other `HubError` (transport faults: no session, bad seal, replay, limits):
 *   plain text `message\n` with its status, except that 401 is sent as 400
 *   (the SPEC keeps 401 out of the transport);
 * - anything else: logged to `logger`, and `500 Internal error.`.
 */
export function lanErrorReply(err: unknown, logger: Logger): Response {
  if (err instanceof HubError) {
    if (err.reply === "envelope") {
      return new Response(JSON.stringify({ payload: "", success: false, error: err.message }), {
        headers: JSON_HEADERS,
      });
    }
    return new Response(err.message + "\n", {
      status: err.status === 401 ? 400 : err.status,
      headers: TEXT_HEADERS,
    });
  }
  logger.log("error", "lan.unexpected", { error: err });
  return new Response("Internal error.\n", { status: 500, headers: TEXT_HEADERS });
}

/**
 * The raw bytes of a 400 written by the connection front (`_front.ts`) before
 * the request is parsed, so there is no `Response` to build: the same plain-text
 * shape as {@link lanErrorReply}'s, and the connection is closed.
 */
export function rawBadRequest(reason: string): Uint8Array {
  const body = `Bad request: ${reason}.\n`;
  return new TextEncoder().encode(
    "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n" +
      `cache-control: no-store\r\nconnection: close\r\ncontent-length: ${body.length}\r\n\r\n` +
      body,
  );
}
