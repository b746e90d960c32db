/**
 * The relay's cycle against an in-memory cloud peer (no HTTP): what is durable
 * when. A failure part-way leaves the watermark and the pending marks; merged
 * cloud rows stay; the repeat sends everything again and only then moves on.
 */
import assert from "node:assert/strict";
import { CloudError } from "../../cloud/mod.ts";
import { CLOUD_WATERMARK_KEY } from "../../store/mod.ts";
import { cloudPatient, uuidFor } from "./_fixtures.ts";
import { drain, phoneRecords, rig } from "./_fake_peer.ts";
import { storeConnection } from "../../store/testing.ts";

function patientCount(store: import("../../store/mod.ts").Store): number {
  return (storeConnection(store).prepare("SELECT count(*) AS n FROM patients").get() as {
    n: number;
  }).n;
}

Deno.test("cycle: a push failing part-way leaves the watermark and the marks; the repeat completes", async () => {
  await using r = await rig();
  const { store, peer, relay, clock } = r;
  const local = phoneRecords(store, 10); // three chunks of at most 4
  peer.serve = [0, 1, 2].map((i) => ({
    table: "patients",
    kind: "created" as const,
    value: cloudPatient(i),
  }));
  peer.pushError = (n) =>
    n === 1 ? new CloudError("server", "The cloud had an internal error (HTTP 500).") : null;
  relay.start();

  await assert.rejects(relay.syncNow(), (e) => e instanceof CloudError && e.kind === "server");
  assert.equal(store.getMeta(CLOUD_WATERMARK_KEY), undefined, "the watermark did not move");
  assert.equal(store.pendingCloud().count, 10, "nothing was marked relayed");
  assert.equal(peer.accepted.length, 1, "the first chunk went before the failure");
  assert.equal(patientCount(store), 13, "the cloud's rows were merged as they came");
  const failed = relay.health();
  assert.equal(failed.lastErrorKind, "server");
  assert.match(failed.lastError!, /HTTP 500/);
  assert.equal(failed.consecutiveFailures, 1);
  assert.equal(failed.failingSince, clock.now);
  assert.equal(failed.lastSuccessAt, null);
  assert.equal(failed.pendingChanges, 10);

  peer.timestamp += 1_000;
  const done = await relay.syncNow();
  assert.deepEqual(done.pushed, { patients: 10 });
  assert.equal(done.cloudTimestamp, peer.timestamp);
  assert.equal(store.getMeta(CLOUD_WATERMARK_KEY), String(peer.timestamp));
  assert.equal(store.pendingCloud().count, 0);
  assert.deepEqual(peer.pulls, [0, 0], "both attempts pulled from the old watermark");
  const sent = peer.acceptedIds();
  assert.deepEqual(new Set(sent), new Set(local), "every local row reached the cloud");
  assert.equal(sent.length, 14, "the repeat sent the whole cycle again (4 + 10)");
  const ok = relay.health();
  assert.equal(ok.lastError, null);
  assert.equal(ok.consecutiveFailures, 0);
  assert.equal(ok.failingSince, null);
  assert.equal(ok.lastSuccessAt, clock.now);
  assert.deepEqual(ok.lastCycle, done);

  // The next cycle asks from the new watermark and has nothing to send.
  peer.serve = [];
  const next = await relay.syncNow();
  assert.deepEqual(next.pushed, {});
  assert.deepEqual(peer.pulls, [0, 0, peer.timestamp]);
  await drain();
});

Deno.test("cycle: a pull failing part-way keeps the merged batches, not the watermark", async () => {
  await using r = await rig();
  const { store, peer, relay } = r;
  phoneRecords(store, 3);
  const rows = [0, 1, 2, 3, 4].map((i) => ({
    table: "patients",
    kind: "created" as const,
    value: cloudPatient(i),
  }));
  // The stream breaks after five rows: two full batches of two were merged.
  peer.serve = rows;
  const pull = peer.pull.bind(peer);
  peer.pull = async (w, onChange, signal) => {
    await pull(w, onChange, signal);
    throw new CloudError("unreachable", "The connection to the cloud broke during the pull.");
  };
  relay.start();
  await assert.rejects(relay.syncNow(), (e) => e instanceof CloudError && e.kind === "unreachable");
  assert.equal(patientCount(store), 3 + 4, "full batches merged, the partial one not");
  assert.equal(peer.pushCalls, 0, "nothing pushed after a failed pull");
  assert.equal(store.getMeta(CLOUD_WATERMARK_KEY), undefined);
  assert.equal(store.pendingCloud().count, 3);
  const h = relay.health();
  assert.equal(h.offline, true);
  assert.equal(h.lastErrorKind, "unreachable");
  assert.ok(
    storeConnection(store).prepare("SELECT 1 FROM patients WHERE id = ?").get(uuidFor(1, 3)),
    "row 4 of 5 was in the second batch",
  );
});

Deno.test("cycle: stopping the relay aborts a running pull and ends the cycle", async () => {
  await using r = await rig();
  const { peer, relay } = r;
  peer.gate = new Promise(() => {}); // a cloud that never answers
  relay.start();
  const running = relay.syncNow();
  await drain();
  assert.equal(relay.health().cycleRunning, true);
  await relay.stop();
  await assert.rejects(running);
  assert.equal(relay.health().cycleRunning, false);
  assert.equal(relay.health().nextAttemptAt, null, "nothing is planned while stopped");
  await assert.rejects(relay.syncNow(), (e) => (e as { code?: string }).code === "locked");
});

Deno.test("cycle: one at a time, however many are asked for at once", async () => {
  await using r = await rig();
  const { peer, relay } = r;
  let open!: () => void;
  peer.gate = new Promise((resolve) => open = resolve);
  relay.start();
  const asked = [relay.syncNow(), relay.syncNow(), relay.syncNow()];
  await drain();
  open();
  const results = await Promise.all(asked);
  assert.equal(results.length, 3);
  assert.equal(peer.pulls.length, 3);
  assert.equal(peer.maxInFlight, 1, "no two cycles talked to the cloud at once");
});

Deno.test("cycle: without a cloud link nothing runs and nothing is recorded", async () => {
  await using r = await rig({ registered: false });
  const { peer, relay, clock } = r;
  relay.start();
  await clock.advance(0);
  assert.equal(peer.pulls.length, 0);
  await assert.rejects(
    relay.syncNow(),
    (e) => (e as { code?: string }).code === "not_registered",
  );
  const h = relay.health();
  assert.equal(h.registered, false);
  assert.equal(h.cloudUrl, null);
  assert.equal(h.nextAttemptAt, null, "no retry is planned");
  assert.equal(h.lastError, null);
  assert.equal(h.consecutiveFailures, 0);
  assert.equal(h.lastAttemptAt, null);
});
