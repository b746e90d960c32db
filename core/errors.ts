/**
 * The hub's one error type. Every layer throws it; exactly one place per server
 * (the admin API's and the LAN server's error middleware) turns it into a reply.
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
  /** HTTP status the admin API answers with (the LAN envelope has its own rules). */
  readonly status: number;
  /** Extra fields that are safe to show the caller (never secrets). */
  readonly details?: Record<string, unknown>;

  /** Creates an error with a code, an HTTP status and a message that says what to do. */
  constructor(
    code: string,
    status: number,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HubError";
    this.code = code;
    this.status = status;
    this.details = options?.details;
  }
}

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
