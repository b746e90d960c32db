/** Devices: only a revoked device can leave the list, and it stays refused after leaving it. */
import assert from "node:assert/strict";
import { startAdminServer } from "../../ui/mod.ts";
import { PhoneClient } from "../phone_client.ts";
import { captureLogs, makeHub, PASSPHRASE, tempDir } from "../_helpers.ts";
import { NURSE, PASSWORD, seedPeople } from "../server/_fixtures.ts";

captureLogs();

const TOKEN = "devices-test-token-0123456789abcdef";

Deno.test("devices: remove needs a revoked device; a removed one is gone from the list and still refused", async () => {
  await using dir = await tempDir("hub-devices-");
  const hub = await makeHub({ dataDir: dir.path });
  await hub.setup(PASSPHRASE);
  await hub.startServer();
  const admin = await startAdminServer(hub, { port: 0, token: TOKEN });
  const api = async (method: string, path: string) => {
    const r = await fetch(`${admin.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    return { status: r.status, body: await r.json() };
  };
  try {
    const phone = new PhoneClient(`http://127.0.0.1:${hub.server.port}`, { deviceName: "Tablet" });
    await phone.handshake();
    // A device is listed once it proved itself (a logged-in call), not for a bare handshake.
    assert.equal((await api("GET", "/api/devices")).body.devices.length, 0);
    seedPeople(hub.store, Date.now());
    await phone.login(NURSE.email, PASSWORD);
    const id = encodeURIComponent(phone.clientId);
    assert.equal((await api("POST", `/api/devices/nope/remove`)).status, 404);
    const early = await api("POST", `/api/devices/${id}/remove`);
    assert.equal(early.status, 409);
    assert.equal(early.body.code, "not_revoked");
    assert.equal((await api("GET", "/api/devices")).body.devices.length, 1);
    assert.equal((await api("POST", `/api/devices/${id}/revoke`)).status, 200);
    assert.equal((await api("POST", `/api/devices/${id}/remove`)).status, 200);
    assert.deepEqual((await api("GET", "/api/devices")).body.devices, []);
    await assert.rejects(() => phone.handshake(), /revoked/);
  } finally {
    await admin.close();
    await hub.shutdown();
  }
});
