/**
 * sync_pull / sync_push between simulated phones (SPEC §5): the round trip,
 * deletions as objects, all-or-nothing pushes, stale updates in the conflict
 * log, what a pull may carry, phone-read-only and unknown tables and columns.
 */
import assert from "node:assert/strict";
import { PHONE_TABLES, TABLES } from "../../store/mod.ts";
import {
  adminClient,
  countRows,
  DELETED,
  DOCTOR,
  eventRow,
  loggedInPhone,
  NO_PERMS,
  NURSE,
  PASSWORD,
  patientRow,
  persistedClock,
  pulledRows,
  startHub,
  storedRow,
  storeSnapshot,
  type TableChanges,
} from "./_fixtures.ts";
import { PhoneClient } from "../phone_client.ts";
import { storeConnection } from "../../store/testing.ts";

const T0 = 1_750_000_000_000;

Deno.test("sync: handshake → login → push → pull between two phones", async () => {
  const t = await startHub();
  try {
    const a = await loggedInPhone(t.url, NURSE, { deviceName: "Phone A" });
    const b = await loggedInPhone(t.url, NURSE, { deviceName: "Phone B" });
    // First pulls: the people the cloud sent.
    const a0 = await a.pull(null);
    assert.ok(a0.changes.users.created.some((u) => u.id === NURSE.id));
    assert.ok(a0.changes.clinics.created.length === 2);
    const b0 = await b.pull(0);

    // A registers a patient with a visit and an event, and pushes.
    await a.push(a0.timestamp, {
      patients: { created: [patientRow("p1", T0), patientRow("p2", T0)], updated: [], deleted: [] },
      visits: {
        created: [{
          id: "v1",
          patient_id: "p1",
          clinic_id: "clinic-a",
          provider_id: NURSE.id,
          provider_name: "Nurse",
          metadata: "{}",
          created_at: T0,
          updated_at: T0,
          _status: "created",
          _changed: "",
        }],
        updated: [],
        deleted: [],
      },
      events: { created: [eventRow("e1", "p1", T0, { visit_id: "v1" })], updated: [], deleted: [] },
    });

    // B's incremental pull brings exactly those rows, as created, with their data.
    const b1 = await b.pull(b0.timestamp);
    assert.ok(b1.timestamp > b0.timestamp);
    assert.deepEqual(Object.keys(b1.changes).sort(), ["events", "patients", "visits"]);
    assert.deepEqual(b1.changes.patients.created.map((r) => r.id).sort(), ["p1", "p2"]);
    assert.deepEqual(b1.changes.patients.updated, []);
    const p1 = b1.changes.patients.created.find((r) => r.id === "p1")!;
    assert.equal(p1.given_name, "Given p1");
    assert.equal(p1.date_of_birth, "1990-04-02");
    assert.equal(p1.updated_at, T0);
    assert.equal(p1.is_deleted, false, "flags go out as JSON booleans");
    assert.deepEqual(JSON.parse(p1.additional_data as string), { note: "added on a phone" });
    assert.equal("_status" in p1, false);
    const e1 = b1.changes.events.created[0];
    assert.equal(e1.visit_id, "v1");
    assert.deepEqual(JSON.parse(e1.form_data as string), [{ fieldId: "f1", value: "120/80" }]);

    // B edits p1 and deletes e1; A's incremental pull sees an update and a deletion.
    const a1 = await a.pull(a0.timestamp);
    await b.push(b1.timestamp, {
      patients: {
        created: [],
        updated: [patientRow("p1", T0 + 5000, { given_name: "Amina", _status: "updated" })],
        deleted: [],
      },
      events: { created: [], updated: [], deleted: ["e1"] },
    });
    const a2 = await a.pull(a1.timestamp);
    assert.deepEqual(a2.changes.patients.created, []);
    assert.equal(a2.changes.patients.updated.length, 1);
    assert.equal(a2.changes.patients.updated[0].given_name, "Amina");
    assert.deepEqual(a2.changes.events.deleted, [{ id: "e1" }]);
    assert.equal(a2.changes.visits, undefined); // tables with nothing to send are left out

    // Nothing new: an empty change set, and the cursor never goes back.
    const a3 = await a.pull(a2.timestamp);
    assert.deepEqual(a3.changes, {});
    assert.ok(a3.timestamp >= a2.timestamp);

    // A third phone starting from scratch gets the current state, deletions excluded.
    const c = await loggedInPhone(t.url);
    const c0 = await c.pull(0);
    assert.equal(c0.changes.patients.created.find((r) => r.id === "p1")!.given_name, "Amina");
    assert.equal(c0.changes.events?.created.some((r) => r.id === "e1") ?? false, false);
  } finally {
    await t.close();
  }
});

Deno.test("sync: the snake_case cursor and a null cursor are accepted; bad cursors are not", async () => {
  const t = await startHub();
  try {
    const phone = await loggedInPhone(t.url);
    const full = await phone.pull(null);
    const r = await phone.query<{ timestamp: number; changes: Record<string, unknown> }>(
      "sync_pull",
      { last_pulled_at: full.timestamp },
    );
    assert.equal(r.success, true);
    assert.deepEqual(r.result!.changes, {});
    for (const bad of [-1, "yesterday", 1.5, {}]) {
      const x = await phone.query("sync_pull", { lastPulledAt: bad });
      assert.equal(x.success, false, String(bad));
    }
    const push = await phone.command("sync_push", { lastPulledAt: 0, changes: [] });
    assert.equal(push.success, false);
  } finally {
    await t.close();
  }
});

Deno.test("sync: deletions arrive as whole row objects (and as ids) and are applied", async () => {
  const t = await startHub();
  try {
    const a = await loggedInPhone(t.url);
    const b = await loggedInPhone(t.url);
    const start = await a.pull(0);
    await a.push(start.timestamp, {
      patients: {
        created: [patientRow("d1", T0), patientRow("d2", T0), patientRow("d3", T0)],
        updated: [],
        deleted: [],
      },
    });
    const b0 = await b.pull(0);
    // The phone sends deleted rows as objects (its `_status: "deleted"` records).
    await a.push(start.timestamp, {
      patients: {
        created: [],
        updated: [],
        deleted: [
          { ...patientRow("d1", T0 + 1), _status: "deleted" },
          "d2",
          { id: "never-seen", _status: "deleted" },
        ],
      },
    });
    const d1 = storedRow(t.store, "patients", "d1")!;
    assert.ok(d1.local_server_deleted_at);
    assert.equal(d1.is_deleted, 1);
    assert.ok(storedRow(t.store, "patients", "d2")!.local_server_deleted_at);
    assert.equal(storedRow(t.store, "patients", "d3")!.local_server_deleted_at, null);
    const b1 = await b.pull(b0.timestamp);
    // Deletions go out as `{id}` objects: the app reads `.id` of each entry.
    assert.deepEqual(
      b1.changes.patients.deleted.map((d) => d.id).sort(),
      ["d1", "d2", "never-seen"],
    );
    assert.ok(b1.changes.patients.deleted.every((d) => Object.keys(d).join() === "id"));
    assert.deepEqual(b1.changes.patients.created, []);
    assert.deepEqual(b1.changes.patients.updated, []);
    // An entry without an id fails the whole push.
    const before = storeSnapshot(t.store);
    const bad = await a.command("sync_push", {
      lastPulledAt: b1.timestamp,
      changes: { patients: { created: [], updated: [], deleted: ["d3", { name: "no id" }] } },
    });
    assert.equal(bad.success, false);
    assert.equal(storeSnapshot(t.store), before);
  } finally {
    await t.close();
  }
});

Deno.test("sync: a push with a bad row half-way applies nothing", async () => {
  const t = await startHub();
  try {
    const phone = await loggedInPhone(t.url);
    const other = await loggedInPhone(t.url);
    const start = await phone.pull(0);
    await phone.push(start.timestamp, {
      patients: { created: [patientRow("keep", T0)], updated: [], deleted: [] },
    });
    const o0 = await other.pull(0);
    const before = storeSnapshot(t.store);
    const clockOnDisk = persistedClock(t.store);
    const counts = {
      patients: countRows(t.store, "patients"),
      events: countRows(t.store, "events"),
    };
    const pushed = t.store.devices.get(phone.clientId)!.rowsPushed;
    const changes = {
      patients: {
        created: [
          patientRow("new-1", T0),
          patientRow("new-2", T0, { image_timestamp: "abc" }), // INTEGER column
          patientRow("new-3", T0),
        ],
        updated: [patientRow("keep", T0 + 1, { given_name: "Changed" })],
        deleted: [],
      },
      events: { created: [eventRow("ev-1", "new-1", T0)], updated: [], deleted: [] },
    };
    const r = await phone.command("sync_push", { lastPulledAt: start.timestamp, changes });
    assert.equal(r.status, 200);
    assert.equal(r.success, false);
    assert.match(r.error!, /image_timestamp/);
    // Nothing applied: rows, stamps, the clock on disk, counters.
    assert.equal(storeSnapshot(t.store), before);
    assert.equal(persistedClock(t.store), clockOnDisk);
    assert.equal(countRows(t.store, "patients"), counts.patients);
    assert.equal(countRows(t.store, "events"), counts.events);
    assert.equal(storedRow(t.store, "patients", "keep")!.given_name, "Given keep");
    assert.equal(t.store.devices.get(phone.clientId)!.rowsPushed, pushed);
    assert.deepEqual((await other.pull(o0.timestamp)).changes, {});

    // A bad row in the last table also undoes the earlier tables. (The pull above
    // saved the clock before handing out its timestamp, so snapshot again.)
    const before2 = storeSnapshot(t.store);
    const r2 = await phone.command("sync_push", {
      lastPulledAt: start.timestamp,
      changes: {
        patients: { created: [patientRow("new-1", T0)], updated: [], deleted: [] },
        events: {
          created: [
            eventRow("ev-1", "new-1", T0),
            eventRow("ev-2", "new-1", T0, { created_at: [1] }),
          ],
          updated: [],
          deleted: [],
        },
      },
    });
    assert.equal(r2.success, false);
    assert.equal(storeSnapshot(t.store), before2);

    // The same push without the bad value goes through whole.
    changes.patients.created[1] = patientRow("new-2", T0);
    await phone.push(start.timestamp, changes);
    const o1 = await other.pull(o0.timestamp);
    assert.deepEqual(o1.changes.patients.created.map((x) => x.id).sort(), [
      "new-1",
      "new-2",
      "new-3",
    ]);
    assert.equal(o1.changes.patients.updated[0].given_name, "Changed");
    assert.equal(o1.changes.events.created.length, 1);
  } finally {
    await t.close();
  }
});

Deno.test("sync: a stale update loses and is logged in the conflicts table and the admin API", async () => {
  const t = await startHub();
  const admin = await adminClient(t.hub);
  try {
    const a = await loggedInPhone(t.url);
    const b = await loggedInPhone(t.url);
    const c = await loggedInPhone(t.url);
    const start = await a.pull(0);
    await a.push(start.timestamp, {
      patients: { created: [patientRow("pc", T0)], updated: [], deleted: [] },
    });
    const b0 = await b.pull(0);
    await a.push(b0.timestamp, {
      patients: {
        created: [],
        updated: [patientRow("pc", T0 + 60_000, { given_name: "Newer" })],
        deleted: [],
      },
    });
    const c0 = await c.pull(0);
    // B edited the row earlier (offline) and pushes the older version afterwards.
    await b.push(b0.timestamp, {
      patients: {
        created: [],
        updated: [patientRow("pc", T0 + 30_000, { given_name: "Older" })],
        deleted: [],
      },
    });
    const stored = storedRow(t.store, "patients", "pc")!;
    assert.equal(stored.given_name, "Newer");
    assert.equal(stored.updated_at, T0 + 60_000);
    // The loss is in the conflicts table...
    const rows = t.store.conflicts.list().filter((c) => c.rowId === "pc");
    assert.equal(rows.length, 1);
    assert.equal(rows[0].table, "patients");
    assert.equal(rows[0].source, "phone");
    assert.equal(rows[0].deviceId, b.clientId);
    assert.equal(rows[0].keptUpdatedAt, T0 + 60_000);
    assert.equal(rows[0].lostUpdatedAt, T0 + 30_000);
    assert.equal((rows[0].lostRow as Record<string, unknown>).given_name, "Older");
    // ...and in the admin API.
    const listed = await admin.get("/api/conflicts");
    assert.equal(listed.status, 200);
    const conflicts = listed.body.conflicts as Record<string, unknown>[];
    const mine = conflicts.filter((x) => x.rowId === "pc");
    assert.equal(mine.length, 1);
    assert.equal(mine[0].table, "patients");
    assert.equal(mine[0].deviceId, b.clientId);
    assert.equal((mine[0].lostRow as Record<string, unknown>).given_name, "Older");
    // The phone that lost gets the kept version back on its next pull (it holds
    // the older one); another phone gets the same version again, unchanged.
    const back = await b.pull(b0.timestamp);
    const kept = back.changes.patients.updated.find((r) => r.id === "pc")!;
    assert.equal(kept.given_name, "Newer");
    assert.equal(kept.updated_at, T0 + 60_000);
    const other = (await c.pull(c0.timestamp)).changes.patients;
    assert.deepEqual(other.updated.map((r) => [r.id, r.given_name]), [["pc", "Newer"]]);
    assert.equal(storedRow(t.store, "patients", "pc")!.local_server_pending, 1);
  } finally {
    await admin.server.close();
    await t.close();
  }
});

Deno.test("sync: a pull carries every data column, never password hashes or bookkeeping", async () => {
  const t = await startHub();
  try {
    const phone = await loggedInPhone(t.url);
    const start = await phone.pull(0);
    await phone.push(start.timestamp, {
      patients: { created: [patientRow("px", T0)], updated: [], deleted: [] },
      events: { created: [eventRow("ex", "px", T0)], updated: [], deleted: [] },
    });
    // A table the phone's schema lacks, written by the cloud, must not be sent.
    t.store.transaction(() => {
      storeConnection(t.store).prepare(
        `INSERT INTO peers (id, peer_id, name, public_key, peer_type, status, protocol_version,
           created_at, updated_at, local_server_created_at, local_server_last_modified_at)
         VALUES ('peer1', 'peer1', 'n', 'k', 'hub', 'ok', '1', 1, 1, ?, ?)`,
      ).run(t.store.clock.next(), t.store.clock.current());
    });
    const full = await phone.pull(0);
    const text = JSON.stringify(full);
    assert.ok(!text.includes("hashed_password"));
    assert.ok(!text.includes("local_server_"));
    assert.ok(!text.includes("$2"), "no bcrypt hash anywhere");
    for (const table of Object.keys(full.changes)) {
      assert.ok(PHONE_TABLES.includes(table), table);
    }
    assert.equal(full.changes.peers, undefined);
    for (const { table, row } of pulledRows(full.changes)) {
      const expected = TABLES.get(table)!.columns.map((c) => c.name)
        .filter((c) => !(table === "users" && c === "hashed_password"));
      assert.deepEqual(Object.keys(row).sort(), expected.sort(), table);
    }
    // Live users as rows; the deleted one only as a deletion (a phone that never
    // had it ignores it).
    assert.deepEqual(
      full.changes.users.created.map((u) => u.id).sort(),
      [DOCTOR.id, NO_PERMS.id, NURSE.id].sort(),
    );
    assert.deepEqual(full.changes.users.deleted.map((d) => d.id), [DELETED.id]);
  } finally {
    await t.close();
  }
});

Deno.test("sync: pushes to users, registration_forms and event_forms are ignored", async () => {
  const t = await startHub();
  try {
    const phone = await loggedInPhone(t.url);
    const other = await loggedInPhone(t.url);
    const start = await phone.pull(0);
    const o0 = await other.pull(0);
    const hash = storeConnection(t.store).prepare("SELECT hashed_password FROM users WHERE id = ?")
      .get(NURSE.id);
    await phone.push(start.timestamp, {
      users: {
        created: [{
          id: "intruder",
          name: "Intruder",
          role: "super_admin",
          email: "intruder@x.test",
          clinic_id: "clinic-a",
          hashed_password: "$2b$04$abcdefghijklmnopqrstuuQ1Lr4cFUxS6bsdYEtg8bOG2a3mV8F3C",
        }],
        updated: [{
          id: NURSE.id,
          role: "super_admin",
          hashed_password: "x",
          updated_at: Date.now() + 1e6,
        }],
        deleted: [NURSE.id],
      },
      registration_forms: {
        created: [{ id: "rf1", name: "Form", fields: "[]", metadata: "{}" }],
        updated: [],
        deleted: [],
      },
      event_forms: {
        created: [{ id: "ef1", name: "Form", language: "en", form_fields: "[]", metadata: "{}" }],
        updated: [],
        deleted: [],
      },
    });
    assert.equal(storedRow(t.store, "users", "intruder"), undefined);
    assert.equal(storedRow(t.store, "registration_forms", "rf1"), undefined);
    assert.equal(storedRow(t.store, "event_forms", "ef1"), undefined);
    const nurse = storedRow(t.store, "users", NURSE.id)!;
    assert.equal(nurse.role, "provider");
    assert.equal(nurse.local_server_deleted_at, null);
    assert.deepEqual(
      storeConnection(t.store).prepare("SELECT hashed_password FROM users WHERE id = ?").get(
        NURSE.id,
      ),
      hash,
    );
    await phone.login(NURSE.email, PASSWORD); // the password is unchanged
    assert.deepEqual((await other.pull(o0.timestamp)).changes, {});
  } finally {
    await t.close();
  }
});

Deno.test("sync: unknown tables and columns are dropped, the rest applied", async () => {
  const t = await startHub();
  try {
    const phone = await loggedInPhone(t.url);
    const start = await phone.pull(0);
    await phone.push(start.timestamp, {
      not_a_table: { created: [{ id: "x1" }], updated: [], deleted: [] },
      constructor: { created: [{ id: "x2" }], updated: [], deleted: [] },
      sqlite_master: { created: [{ id: "x3" }], updated: [], deleted: [] },
      'patients"; DROP TABLE patients; --': { created: [{ id: "x4" }], updated: [], deleted: [] },
      patients: {
        created: [patientRow("pu", T0, {
          _status: "created",
          _changed: "given_name,surname",
          evil_column: "x",
          "given_name = 'pwned' --": "y",
          local_server_pending: 0,
          local_server_deleted_at: 123,
          local_server_last_modified_at: 1,
        })],
        updated: [],
        deleted: [],
      },
    });
    const row = storedRow(t.store, "patients", "pu")!;
    assert.equal(row.given_name, "Given pu");
    assert.equal(row.local_server_deleted_at, null);
    assert.equal(row.local_server_pending, 1);
    assert.ok((row.local_server_last_modified_at as number) > start.timestamp);
    assert.equal("evil_column" in row, false);
    const other = await loggedInPhone(t.url);
    const again = await other.pull(start.timestamp);
    const pulled = again.changes.patients.created.find((r) => r.id === "pu")!;
    assert.equal("_status" in pulled, false);
    assert.equal("evil_column" in pulled, false);
    assert.deepEqual(Object.keys(again.changes), ["patients"]);
  } finally {
    await t.close();
  }
});

Deno.test("devices: the admin API lists each device with rows pulled and pushed", async () => {
  const t = await startHub();
  const admin = await adminClient(t.hub);
  try {
    const phone = await loggedInPhone(t.url, NURSE, { deviceName: "Clinic tablet 3" });
    const first = await phone.pull(0);
    const pulledRows1 = pulledRows(first.changes).length +
      Object.values(first.changes).reduce((n, s: TableChanges) => n + s.deleted.length, 0);
    await phone.push(first.timestamp, {
      patients: {
        created: [patientRow("dv1", T0), patientRow("dv2", T0)],
        updated: [],
        deleted: [],
      },
      events: { created: [], updated: [], deleted: ["gone-1"] },
    });
    const second = await phone.pull(first.timestamp);
    const total = pulledRows1 + pulledRows(second.changes).length +
      Object.values(second.changes).reduce((n, s: TableChanges) => n + s.deleted.length, 0);
    const res = await admin.get("/api/devices");
    assert.equal(res.status, 200);
    const devices = res.body.devices as Record<string, unknown>[];
    const d = devices.find((x) => x.clientId === phone.clientId)!;
    assert.ok(d, "device listed");
    assert.equal(d.name, "Clinic tablet 3");
    assert.equal(d.rowsPushed, 3);
    assert.equal(d.rowsPulled, total);
    assert.equal(d.lastUserId, NURSE.id);
    assert.equal(typeof d.lastSync, "number");
    assert.equal(d.revokedAt, null);
    assert.ok((d.handshakes as number) >= 1);
    // A phone that only handshook is not listed (a bare handshake proves nothing);
    // once it logs in it is, with nothing synced.
    const idle = new PhoneClient(t.url, { deviceName: "Idle" });
    await idle.handshake();
    let again = (await admin.get("/api/devices")).body.devices as Record<string, unknown>[];
    assert.equal(again.find((x) => x.clientId === idle.clientId), undefined);
    await idle.login(NURSE.email, PASSWORD);
    again = (await admin.get("/api/devices")).body.devices as Record<string, unknown>[];
    const i = again.find((x) => x.clientId === idle.clientId)!;
    assert.equal(i.name, "Idle");
    assert.equal(i.rowsPulled, 0);
    assert.equal(i.rowsPushed, 0);
    assert.equal(i.lastSync, null);
  } finally {
    await admin.server.close();
    await t.close();
  }
});

Deno.test("sync: pulled values read back exactly as pushed (text, numbers, nulls)", async () => {
  const t = await startHub();
  try {
    const a = await loggedInPhone(t.url);
    const b = await loggedInPhone(t.url);
    const start = await a.pull(0);
    const tricky = 'quote " backslash \\ slash / newline \n tab \t bell \u0007 nul-ish \u0001 ' +
      "emoji 😀 arabic مرحبا combining é line-sep \u2028 para-sep \u2029 </script>";
    const patient = patientRow("exact-1", T0, {
      given_name: tricky,
      surname: "",
      additional_data: JSON.stringify({ nested: { list: [1, 2.5, "x"], text: tricky } }),
      image_timestamp: 9_007_199_254_740_991,
      phone: null,
    });
    const vitals = {
      id: "vit-1",
      patient_id: "exact-1",
      timestamp: T0,
      systolic_bp: 120.5,
      diastolic_bp: 0.1 + 0.2,
      height_cm: 1e-7,
      weight_kg: 1.7976931348623157e308,
      temperature_celsius: -0,
      heart_rate: 72,
      pain_level: null,
      metadata: "{}",
      created_at: T0,
      updated_at: T0,
    };
    await a.push(start.timestamp, {
      patients: { created: [patient], updated: [], deleted: [] },
      patient_vitals: { created: [vitals], updated: [], deleted: [] },
    });
    const pulled = await b.pull(start.timestamp);
    const p = pulled.changes.patients.created[0];
    assert.equal(p.given_name, tricky);
    assert.equal(p.surname, "");
    assert.equal(p.phone, null);
    assert.equal(p.image_timestamp, 9_007_199_254_740_991);
    assert.deepEqual(JSON.parse(p.additional_data as string), {
      nested: { list: [1, 2.5, "x"], text: tricky },
    });
    const v = pulled.changes.patient_vitals.created[0];
    for (
      const k of [
        "systolic_bp",
        "diastolic_bp",
        "height_cm",
        "weight_kg",
        "heart_rate",
        "pain_level",
      ] as const
    ) {
      assert.equal(v[k], vitals[k], k);
    }
    assert.equal(Object.is(v.temperature_celsius, 0) || Object.is(v.temperature_celsius, -0), true);
  } finally {
    await t.close();
  }
});
