/**
 * Sessions under attack from another LAN host (SPEC §2): handshakes under a
 * phone's client id must not knock the phone off, session eviction cannot be
 * driven by one host, loopback is rate limited unless a test opts out, and a
 * bare handshake never creates or renames a device row.
 */
import assert from "node:assert/strict";
import { b64u } from "../phone_client.ts";
import { loggedInPhone, NURSE, startHub, type TestHub } from "./_fixtures.ts";

/** A handshake as if sent from `source` (another host on the LAN). */
async function handshakeFrom(
  t: TestHub,
  source: string,
  clientId: string,
  deviceName?: string,
): Promise<number> {
  const pair = await crypto.subtle.generateKey({ name: "X25519" }, true, [
    "deriveBits",
  ]) as CryptoKeyPair;
  const pub = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const res = await t.hub.server.handle(
    new Request("http://hub.test/rpc/handshake", {
      method: "POST",
      body: JSON.stringify({
        client_id: clientId,
        client_public_key: b64u(pub),
        ...(deviceName ? { device_name: deviceName } : {}),
      }),
    }),
    source,
  );
  await res.body?.cancel();
  return res.status;
}

Deno.test("sessions: re-handshaking a phone's client id from another host fails none of its rounds", async () => {
  // The attacker stays under no rate limit here: the keys alone must protect the phone.
  const t = await startHub({ lan: { handshakeRate: { burst: 10_000, perSecond: 1000 } } });
  try {
    const phone = await loggedInPhone(t.url, NURSE, { deviceName: "Ward 2 tablet" });
    let failed = 0;
    let attacks = 0;
    for (let round = 0; round < 24; round++) {
      // The phone handshakes before every sync, then pulls; the attacker
      // handshakes under its id in between, several times.
      await phone.handshake();
      for (let i = 0; i < 3; i++) {
        assert.equal(await handshakeFrom(t, "192.168.1.66", phone.clientId, "pwned"), 200);
        attacks++;
      }
      try {
        const pulled = await phone.pull(0);
        assert.ok(pulled.timestamp > 0);
        const ping = await phone.command("ping");
        if (!ping.success) failed++;
      } catch {
        failed++;
      }
    }
    assert.equal(attacks, 72);
    assert.equal(failed, 0);
    // The attacker's device_name never renamed the phone's row.
    assert.equal(t.store.devices.get(phone.clientId)!.name, "Ward 2 tablet");
  } finally {
    await t.close();
  }
});

Deno.test("sessions: several attacking hosts cannot push out a key the phone has used", async () => {
  const t = await startHub();
  try {
    const phone = await loggedInPhone(t.url, NURSE);
    for (let host = 1; host <= 8; host++) {
      for (let i = 0; i < 3; i++) {
        assert.equal(await handshakeFrom(t, `10.0.0.${host}`, phone.clientId), 200);
      }
    }
    assert.equal((await phone.query("ping")).success, true);
    assert.ok(t.hub.server.sessions.keyCount <= 4);
  } finally {
    await t.close();
  }
});

Deno.test("sessions: one host filling the table evicts only its own keys", async () => {
  const t = await startHub({
    lan: {
      handshakeRate: { burst: 10_000, perSecond: 1000 },
      sessions: {
        idleMs: 60_000,
        maxSessions: 100,
        maxNoncesPerSession: 100,
        maxPerSource: 40,
      },
    },
  });
  try {
    const phones = await Promise.all(
      Array.from({ length: 5 }, () => loggedInPhone(t.url, NURSE)),
    );
    for (let i = 0; i < 400; i++) {
      assert.equal(await handshakeFrom(t, "192.168.1.66", `fake-${i}`), 200);
    }
    assert.ok(t.hub.server.sessions.keyCount <= 45, String(t.hub.server.sessions.keyCount));
    for (const p of phones) assert.equal((await p.query("ping")).success, true);
    // Several hosts together fill the table: each loses its own least recent keys
    // first, so the phones (one key each, on loopback) keep theirs.
    for (let h = 0; h < 4; h++) {
      for (let i = 0; i < 40; i++) {
        assert.equal(await handshakeFrom(t, `10.1.0.${h}`, `fake-${h}-${i}`), 200);
      }
    }
    assert.ok(t.hub.server.sessions.keyCount <= 100);
    for (const p of phones) assert.equal((await p.query("ping")).success, true);
  } finally {
    await t.close();
  }
});

Deno.test("sessions: loopback is rate limited by default; a test can opt out", async () => {
  const limited = await startHub();
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 62; i++) {
      statuses.push(await handshakeFrom(limited, "127.0.0.1", `lo-${i}`));
    }
    assert.equal(statuses.filter((s) => s === 200).length, 60);
    assert.equal(statuses.at(-1), 429);
  } finally {
    await limited.close();
  }
  const exempt = await startHub({
    lan: { handshakeRate: { burst: 60, perSecond: 2, exemptLoopback: true } },
  });
  try {
    for (let i = 0; i < 70; i++) {
      assert.equal(await handshakeFrom(exempt, "127.0.0.1", `lo-${i}`), 200);
    }
    assert.equal(await handshakeFrom(exempt, "192.168.1.5", "x"), 200);
  } finally {
    await exempt.close();
  }
});

Deno.test("devices: bare handshakes create and rename no device; a login does", async () => {
  const t = await startHub();
  try {
    const before = t.store.devices.list().length;
    for (let i = 0; i < 20; i++) {
      assert.equal(await handshakeFrom(t, "192.168.1.66", `ghost-${i}`, `Ghost ${i}`), 200);
    }
    assert.equal(t.store.devices.list().length, before);
    const phone = await loggedInPhone(t.url, NURSE, { deviceName: "Front desk" });
    assert.equal(t.store.devices.get(phone.clientId)!.name, "Front desk");
    // A later handshake under its id with another name (from anyone) renames nothing...
    assert.equal(await handshakeFrom(t, "192.168.1.66", phone.clientId, "Renamed"), 200);
    assert.equal((await phone.query("ping")).success, true);
    assert.equal(t.store.devices.get(phone.clientId)!.name, "Front desk");
    assert.equal(t.store.devices.list().length, before + 1);
  } finally {
    await t.close();
  }
});
