/**
 * The relay against the cloud double (issue 5): the first sync lets a phone log
 * in; rows travel phone → hub → cloud and cloud → hub → phone; cloud updates,
 * late inserts and deletions reach phones; nothing echoes back; a row changed on
 * both sides keeps the newer version and logs the other; one cycle at a time.
 */
import assert from "node:assert/strict";
import { CLOUD_WATERMARK_KEY } from "../../store/mod.ts";
import {
  assertSameRows,
  CLINIC,
  cloudPatient,
  cloudVisit,
  loggedInPhone,
  newView,
  OTHER_CLINIC,
  phonePatient,
  phonePush,
  pullAll,
  register,
  settled,
  stamps,
  startCloud,
  startHub,
  syncOk,
  USER,
  uuidFor,
} from "./_fixtures.ts";
import { storeConnection } from "../../store/testing.ts";

Deno.test("first sync brings users and permissions, and a phone logs in at the hub", async () => {
  await using cloud = await startCloud();
  for (let i = 0; i < 130; i++) cloud.insert("patients", cloudPatient(i));
  cloud.insert("patients", cloudPatient(0, 3, OTHER_CLINIC)); // another clinic's patient
  await using t = await startHub();
  await register(t, cloud);
  const h = await settled(t);

  const counts = h.lastCycle!.pulled;
  assert.equal(counts.patients, 130, "only this clinic's patients come down");
  assert.equal(counts.users, 1, "only this clinic's users come down");
  assert.equal(counts.user_clinic_permissions, 1);
  assert.equal(h.lastCycle!.droppedRows, 2, "device_pin_codes and 'undefined' rows are dropped");
  assert.equal(t.hub.store.getMeta(CLOUD_WATERMARK_KEY), String(h.lastCycle!.cloudTimestamp));

  // Not-kept keys leave nothing behind: every table the hub has is one of its own.
  const tables = storeConnection(t.hub.store).prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND (name LIKE '%pin%' OR name = 'undefined')",
  ).all();
  assert.deepEqual(tables, []);

  // Types converted by our schema: epoch ms, YYYY-MM-DD, 0/1, JSON text.
  const row = storeConnection(t.hub.store).prepare("SELECT * FROM patients WHERE id = ?").get(
    uuidFor(1, 7),
  ) as Record<string, unknown>;
  assert.equal(row.date_of_birth, "1957-08-08");
  assert.equal(row.created_at, Date.UTC(2025, 0, 1) + 7 * 60_000);
  assert.equal(row.is_deleted, 0);
  assert.deepEqual(JSON.parse(row.additional_data as string).blood_type, "AB+");

  const phone = await loggedInPhone(t.lanUrl);
  const me = await phone.login(USER.email, USER.password);
  assert.equal(me.user_id, USER.id);
  assert.equal(me.clinic_id, CLINIC);
  assert.equal(me.clinic_name, "Zaatari North");
  const view = newView();
  await pullAll(phone, view);
  assert.equal(view.created.get("patients")?.length, 130);
  const users = view.rows.get("users")!;
  assert.equal(users.size, 1);
  for (const u of users.values()) assert.equal("hashed_password" in u, false);
  assertSameRows(t.hub, cloud, "patients");
  assertSameRows(t.hub, cloud, "users");
  assertSameRows(t.hub, cloud, "user_clinic_permissions");
});

Deno.test("phone → hub → cloud and cloud → hub → phone, with counts per table", async () => {
  await using cloud = await startCloud();
  const c = cloud;
  for (let i = 0; i < 20; i++) c.insert("patients", cloudPatient(i));
  await using t = await startHub();
  await register(t, c);
  await settled(t);
  const phone = await loggedInPhone(t.lanUrl);
  const view = newView();
  await pullAll(phone, view);

  // The phone records three patients, a visit, and deletes a cloud patient.
  const now = Date.now();
  const mine = [0, 1, 2].map((i) => phonePatient(i, 9, now));
  const visit = {
    ...cloudVisit(0, String(mine[0].id), 8),
    metadata: "{}",
    created_at: now,
    updated_at: now,
  };
  await phonePush(phone, view, {
    patients: { created: mine, updated: [], deleted: [{ id: uuidFor(1, 5), _status: "deleted" }] },
    visits: { created: [visit], updated: [], deleted: [] },
  });
  assert.equal(t.hub.cloudHealth()!.pendingChanges, 5);

  // Meanwhile the cloud gets two new patients.
  c.insert("patients", cloudPatient(100));
  c.insert("patients", cloudPatient(101));

  const r = await syncOk(t);
  assert.deepEqual(r.pushed, { patients: 4, visits: 1 });
  assert.equal(r.pulled.patients, 2);
  const deletions = c.pushed.filter((p) => p.kind === "deleted");
  assert.deepEqual(deletions.map((d) => d.id), [uuidFor(1, 5)], "deletions go as id strings");
  assert.equal(c.get("patients", uuidFor(1, 5))!.is_deleted, true);
  for (const p of mine) assert.ok(c.get("patients", String(p.id)), `${p.id} reached the cloud`);
  assert.equal((await settled(t)).pendingChanges, 0);
  assertSameRows(t.hub, c, "patients");
  assertSameRows(t.hub, c, "visits");

  await pullAll(phone, view);
  const created = view.created.get("patients")!;
  assert.ok(created.includes(uuidFor(1, 100)) && created.includes(uuidFor(1, 101)));
  assert.equal(new Set(created).size, created.length, "no patient arrives twice as created");
});

Deno.test("a cloud update and a late cloud insert reach phones (as updated and created)", async () => {
  await using cloud = await startCloud();
  const c = cloud;
  for (let i = 0; i < 10; i++) c.insert("patients", cloudPatient(i));
  await using t = await startHub();
  await register(t, c);
  await settled(t);
  const phone = await loggedInPhone(t.lanUrl);
  const view = newView();
  await pullAll(phone, view);

  c.update("patients", uuidFor(1, 3), { given_name: "Renamed", hometown: "Jerash" });
  // A late insert: recorded long ago on a device that synced with the cloud only now.
  const late = cloudPatient(50);
  late.created_at = late.updated_at = "2024-06-01T10:00:00.000Z";
  c.insert("patients", late);
  const r = await syncOk(t);
  assert.equal(r.pulled.patients, 2);

  assert.equal(await pullAll(phone, view), 2);
  const upd = view.updated.get("patients")!;
  assert.deepEqual(upd.map((u) => [u.id, u.given_name, u.hometown]), [
    [uuidFor(1, 3), "Renamed", "Jerash"],
  ]);
  assert.ok(view.created.get("patients")!.includes(uuidFor(1, 50)), "late insert as created");
  assert.equal(
    view.rows.get("patients")!.get(uuidFor(1, 50))!.created_at,
    Date.parse(
      "2024-06-01T10:00:00.000Z",
    ),
  );
  assertSameRows(t.hub, c, "patients");
});

Deno.test("nothing echoes back: a second cycle pushes nothing and changes no stamp", async () => {
  await using cloud = await startCloud();
  const c = cloud;
  for (let i = 0; i < 30; i++) c.insert("patients", cloudPatient(i));
  await using t = await startHub();
  await register(t, c);
  await settled(t);
  const phone = await loggedInPhone(t.lanUrl);
  const view = newView();
  await pullAll(phone, view);
  const now = Date.now();
  await phonePush(phone, view, {
    patients: {
      created: [0, 1, 2, 3].map((i) => phonePatient(i, 9, now)),
      updated: [{ ...cloudPatient(4), given_name: "Edited", updated_at: now, _status: "updated" }],
      deleted: [uuidFor(1, 6)],
    },
  });
  c.remove("patients", uuidFor(1, 7)); // a cloud deletion too
  const first = await syncOk(t);
  assert.equal(first.pushed.patients, 6);
  await pullAll(phone, view);
  const before = stamps(t.hub, "patients");
  const pushedBefore = c.pushedRows;
  const clock = t.hub.store.getMeta(CLOUD_WATERMARK_KEY);

  // The cloud now echoes the hub's six pushes (and lists the deletions).
  const second = await syncOk(t);
  assert.ok(second.pulled.patients >= 6, "the cloud echoed the pushes");
  assert.deepEqual(second.pushed, {}, "nothing is pushed back");
  assert.equal(second.merged.upserted, 0);
  assert.equal(second.merged.conflicts, 0);
  assert.deepEqual(stamps(t.hub, "patients"), before, "no row got a new stamp");
  assert.equal(c.pushedRows, pushedBefore);
  assert.notEqual(t.hub.store.getMeta(CLOUD_WATERMARK_KEY), clock, "watermark moved on");
  assert.equal(await pullAll(phone, view), 0, "phones see no new change");

  const third = await syncOk(t);
  assert.deepEqual(third.pulled, {}, "the echo comes once");
  assert.deepEqual(third.pushed, {});
  assertSameRows(t.hub, c, "patients");
});

Deno.test("cloud deletions reach phones and are not pushed back", async () => {
  await using cloud = await startCloud();
  const c = cloud;
  for (let i = 0; i < 10; i++) c.insert("patients", cloudPatient(i));
  c.insert("visits", cloudVisit(0, uuidFor(1, 2)));
  await using t = await startHub();
  await register(t, c);
  await settled(t);
  const phone = await loggedInPhone(t.lanUrl);
  const view = newView();
  await pullAll(phone, view);

  c.remove("patients", uuidFor(1, 2));
  c.remove("visits", uuidFor(2, 0));
  const r = await syncOk(t);
  assert.deepEqual(r.pushed, {});
  await pullAll(phone, view);
  assert.deepEqual(view.deleted.get("patients"), [uuidFor(1, 2)]);
  assert.deepEqual(view.deleted.get("visits"), [uuidFor(2, 0)]);
  assert.equal(view.rows.get("patients")!.has(uuidFor(1, 2)), false);

  const again = await syncOk(t);
  assert.deepEqual(again.pushed, {}, "the deletion is not echoed to the cloud");
  assert.equal(c.pushedRows, 0, "the hub never pushed anything");
  assert.equal(t.hub.cloudHealth()!.pendingChanges, 0);
  assert.equal(c.get("patients", uuidFor(1, 2))!.is_deleted, true);
  assert.equal(await pullAll(phone, view), 0);
  assertSameRows(t.hub, c, "patients");
});

Deno.test("a row changed locally and in the cloud: the newer wins, the other is in the conflicts", async () => {
  await using cloud = await startCloud();
  const c = cloud;
  for (let i = 0; i < 4; i++) c.insert("patients", cloudPatient(i));
  await using t = await startHub();
  await register(t, c);
  await settled(t);
  const phone = await loggedInPhone(t.lanUrl);
  const view = newView();
  await pullAll(phone, view);

  const t0 = Date.now();
  // Row 1: the phone's edit is older than the cloud's. Row 2: the phone's is newer.
  await phonePush(phone, view, {
    patients: {
      created: [],
      updated: [
        { ...cloudPatient(1), given_name: "PhoneOld", updated_at: t0 - 60_000, _status: "updated" },
        { ...cloudPatient(2), given_name: "PhoneNew", updated_at: t0 + 60_000, _status: "updated" },
      ],
      deleted: [],
    },
  });
  c.update("patients", uuidFor(1, 1), { given_name: "CloudNew", updated_at: t0 });
  c.update("patients", uuidFor(1, 2), { given_name: "CloudOld", updated_at: t0 });

  const r = await syncOk(t);
  assert.equal(r.merged.conflicts, 1, "the cloud's older row 2 lost at merge");
  assert.deepEqual(r.pushed, { patients: 1 }, "only the winning local row goes up");
  const name = (id: string) =>
    (storeConnection(t.hub.store).prepare("SELECT given_name FROM patients WHERE id = ?").get(
      id,
    ) as {
      given_name: string;
    }).given_name;
  assert.equal(name(uuidFor(1, 1)), "CloudNew");
  assert.equal(name(uuidFor(1, 2)), "PhoneNew");
  assert.equal(c.get("patients", uuidFor(1, 1))!.given_name, "CloudNew");
  assert.equal(c.get("patients", uuidFor(1, 2))!.given_name, "PhoneNew");

  const res = await t.api("GET", "/api/conflicts");
  assert.equal(res.status, 200);
  const lost = new Map<string, string>(
    res.body.conflicts.map((x: { rowId: string; lostRow: { given_name: string } }) => [
      x.rowId,
      x.lostRow.given_name,
    ]),
  );
  assert.equal(lost.get(uuidFor(1, 1)), "PhoneOld", "the local version that lost is kept");
  assert.equal(lost.get(uuidFor(1, 2)), "CloudOld", "the cloud version that lost is kept");
  assert.equal((await settled(t)).openConflicts, 2);

  await pullAll(phone, view);
  const rows = view.rows.get("patients")!;
  assert.equal(rows.get(uuidFor(1, 1))!.given_name, "CloudNew");
  assert.equal(rows.get(uuidFor(1, 2))!.given_name, "PhoneNew");
  assertSameRows(t.hub, c, "patients");
});

Deno.test("one cycle at a time, however many syncs are asked for at once", async () => {
  await using cloud = await startCloud({ rowsPerChunk: 20 });
  const c = cloud;
  for (let i = 0; i < 1500; i++) c.insert("patients", cloudPatient(i));
  await using t = await startHub();
  await register(t, c);
  await settled(t);
  for (let i = 1500; i < 3000; i++) c.insert("patients", cloudPatient(i));
  c.latencyMs = 50; // a slow uplink, so overlapping cycles would show
  c.maxInFlight = 0;
  const replies = await Promise.all([1, 2, 3].map(() => t.api("POST", "/api/cloud/sync")));
  for (const r of replies) assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(c.maxInFlight, 1, "no two cycles talked to the cloud at the same time");
  assert.equal(
    replies.reduce((n, r) => n + (r.body.pulled.patients ?? 0), 0),
    1500,
    "the new rows were pulled once",
  );
  assertSameRows(t.hub, c, "patients");
});

Deno.test("the cloud's echo without a column it lacks erases nothing and reaches no phone", async () => {
  // The real cloud drops `patient_vitals.event_id` and echoes the row with null.
  await using cloud = await startCloud({ unknownColumns: { patient_vitals: ["event_id"] } });
  const c = cloud;
  c.insert("patients", cloudPatient(0));
  await using t = await startHub();
  await register(t, c);
  await settled(t);
  const phone = await loggedInPhone(t.lanUrl);
  const view = newView();
  await pullAll(phone, view);
  const other = await loggedInPhone(t.lanUrl);
  const otherView = newView();
  await pullAll(other, otherView);
  const now = Date.now();
  const vitals = {
    id: uuidFor(30, 1),
    patient_id: uuidFor(1, 0),
    visit_id: null,
    event_id: uuidFor(31, 1),
    timestamp: now,
    systolic_bp: 120,
    diastolic_bp: 80,
    metadata: "{}",
    is_deleted: false,
    created_at: now,
    updated_at: now,
    _status: "created",
    _changed: "",
  };
  await phonePush(phone, view, { patient_vitals: { created: [vitals], updated: [], deleted: [] } });
  assert.equal(await pullAll(other, otherView), 1, "the other phone gets the vitals once");
  const first = await syncOk(t);
  assert.equal(first.pushed.patient_vitals, 1);
  assert.equal(c.get("patient_vitals", vitals.id)!.event_id, null, "the cloud dropped it");
  const before = stamps(t.hub, "patient_vitals");

  const echo = await syncOk(t);
  assert.equal(echo.pulled.patient_vitals, 1, "the cloud echoed the row");
  assert.equal(echo.merged.upserted, 0);
  const stored = storeConnection(t.hub.store).prepare(
    "SELECT event_id FROM patient_vitals WHERE id = ?",
  )
    .get(vitals.id) as { event_id: string | null };
  assert.equal(stored.event_id, vitals.event_id, "the hub keeps the event link");
  assert.deepEqual(stamps(t.hub, "patient_vitals"), before, "no new stamp");
  assert.equal(await pullAll(other, otherView), 0, "no phone gets the echo");
  assert.equal(otherView.rows.get("patient_vitals")!.get(vitals.id)!.event_id, vitals.event_id);
  assert.equal(await pullAll(phone, view), 0);
});
