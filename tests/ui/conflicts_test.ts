/**
 * Conflicts an operator can act on (issue 13): the record's human name, the
 * fields that differ, who made each version, "keep the newer one" and "restore
 * the older one" (a new local change with a fresh stamp, pending for the cloud,
 * that reaches another phone's pull), and an open count of undecided ones only,
 * also after the data was cleared.
 */
import assert from "node:assert/strict";
import { startAdminServer } from "../../ui/mod.ts";
import { captureLogs, makeHub, PASSPHRASE, patientRow, tempDir } from "../_helpers.ts";
import { storeConnection } from "../../store/testing.ts";

captureLogs();

const TOKEN = "conflicts-test-token-0123456789abcdef";

async function setUp() {
  const dir = await tempDir("hub-conflicts-");
  const hub = await makeHub({ dataDir: dir.path });
  await hub.setup(PASSPHRASE);
  const admin = await startAdminServer(hub, { port: 0, token: TOKEN });
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${admin.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: await r.json() };
  };
  return {
    hub,
    api,
    [Symbol.asyncDispose]: async () => {
      await admin.close();
      await hub.shutdown();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** Phone A writes a patient at t=2000, phone B pushes an older edit made at t=1000. */
function makeConflict(hub: Awaited<ReturnType<typeof setUp>>["hub"], i: number) {
  const store = hub.store;
  const now = Date.now();
  store.devices.touch("phone-a", "Reception tablet", now);
  store.devices.touch("phone-b", "Nurse phone", now);
  const base = patientRow(i);
  const id = base.id as string;
  const t = Date.UTC(2026, 1, 3, 9, 30);
  store.phoneSync.push({
    patients: {
      created: [{ ...base, given_name: "Layla", surname: "Haddad", updated_at: t + 2000 }],
    },
  }, { deviceId: "phone-a" });
  store.phoneSync.push({
    patients: {
      updated: [{
        ...base,
        given_name: "Laila",
        surname: "Haddad",
        hometown: "Old town",
        date_of_birth: "1970-01-01",
        updated_at: t + 1000,
      }],
    },
  }, { deviceId: "phone-b" });
  return id;
}

Deno.test("conflicts: named, compared field by field, with who made each version", async () => {
  await using e = await setUp();
  const id = makeConflict(e.hub, 1);
  const r = await e.api("GET", "/api/conflicts?open=1");
  assert.equal(r.status, 200);
  assert.equal(r.body.conflicts.length, 1);
  const c = r.body.conflicts[0];
  assert.equal(c.rowId, id);
  assert.equal(c.label.patient, "Layla Haddad");
  assert.equal(c.present, true);
  assert.equal(c.restorable, true);
  assert.deepEqual(c.olderBy, { via: "phone", device: "Nurse phone", user: null });
  // The kept version is phone A's push (the hub marks each pushed row with its device).
  assert.deepEqual(c.keptBy, { via: "phone", device: "Reception tablet", user: null });
  const byName = Object.fromEntries(
    c.differences.map((d: { name: string }) => [d.name, d]),
  );
  assert.deepEqual(Object.keys(byName).sort(), ["date_of_birth", "given_name", "hometown"]);
  assert.deepEqual(byName.given_name, {
    name: "given_name",
    kind: "text",
    kept: "Layla",
    older: "Laila",
  });
  assert.equal(byName.date_of_birth.kind, "date");
  assert.equal(byName.date_of_birth.older, "1970-01-01");
});

Deno.test("conflicts: keep the newer one decides it; the open count and the health line drop", async () => {
  await using e = await setUp();
  makeConflict(e.hub, 2);
  makeConflict(e.hub, 3);
  const list = (await e.api("GET", "/api/conflicts?open=1")).body.conflicts;
  assert.equal(list.length, 2);
  assert.equal((await e.api("GET", "/api/status")).body.cloud.openConflicts, 2);
  // Clearing the data keeps the log and its undecided count (nothing was decided).
  await e.api("POST", "/api/clear", { passphrase: PASSPHRASE, force: true });
  assert.equal((await e.api("GET", "/api/status")).body.cloud.openConflicts, 2);
  const after = (await e.api("GET", "/api/conflicts?open=1")).body.conflicts;
  assert.equal(after[0].present, false, "the record is gone after clearing");
  // Restoring needs the record; keeping the newer one does not.
  const refused = await e.api("POST", `/api/conflicts/${list[0].id}/restore-older`);
  assert.equal(refused.status, 409);
  assert.equal(refused.body.code, "record_missing");
  for (const c of list) {
    const k = await e.api("POST", `/api/conflicts/${c.id}/keep-newer`);
    assert.equal(k.status, 200);
  }
  assert.equal((await e.api("GET", "/api/status")).body.cloud.openConflicts, 0);
  assert.equal((await e.api("GET", "/api/conflicts?open=1")).body.conflicts.length, 0);
  const all = (await e.api("GET", "/api/conflicts")).body.conflicts;
  assert.equal(all.length, 2);
  assert.ok(all.every((c: { resolvedAt: number | null }) => c.resolvedAt !== null));
  const twice = await e.api("POST", `/api/conflicts/${list[0].id}/keep-newer`);
  assert.equal(twice.status, 409);
  assert.equal((await e.api("POST", "/api/conflicts/999999/keep-newer")).status, 404);
});

Deno.test("conflicts: restore the older one is a new local change: fresh stamp, pending for the cloud, pulled by phones", async () => {
  await using e = await setUp();
  const id = makeConflict(e.hub, 4);
  const store = e.hub.store;
  // As if the relay had already sent the kept version to the cloud.
  storeConnection(store).prepare("UPDATE patients SET local_server_pending = 0 WHERE id = ?").run(
    id,
  );
  const cursor = store.phoneSync.pull(0).timestamp;
  const pendingBefore = store.pendingCloud().count;
  const [c] = (await e.api("GET", "/api/conflicts?open=1")).body.conflicts;
  const r = await e.api("POST", `/api/conflicts/${c.id}/restore-older`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const row = storeConnection(store).prepare(
    "SELECT given_name, hometown, date_of_birth, updated_at, local_server_pending, local_server_last_modified_at FROM patients WHERE id = ?",
  ).get(id) as Record<string, unknown>;
  assert.equal(row.given_name, "Laila");
  assert.equal(row.hometown, "Old town");
  assert.equal(row.local_server_pending, 1, "not pending for the cloud");
  assert.ok((row.updated_at as number) > c.keptUpdatedAt, "updated_at must beat the kept one");
  assert.ok((row.local_server_last_modified_at as number) > cursor, "no fresh change stamp");
  assert.equal(store.pendingCloud().count, pendingBefore + 1);
  // Another phone pulling from its cursor gets the restored version.
  const pulled = JSON.parse(store.phoneSync.pull(cursor).json);
  const rows = [...pulled.changes.patients.created, ...pulled.changes.patients.updated];
  assert.equal(rows.find((p: { id: string }) => p.id === id)?.given_name, "Laila");
  // Decided, and only once.
  assert.equal((await e.api("GET", "/api/conflicts?open=1")).body.conflicts.length, 0);
  assert.equal((await e.api("POST", `/api/conflicts/${c.id}/restore-older`)).status, 409);
});
