/**
 * SPEC §2 test vector, checked against server/_crypto.ts and then end to end:
 * a LAN server holding the vector's hub key accepts the vector's exact sealed
 * payload from the vector's client key.
 */
import assert from "node:assert/strict";
import { fromB64u, Logger, toB64u } from "../../core/mod.ts";
import { deriveSessionKey, LanServer, seal } from "../../server/mod.ts";
import { open, splitPayload } from "../../server/_crypto.ts";
import { Store } from "../../store/mod.ts";
import { openJson, sealJson } from "../phone_client.ts";
import "./_fixtures.ts";

const HUB_PUB = "B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9_AsrhtHHw";
const CLIENT_PUB = "ST6C_HRGSlkmiBdiPSBTxeuOLMSpiLT-4XnsawENUx0";
const SHARED = "5266019be756db8c25a94f398234f82d8fc04c95ca6375587edaf39ce04cc631";
const KEY = "72567b59bedd039edacd353722c994a7481d60ee928cde4ed22f8980ad8a03a4";
const PAYLOAD =
  "BwcHBwcHBwcHBwcHIH2SB6XvkUhL5cPAEKUK6OCXZ3o1lB05pYLAsCx3hYh3ct1gaAebqJ20qWLHOeiKR4o7CTkJ4pyW";
const PING = '{"command":"ping","data":{},"token":null}';
const PKCS8_PREFIX = Uint8Array.fromHex("302e020100300506032b656e04220420");

function range(from: number): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, i) => from + i);
}

async function importPrivate(raw: Uint8Array): Promise<CryptoKey> {
  const der = new Uint8Array(PKCS8_PREFIX.length + 32);
  der.set(PKCS8_PREFIX);
  der.set(raw, PKCS8_PREFIX.length);
  return await crypto.subtle.importKey("pkcs8", der, { name: "X25519" }, true, ["deriveBits"]);
}

async function publicOf(key: CryptoKey): Promise<string> {
  const jwk = await crypto.subtle.exportKey("jwk", key);
  return jwk.x!;
}

const hubPrivate = await importPrivate(range(0x01));
const clientPrivate = await importPrivate(range(0x80));

Deno.test("test vector: public keys from the private keys", async () => {
  assert.deepEqual(await publicOf(hubPrivate), HUB_PUB);
  assert.deepEqual(await publicOf(clientPrivate), CLIENT_PUB);
});

Deno.test("test vector: X25519 shared secret, both directions", async () => {
  const hubSide = await crypto.subtle.deriveBits(
    {
      name: "X25519",
      public: await crypto.subtle.importKey("raw", fromB64u(CLIENT_PUB), "X25519", true, []),
    },
    hubPrivate,
    256,
  );
  const clientSide = await crypto.subtle.deriveBits(
    {
      name: "X25519",
      public: await crypto.subtle.importKey("raw", fromB64u(HUB_PUB), "X25519", true, []),
    },
    clientPrivate,
    256,
  );
  assert.deepEqual(new Uint8Array(hubSide).toHex(), SHARED);
  assert.deepEqual(new Uint8Array(clientSide).toHex(), SHARED);
});

Deno.test("test vector: deriveSessionKey gives the vector's key on both sides", async () => {
  const hubPub = fromB64u(HUB_PUB);
  const clientPub = fromB64u(CLIENT_PUB);
  const hubKey = await deriveSessionKey(hubPrivate, clientPub, hubPub, clientPub, true);
  const clientKey = await deriveSessionKey(clientPrivate, hubPub, hubPub, clientPub, true);
  assert.deepEqual(new Uint8Array(await crypto.subtle.exportKey("raw", hubKey)).toHex(), KEY);
  assert.deepEqual(new Uint8Array(await crypto.subtle.exportKey("raw", clientKey)).toHex(), KEY);
});

Deno.test("test vector: seal with nonce 12×0x07 and AAD command gives the payload", async () => {
  const hubPub = fromB64u(HUB_PUB);
  const clientPub = fromB64u(CLIENT_PUB);
  const key = await deriveSessionKey(hubPrivate, clientPub, hubPub, clientPub);
  const nonce = new Uint8Array(12).fill(7);
  assert.deepEqual(await seal(key, new TextEncoder().encode(PING), "command", nonce), PAYLOAD);
  // The test phone's sealing agrees byte for byte.
  const raw = await crypto.subtle.importKey(
    "raw",
    Uint8Array.fromHex(KEY),
    "AES-GCM",
    false,
    ["encrypt", "decrypt"],
  );
  assert.deepEqual(await sealJson(raw, JSON.parse(PING), "command", nonce), PAYLOAD);
  // And opening it gives the request back; any other label is refused.
  const parts = splitPayload(PAYLOAD);
  assert.deepEqual(
    new TextDecoder().decode(await open(key, parts.nonce, parts.ct, "command")),
    PING,
  );
  for (const label of ["query", "command_response", "query_response"] as const) {
    await assert.rejects(open(key, parts.nonce, parts.ct, label));
  }
});

Deno.test("test vector: a LAN server with the vector's hub key answers the vector's payload", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lan-vector-" });
  const store = Store.open(`${dir}/hub.db`, "ab".repeat(32));
  const hubPub = fromB64u(HUB_PUB);
  const server = new LanServer(
    { host: "127.0.0.1", port: 0, logger: new Logger({ sink: () => {} }) },
    () => ({
      store,
      hubId: "hub-vector",
      hubName: "Vector hub",
      hubPublicKey: hubPub,
      hubPrivateKey: hubPrivate,
      jwtKey: new Uint8Array(32).fill(9),
    }),
  );
  await server.start();
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const hs = await fetch(`${base}/rpc/handshake`, {
      method: "POST",
      body: JSON.stringify({ client_id: "vector-phone", client_public_key: CLIENT_PUB }),
    });
    assert.deepEqual(hs.status, 200);
    const reply = await hs.json();
    assert.deepEqual(reply, {
      hub_public_key: HUB_PUB,
      hub_id: "hub-vector",
      hub_name: "Vector hub",
      success: true,
    });
    const res = await fetch(`${base}/rpc/command`, {
      method: "POST",
      body: JSON.stringify({ client_id: "vector-phone", payload: PAYLOAD }),
    });
    assert.deepEqual(res.status, 200);
    const body = await res.json();
    assert.deepEqual(body.success, true);
    const key = await crypto.subtle.importKey(
      "raw",
      Uint8Array.fromHex(KEY),
      "AES-GCM",
      false,
      ["decrypt"],
    );
    assert.deepEqual(await openJson(key, body.payload, "command_response"), { pong: true });
    // The reply was sealed with a fresh nonce, not the request's.
    assert(!body.payload.startsWith(toB64u(new Uint8Array(12).fill(7))));
  } finally {
    await server.stop();
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
