/**
 * The change clock (SPEC §5): every stamp is strictly greater than every stamp
 * issued or handed out before, even when the wall clock steps back, across a
 * rolled-back write, and across a close and reopen.
 */
import assert from "node:assert/strict";
import { Store } from "../../store/mod.ts";
import { manualClock, seedPatients, tempDir } from "../_helpers.ts";
import { storeConnection } from "../../store/testing.ts";

const KEY = "5a".repeat(32);

function assertStrictlyIncreasing(stamps: number[]): void {
  for (let i = 1; i < stamps.length; i++) {
    assert.ok(
      stamps[i] > stamps[i - 1],
      `stamp ${i} (${stamps[i]}) is not above stamp ${i - 1} (${stamps[i - 1]})`,
    );
  }
}

/** Issues a stamp the way writers do: inside a write transaction. */
function stamp(store: Store): number {
  return store.transaction(() => store.clock.next());
}

Deno.test("clock: stamps follow the wall clock while it moves forward", async () => {
  await using dir = await tempDir();
  const wall = manualClock();
  const store = Store.open(`${dir.path}/hub.db`, KEY, { now: wall.now });
  try {
    const a = stamp(store);
    assert.equal(a, wall.t);
    wall.t += 5000;
    assert.equal(stamp(store), wall.t);
    // Two writes in the same millisecond still get distinct stamps.
    const b = stamp(store);
    assert.equal(b, wall.t + 1);
  } finally {
    store.close();
  }
});

Deno.test("clock: monotonic when the wall clock is set back, also across a reopen", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/hub.db`;
  const wall = manualClock(Date.UTC(2026, 5, 1, 12));
  let store = Store.open(path, KEY, { now: wall.now });
  const stamps: number[] = [];
  const handedOut: number[] = [];
  try {
    for (let i = 0; i < 50; i++) {
      stamps.push(stamp(store));
      wall.t += 7;
    }
    handedOut.push(store.clock.handOut());
    // NTP corrects the clock back by an hour, then by a day.
    wall.t -= 3_600_000;
    for (let i = 0; i < 50; i++) stamps.push(stamp(store));
    handedOut.push(store.clock.handOut());
    wall.t -= 86_400_000;
    for (let i = 0; i < 10; i++) {
      stamps.push(stamp(store));
      handedOut.push(store.clock.handOut());
      wall.t -= 1000;
    }
    assertStrictlyIncreasing(stamps);
    // A handed-out cursor is at or above every stamp issued before it.
    const last = store.clock.handOut();
    assert.ok(stamps.every((s) => s <= last));
    assert.ok(handedOut.every((h) => h <= last));
    assert.equal(last, stamps.at(-1));
  } finally {
    store.close();
  }

  // Reopen with the wall clock still far behind: the clock resumes above everything.
  wall.t = Date.UTC(2020, 0, 1);
  store = Store.open(path, KEY, { now: wall.now });
  try {
    const max = Math.max(...stamps, ...handedOut);
    assert.ok(store.clock.handOut() >= max);
    const after = [stamp(store), stamp(store), stamp(store)];
    assert.ok(after[0] > max, `stamp after reopen ${after[0]} is not above ${max}`);
    assertStrictlyIncreasing(after);
  } finally {
    store.close();
  }
});

Deno.test("clock: a stamp from a rolled-back write is never reissued, even after a reopen", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/hub.db`;
  const wall = manualClock();
  let store = Store.open(path, KEY, { now: wall.now });
  let lost = 0;
  let cursor = 0;
  try {
    stamp(store);
    assert.throws(() =>
      store.transaction(() => {
        lost = store.clock.next();
        throw new Error("write failed");
      })
    );
    // A phone pulls now and keeps this cursor; it must cover the lost stamp.
    cursor = store.clock.handOut();
    assert.ok(cursor >= lost);
  } finally {
    store.close();
  }
  wall.t -= 60_000;
  store = Store.open(path, KEY, { now: wall.now });
  try {
    const next = stamp(store);
    assert.ok(next > cursor, `stamp ${next} is not above the cursor ${cursor} a phone holds`);
  } finally {
    store.close();
  }
});

Deno.test("clock: never below a stamp already in the data, and advanceTo only moves forward", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/hub.db`;
  const wall = manualClock();
  let store = Store.open(path, KEY, { now: wall.now });
  let highest = 0;
  try {
    seedPatients(store, 20);
    highest = (storeConnection(store).prepare(
      "SELECT max(local_server_last_modified_at) AS m FROM patients",
    ).get() as { m: number }).m;
    // Simulate a database whose saved clock fell behind its rows (older build, manual edit).
    storeConnection(store).prepare("UPDATE hub_meta SET value = '1' WHERE key = 'clock'").run();
  } finally {
    store.close();
  }
  wall.t -= 3_600_000;
  store = Store.open(path, KEY, { now: wall.now });
  try {
    assert.ok(stamp(store) > highest);
    const now = store.clock.current();
    store.clock.advanceTo(now - 100);
    assert.equal(store.clock.current(), now);
    store.clock.advanceTo(now + 1_000_000);
    assert.equal(store.clock.current(), now + 1_000_000);
    assert.ok(stamp(store) > now + 1_000_000);
  } finally {
    store.close();
  }
});
