/**
 * The hub's one error type. Every layer throws it; exactly one function per
 * surface turns it into what the caller sees: `server/_reply.ts` (LAN replies),
 * `ui/_reply.ts` (admin API replies), `hub/cli.ts` (the CLI's message and exit
 * code). `status` is an HTTP status; the CLI chooses exit codes by `code`.
 *
 * @example
 * ```ts
 * import { HubError } from "./mod.ts";
 *
 * throw new HubError("locked", 423, "Database is locked. Unlock the hub first.");
 * ```
 */
export class HubError extends Error {
  /** Stable machine-readable code, e.g. `locked`, `bad_params`, `not_found`. */
  readonly code: string;
  /** HTTP status the reply carries (an envelope error is always sent with 200). */
  readonly status: number;
  /** Extra fields that are safe to show the caller (never secrets). */
  readonly details?: Record<string, unknown>;
  /** Which of its surface's shapes the reply takes (see {@link HubErrorReply}). */
  readonly reply?: HubErrorReply;

  /** Creates an error with a code, an HTTP status and a message that says what to do. */
  constructor(
    code: string,
    status: number,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown>; reply?: HubErrorReply },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HubError";
    this.code = code;
    this.status = status;
    this.details = options?.details;
    this.reply = options?.reply;
  }
}

/**
 * The shape of an error reply where a surface has more than one. Unset: the
 * surface's usual shape (LAN: a plain-text transport reply, SPEC §3; admin API:
 * `{"error","code",...details}` JSON).
 * - `envelope`: LAN only, a procedure failed inside a valid envelope:
 *   `200 {"payload":"","success":false,"error":message}` (SPEC §3), never sealed.
 * - `text`: admin API only, a request too malformed to speak JSON to: plain text.
 * - `message`: admin API only, JSON with the message alone (`{"error":message}`),
 *   for replies outside the API's routes (not found, wrong host, expired link).
 */
export type HubErrorReply = "envelope" | "text" | "message";

/**
 * The message phones see for any data call while the hub is locked (SPEC §3).
 *
 * @example
 * ```ts
 * import { HubError, LOCKED_MESSAGE } from "./mod.ts";
 *
 * throw new HubError("locked", 423, LOCKED_MESSAGE);
 * // message: "Database is locked. Ask the clinic operator to unlock the hub."
 * ```
 */
export const LOCKED_MESSAGE = "Database is locked. Ask the clinic operator to unlock the hub.";

/**
 * Shorthand for the locked error.
 *
 * @example
 * ```ts
 * import { lockedError } from "./mod.ts";
 *
 * const err = lockedError();
 * err.code; // "locked"
 * err.status; // 423
 * ```
 */
export function lockedError(): HubError {
  return new HubError("locked", 423, LOCKED_MESSAGE);
}
