/**
 * The admin API's LAN-server additions: start/stop and status, a taken port,
 * and the pairing payload and QR (SPEC §8).
 */
import assert from "node:assert/strict";
import { HubError } from "../../core/mod.ts";
import { Hub } from "../../hub/mod.ts";
import { PhoneClient } from "../phone_client.ts";
import { adminClient, PASSPHRASE, startHub, testLogger } from "./_fixtures.ts";

Deno.test("admin: server stop and start, with status showing running, port and URLs", async () => {
  const t = await startHub();
  const admin = await adminClient(t.hub);
  try {
    const status = await admin.get("/api/status");
    const server = status.body.server as Record<string, unknown>;
    assert.equal(server.running, true);
    assert.equal(server.port, t.hub.server.port);
    assert.deepEqual(server.urls, [t.url]);

    const stopped = await admin.post("/api/server/stop");
    assert.equal(stopped.status, 200);
    assert.equal(stopped.body.running, false);
    assert.deepEqual(stopped.body.urls, []);
    await assert.rejects(fetch(`${t.url}/rpc/heartbeat`));
    assert.equal((await admin.get("/api/pairing")).status, 409);

    const started = await admin.post("/api/server/start");
    assert.equal(started.status, 200);
    assert.equal(started.body.running, true);
    const url = `http://127.0.0.1:${started.body.port}`;
    assert.deepEqual(started.body.urls, [url]);
    const hb = await fetch(`${url}/rpc/heartbeat`);
    assert.deepEqual(await hb.json(), { status: "ok" });
    // Sessions did not survive the stop: phones handshake again.
    const phone = new PhoneClient(url);
    await phone.handshake();
    assert.equal((await phone.query("ping")).success, true);
  } finally {
    await admin.server.close();
    await t.close();
  }
});

Deno.test("admin: starting on a taken port is a clear address_in_use error", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  const hub = new Hub({
    logger: testLogger,
    dataDir: await Deno.makeTempDir({ prefix: "lan-port-" }),
    version: "test",
    lan: { host: "127.0.0.1", port },
    vault: { iterations: 1000, allowWeakKdfForTests: true },
  });
  await hub.init();
  await hub.setup(PASSPHRASE);
  const admin = await adminClient(hub);
  try {
    const err = await hub.startServer().then(() => null, (e) => e);
    assert.ok(err instanceof HubError, String(err));
    assert.equal(err.code, "address_in_use");
    assert.match(err.message, /address already in use/);
    assert.match(err.message, new RegExp(String(port)));
    assert.equal(hub.server.running, false);
    assert.match(hub.server.status().error!, /address already in use/);
    // The admin API reports the same, with a status other than 2xx.
    const res = await admin.post("/api/server/start");
    assert.equal(res.status, 409);
    assert.equal(res.body.code, "address_in_use");
    assert.match(res.body.error as string, /address already in use/);
    // Once the port is free, starting works.
    taken.close();
    await hub.startServer();
    assert.equal(hub.server.running, true);
    assert.equal(hub.server.port, port);
    assert.equal(hub.server.status().error, null);
  } finally {
    try {
      taken.close();
    } catch {
      // already closed
    }
    await admin.server.close();
    await hub.shutdown();
  }
});

Deno.test("admin: GET /api/pairing returns the SPEC §8 payload and its QR as SVG", async () => {
  const t = await startHub();
  const admin = await adminClient(t.hub);
  try {
    const res = await admin.get("/api/pairing");
    assert.equal(res.status, 200);
    assert.equal(typeof res.body.payload, "string");
    assert.equal(typeof res.body.svg, "string");
    const payload = JSON.parse(res.body.payload as string);
    assert.deepEqual(Object.keys(payload).sort(), ["id", "pk", "type", "url"]);
    assert.equal(payload.type, "sync_hub");
    assert.equal(payload.url, t.url);
    // id and pk are what a phone's handshake sees.
    const phone = new PhoneClient(payload.url);
    const hs = await phone.handshake();
    assert.equal(payload.id, hs.hub_id);
    assert.equal(payload.pk, hs.hub_public_key);
    assert.match(payload.pk, /^[A-Za-z0-9_-]{43}$/);
    const svg = res.body.svg as string;
    assert.match(svg, /<svg[\s>]/);
    assert.match(svg, /<\/svg>\s*$/);
    // An address that is not this computer's is refused.
    const other = await admin.get(`/api/pairing?url=${encodeURIComponent("http://10.9.9.9:4001")}`);
    assert.equal(other.status, 400);
    // Without the admin token there is nothing.
    const anon = await fetch(`${admin.server.url}/api/pairing`);
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
  } finally {
    await admin.server.close();
    await t.close();
  }
});
