import assert from "node:assert/strict";
import { Store } from "../../store/mod.ts";
import { storeConnection } from "../../store/testing.ts";

Deno.test("prune forgets activity and used client keys older than 30 days, keeps recent ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hub-prune-" });
  const store = Store.open(`${dir}/hub.db`, "12".repeat(32));
  const now = Date.UTC(2026, 10, 22);
  const day = 24 * 3_600_000;
  storeConnection(store).prepare(
    "INSERT INTO devices (client_id, first_seen, last_seen) VALUES ('d1', ?, ?)",
  ).run(now, now);
  store.devices.recordSync("d1", "pull", 5, now - 40 * day, null);
  store.devices.recordSync("d1", "push", 3, now - 1 * day, null);
  assert.equal(store.devices.rememberClientKey("old", now - 31 * day), true);
  assert.equal(store.devices.rememberClientKey("new", now - 2 * day), true);
  assert.deepEqual(store.prune(now), { activity: 1, usedClientKeys: 1 });
  const kinds = storeConnection(store).prepare("SELECT kind FROM activity").pluck().all();
  assert.deepEqual(kinds, ["push"]);
  // A recent key is still refused a second time; the device row is untouched.
  assert.equal(store.devices.rememberClientKey("new", now), false);
  assert.ok(storeConnection(store).prepare("SELECT 1 FROM devices WHERE client_id = 'd1'").get());
  store.close();
});
