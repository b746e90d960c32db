/**
 * A Worker that runs one backup step (store/_backup_snapshot.ts) on its own
 * connection, so that `VACUUM INTO` and `integrity_check` of a large database do
 * not hold the main thread that answers phones. Messages carry the key: it stays
 * inside this process, and the worker ends after one step.
 */
/// <reference lib="deno.worker" />
import { inspectSnapshot, snapshotInto } from "./_backup_snapshot.ts";

/** One step for the worker. */
export type BackupStep =
  | { op: "snapshot"; source: string; key: string; target: string }
  | { op: "inspect"; path: string; key: string; integrity: boolean };

self.onmessage = (e: MessageEvent<BackupStep>) => {
  const step = e.data;
  try {
    const result = step.op === "snapshot"
      ? snapshotInto(step.source, step.key, step.target)
      : inspectSnapshot(step.path, step.key, { integrity: step.integrity });
    self.postMessage({ ok: true, result: result ?? null });
  } catch (err) {
    self.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) });
  }
};
