import assert from "node:assert/strict";
import { Store } from "../../store/mod.ts";

Deno.test("prune forgets activity and used client keys older than 30 days, keeps recent ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hub-prune-" });
  const store = Store.open(`${dir}/hub.db`, "12".repeat(32));
  const now = Date.UTC(2026, 10, 22);
  const day = 24 * 3_600_000;
  store.devices.touch("d1", null, now);
  store.devices.recordSync("d1", "pull", 5, now - 40 * day, null);
  store.devices.recordSync("d1", "push", 3, now - 1 * day, null);
  assert.equal(store.devices.rememberClientKey("old", now - 31 * day), true);
  assert.equal(store.devices.rememberClientKey("new", now - 2 * day), true);
  assert.deepEqual(store.prune(now), { activity: 1, usedClientKeys: 1 });
  const kinds = store.devices.activitySince(0).map((b) => [b.kind, b.events]);
  assert.deepEqual(kinds, [["push", 1]]);
  // A recent key is still refused a second time; the device row is untouched.
  assert.equal(store.devices.rememberClientKey("new", now), false);
  assert.ok(store.devices.get("d1"));
  store.close();
});
