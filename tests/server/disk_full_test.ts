/**
 * A full disk, simulated with SQLite's file-size limit (`PRAGMA max_page_count`,
 * since a small tmpfs cannot be mounted here): the phone gets "The hub's disk is
 * full" and never a false success, the operator sees it in the status and the
 * health line with the free space, vault writes leave no temp files, the WAL is
 * bounded, and after space is freed everything is saved once.
 */
import assert from "node:assert/strict";
import { writeFileDurable } from "../../core/mod.ts";
import { describeDisk, LOW_SPACE_BYTES } from "../../hub/_disk.ts";
import {
  adminClient,
  loggedInPhone,
  logLines,
  NURSE,
  PASSPHRASE,
  patientRow,
  startHub,
  testLogger,
} from "./_fixtures.ts";
import { Hub } from "../../hub/mod.ts";
import type { Store } from "../../store/mod.ts";
import { DISK_FULL_MESSAGE, storeConnection, WAL_SIZE_LIMIT } from "../../store/testing.ts";

function bigRows(prefix: string, n: number): Record<string, unknown>[] {
  return Array.from(
    { length: n },
    (_, i) => patientRow(`${prefix}-${i}`, Date.now(), { hometown: "x".repeat(2000) }),
  );
}

function countIds(
  t: { store: Store },
  prefix: string,
): number {
  return (storeConnection(t.store).prepare("SELECT count(*) AS n FROM patients WHERE id LIKE ?")
    .get(
      `${prefix}-%`,
    ) as { n: number }).n;
}

Deno.test("disk full: the phone is told, nothing half-saved; the operator sees it; space back → saved once", async () => {
  const t = await startHub();
  try {
    const phone = await loggedInPhone(t.url, NURSE);
    const first = await phone.pull(0);
    // The database may not grow by a single page from now on.
    const pages = storeConnection(t.store).pragma("page_count", { simple: true }) as number;
    storeConnection(t.store).pragma(`max_page_count = ${pages}`);

    const rows = bigRows("full", 300);
    const changes = { patients: { created: rows, updated: [], deleted: [] } };
    const reply = await phone.command("sync_push", { lastPulledAt: first.timestamp, changes });
    assert.equal(reply.status, 200);
    assert.equal(reply.success, false, "a push that was not saved must never look saved");
    assert.ok(reply.error!.startsWith(DISK_FULL_MESSAGE), reply.error);
    assert.equal(countIds(t, "full"), 0, "no part of the push was saved");

    const status = await t.hub.status();
    assert.equal(status.disk.full, true);
    assert.match(status.disk.warning!, /disk is full/);
    assert.equal(typeof status.disk.freeBytes, "number");
    assert.ok(status.disk.fullSince! > 0);
    // The health line carries it too (the admin API's /api/status and /api/cloud/health).
    assert.equal(t.hub.cloudHealth()!.disk.full, true);
    const admin = await adminClient(t.hub);
    try {
      const api = await admin.get("/api/status");
      const disk = api.body.disk as { full: boolean; warning: string; freeBytes: number };
      assert.equal(disk.full, true);
      assert.match(disk.warning, /disk is full/);
      const health = await admin.get("/api/cloud/health");
      assert.equal((health.body.disk as { full: boolean }).full, true);
    } finally {
      await admin.server.close();
    }
    // Pulls (reads) still work.
    assert.equal((await phone.query("ping")).success, true);
    await phone.pull(first.timestamp);

    // Space comes back: the phone's retry saves everything once, and the status clears.
    storeConnection(t.store).pragma("max_page_count = 1073741823");
    await phone.push(first.timestamp, changes);
    assert.equal(countIds(t, "full"), 300);
    const after = await t.hub.status();
    assert.equal(after.disk.full, false, JSON.stringify(after.disk));
    assert.equal(after.disk.warning, null);
    await phone.push(first.timestamp, changes); // a retry is not a duplicate
    assert.equal(countIds(t, "full"), 300);
  } finally {
    await t.close();
  }
});

Deno.test("disk full: a full disk seen by a write stays shown until a write succeeds again", async () => {
  const t = await startHub();
  try {
    const phone = await loggedInPhone(t.url, NURSE);
    const first = await phone.pull(0);
    const pages = storeConnection(t.store).pragma("page_count", { simple: true }) as number;
    storeConnection(t.store).pragma(`max_page_count = ${pages}`);
    const changes = { patients: { created: bigRows("late", 200), updated: [], deleted: [] } };
    const r = await phone.command("sync_push", { lastPulledAt: first.timestamp, changes });
    assert.equal(r.success, false);
    // Reads and small writes that fit do not hide it.
    assert.equal((await phone.query("ping")).success, true);
    assert.equal((await t.hub.status()).disk.full, true);
    assert.equal((await t.hub.status()).disk.full, true);
    storeConnection(t.store).pragma("max_page_count = 1073741823");
    await phone.push(first.timestamp, changes);
    assert.equal(t.store.diskFullSince, null, "a successful write clears the state");
  } finally {
    await t.close();
  }
});

Deno.test("disk: the warning comes before the disk runs out", () => {
  const ok = describeDisk({ freeBytes: 10 * LOW_SPACE_BYTES, totalBytes: 1e12 }, null);
  assert.equal(ok.full, false);
  assert.equal(ok.warning, null);
  const low = describeDisk({ freeBytes: LOW_SPACE_BYTES / 2, totalBytes: 1e12 }, null);
  assert.equal(low.full, false);
  assert.match(low.warning!, /almost full \(256 MB free\)/);
  const none = describeDisk({ freeBytes: 1000, totalBytes: 1e12 }, null);
  assert.equal(none.full, true);
  assert.match(none.warning!, /disk is full/);
});

Deno.test("disk: a vault write that fails leaves no temp file and the old file intact", async () => {
  const dir = await Deno.makeTempDir({ prefix: "durable-" });
  try {
    const path = `${dir}/hub.vault`;
    await writeFileDurable(path, new TextEncoder().encode("old"));
    // A data source that fails half-way, as a write on a full disk does.
    class FailingBytes extends Uint8Array {
      override subarray(start = 0, end?: number): Uint8Array<ArrayBuffer> {
        if (start > 0) throw new Error("No space left on device (os error 28)");
        return new Uint8Array(this.buffer as ArrayBuffer, 0, Math.min(4096, end ?? 4096));
      }
    }
    const failing = new FailingBytes(1 << 20);
    await assert.rejects(() => writeFileDurable(path, failing), (err: Error) => {
      assert.match(err.message, /disk is full/);
      return true;
    });
    const left = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(left, ["hub.vault"]);
    assert.equal(await Deno.readTextFile(path), "old");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("disk: the WAL is bounded (journal_size_limit) and folded back after a big push", async () => {
  const t = await startHub();
  try {
    assert.equal(
      storeConnection(t.store).pragma("journal_size_limit", { simple: true }),
      WAL_SIZE_LIMIT,
    );
    const phone = await loggedInPhone(t.url, NURSE);
    const first = await phone.pull(0);
    await phone.push(first.timestamp, {
      patients: { created: bigRows("wal", 4000), updated: [], deleted: [] },
    });
    const grown = Deno.statSync(`${t.store.path}-wal`).size;
    assert.ok(grown > 1024 * 1024, `WAL is only ${grown} bytes`);
    t.store.checkpointIfLarge(1024 * 1024);
    assert.equal(Deno.statSync(`${t.store.path}-wal`).size, 0, "the WAL was folded back");
  } finally {
    await t.close();
  }
});

Deno.test("disk full at start: the hub unlocks, says why it cannot write, and still serves pulls", async () => {
  const first = await startHub();
  const dataDir = first.dataDir;
  const phone0 = await loggedInPhone(first.url, NURSE);
  const c0 = await phone0.pull(0);
  await phone0.push(c0.timestamp, {
    patients: { created: bigRows("before", 50), updated: [], deleted: [] },
  });
  await first.close();
  const pages = Deno.statSync(`${dataDir}/hub.db`).size / 4096;
  const before = logLines.length;
  const hub = new Hub({
    logger: testLogger,
    dataDir,
    version: "test",
    lan: { host: "127.0.0.1", port: 0 },
    vault: { iterations: 1000, allowWeakKdfForTests: true },
    storeMaxPageCount: pages,
  });
  await hub.init();
  await hub.unlock(PASSPHRASE);
  await hub.startServer();
  try {
    const said = logLines.slice(before).filter((l) => l.includes('"hub.disk_full"'));
    assert.equal(said.length, 1, logLines.slice(before).join("\n"));
    assert.match(said[0], /cannot save anything/);
    const status = await hub.status();
    assert.equal(status.state, "unlocked");
    assert.equal(status.disk.full, true);
    const url = `http://127.0.0.1:${hub.server.port}`;
    const phone = await loggedInPhone(url, NURSE);
    const pulled = await phone.pull(0);
    assert.equal(
      pulled.changes.patients.created.filter((r) => String(r.id).startsWith("before-")).length,
      50,
    );
    const r = await phone.command("sync_push", {
      lastPulledAt: pulled.timestamp,
      changes: { patients: { created: bigRows("during", 100), updated: [], deleted: [] } },
    });
    assert.equal(r.success, false);
    assert.ok(r.error!.startsWith(DISK_FULL_MESSAGE), r.error);
  } finally {
    await hub.shutdown();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
