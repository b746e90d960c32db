/** `store.relay`: what the relay cycle reads and writes (SPEC §7). */
import type { ApplyCounts } from "./_apply.ts";
import type { StoreParts } from "./_parts.ts";
import {
  beginFullPull,
  clearPending,
  CLOUD_WATERMARK_KEY,
  type CloudChange,
  mergeCloudBatch,
  type PendingChunk,
  type PendingCursor,
  readPendingChunk,
  sweepAfterFullPull,
} from "./_relay.ts";

/**
 * The relay's side of a Store, reached as `store.relay`.
 *
 * @example
 * ```ts
 * import type { CloudChange, Store } from "./mod.ts";
 *
 * declare const store: Store;
 * declare const batch: CloudChange[]; // one page of the cloud's changes
 * const merged = store.relay.merge(batch, Date.now());
 * const chunk = store.relay.readPending(store.clock.handOut(), 5_000, null);
 * ```
 */
export class RelayStore {
  readonly #parts: StoreParts;
  readonly #getMeta: (key: string) => string | undefined;
  readonly #setMeta: (key: string, value: string) => void;

  /** Wraps the Store's parts and its meta table (the Store builds it). */
  constructor(
    parts: StoreParts,
    getMeta: (key: string) => string | undefined,
    setMeta: (key: string, value: string) => void,
  ) {
    this.#parts = parts;
    this.#getMeta = getMeta;
    this.#setMeta = setMeta;
  }

  /** The cloud's timestamp of the last complete cycle (0: never synced, or cleared). */
  watermark(): number {
    return Number(this.#getMeta(CLOUD_WATERMARK_KEY) ?? "0");
  }

  /** Moves the watermark (with {@link clearPending}, in the cycle's final transaction). */
  setWatermark(timestamp: number): void {
    this.#setMeta(CLOUD_WATERMARK_KEY, String(timestamp));
  }

  /** Starts a full pull whose ids are recorded, for {@link sweepAfterFullPull}. */
  beginFullPull(): void {
    beginFullPull(this.#parts.db);
  }

  /** Merges a batch of cloud changes in one transaction (`recordSeen` during a full pull). */
  merge(
    batch: CloudChange[],
    now = Date.now(),
    recordSeen = false,
  ): { tables: Record<string, ApplyCounts>; dropped: number } {
    return mergeCloudBatch(this.#parts.db, this.#parts.clock, batch, now, recordSeen);
  }

  /** After a complete full pull: soft-deletes the cloud's rows it no longer has; returns how many. */
  sweepAfterFullPull(tables: Iterable<string>, now = Date.now()): number {
    return sweepAfterFullPull(this.#parts.db, this.#parts.clock, tables, now);
  }

  /** Up to `maxRows` changes waiting for the cloud, stamped at or below `upTo`, from `from`. */
  readPending(upTo: number, maxRows: number, from: PendingCursor | null): PendingChunk {
    return readPendingChunk(this.#parts.db, upTo, maxRows, from);
  }

  /** Marks the changes stamped at or below `upTo` as relayed; returns how many. */
  clearPending(upTo: number): number {
    return clearPending(this.#parts.db, upTo);
  }
}
