/**
 * Migration 2 (issue 4): a database written by schema 1 gains
 * `visits.check_in_timestamp` (which the reference and the phone have) and the
 * search indexes, keeping its rows; a fresh database gets the same schema.
 */
import assert from "node:assert/strict";
import { SCHEMA_VERSION, Store, tableDef } from "../../store/mod.ts";
import { storeConnection, upsertRow } from "../../store/testing.ts";

const KEY = "5a".repeat(32);
const V2_INDEXES = [
  "patients_names",
  "patients_search",
  "patients_government_id",
  "patient_additional_attributes_search",
  "clinic_inventory_clinic_id",
  "prescriptions_prescribed_at",
];

function columns(store: Store, table: string): string[] {
  return (storeConnection(store).prepare("SELECT name FROM pragma_table_info(?)").pluck().all(
    table,
  )) as string[];
}

function indexes(store: Store): string[] {
  return storeConnection(store).prepare("SELECT name FROM sqlite_master WHERE type = 'index'")
    .pluck()
    .all() as string[];
}

Deno.test("migration 2 upgrades a schema-1 database and keeps its rows", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hub-mig-" });
  try {
    const path = `${dir}/hub.db`;
    let store = Store.open(path, KEY);
    assert.ok(SCHEMA_VERSION >= 2);
    // Turn it back into what schema 1 wrote.
    for (const name of V2_INDEXES) storeConnection(store).exec(`DROP INDEX ${name}`);
    storeConnection(store).exec("ALTER TABLE visits DROP COLUMN check_in_timestamp");
    storeConnection(store).pragma("user_version = 1");
    store.transaction(() => {
      const ctx = {
        db: storeConnection(store),
        stamp: store.clock.next(),
        now: 1,
        source: "cloud" as const,
      };
      // A schema-1 row (no check-in column yet): write only the columns it had.
      storeConnection(store).prepare(
        `INSERT INTO visits (id, patient_id, metadata, local_server_created_at,
           local_server_last_modified_at) VALUES ('v-old', 'p1', '{}', ?, ?)`,
      ).run(ctx.stamp, ctx.stamp);
    });
    store.close();

    store = Store.open(path, KEY);
    assert.equal(storeConnection(store).pragma("user_version", { simple: true }), SCHEMA_VERSION);
    assert.ok(columns(store, "visits").includes("check_in_timestamp"));
    for (const name of V2_INDEXES) assert.ok(indexes(store).includes(name), name);
    const old = storeConnection(store).prepare("SELECT id, check_in_timestamp FROM visits").all();
    assert.deepEqual(old, [{ id: "v-old", check_in_timestamp: null }]);
    // And the column now round-trips through the ordinary write path.
    store.transaction(() => {
      const ctx = {
        db: storeConnection(store),
        stamp: store.clock.next(),
        now: 2,
        source: "phone" as const,
      };
      upsertRow(ctx, tableDef("visits"), {
        id: "v-new",
        patient_id: "p1",
        check_in_timestamp: "2026-01-02T03:04:05.000Z",
        metadata: {},
      });
    });
    const row = storeConnection(store).prepare(
      "SELECT check_in_timestamp AS t FROM visits WHERE id = 'v-new'",
    )
      .get() as { t: number };
    assert.equal(row.t, Date.UTC(2026, 0, 2, 3, 4, 5));
    store.close();

    // A fresh database reaches the same columns.
    const fresh = Store.open(`${dir}/fresh.db`, KEY);
    const upgraded = Store.open(path, KEY);
    assert.deepEqual(columns(fresh, "visits").sort(), columns(upgraded, "visits").sort());
    assert.deepEqual(indexes(fresh).sort(), indexes(upgraded).sort());
    fresh.close();
    upgraded.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
