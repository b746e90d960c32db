import assert from "node:assert/strict";
import { Store, tableDef } from "../../store/mod.ts";
import { storeConnection, upsertRow } from "../../store/testing.ts";

Deno.test("pull pages stay bounded when every row was created and later edited", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hub-page-" });
  const store = Store.open(`${dir}/hub.db`, "ef".repeat(32));
  const patients = tableDef("patients");
  const write = (rows: Record<string, unknown>[]) =>
    store.transaction(() => {
      const ctx = {
        db: storeConnection(store),
        stamp: store.clock.next(),
        now: Date.now(),
        source: "phone" as const,
      };
      for (const r of rows) upsertRow(ctx, patients, r);
    });
  const N = 3000;
  const row = (i: number, name: string, at: number) => ({
    id: `p${i}`,
    given_name: name,
    additional_data: "{}",
    metadata: "{}",
    updated_at: at,
  });
  for (let b = 0; b < N; b += 100) {
    write(Array.from({ length: 100 }, (_, k) => row(b + k, "first", 1)));
  }
  for (let b = 0; b < N; b += 100) {
    write(Array.from({ length: 100 }, (_, k) => row(b + k, "edited", 2)));
  }
  // A new phone pulls from 0 with pages of 100 rows.
  const had = new Map<string, string>();
  let cursor = 0;
  let pages = 0;
  while (true) {
    const page = store.phoneSync.pull(cursor, { maxRows: 100 });
    const c = JSON.parse(page.json).changes.patients ?? { created: [], updated: [], deleted: [] };
    const size = c.created.length + c.updated.length + c.deleted.length;
    // Whole transactions only: at most one extra transaction of 100 rows.
    assert.ok(size <= 200, `page ${pages} holds ${size} rows`);
    for (const r of c.created) had.set(r.id, r.given_name);
    for (const r of c.updated) {
      assert.ok(had.has(r.id), `${r.id} arrived as updated before the phone had it`);
      had.set(r.id, r.given_name);
    }
    pages++;
    cursor = page.timestamp;
    if (!page.more) break;
  }
  assert.equal(had.size, N);
  assert.ok([...had.values()].every((v) => v === "edited"));
  assert.ok(pages >= 30, `expected about 30 pages, got ${pages}`);
  store.close();
});
