/** Hardening found in review: login guessing in parallel, device-bound tokens, authority tables. */
import assert from "node:assert/strict";
import { PhoneClient } from "../phone_client.ts";
import { loggedInPhone, NURSE, patientRow, startHub } from "./_fixtures.ts";
import { storeConnection } from "../../store/testing.ts";

Deno.test("parallel wrong passwords for one account are checked one at a time", async () => {
  // Each guess waits for the one before it, so the delays apply to parallel guesses too.
  // 20 phones on one address: this test opts out of the per-address connection cap.
  const t = await startHub({ lan: { front: { exemptLoopback: true } } });
  try {
    const phones = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const p = new PhoneClient(t.url);
        await p.handshake();
        return p;
      }),
    );
    const replies = await Promise.all(
      phones.map((p) => p.command("login", { email: NURSE.email, password: "wrong-password" })),
    );
    const checked = replies.filter((r) => r.error === "Invalid email or password").length;
    const held = replies.filter((r) => /Too many failed/.test(r.error ?? "")).length;
    assert.equal(checked + held, 20);
    // Without the in-flight guard all 20 would reach bcrypt at once.
    assert.ok(checked <= 4, `${checked} guesses were checked in parallel`);
  } finally {
    await t.close();
  }
});

Deno.test("a token works only for the device that logged in, and not once it is revoked", async () => {
  const t = await startHub();
  try {
    const phone = await loggedInPhone(t.url);
    assert.equal((await phone.query("sync_pull", { lastPulledAt: 0 })).success, true);
    // The same token used from another client id is refused.
    const thief = new PhoneClient(t.url);
    await thief.handshake();
    thief.token = phone.token;
    const stolen = await thief.query("sync_pull", { lastPulledAt: 0 });
    assert.equal(stolen.success, false);
    assert.match(stolen.error!, /another device/);
    // Revoking the device ends its token even on its live session.
    t.store.devices.revoke(phone.clientId, Date.now());
    const after = await phone.query("sync_pull", { lastPulledAt: 0 });
    assert.equal(after.success, false);
    assert.match(after.error!, /revoked/);
  } finally {
    await t.close();
  }
});

Deno.test("a phone cannot push permission rows or clinic set-up", async () => {
  const t = await startHub();
  try {
    const phone = await loggedInPhone(t.url);
    const before = storeConnection(t.store).prepare(
      "SELECT count(*) AS n FROM user_clinic_permissions",
    ).get();
    await phone.push(0, {
      user_clinic_permissions: {
        created: [{
          id: "forged",
          user_id: NURSE.id,
          clinic_id: NURSE.clinicId,
          can_delete_patient_records: true,
          updated_at: 253402300799000,
        }],
        updated: [],
        deleted: [],
      },
      clinics: { created: [{ id: "forged-clinic", name: "x" }], updated: [], deleted: [] },
      patients: { created: [patientRow("still-applied", Date.now())], updated: [], deleted: [] },
    });
    assert.deepEqual(
      storeConnection(t.store).prepare("SELECT count(*) AS n FROM user_clinic_permissions").get(),
      before,
    );
    assert.equal(
      storeConnection(t.store).prepare("SELECT 1 FROM clinics WHERE id = 'forged-clinic'").get(),
      undefined,
    );
    assert.ok(
      storeConnection(t.store).prepare("SELECT 1 FROM patients WHERE id = 'still-applied'").get(),
    );
  } finally {
    await t.close();
  }
});
