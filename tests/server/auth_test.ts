/**
 * Login and authorisation (SPEC §4): the login reply and token, wrong and
 * deleted users, expired and forged tokens (wrong key, `alg: none`, other
 * algorithms, tampered claims), the permission row, and the login limiter.
 */
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { fromB64u } from "../../core/mod.ts";
import { signToken, TOKEN_TTL_SECONDS } from "../../server/mod.ts";
import { tableDef } from "../../store/mod.ts";
import { b64u, PhoneClient } from "../phone_client.ts";
import {
  ALL_PERMISSIONS,
  CLINIC_A,
  CLINIC_B,
  cloudRow,
  DELETED,
  DOCTOR,
  loggedInPhone,
  NO_PERMS,
  NURSE,
  PASSWORD,
  startHub,
  TestClock,
} from "./_fixtures.ts";
import { deleteRow, storeConnection } from "../../store/testing.ts";

function decodeJwt(
  token: string,
): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [h, c] = token.split(".");
  const json = (s: string) =>
    JSON.parse(new TextDecoder().decode(Uint8Array.fromBase64(s, { alphabet: "base64url" })));
  return { header: json(h), claims: json(c) };
}

/** Pull with whatever token the phone holds; returns the reply. */
async function tryPull(phone: PhoneClient) {
  return await phone.query("sync_pull", { lastPulledAt: 0 });
}

Deno.test("login: reply shape and an HS256 token valid for 24 h", async () => {
  const clock = new TestClock();
  const t = await startHub({ now: clock.now });
  try {
    const phone = new PhoneClient(t.url);
    await phone.handshake();
    const r = await phone.command<Record<string, unknown>>("login", {
      email: "  Nurse@Clinic.TEST ",
      password: PASSWORD,
    });
    assert.equal(r.success, true, r.error);
    const body = r.result!;
    assert.deepEqual(Object.keys(body).sort(), [
      "clinic_id",
      "clinic_name",
      "provider_name",
      "role",
      "token",
      "user_id",
    ]);
    assert.equal(body.user_id, NURSE.id);
    assert.equal(body.clinic_id, CLINIC_A);
    assert.equal(body.clinic_name, "Clinic A");
    assert.equal(body.role, "provider");
    assert.equal(body.provider_name, `Name of ${NURSE.id}`);
    const { header, claims } = decodeJwt(body.token as string);
    assert.equal(header.alg, "HS256");
    assert.equal(claims.sub, NURSE.id);
    assert.equal(claims.clinic_id, CLINIC_A);
    assert.equal(claims.role, "provider");
    assert.equal(claims.iat, Math.floor(clock.value / 1000));
    assert.equal(claims.exp, (claims.iat as number) + TOKEN_TTL_SECONDS);
    assert.equal(TOKEN_TTL_SECONDS, 24 * 3600);
    phone.token = body.token as string;
    assert.equal((await tryPull(phone)).success, true);
  } finally {
    await t.close();
  }
});

Deno.test("login: wrong password, unknown e-mail and deleted users get the same error", async () => {
  const t = await startHub();
  try {
    const phone = new PhoneClient(t.url);
    await phone.handshake();
    for (
      const [email, password] of [
        [NURSE.email, "wrong password"],
        ["nobody@clinic.test", PASSWORD],
        [DELETED.email, PASSWORD],
      ]
    ) {
      const r = await phone.command("login", { email, password });
      assert.equal(r.status, 200);
      assert.equal(r.success, false);
      assert.equal(r.error, "Invalid email or password");
    }
  } finally {
    await t.close();
  }
});

Deno.test("tokens: an expired token is refused; logging in again works", async () => {
  const clock = new TestClock();
  const t = await startHub({ now: clock.now });
  try {
    const phone = await loggedInPhone(t.url);
    clock.step(TOKEN_TTL_SECONDS * 1000 - 60_000);
    await phone.handshake(); // the session idled out meanwhile
    assert.equal((await tryPull(phone)).success, true);
    clock.step(120_000);
    const r = await tryPull(phone);
    assert.equal(r.status, 200);
    assert.equal(r.success, false);
    assert.match(r.error!, /expired/i);
    await phone.login(NURSE.email, PASSWORD);
    assert.equal((await tryPull(phone)).success, true);
  } finally {
    await t.close();
  }
});

Deno.test("tokens: forged tokens are refused (wrong key, alg none, HS512, tampered claims)", async () => {
  const t = await startHub();
  try {
    const phone = await loggedInPhone(t.url);
    const good = phone.token!;
    const hubKey = fromB64u(t.hub.vault.secrets.jwtKey);
    const claims = { sub: NURSE.id, clinic_id: CLINIC_A, role: "provider" };
    const now = Math.floor(Date.now() / 1000);
    const enc = (v: unknown) => b64u(new TextEncoder().encode(JSON.stringify(v)));
    const [h, , s] = good.split(".");
    const forged: [string, string][] = [
      ["wrong key", await signToken(crypto.getRandomValues(new Uint8Array(32)), claims)],
      [
        "alg none",
        `${enc({ alg: "none", typ: "JWT" })}.${enc({ ...claims, iat: now, exp: now + 3600 })}.`,
      ],
      [
        "alg none with the good signature",
        `${enc({ alg: "none", typ: "JWT" })}.${enc({ ...claims, iat: now, exp: now + 3600 })}.${s}`,
      ],
      [
        "HS512 with the hub's key",
        await new SignJWT({ clinic_id: CLINIC_A, role: "provider" })
          .setProtectedHeader({ alg: "HS512" })
          .setSubject(NURSE.id)
          .setIssuedAt(now)
          .setExpirationTime(now + 3600)
          .sign(hubKey),
      ],
      [
        "tampered claims",
        `${h}.${enc({ ...claims, role: "admin", iat: now, exp: now + 3600 })}.${s}`,
      ],
      ["truncated", good.slice(0, -3)],
      ["empty", ""],
    ];
    for (const [name, token] of forged) {
      phone.token = token;
      const r = await tryPull(phone);
      assert.equal(r.status, 200, name);
      assert.equal(r.success, false, name);
      assert.match(r.error!, /Unauthorized/, name);
    }
    // The genuine token still works.
    phone.token = good;
    assert.equal((await tryPull(phone)).success, true);
    // And one signed with the hub's key outside login works too (the check is the signature).
    phone.token = await signToken(hubKey, claims);
    assert.equal((await tryPull(phone)).success, true);
  } finally {
    await t.close();
  }
});

Deno.test("tokens: survive a hub restart", async () => {
  const first = await startHub();
  const phone = await loggedInPhone(first.url);
  const token = phone.token!;
  await first.close();
  const second = await startHub({ dataDir: first.dataDir });
  try {
    // The same phone (its client id is stored on the phone) after the restart.
    const again = new PhoneClient(second.url, { clientId: phone.clientId });
    await again.handshake();
    again.token = token;
    assert.equal((await tryPull(again)).success, true);
  } finally {
    await second.close();
  }
});

Deno.test("authorisation: a user without a permission row is refused", async () => {
  const t = await startHub();
  try {
    const phone = await loggedInPhone(t.url, NO_PERMS);
    const pull = await tryPull(phone);
    assert.equal(pull.success, false);
    assert.match(pull.error!, /Forbidden/);
    const push = await phone.command("sync_push", { lastPulledAt: 0, changes: {} });
    assert.equal(push.success, false);
    assert.match(push.error!, /Forbidden/);
    // A valid token for a clinic the user has no row at is refused as well.
    const hubKey = fromB64u(t.hub.vault.secrets.jwtKey);
    const nurse = await loggedInPhone(t.url, NURSE);
    nurse.token = await signToken(hubKey, { sub: NURSE.id, clinic_id: CLINIC_B, role: "provider" });
    assert.match((await tryPull(nurse)).error!, /Forbidden/);
  } finally {
    await t.close();
  }
});

Deno.test("authorisation: losing the permission row or the user ends access at once", async () => {
  const t = await startHub();
  try {
    const nurse = await loggedInPhone(t.url, NURSE);
    const doctor = await loggedInPhone(t.url, DOCTOR);
    assert.equal((await tryPull(nurse)).success, true);
    assert.equal((await tryPull(doctor)).success, true);
    const now = Date.now();
    t.store.transaction(() =>
      deleteRow(
        { db: storeConnection(t.store), stamp: t.store.clock.next(), now, source: "cloud" },
        tableDef("user_clinic_permissions"),
        `perm-${NURSE.id}`,
      )
    );
    assert.match((await tryPull(nurse)).error!, /Forbidden/);
    cloudRow(t.store, "users", {
      id: DOCTOR.id,
      clinic_id: CLINIC_A,
      name: "Doctor",
      role: "provider",
      email: DOCTOR.email,
      hashed_password: "$2b$04$invalidinvalidinvalidinvalidinvalidinvalidinvalidinvali",
      is_deleted: true,
      deleted_at: now,
      updated_at: now + 1,
    });
    assert.match((await tryPull(doctor)).error!, /Unauthorized/);
  } finally {
    await t.close();
  }
});

Deno.test("authorisation: permission flags gate the procedures that name them", async () => {
  const t = await startHub();
  try {
    const gated = t.hub.server.registry.list().filter((p) => p.permission);
    const phone = await loggedInPhone(t.url, NURSE);
    // Strip every flag from the nurse's row (a newer cloud version).
    cloudRow(t.store, "user_clinic_permissions", {
      id: `perm-${NURSE.id}`,
      user_id: NURSE.id,
      clinic_id: CLINIC_A,
      ...Object.fromEntries(Object.keys(ALL_PERMISSIONS).map((k) => [k, 0])),
      updated_at: Date.now() + 1000,
    });
    const row = t.store.people.permissions(NURSE.id, CLINIC_A)!;
    for (const k of Object.keys(ALL_PERMISSIONS)) {
      assert.equal(row[k as keyof typeof row], 0, k);
    }
    for (const p of gated) {
      const r = p.kind === "command"
        ? await phone.command(p.name, {})
        : await phone.query(p.name, {});
      assert.equal(r.success, false, p.name);
      assert.match(r.error!, new RegExp(`Forbidden.*${p.permission}`), p.name);
    }
    // Procedures without a flag still answer for a user with a permission row.
    assert.equal((await tryPull(phone)).success, true);
  } finally {
    await t.close();
  }
});

Deno.test("login limiter: repeated failures are slowed per e-mail and per client", async () => {
  const clock = new TestClock();
  const t = await startHub({ now: clock.now });
  try {
    const phone = new PhoneClient(t.url);
    await phone.handshake();
    for (let i = 0; i < 4; i++) {
      const r = await phone.command("login", { email: NURSE.email, password: `wrong ${i}` });
      assert.equal(r.error, "Invalid email or password");
    }
    // Held back now, even with the right password, from this and from another phone.
    const held = await phone.command("login", { email: NURSE.email, password: PASSWORD });
    assert.equal(held.success, false);
    assert.match(held.error!, /Too many failed sign-ins/);
    const other = new PhoneClient(t.url);
    await other.handshake();
    const viaOther = await other.command("login", { email: NURSE.email, password: PASSWORD });
    assert.match(viaOther.error!, /Too many failed sign-ins/);
    // This phone is held back for other e-mails too.
    const otherEmail = await phone.command("login", { email: DOCTOR.email, password: PASSWORD });
    assert.match(otherEmail.error!, /Too many failed sign-ins/);
    // The other phone can sign in a different user.
    await other.login(DOCTOR.email, PASSWORD);
    // Once the delay has passed, the right password works.
    clock.step(60_000);
    await phone.handshake();
    await phone.login(NURSE.email, PASSWORD);
  } finally {
    await t.close();
  }
});
