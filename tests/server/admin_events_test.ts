/**
 * The hub's events as the admin stream serves them (docs/admin-api.md, "Event
 * stream"): a phone's handshake, push and pull arrive as typed `device`, `sync`
 * and `conflict` events with the page's views after them, without any polling;
 * a cursor from an earlier launch of the hub gets a reset.
 */
import assert from "node:assert/strict";
import { Hub } from "../../hub/mod.ts";
import {
  type AdminClient,
  adminClient,
  loggedInPhone,
  NURSE,
  PASSPHRASE,
  patientRow,
  startHub,
  testLogger,
} from "./_fixtures.ts";

interface WireEvent {
  id: number;
  launch: string;
  type: string;
  data: Record<string, unknown>;
}

interface Got {
  events: WireEvent[];
  reset: boolean;
  lastId: number;
  launch: string;
  cursor: string;
}

async function events(admin: AdminClient, query: string): Promise<Got> {
  const r = await admin.get(`/api/events?${query}`);
  assert.equal(r.status, 200);
  return r.body as unknown as Got;
}

/** Long-polls from `cursor` until `done` holds for the events gathered; returns them. */
async function gather(
  admin: AdminClient,
  cursor: string,
  done: (events: WireEvent[]) => boolean,
): Promise<{ events: WireEvent[]; cursor: string }> {
  const all: WireEvent[] = [];
  const deadline = Date.now() + 10_000;
  while (!done(all)) {
    assert.ok(Date.now() < deadline, `events never came: ${all.map((e) => e.type)}`);
    const got = await events(admin, `since=${cursor}&wait=5`);
    assert.equal(got.reset, false);
    all.push(...got.events);
    cursor = got.cursor;
  }
  return { events: all, cursor };
}

Deno.test("events: a phone's handshake, push and pull arrive as device, sync and conflict events", async () => {
  const t = await startHub();
  const admin = await adminClient(t.hub);
  try {
    const start = await events(admin, "wait=0");
    assert.equal(start.reset, true);
    assert.equal(start.launch, t.hub.events.launch);
    assert.equal(start.cursor, `${start.launch}-${start.lastId}`);
    const rowsBefore = t.store.counts().patients.rows;

    const phone = await loggedInPhone(t.url, NURSE, { deviceName: "Ward tablet" });
    const first = await gather(admin, start.cursor, (es) => es.some((e) => e.type === "devices"));
    const seen = first.events.find((e) => e.type === "device");
    assert.deepEqual(seen?.data, { device: phone.clientId, action: "seen" });
    const listed = first.events.findLast((e) => e.type === "devices")!.data.devices as {
      clientId: string;
    }[];
    assert.ok(listed.some((d) => d.clientId === phone.clientId), "the devices view follows");

    const at = Date.now();
    await phone.push(null, { patients: { created: [patientRow("ev-p1", at)], updated: [] } });
    // An older version of the same row loses and is logged as a conflict.
    await phone.push(null, {
      patients: {
        created: [],
        updated: [patientRow("ev-p1", at - 60_000, { _status: "updated" })],
      },
    });
    await phone.pull(null);
    const after = await gather(
      admin,
      first.cursor,
      (es) =>
        es.some((e) => e.type === "sync" && e.data.kind === "pull") &&
        es.some((e) => e.type === "conflicts"),
    );
    const syncs = after.events.filter((e) => e.type === "sync");
    assert.deepEqual(syncs.map((e) => [e.data.device, e.data.kind]), [
      [phone.clientId, "push"],
      [phone.clientId, "push"],
      [phone.clientId, "pull"],
    ]);
    assert.equal(syncs[0].data.rows, 1);
    assert.equal(syncs[1].data.conflicts, 1);
    assert.ok((syncs[2].data.rows as number) > 0);
    const logged = after.events.find((e) => e.type === "conflict");
    assert.equal(logged?.data.action, "logged");
    assert.equal(logged?.data.open, 1);
    // The views the page shows, right behind the facts.
    const status = after.events.findLast((e) => e.type === "status")!.data as {
      counts: Record<string, { rows: number }>;
      cloud: unknown;
    };
    assert.equal(status.counts.patients.rows, rowsBefore + 1);
    assert.equal(after.events.findLast((e) => e.type === "conflicts")!.data.open, 1);
    const ids = after.events.map((e) => e.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    assert.ok(after.events.every((e) => e.launch === t.hub.events.launch));

    // The operator's decision is an event too, and the open count drops.
    const conflictId = (await admin.get("/api/conflicts?open=1")).body.conflicts as {
      id: number;
    }[];
    assert.equal(
      (await admin.post(`/api/conflicts/${conflictId[0].id}/keep-newer`)).status,
      200,
    );
    const decided = await gather(
      admin,
      after.cursor,
      (es) => es.some((e) => e.type === "conflicts"),
    );
    const fact = decided.events.find((e) => e.type === "conflict");
    assert.deepEqual(fact?.data, { action: "decided", id: conflictId[0].id, count: 1, open: 0 });
    assert.equal(decided.events.findLast((e) => e.type === "conflicts")!.data.open, 0);

    // Revoking is a device event.
    const revoke = await admin.post(`/api/devices/${encodeURIComponent(phone.clientId)}/revoke`);
    assert.equal(revoke.status, 200);
    const revoked = await gather(
      admin,
      decided.cursor,
      (es) => es.some((e) => e.type === "device"),
    );
    assert.deepEqual(revoked.events.find((e) => e.type === "device")?.data, {
      device: phone.clientId,
      action: "revoked",
    });
  } finally {
    await admin.server.close();
    await t.close();
    await Deno.remove(t.dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("events: a cursor from an earlier launch of the hub gets a reset, even where its id exists", async () => {
  const t = await startHub();
  let admin = await adminClient(t.hub);
  let hub: Hub = t.hub;
  try {
    const before = await events(admin, "since=0&wait=0");
    assert.ok(before.lastId >= 2, "setup and the server start were published");
    const old = `${before.launch}-1`;
    assert.equal((await events(admin, `since=${old}&wait=0`)).reset, false);
    await admin.server.close();
    await t.hub.shutdown();

    // The same data directory, started again: a new launch.
    hub = new Hub({
      logger: testLogger,
      dataDir: t.dataDir,
      version: "test",
      lan: { host: "127.0.0.1", port: 0 },
      vault: { iterations: 1000, allowWeakKdfForTests: true },
    });
    await hub.init();
    await hub.unlock(PASSPHRASE);
    await hub.startServer();
    admin = await adminClient(hub);
    assert.notEqual(hub.events.launch, before.launch);
    assert.ok(hub.events.lastId >= 1);
    const stale = await events(admin, `since=${old}&wait=0`);
    assert.equal(stale.reset, true, "an id of the earlier launch is not resumed");
    assert.deepEqual(stale.events, []);
    assert.equal(stale.launch, hub.events.launch);
    // The cursor of this launch resumes.
    assert.equal((await events(admin, `since=${stale.cursor}&wait=0`)).reset, false);
    assert.equal((await admin.get("/api/events?since=zz-1-2")).status, 400);
  } finally {
    await admin.server.close();
    await hub.shutdown();
    await Deno.remove(t.dataDir, { recursive: true }).catch(() => {});
  }
});
