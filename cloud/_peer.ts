/**
 * The cloud as the relay sees it: a narrow interface in the spirit of
 * Litestream's `ReplicaClient`. The relay's cycle and schedule talk only to
 * this; `CloudClient` (HTTP, SPEC §7) implements it, and tests hand the relay
 * an in-memory one. It knows nothing of the database.
 */
import type { StreamedChange } from "./_changes_stream.ts";

/** What a complete pull ends with. */
export interface PullEnd {
  /** The cloud's clock when it read the changes (the next watermark once the cycle succeeds). */
  timestamp: number;
}

/**
 * One cloud server, reached with the hub's key. Failures are thrown as
 * `CloudError` with the kind the sync health shows (`auth`, `rate_limited`,
 * `unreachable`, `server`, `protocol`).
 *
 * @example A peer that has nothing new and accepts every push
 * ```ts
 * import type { CloudPeer } from "./mod.ts";
 *
 * const quiet: CloudPeer = {
 *   url: "https://cloud.example.org",
 *   pull: () => Promise.resolve({ timestamp: Date.now() }),
 *   push: () => Promise.resolve(),
 *   reachable: () => Promise.resolve(true),
 * };
 * ```
 */
export interface CloudPeer {
  /** Where the cloud is (shown in the sync health; never holds the key). */
  readonly url: string;
  /**
   * Reads the changes made after `watermark`, handing them to `onChange` one row
   * at a time, in order, and waiting for each returned promise before reading on
   * (back-pressure). An error thrown by `onChange` ends the pull and is rethrown
   * unchanged. Resolves only when the whole reply was read and is well formed.
   */
  pull(
    watermark: number,
    onChange: (change: StreamedChange) => void | Promise<void>,
    signal: AbortSignal,
  ): Promise<PullEnd>;
  /**
   * Sends one changes object (`{table: {created, updated, deleted}}` as JSON).
   * Must be safe to repeat whole: the cloud's push is not atomic (SPEC §7).
   */
  push(changesJson: string, signal: AbortSignal): Promise<void>;
  /** A cheap test whether the cloud can be reached at all (used while it is offline). */
  reachable(): Promise<boolean>;
}
