/**
 * POST /rpc/handshake (SPEC §2): reply shape, refused keys, replays (also across
 * a restart), locked and revoked hubs, and the bounded, expiring session table.
 */
import assert from "node:assert/strict";
import { b64u, PhoneClient, sessionKey, unb64u } from "../phone_client.ts";
import {
  adminClient,
  loggedInPhone,
  NURSE,
  PASSPHRASE,
  PASSWORD,
  postRaw,
  startHub,
  TestClock,
} from "./_fixtures.ts";

async function keyPair(): Promise<{ pair: CryptoKeyPair; pub: Uint8Array<ArrayBuffer> }> {
  const pair = await crypto.subtle.generateKey({ name: "X25519" }, true, [
    "deriveBits",
  ]) as CryptoKeyPair;
  return { pair, pub: new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)) };
}

function handshakeBody(clientId: string, publicKey: unknown, extra = {}): string {
  return JSON.stringify({ client_id: clientId, client_public_key: publicKey, ...extra });
}

/** Asserts the SPEC's transport error: given status, plain text, never 401. */
function assertTransportError(
  r: { status: number; type: string; text: string },
  status = 400,
): void {
  assert.equal(r.status, status, r.text);
  assert.notEqual(r.status, 401);
  assert.match(r.type, /^text\/plain/);
  assert.ok(r.text.trim().length > 0);
}

Deno.test("handshake: reply shape; the device is recorded with its name only once it logs in", async () => {
  const t = await startHub();
  try {
    const { pub } = await keyPair();
    const res = await fetch(`${t.url}/rpc/handshake`, {
      method: "POST",
      body: handshakeBody("phone-1", b64u(pub), { device_name: "Ward tablet" }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const body = await res.json();
    assert.deepEqual(Object.keys(body).sort(), ["hub_id", "hub_name", "hub_public_key", "success"]);
    assert.equal(body.success, true);
    assert.match(body.hub_public_key, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(body.hub_public_key, t.hub.vault.secrets.hubPublicKey);
    assert.equal(body.hub_id, t.hub.vault.secrets.hubId);
    // A bare handshake proves nothing: no device row.
    assert.equal(t.store.devices.get("phone-1"), undefined);
    await loggedInPhone(t.url, NURSE, { clientId: "phone-1", deviceName: "Ward tablet" });
    const device = t.store.devices.get("phone-1");
    assert.ok(device);
    assert.equal(device.name, "Ward tablet");
    assert.equal(device.handshakes, 1);
    assert.equal(device.revokedAt, null);
  } finally {
    await t.close();
  }
});

Deno.test("handshake: malformed bodies are 400 plain text", async () => {
  const t = await startHub();
  try {
    const { pub } = await keyPair();
    const key = b64u(pub);
    for (
      const body of [
        "{not json",
        "",
        "[]",
        "null",
        '"text"',
        JSON.stringify({ client_public_key: key }),
        handshakeBody("", key),
        JSON.stringify({ client_id: 42, client_public_key: key }),
        handshakeBody("x".repeat(201), key),
        handshakeBody("phone-x", key, { device_name: 7 }),
      ]
    ) {
      assertTransportError(await postRaw(t.url, "/rpc/handshake", body));
    }
    assert.equal(t.store.devices.list().length, 0);
  } finally {
    await t.close();
  }
});

Deno.test("handshake: padded, wrong-alphabet, wrong-length and non-canonical keys are 400", async () => {
  const t = await startHub();
  try {
    const { pub } = await keyPair();
    const good = b64u(pub);
    const std = pub.toBase64(); // standard alphabet with padding
    const bad: unknown[] = [
      good + "=", // padded
      std, // 44 characters with "="
      good.slice(0, 42), // 31.5 bytes
      b64u(new Uint8Array(33).fill(9)), // 44 characters, 33 bytes
      b64u(new Uint8Array(31).fill(9)), // 42 characters, 31 bytes
      good.slice(0, 42) + "!", // not base64url
      "+" + good.slice(1), // other alphabet
      good.slice(0, 42) + "B", // ends with non-zero padding bits ("B" = 000001)
      null,
      12345,
      { raw: good },
      [good],
    ];
    // Make sure the non-canonical case really has non-zero trailing bits.
    assert.notEqual(b64u(unb64u(good.slice(0, 42) + "B")), good.slice(0, 42) + "B");
    for (const k of bad) {
      assertTransportError(await postRaw(t.url, "/rpc/handshake", handshakeBody("phone-k", k)));
    }
    assert.equal(t.store.devices.get("phone-k"), undefined);
    // The good key still works afterwards.
    const ok = await postRaw(t.url, "/rpc/handshake", handshakeBody("phone-k", good));
    assert.equal(ok.status, 200);
  } finally {
    await t.close();
  }
});

Deno.test("handshake: zero and low-order public keys are 400 and open no session", async () => {
  const t = await startHub();
  try {
    const p = (hex: string) => b64u(Uint8Array.fromHex(hex));
    const lowOrder = [
      "00".repeat(32), // zero
      "01" + "00".repeat(31), // order 1
      "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", // order 8
      "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", // order 8
      "ec" + "ff".repeat(30) + "7f", // p - 1 (order 2)
      "ed" + "ff".repeat(30) + "7f", // p (= 0)
      "ee" + "ff".repeat(30) + "7f", // p + 1 (= 1)
    ];
    for (const [i, hex] of lowOrder.entries()) {
      const r = await postRaw(t.url, "/rpc/handshake", handshakeBody(`phone-${i}`, p(hex)));
      assertTransportError(r);
      assert.equal(t.store.devices.get(`phone-${i}`), undefined);
    }
    assert.equal(t.hub.server.sessions.size, 0);
  } finally {
    await t.close();
  }
});

Deno.test("handshake: a replayed body is refused and changes nothing", async () => {
  const t = await startHub();
  try {
    const phone = new PhoneClient(t.url, { clientId: "phone-r", deviceName: "Phone R" });
    await phone.handshake();
    assert.equal((await phone.query("ping")).success, true);
    const before = t.store.devices.get("phone-r")!;
    // An eavesdropper replays the captured body, or reuses the key under another id.
    const replay = await postRaw(t.url, "/rpc/handshake", phone.lastHandshakeBody!);
    assertTransportError(replay);
    const other = JSON.parse(phone.lastHandshakeBody!);
    other.client_id = "phone-thief";
    assertTransportError(await postRaw(t.url, "/rpc/handshake", JSON.stringify(other)));
    // Nothing changed: same device record, no new device, the phone's session still works.
    assert.deepEqual(t.store.devices.get("phone-r"), before);
    assert.equal(t.store.devices.get("phone-thief"), undefined);
    assert.equal(t.hub.server.sessions.size, 1);
    const ping = await phone.query<{ pong: boolean }>("ping");
    assert.deepEqual(ping.result, { pong: true });
  } finally {
    await t.close();
  }
});

Deno.test("handshake: a used client key is refused after the hub restarts", async () => {
  const first = await startHub();
  const dataDir = first.dataDir;
  const phone = new PhoneClient(first.url, { clientId: "phone-restart" });
  await phone.handshake();
  await phone.login(NURSE.email, PASSWORD);
  const captured = phone.lastHandshakeBody!;
  await first.close();

  const second = await startHub({ dataDir });
  try {
    assert.equal(second.hub.vault.secrets.hubId, phone.hubId); // the same hub
    assertTransportError(await postRaw(second.url, "/rpc/handshake", captured));
    assert.equal(second.store.devices.get("phone-restart")!.handshakes, 1);
    // A fresh key pair from the same phone is fine.
    const again = new PhoneClient(second.url, { clientId: "phone-restart" });
    await again.handshake();
    await again.login(NURSE.email, PASSWORD);
    assert.equal(second.store.devices.get("phone-restart")!.handshakes, 2);
  } finally {
    await second.close();
  }
});

Deno.test("handshake: one address keeps its two newest keys per client id", async () => {
  const t = await startHub();
  try {
    const phone = new PhoneClient(t.url, { clientId: "phone-swap" });
    await phone.handshake();
    const oldest = phone.key!;
    await phone.handshake();
    const previous = phone.key!;
    await phone.handshake();
    assert.equal(t.hub.server.sessions.size, 1);
    assert.equal(t.hub.server.sessions.keyCount, 2);
    assert.equal((await phone.query("ping")).success, true);
    const newest = phone.key!;
    phone.key = previous; // a request in flight under the previous key still counts
    assert.equal((await phone.query("ping")).success, true);
    phone.key = oldest; // the third-newest from the same address was let go
    const r = await phone.query("ping");
    assert.equal(r.status, 400);
    assert.equal(r.success, undefined);
    phone.key = newest;
    assert.equal((await phone.query("ping")).success, true);
  } finally {
    await t.close();
  }
});

Deno.test("handshake: while locked it is 503 plain text; heartbeat still answers", async () => {
  const t = await startHub();
  try {
    await t.hub.lock();
    const { pub } = await keyPair();
    const r = await postRaw(t.url, "/rpc/handshake", handshakeBody("phone-l", b64u(pub)));
    assertTransportError(r, 503);
    const hb = await fetch(`${t.url}/rpc/heartbeat`);
    assert.equal(hb.status, 200);
    assert.deepEqual(await hb.json(), { status: "ok" });
    await t.hub.unlock(PASSPHRASE);
    const again = await postRaw(t.url, "/rpc/handshake", handshakeBody("phone-l", b64u(pub)));
    assert.equal(again.status, 200);
  } finally {
    await t.close();
  }
});

Deno.test("handshake: a device revoked through the admin API is refused, its session dropped", async () => {
  const t = await startHub();
  const admin = await adminClient(t.hub);
  try {
    const phone = await loggedInPhone(t.url, NURSE, { clientId: "phone/revoked 1" });
    const bystander = await loggedInPhone(t.url, NURSE, { clientId: "phone-ok" });
    const res = await admin.post(`/api/devices/${encodeURIComponent("phone/revoked 1")}/revoke`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    // The live session is gone at once...
    const r = await phone.query("ping");
    assert.equal(r.status, 400);
    // ...and a new handshake is refused: non-2xx, not 401, plain text.
    const err = await phone.handshake().catch((e: Error) => e.message);
    assert.match(String(err), /^handshake 403: /);
    const listed = await admin.get("/api/devices");
    const devices = listed.body.devices as { clientId: string; revokedAt: number | null }[];
    assert.ok(devices.find((d) => d.clientId === "phone/revoked 1")!.revokedAt);
    // Other devices are unaffected.
    assert.equal((await bystander.query("ping")).success, true);
    // Revoking an unknown device is a 404.
    assert.equal((await admin.post("/api/devices/nobody/revoke")).status, 404);
  } finally {
    await admin.server.close();
    await t.close();
  }
});

Deno.test("handshake: revocation through the store and dropSession refuses the device", async () => {
  const t = await startHub();
  try {
    const phone = await loggedInPhone(t.url, NURSE, { clientId: "phone-store-revoked" });
    assert.ok(t.store.devices.revoke("phone-store-revoked", Date.now()));
    t.hub.server.dropSession("phone-store-revoked");
    assert.equal((await phone.query("ping")).status, 400);
    const { pub } = await keyPair();
    const r = await postRaw(
      t.url,
      "/rpc/handshake",
      handshakeBody("phone-store-revoked", b64u(pub)),
    );
    assertTransportError(r, 403);
  } finally {
    await t.close();
  }
});

Deno.test("sessions: the table is bounded, the least recently used is evicted", async () => {
  const t = await startHub({
    lan: { sessions: { idleMs: 60_000, maxSessions: 2, maxNoncesPerSession: 100 } },
  });
  try {
    const a = new PhoneClient(t.url);
    const b = new PhoneClient(t.url);
    const c = new PhoneClient(t.url);
    await a.handshake();
    await b.handshake();
    assert.equal((await a.query("ping")).success, true); // a is now more recent than b
    await c.handshake();
    assert.equal(t.hub.server.sessions.size, 2);
    assert.equal((await b.query("ping")).status, 400);
    assert.equal((await a.query("ping")).success, true);
    assert.equal((await c.query("ping")).success, true);
  } finally {
    await t.close();
  }
});

Deno.test("sessions: a session expires after the idle period", async () => {
  const clock = new TestClock();
  const t = await startHub({
    now: clock.now,
    lan: { sessions: { idleMs: 60_000, maxSessions: 10, maxNoncesPerSession: 100 } },
  });
  try {
    const phone = new PhoneClient(t.url);
    await phone.handshake();
    clock.step(59_000);
    assert.equal((await phone.query("ping")).success, true); // use refreshes it
    clock.step(59_000);
    assert.equal((await phone.query("ping")).success, true);
    clock.step(61_000);
    const r = await phone.query("ping");
    assert.equal(r.status, 400);
    assert.match(r.text!, /handshake/i);
    await phone.handshake();
    assert.equal((await phone.query("ping")).success, true);
  } finally {
    await t.close();
  }
});

Deno.test("sessions: after the nonce budget the client must handshake again", async () => {
  const t = await startHub({
    lan: { sessions: { idleMs: 60_000, maxSessions: 10, maxNoncesPerSession: 3 } },
  });
  try {
    const phone = new PhoneClient(t.url);
    await phone.handshake();
    for (let i = 0; i < 3; i++) assert.equal((await phone.query("ping")).success, true);
    const r = await phone.query("ping");
    assert.equal(r.status, 400);
    assert.equal((await phone.query("ping")).status, 400); // the session is gone
    await phone.handshake();
    assert.equal((await phone.query("ping")).success, true);
  } finally {
    await t.close();
  }
});

Deno.test("handshake: the session key matches what the phone derives", async () => {
  const t = await startHub();
  try {
    const { pair, pub } = await keyPair();
    const res = await postRaw(t.url, "/rpc/handshake", handshakeBody("phone-k2", b64u(pub)));
    const hubPub = unb64u(JSON.parse(res.text).hub_public_key);
    const key = await sessionKey(pair.privateKey, hubPub, hubPub, pub);
    const phone = new PhoneClient(t.url, { clientId: "phone-k2" });
    phone.key = key;
    assert.deepEqual((await phone.command("ping")).result, { pong: true });
  } finally {
    await t.close();
  }
});
