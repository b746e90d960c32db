/**
 * The status numbers (store/_counters.ts), read from indexes, equal what
 * counting every row gives after every kind of write, including one that
 * rolled back.
 */
import assert from "node:assert/strict";
import { Store } from "../../store/mod.ts";
import { patientRow, seedPatients, tempDir } from "../_helpers.ts";
import { storeConnection } from "../../store/testing.ts";

function assertAgree(store: Store, step: string): void {
  const { kept, counted } = store.checkCounters();
  assert.deepEqual(kept, counted, `counters disagree after ${step}`);
}

Deno.test("status counters equal counted tables after pushes, merges, deletes, decisions, clears and rollbacks", async () => {
  await using dir = await tempDir("hub-counters-");
  const store = Store.open(`${dir.path}/hub.db`, "34".repeat(32));
  try {
    assertAgree(store, "open");
    assert.deepEqual(store.counts().patients, { rows: 0, deleted: 0 });
    seedPatients(store, 30, { source: "cloud" });
    seedPatients(store, 10, { source: "phone", prefix: "q" });
    assertAgree(store, "seeding");
    assert.equal(store.counts().patients.rows, 40);
    assert.equal(store.pendingCloud().count, 10);

    // A phone updates one row, deletes another, creates one, and sends an older version.
    const t = Date.now();
    const newer = { ...patientRow(1), surname: "Changed", updated_at: t, last_modified: t };
    const fresh = { ...patientRow(500, "n"), created_at: t, updated_at: t };
    const stale = { ...patientRow(2), surname: "Old", updated_at: 1, last_modified: 1 };
    store.phoneSync.push({
      patients: { created: [fresh], updated: [newer, stale], deleted: [patientRow(3).id] },
    }, { deviceId: "d1", now: t, lastPulledAt: 0 });
    assertAgree(store, "a push");
    assert.equal(store.counts().patients.rows, 41);
    assert.equal(store.counts().patients.deleted, 1);
    assert.ok(store.pendingCloud().count > 10);
    assert.ok(store.pendingCloud().oldestStamp !== null);

    // A push that fails part-way rolls its counts back with its rows.
    assert.throws(() =>
      store.transaction(() => {
        store.phoneSync.push({
          patients: { created: [{ ...patientRow(600, "r"), updated_at: t }] },
        }, { deviceId: "d1", now: t, lastPulledAt: 0 });
        throw new Error("cut");
      })
    );
    assertAgree(store, "a rolled-back push");
    assert.equal(store.counts().patients.rows, 41);

    // The operator decides the conflicts; the relay marks everything relayed.
    const open = store.openConflicts();
    assert.ok(open > 0, "the stale version was logged");
    assert.equal(open, store.checkCounters().counted["~conflicts"].pending);
    const ids = storeConnection(store).prepare("SELECT id FROM conflicts WHERE resolved_at IS NULL")
      .pluck()
      .all() as number[];
    for (const id of ids) store.conflicts.keepNewer(id, t);
    assertAgree(store, "decisions");
    assert.equal(store.openConflicts(), 0);
    store.transaction(() => store.relay.clearPending(store.clock.handOut()));
    assertAgree(store, "relayed");
    assert.deepEqual(store.pendingCloud(), { count: 0, oldestStamp: null });

    store.clearData();
    assertAgree(store, "clear");
    assert.deepEqual(store.counts().patients, { rows: 0, deleted: 0 });
  } finally {
    store.close();
  }
  // Opening again counts once and starts from the same numbers.
  const again = Store.open(`${dir.path}/hub.db`, "34".repeat(32));
  try {
    assertAgree(again, "reopen");
  } finally {
    again.close();
  }
});
