/** `store.phoneSync`: a phone's pull and push (SPEC §5), on the Store's connection and clock. */
import type { StoreParts } from "./_parts.ts";
import { pullChanges, type PullOptions, type PullResult } from "./_pull.ts";
import { pushChanges, type PushOptions, type PushResult } from "./_push.ts";

/**
 * Pull and push for phones, reached as `store.phoneSync`.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * declare const clientId: string; // the calling phone's
 * declare const lastPulledAt: number; // the cursor the phone sent
 * declare const changes: unknown; // the `changes` object the phone sent
 * const page = store.phoneSync.pull(lastPulledAt, { deviceId: clientId });
 * store.phoneSync.push(changes, { deviceId: clientId, lastPulledAt: page.timestamp });
 * ```
 */
export class PhoneSync {
  readonly #parts: StoreParts;

  /** Wraps the Store's parts (the Store builds it). */
  constructor(parts: StoreParts) {
    this.#parts = parts;
  }

  /** The changes after `cursor`, one bounded page (see store/_pull.ts). */
  pull(cursor: number, options: PullOptions = {}): PullResult {
    return pullChanges(this.#parts.db, this.#parts.clock, cursor, options);
  }

  /** Applies a phone's push in one transaction: all of it or none of it. */
  push(changes: unknown, options: PushOptions = {}): PushResult {
    return pushChanges(this.#parts.db, this.#parts.clock, changes, options);
  }
}
