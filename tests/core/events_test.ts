/** The hub's event bus (core/events.ts): ids, launches, replay and reset. */
import assert from "node:assert/strict";
import { EventBus, formatCursor, parseCursor } from "../../core/mod.ts";

Deno.test("EventBus: ids increase by one from 1 and every event carries the launch", () => {
  const bus = new EventBus({ launch: "a1b2c3d4", now: () => 42 });
  assert.equal(bus.lastId, 0);
  const first = bus.publish("device", { device: "phone-1", action: "seen" });
  const second = bus.publish("sync", {
    device: "phone-1",
    kind: "push",
    rows: 3,
    conflicts: 0,
    refused: 0,
  });
  assert.deepEqual(
    [first.id, second.id, bus.lastId],
    [1, 2, 2],
  );
  assert.equal(first.launch, "a1b2c3d4");
  assert.equal(second.at, 42);
  // Two buses (two launches) get different launch ids.
  assert.notEqual(new EventBus().launch, new EventBus().launch);
});

Deno.test("EventBus: since() replays what was missed, in order; a gap or another launch resets", () => {
  const bus = new EventBus({ capacity: 3, launch: "L1" });
  assert.deepEqual(bus.since({ launch: "L1", id: 0 }), {
    events: [],
    reset: false,
    lastId: 0,
    launch: "L1",
  });
  for (const n of [1, 2, 3, 4, 5]) bus.publish("autolock", { minutes: n });
  const after3 = bus.since({ launch: "L1", id: 3 });
  assert.equal(after3.reset, false);
  assert.deepEqual(after3.events.map((e) => e.id), [4, 5]);
  assert.deepEqual(after3.events.map((e) => e.data), [{ minutes: 4 }, { minutes: 5 }]);
  assert.deepEqual(bus.since({ launch: "L1", id: 2 }).events.map((e) => e.id), [3, 4, 5]);
  assert.deepEqual(bus.since(2).events.map((e) => e.id), [3, 4, 5], "a bare id is this launch");
  // Event 2 fell out of the ring of 3: a reader at 1 missed it and must reload.
  assert.equal(bus.since({ launch: "L1", id: 1 }).reset, true);
  // The same id from an earlier launch is not accepted: the events differ.
  const other = bus.since({ launch: "L0", id: 3 });
  assert.equal(other.reset, true);
  assert.deepEqual(other.events, []);
  assert.equal(other.launch, "L1");
  // An id from the future, no cursor, or a negative one: reload.
  assert.equal(bus.since({ launch: "L1", id: 9 }).reset, true);
  assert.equal(bus.since(null).reset, true);
  assert.equal(bus.since(-1).reset, true);
  assert.deepEqual(bus.since({ launch: "L1", id: 5 }), {
    events: [],
    reset: false,
    lastId: 5,
    launch: "L1",
  });
});

Deno.test("EventBus: listeners hear each event; waiters wake at the next publish", async () => {
  const bus = new EventBus();
  const heard: string[] = [];
  const stop = bus.listen((e) => heard.push(e.type));
  bus.listen(() => {
    throw new Error("a broken listener does not stop the publisher");
  });
  const woke = bus.wait(5_000);
  bus.publish("server", { running: true, error: null });
  await woke;
  stop();
  bus.publish("state", { state: "locked" });
  assert.deepEqual(heard, ["server"]);
  // A wait with nothing published ends at its timeout.
  const t0 = Date.now();
  await bus.wait(20);
  assert.ok(Date.now() - t0 >= 15);
});

Deno.test("cursors: <launch>-<id> round-trips; a bare id has no launch; junk is refused", () => {
  assert.equal(formatCursor("a1b2", 17), "a1b2-17");
  assert.deepEqual(parseCursor("a1b2-17"), { launch: "a1b2", id: 17 });
  assert.deepEqual(parseCursor("17"), { launch: null, id: 17 });
  for (const junk of ["abc", "", "a-b-1", "1.5", "-1", "a1b2-", "x".repeat(40) + "-1"]) {
    assert.equal(parseCursor(junk), null, junk);
  }
});
