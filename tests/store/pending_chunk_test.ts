import assert from "node:assert/strict";
import { Store, tableDef } from "../../store/mod.ts";
import { deleteRow, storeConnection, upsertRow } from "../../store/testing.ts";

async function openStore(): Promise<Store> {
  const dir = await Deno.makeTempDir({ prefix: "hub-pending-" });
  return Store.open(`${dir}/hub.db`, "ab".repeat(32));
}

function phoneWrite(store: Store, fn: (ctx: Parameters<typeof upsertRow>[0]) => void): void {
  store.transaction(() =>
    fn({ db: storeConnection(store), stamp: store.clock.next(), now: Date.now(), source: "phone" })
  );
}

Deno.test("a chunk holding rows and tombstones of one table lists both under one key", async () => {
  const store = await openStore();
  const patients = tableDef("patients");
  phoneWrite(store, (ctx) => {
    upsertRow(ctx, patients, { id: "p1", given_name: "A", additional_data: "{}", metadata: "{}" });
    deleteRow(ctx, patients, "never-seen-here"); // becomes a tombstone
  });
  const chunk = store.relay.readPending(store.clock.handOut(), 100, null);
  const changes = JSON.parse(chunk.json);
  assert.deepEqual(Object.keys(changes), ["patients"]);
  assert.equal(changes.patients.created.length, 1);
  assert.deepEqual(changes.patients.deleted, ["never-seen-here"]);
  assert.equal(chunk.rows, 2);
  assert.equal(chunk.next, null);
  store.close();
});

Deno.test("chunks cover every pending change exactly once; clearPending leaves later changes", async () => {
  const store = await openStore();
  const visits = tableDef("visits");
  for (let batch = 0; batch < 5; batch++) {
    phoneWrite(store, (ctx) => {
      for (let i = 0; i < 7; i++) {
        upsertRow(ctx, visits, { id: `v${batch}-${i}`, metadata: "{}" });
      }
      deleteRow(ctx, visits, `gone-${batch}`);
    });
  }
  const upTo = store.clock.handOut();
  const seen: string[] = [];
  let cursor = null;
  do {
    const chunk = store.relay.readPending(upTo, 6, cursor);
    const c = JSON.parse(chunk.json);
    for (const t of Object.values(c) as { created: { id: string }[]; deleted: string[] }[]) {
      seen.push(...t.created.map((r) => r.id), ...t.deleted);
    }
    cursor = chunk.next;
  } while (cursor);
  assert.equal(seen.length, 40);
  assert.equal(new Set(seen).size, 40);
  // A change made after the push began stays pending.
  phoneWrite(store, (ctx) => upsertRow(ctx, visits, { id: "v0-0", metadata: '{"late":1}' }));
  store.relay.clearPending(upTo);
  assert.equal(store.pendingCloud().count, 1);
  store.close();
});
