/**
 * SIGKILL during procedure writes: a real headless hub (`main.ts`) takes
 * `register_patient` calls, each a patient and three attributes in one
 * transaction, and is killed at a random moment, again and again. After the
 * runs the database passes `PRAGMA integrity_check`, every acknowledged
 * registration is there whole, and no registration is there in part.
 *
 * `PROOF_PROCEDURE_KILLS` sets the number of kills (`deno task proof` raises it).
 */
import assert from "node:assert/strict";
import { Logger } from "../../core/mod.ts";
import { Hub } from "../../hub/mod.ts";
import { PhoneClient } from "../phone_client.ts";
import { freePort, spawnHeadlessHub } from "../hub_process.ts";
import { CLINIC_A, NURSE, PASSWORD, seedPeople } from "../server/_fixtures.ts";
import { storeConnection } from "../../store/testing.ts";

const PASSPHRASE = "procedure crash passphrase";
const KILLS = Number(Deno.env.get("PROOF_PROCEDURE_KILLS") ?? "6");
const ATTRIBUTES = 3;

const QUIET = new Logger({ sink: () => {} });

function registration(id: string) {
  return {
    patient: { id, given_name: "Crash", surname: id, sex: "female", primary_clinic_id: CLINIC_A },
    additional_attributes: Array.from({ length: ATTRIBUTES }, (_, i) => ({
      attribute_id: `field-${i}`,
      attribute: `Field ${i}`,
      string_value: `${id}-${i}`,
    })),
  };
}

Deno.test({
  name:
    `SIGKILL during procedure writes, ${KILLS} times: acknowledged registrations whole, none in part`,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "procedure-crash-" });
    try {
      // Set up the hub (the real KDF: main.ts opens it) with users, then stop it.
      const setup = new Hub({
        dataDir: `${dir}/data`,
        version: "test",
        lan: { host: "127.0.0.1", port: 0 },
        logger: QUIET,
      });
      await setup.init();
      await setup.setup(PASSPHRASE);
      seedPeople(setup.store, Date.now());
      await setup.shutdown();
      await Deno.writeTextFile(`${dir}/passphrase`, PASSPHRASE + "\n", { mode: 0o600 });

      const acknowledged: string[] = [];
      let next = 0;
      for (let run = 0; run < KILLS; run++) {
        const port = freePort();
        const child = await spawnHeadlessHub(dir, port, "warn");
        const phone = new PhoneClient(child.lan);
        await phone.handshake();
        await phone.login(NURSE.email, PASSWORD);
        let stop = false;
        const writer = (async () => {
          while (!stop) {
            const id = `crash-${run}-${next++}`;
            try {
              const r = await phone.command("register_patient", registration(id));
              if (r.success) acknowledged.push(id);
            } catch {
              return; // the hub is gone
            }
          }
        })();
        await new Promise((r) => setTimeout(r, 150 + Math.random() * 900));
        child.proc.kill("SIGKILL");
        stop = true;
        await child.proc.status;
        await writer;
      }
      assert.ok(acknowledged.length > KILLS, `writes were acknowledged (${acknowledged.length})`);

      const hub = new Hub({
        dataDir: `${dir}/data`,
        version: "test",
        lan: { host: "127.0.0.1", port: 0 },
        logger: QUIET,
      });
      await hub.init();
      await hub.unlock(PASSPHRASE);
      try {
        const db = storeConnection(hub.store);
        assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
        const attrs = new Map(
          db.prepare(
            `SELECT p.id, count(a.id) FROM patients p
             LEFT JOIN patient_additional_attributes a ON a.patient_id = p.id
             WHERE p.id LIKE 'crash-%' GROUP BY p.id`,
          ).raw(true).all() as [string, number][],
        );
        for (const id of acknowledged) {
          assert.equal(attrs.get(id), ATTRIBUTES, `acknowledged ${id} is there whole`);
        }
        for (const [id, n] of attrs) assert.equal(n, ATTRIBUTES, `${id} is whole, not in part`);
        // The attributes never outlive their patient either.
        const orphans = db.prepare(
          `SELECT count(*) FROM patient_additional_attributes a
           WHERE a.patient_id LIKE 'crash-%' AND NOT EXISTS
             (SELECT 1 FROM patients p WHERE p.id = a.patient_id)`,
        ).pluck().get();
        assert.equal(orphans, 0);
      } finally {
        await hub.shutdown();
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
