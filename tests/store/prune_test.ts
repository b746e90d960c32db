import assert from "node:assert/strict";
import { recordSync, rememberClientKey, Store } from "../../store/mod.ts";

Deno.test("prune forgets activity and used client keys older than 30 days, keeps recent ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hub-prune-" });
  const store = Store.open(`${dir}/hub.db`, "12".repeat(32));
  const now = Date.UTC(2026, 10, 22);
  const day = 24 * 3_600_000;
  store.db.prepare(
    "INSERT INTO devices (client_id, first_seen, last_seen) VALUES ('d1', ?, ?)",
  ).run(now, now);
  recordSync(store.db, "d1", "pull", 5, now - 40 * day, null);
  recordSync(store.db, "d1", "push", 3, now - 1 * day, null);
  assert.equal(rememberClientKey(store.db, "old", now - 31 * day), true);
  assert.equal(rememberClientKey(store.db, "new", now - 2 * day), true);
  assert.deepEqual(store.prune(now), { activity: 1, usedClientKeys: 1 });
  const kinds = store.db.prepare("SELECT kind FROM activity").pluck().all();
  assert.deepEqual(kinds, ["push"]);
  // A recent key is still refused a second time; the device row is untouched.
  assert.equal(rememberClientKey(store.db, "new", now), false);
  assert.ok(store.db.prepare("SELECT 1 FROM devices WHERE client_id = 'd1'").get());
  store.close();
});
