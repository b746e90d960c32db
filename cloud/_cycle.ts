/**
 * One relay cycle (SPEC §7): pull from the cloud and merge in bounded batches,
 * push what waits for the cloud, and only then mark it relayed and move the
 * watermark. It talks to a {@link CloudPeer} and the store; when it runs is the
 * schedule's business, what the operator sees the health record's.
 *
 * What is durable when: merged batches are committed as they arrive (phones get
 * them even if the cycle fails later); the pending marks and the watermark move
 * together, in one transaction, after the last push was accepted. A cycle cut
 * anywhere is therefore repeated whole, and merges and pushes are idempotent.
 */
import { HubError, type Logger } from "../core/mod.ts";
import { type CloudChange, type PendingCursor, type Store, TABLES } from "../store/mod.ts";
import { CloudError } from "./_client.ts";
import type { CloudPeer } from "./_peer.ts";

/** Meta key: when a cycle last fully succeeded (epoch ms). */
export const LAST_SUCCESS_KEY = "cloud.last_success";

/** How much one cycle handles at once. */
export interface CycleSizes {
  /** Cloud rows merged per transaction. */
  mergeBatchRows: number;
  /** Local changes sent per push request. */
  pushChunkRows: number;
}

/** What one cycle did. */
export interface CycleResult {
  pulled: Record<string, number>;
  pushed: Record<string, number>;
  merged: { upserted: number; deleted: number; unchanged: number; conflicts: number };
  droppedRows: number;
  durationMs: number;
  cloudTimestamp: number;
}

/** What a cycle runs against. */
export interface CycleDeps {
  peer: CloudPeer;
  store: Store;
  sizes: CycleSizes;
  now: () => number;
  /** Ends the cycle (the relay stopping). */
  signal: AbortSignal;
  logger: Logger;
}

function lockedDuringSync(): HubError {
  return new HubError("locked", 423, "The hub was locked during sync.");
}

/** Runs one pull → merge → push cycle; throws (and logs) on failure, leaving the watermark. */
export async function runCycle(d: CycleDeps): Promise<CycleResult> {
  const { peer, store, signal } = d;
  const t0 = performance.now();
  const result: CycleResult = {
    pulled: {},
    pushed: {},
    merged: { upserted: 0, deleted: 0, unchanged: 0, conflicts: 0 },
    droppedRows: 0,
    durationMs: 0,
    cloudTimestamp: 0,
  };
  try {
    const watermark = store.relay.watermark();
    // Until a first cycle succeeded, deletions can only be found by what a
    // complete full pull lacks (see beginFullPull).
    const firstSync = watermark === 0 && store.getMeta(LAST_SUCCESS_KEY) === undefined;
    if (firstSync) store.relay.beginFullPull();
    // 1. Pull and merge in bounded batches.
    let batch: CloudChange[] = [];
    const flush = () => {
      if (batch.length === 0) return;
      if (store.closed) throw lockedDuringSync();
      const merged = store.relay.merge(batch, d.now(), firstSync);
      result.droppedRows += merged.dropped;
      for (const c of Object.values(merged.tables)) {
        result.merged.upserted += c.upserted;
        result.merged.deleted += c.deleted;
        result.merged.unchanged += c.unchanged;
        result.merged.conflicts += c.conflicts;
      }
      batch = [];
    };
    const end = await peer.pull(watermark, async (c) => {
      result.pulled[c.table] = (result.pulled[c.table] ?? 0) + 1;
      batch.push(c);
      if (batch.length >= d.sizes.mergeBatchRows) {
        flush();
        // Let phones' requests in between batches.
        await new Promise((r) => setTimeout(r, 0));
      }
    }, signal);
    flush();
    result.cloudTimestamp = end.timestamp;
    if (firstSync) {
      if (store.closed) throw lockedDuringSync();
      const kept = Object.keys(result.pulled).filter((t) => TABLES.has(t));
      result.merged.deleted += store.relay.sweepAfterFullPull(kept, d.now());
    }
    // 2. Push what waits for the cloud, up to a stamp taken now.
    if (signal.aborted) throw new HubError("aborted", 503, "Sync stopped.");
    const upTo = store.clock.handOut();
    let cursor: PendingCursor | null = null;
    do {
      const chunk = store.relay.readPending(upTo, d.sizes.pushChunkRows, cursor);
      if (chunk.rows > 0) {
        await peer.push(chunk.json, signal);
        for (const [t, n] of Object.entries(chunk.perTable)) {
          result.pushed[t] = (result.pushed[t] ?? 0) + n;
        }
      }
      cursor = chunk.next;
    } while (cursor);
    // 3. Only now: mark relayed and move the watermark.
    if (store.closed) throw lockedDuringSync();
    store.transaction(() => {
      store.relay.clearPending(upTo);
      store.relay.setWatermark(end.timestamp);
      store.setMeta(LAST_SUCCESS_KEY, String(d.now()));
    });
    result.durationMs = Math.round(performance.now() - t0);
    d.logger.log("info", "cloud.cycle", {
      outcome: "ok",
      durationMs: result.durationMs,
      pulled: sum(result.pulled),
      pushed: sum(result.pushed),
      merged: result.merged,
      dropped: result.droppedRows,
    });
    return result;
  } catch (err) {
    const kind = err instanceof CloudError ? err.kind : "internal";
    d.logger.log(kind === "internal" ? "error" : "warn", "cloud.cycle", {
      outcome: "failed",
      kind,
      durationMs: Math.round(performance.now() - t0),
      pulled: sum(result.pulled),
      pushed: sum(result.pushed),
      error: err instanceof Error ? err.message : String(err),
      // The low-level reason (kept out of the operator's message).
      cause: err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined,
    });
    throw err;
  }
}

function sum(o: Record<string, number>): number {
  return Object.values(o).reduce((a, b) => a + b, 0);
}
