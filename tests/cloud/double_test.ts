/**
 * The cloud double itself, checked against SPEC §7 with plain HTTP: if it did
 * not behave like the real cloud, the relay tests would prove nothing.
 */
import assert from "node:assert/strict";
import { CLOUD_TABLES, CloudDouble, NON_TABLE_KEYS, randomApiKey } from "../cloud_double.ts";
import { CLINIC, cloudPatient, OTHER_CLINIC, startCloud, USER, uuidFor } from "./_fixtures.ts";

type Row = Record<string, unknown>;
type Changes = Record<string, { created: Row[]; updated: Row[]; deleted: unknown[] }>;

async function pull(cloud: CloudDouble, w: number, key = cloud.apiKey, peer = "sync_hub") {
  const res = await fetch(`${cloud.url}/api/v2/sync?lastPulledAt=${w}&peerType=${peer}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  return { status: res.status, body: await res.json() };
}

async function push(cloud: CloudDouble, changes: unknown) {
  const res = await fetch(`${cloud.url}/api/v2/sync?peerType=sync_hub`, {
    method: "POST",
    headers: { authorization: `Bearer ${cloud.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(changes),
  });
  return { status: res.status, body: await res.json() };
}

Deno.test("double: verify-key answers 200 with the device row, 401 for a wrong key, 400 without one", async () => {
  await using cloud = await CloudDouble.start({ clinicIds: ["c-1", "c-2"], hubName: "North" });
  const call = (body: unknown) =>
    fetch(`${cloud.url}/api/hub/verify-key`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const ok = await call({ api_key: cloud.apiKey });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.id, cloud.hubId);
  assert.equal(ok.body.name, "North");
  assert.equal(ok.body.device_type, "sync_hub");
  assert.equal(ok.body.status, "active");
  assert.deepEqual(ok.body.clinic_ids, ["c-1", "c-2"]);
  assert.match(ok.body.created_at, /^\d{4}-\d\d-\d\dT.*Z$/);
  assert.deepEqual(await call({ api_key: randomApiKey() }), {
    status: 401,
    body: { error: "Invalid API key" },
  });
  assert.equal((await call({})).status, 400);
});

Deno.test("double: the sync route wants the Bearer key and peerType=sync_hub", async () => {
  await using cloud = await startCloud();
  for (
    const [key, peer] of [[randomApiKey(), "sync_hub"], [cloud.apiKey, "mobile"], [
      cloud.apiKey,
      "",
    ]]
  ) {
    assert.deepEqual(await pull(cloud, 0, key, peer), {
      status: 401,
      body: { error: "Unauthorized" },
    });
  }
  const res = await fetch(`${cloud.url}/api/v2/sync?lastPulledAt=0&peerType=sync_hub`);
  assert.equal(res.status, 401);
  await res.body?.cancel();
});

Deno.test("double: a first pull has every key, ISO dates, booleans, JSON objects, bcrypt users, one clinic", async () => {
  await using cloud = await startCloud();
  cloud.insert("patients", cloudPatient(1));
  cloud.insert("patients", cloudPatient(2, 1, OTHER_CLINIC));
  cloud.insert("patients", cloudPatient(3));
  cloud.remove("patients", uuidFor(1, 3));
  const before = Date.now();
  const { status, body } = await pull(cloud, 0);
  assert.equal(status, 200);
  assert.equal(body.success, true);
  assert.ok(body.timestamp >= before);
  const changes = body.changes as Changes;
  assert.deepEqual(Object.keys(changes).sort(), [...CLOUD_TABLES, ...NON_TABLE_KEYS].sort());
  for (const set of Object.values(changes)) {
    assert.ok(
      Array.isArray(set.created) && Array.isArray(set.updated) && Array.isArray(set.deleted),
    );
  }
  assert.deepEqual(changes.patients.deleted, [], "no deletions at W = 0");
  const [p] = changes.patients.created;
  assert.equal(changes.patients.created.length, 1, "other clinic and deleted rows left out");
  assert.equal(p.date_of_birth, "1951-02-02T00:00:00.000Z");
  assert.equal(p.created_at, "2025-01-01T00:01:00.000Z");
  assert.match(String(p.server_created_at), /Z$/);
  assert.equal(p.is_deleted, false);
  assert.equal(typeof p.additional_data, "object");
  const users = changes.users.created;
  assert.deepEqual(users.map((u) => u.id), [USER.id]);
  assert.match(String(users[0].hashed_password), /^\$2b\$/);
  assert.equal(changes.user_clinic_permissions.created[0].clinic_id, CLINIC);
  assert.equal(changes.user_clinic_permissions.created[0].can_register_patients, true);
  assert.equal(changes.undefined.created.length, 1);
  assert.ok("key_hash" in changes.undefined.created[0]);
});

Deno.test("double: created / updated / deleted after a watermark, and the timestamp is taken first", async () => {
  await using cloud = await startCloud();
  cloud.insert("patients", cloudPatient(1));
  cloud.insert("patients", cloudPatient(2));
  const w = (await pull(cloud, 0)).body.timestamp;
  cloud.insert("patients", cloudPatient(3));
  cloud.update("patients", uuidFor(1, 1), { given_name: "New" });
  cloud.remove("patients", uuidFor(1, 2));
  const perm = cloud.rows("user_clinic_permissions")[0];
  cloud.update("user_clinic_permissions", String(perm.id), { can_edit_records: false });
  const { body } = await pull(cloud, w);
  const c = body.changes as Changes;
  assert.deepEqual(c.patients.created.map((r) => r.id), [uuidFor(1, 3)]);
  assert.deepEqual(c.patients.updated.map((r) => [r.id, r.given_name]).sort(), [
    [uuidFor(1, 1), "New"],
    [uuidFor(1, 2), cloudPatient(2).given_name],
  ]);
  assert.deepEqual(c.patients.deleted, [uuidFor(1, 2)]);
  assert.deepEqual(c.user_clinic_permissions.updated.map((r) => r.can_edit_records), [false]);
  assert.deepEqual(c.user_clinic_permissions.deleted, []);
  assert.ok(body.timestamp > w);
  const again = await pull(cloud, body.timestamp);
  assert.equal(again.body.changes.patients.created.length, 0);
  assert.equal(again.body.changes.patients.updated.length, 0);
});

Deno.test("double: pushes echo, apply only when newer, re-id non-UUIDs, skip other clinics and tables", async () => {
  await using cloud = await startCloud();
  const w = (await pull(cloud, 0)).body.timestamp;
  const row: Record<string, unknown> = {
    ...cloudPatient(5),
    updated_at: 1_800_000_000_000,
    metadata: '{"a":1}',
    is_deleted: 0,
  };
  assert.deepEqual(
    await push(cloud, {
      patients: {
        created: [row, { ...cloudPatient(6), id: "not-a-uuid" }, cloudPatient(7, 1, OTHER_CLINIC)],
        updated: [],
        deleted: [],
      },
      users: {
        created: [{ id: crypto.randomUUID(), clinic_id: CLINIC }],
        updated: [],
        deleted: [],
      },
      clinics: { created: [{ id: crypto.randomUUID(), name: "x" }], updated: [], deleted: [] },
    }),
    { status: 200, body: { success: true } },
  );
  assert.deepEqual(cloud.get("patients", uuidFor(1, 5))!.metadata, { a: 1 });
  assert.equal(cloud.get("patients", uuidFor(1, 5))!.is_deleted, false);
  assert.equal(cloud.get("patients", "not-a-uuid"), undefined, "stored under a new id");
  assert.equal(cloud.rows("patients").length, 2);
  assert.equal(cloud.get("patients", uuidFor(1, 7)), undefined, "other clinic skipped");
  assert.equal(cloud.rows("users").length, 2, "users not accepted from a hub");
  assert.equal(cloud.rows("clinics").length, 2);

  const echo = (await pull(cloud, w)).body.changes as Changes;
  assert.equal(echo.patients.created.length, 2, "the cloud returns the hub's own pushes");

  // Not strictly newer: ignored. Newer: applied.
  await push(cloud, {
    patients: { created: [], updated: [{ ...row, given_name: "Same time" }], deleted: [] },
  });
  assert.equal(cloud.get("patients", uuidFor(1, 5))!.given_name, row.given_name);
  await push(cloud, {
    patients: {
      created: [],
      updated: [{ ...row, given_name: "Later", updated_at: (row.updated_at as number) + 1 }],
      deleted: [],
    },
  });
  assert.equal(cloud.get("patients", uuidFor(1, 5))!.given_name, "Later");
});

Deno.test("double: deleted entries must be ids; a failure leaves the earlier rows written", async () => {
  await using cloud = await startCloud();
  cloud.insert("patients", cloudPatient(1));
  const r = await push(cloud, {
    patients: {
      created: [cloudPatient(2)],
      updated: [],
      deleted: [uuidFor(1, 1), { id: uuidFor(1, 2) }],
    },
  });
  assert.equal(r.status, 500);
  assert.ok(cloud.get("patients", uuidFor(1, 2)), "written before the failure");
  assert.equal(cloud.get("patients", uuidFor(1, 1))!.is_deleted, true);
  assert.equal(cloud.get("patients", uuidFor(1, 2))!.is_deleted, false);
});

Deno.test("double: the 61st request in a minute gets 429 with retry-after, wrong keys included", async () => {
  await using cloud = await startCloud();
  for (let i = 0; i < 60; i++) {
    const r = await pull(cloud, Date.now(), i % 2 ? randomApiKey() : cloud.apiKey);
    assert.notEqual(r.status, 429, `request ${i + 1}`);
  }
  const res = await fetch(`${cloud.url}/api/v2/sync?lastPulledAt=0&peerType=sync_hub`, {
    headers: { authorization: `Bearer ${cloud.apiKey}` },
  });
  assert.equal(res.status, 429);
  const s = Number(res.headers.get("retry-after"));
  assert.ok(s >= 1 && s <= 60, `retry-after ${s}`);
  await res.body?.cancel();
});
