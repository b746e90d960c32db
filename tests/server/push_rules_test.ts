/**
 * sync_push's written rule per table (docs/security.md, "What a phone may
 * push"): rows the caller may not write are refused one by one, kept in the
 * conflict log with the reason (and shown by the admin API), never applied,
 * and never fail the push; the rows it may write land in the same push.
 */
import assert from "node:assert/strict";
import { PUSH_RULES } from "../../server/mod.ts";
import { PHONE_READ_ONLY_TABLES, PHONE_TABLES } from "../../store/mod.ts";
import {
  adminClient,
  ALL_PERMISSIONS,
  CLINIC_A,
  CLINIC_B,
  cloudRow,
  DOCTOR,
  eventRow,
  loggedInPhone,
  NURSE,
  patientRow,
  startHub,
  storedRow,
} from "./_fixtures.ts";

const T0 = 1_750_000_000_000;

/** Gives a user exactly these flags at clinic A (a newer cloud version of the row). */
function flagsAtA(
  t: Awaited<ReturnType<typeof startHub>>,
  user: { id: string },
  flags: string[],
) {
  cloudRow(t.store, "user_clinic_permissions", {
    id: `perm-${user.id}`,
    user_id: user.id,
    clinic_id: CLINIC_A,
    ...Object.fromEntries(Object.keys(ALL_PERMISSIONS).map((k) => [k, flags.includes(k) ? 1 : 0])),
    updated_at: Date.now() + 1000,
  });
}

/** The conflict log, oldest first (`conflicts.list` answers newest first). */
function refusals(t: Awaited<ReturnType<typeof startHub>>) {
  return t.store.conflicts.list({ limit: 1000 }).reverse();
}

function prescriptionRow(id: string, patientId: string, updatedAt: number) {
  return {
    id,
    patient_id: patientId,
    provider_id: NURSE.id,
    prescribed_at: updatedAt,
    status: "pending",
    items: [],
    notes: "",
    metadata: {},
    is_deleted: false,
    created_at: updatedAt,
    updated_at: updatedAt,
  };
}

function visitRow(id: string, patientId: string, clinicId: string) {
  return {
    id,
    patient_id: patientId,
    clinic_id: clinicId,
    provider_id: NURSE.id,
    check_in_timestamp: T0,
    metadata: {},
    is_deleted: false,
    created_at: T0,
    updated_at: T0,
  };
}

Deno.test("push rules: every table a phone may push has a written rule, as documented", async () => {
  const pushable = PHONE_TABLES.filter((t) => !PHONE_READ_ONLY_TABLES.has(t));
  assert.deepEqual(Object.keys(PUSH_RULES).sort(), [...pushable].sort());
  // docs/security.md states the same table: one line per group of tables, columns in order.
  const doc = await Deno.readTextFile(new URL("../../docs/security.md", import.meta.url));
  for (const [table, rule] of Object.entries(PUSH_RULES)) {
    const line = doc.split("\n").find((l) =>
      l.trim().startsWith("|") && l.includes(`\`${table}\``)
    );
    assert.ok(line, `docs/security.md has a row for ${table}`);
    const cells = line.split("|").slice(2, 5).map((c) => c.trim());
    for (const [i, op] of (["create", "change", "delete"] as const).entries()) {
      assert.ok(rule[op].length > 0, `${table}.${op} names the flag it needs`);
      assert.equal(
        cells[i],
        rule[op].map((f) => `\`${f}\``).join(" or "),
        `${table}.${op} in the doc`,
      );
    }
  }
});

Deno.test("push rules: a user with every flag off writes nothing, is told nothing failed, and the operator sees each row", async () => {
  const t = await startHub();
  const admin = await adminClient(t.hub);
  try {
    // A patient of clinic A stored by someone allowed.
    const doctor = await loggedInPhone(t.url, DOCTOR);
    await doctor.push(0, { patients: { created: [patientRow("p-a", T0)] } });

    flagsAtA(t, NURSE, []);
    const phone = await loggedInPhone(t.url, NURSE, { deviceName: "Flagless phone" });
    const start = await phone.pull(0);
    const r = await phone.command("sync_push", {
      lastPulledAt: start.timestamp,
      changes: {
        patients: {
          created: [patientRow("p-new", T0)],
          updated: [patientRow("p-a", T0 + 1000, { given_name: "Changed" })],
          deleted: [],
        },
        prescriptions: { created: [prescriptionRow("rx-new", "p-a", T0)] },
        events: { created: [eventRow("ev-new", "p-a", T0)] },
      },
    });
    assert.equal(r.success, true, "the push answers success: the phone moves on");
    assert.equal(storedRow(t.store, "patients", "p-new"), undefined);
    assert.equal(storedRow(t.store, "prescriptions", "rx-new"), undefined);
    assert.equal(storedRow(t.store, "events", "ev-new"), undefined);
    assert.equal(storedRow(t.store, "patients", "p-a")!.given_name, "Given p-a");

    const logged = refusals(t);
    assert.deepEqual(logged.map((c) => [c.table, c.rowId]), [
      ["patients", "p-new"],
      ["patients", "p-a"],
      ["prescriptions", "rx-new"],
      ["events", "ev-new"],
    ]);
    for (const c of logged) {
      assert.equal(c.source, "phone");
      assert.equal(c.deviceId, phone.clientId);
    }
    assert.match(
      logged[0].reason!,
      /may not create patients at clinic 'clinic-a'.*can_register_patients/,
    );
    assert.match(logged[1].reason!, /may not change patients .*can_edit_records/);
    assert.match(logged[2].reason!, /can_prescribe_medications/);
    assert.equal(
      (logged[1].lostRow as Record<string, unknown>).given_name,
      "Changed",
      "the refused version is kept",
    );

    // The operator sees them, with the reason, in the admin API.
    const listed = await admin.get("/api/conflicts");
    const views = listed.body.conflicts as {
      id: number;
      rowId: string;
      reason: string | null;
      restorable: boolean;
    }[];
    assert.match(views.find((v) => v.rowId === "rx-new")!.reason!, /^refused: /);
    // Restoring a refused new row is the operator accepting it: it is created.
    const pNew = views.find((v) => v.rowId === "p-new")!;
    assert.equal(pNew.restorable, true);
    const restored = await admin.post(`/api/conflicts/${pNew.id}/restore-older`);
    assert.equal(restored.status, 200, JSON.stringify(restored.body));
    assert.equal(storedRow(t.store, "patients", "p-new")!.given_name, "Given p-new");

    // The phone gets the stored version of the row it changed back on its next pull.
    const back = await phone.pull(start.timestamp);
    const kept = back.changes.patients.updated.find((row) => row.id === "p-a");
    assert.equal(kept?.given_name, "Given p-a");
  } finally {
    await admin.server.close();
    await t.close();
  }
});

Deno.test("push rules: allowed rows land, refused ones in the same push are logged, per table and per clinic", async () => {
  const t = await startHub();
  try {
    const doctor = await loggedInPhone(t.url, DOCTOR);
    await doctor.push(0, { patients: { created: [patientRow("p-a", T0)] } });
    // Clinic B's patient comes from the cloud (the doctor holds no rights at B either).
    const { _status: _s, _changed: _c, ...pb } = patientRow("p-b", T0, {
      primary_clinic_id: CLINIC_B,
    });
    cloudRow(t.store, "patients", pb);
    // The nurse may register, view and edit at clinic A, and holds nothing at B.
    flagsAtA(t, NURSE, ["can_register_patients", "can_view_history", "can_edit_records"]);
    const phone = await loggedInPhone(t.url, NURSE);
    const start = await phone.pull(0);
    await phone.push(start.timestamp, {
      patients: {
        created: [
          patientRow("p-new", T0),
          patientRow("p-new-b", T0, { primary_clinic_id: CLINIC_B }),
        ],
        updated: [
          patientRow("p-a", T0 + 1000, { given_name: "Edited" }),
          // Moving clinic B's patient to A needs rights where it is now.
          patientRow("p-b", T0 + 1000, { primary_clinic_id: CLINIC_A }),
        ],
        deleted: ["p-a"],
      },
      events: {
        created: [
          eventRow("ev-a", "p-new", T0),
          // Through its patient, an event of clinic B.
          eventRow("ev-b", "p-b", T0),
          // A patient only in this (refused) push: still clinic B.
          eventRow("ev-new-b", "p-new-b", T0),
        ],
      },
      prescriptions: { created: [prescriptionRow("rx-a", "p-a", T0)] },
      visits: {
        created: [
          visitRow("v-a", "p-a", CLINIC_A),
          // At clinic A, but in the chart of clinic B's patient.
          visitRow("v-a-for-b", "p-b", CLINIC_A),
        ],
      },
    });
    // Allowed: a new patient at A, an edit at A, an event of A's patient.
    assert.equal(storedRow(t.store, "patients", "p-new")!.primary_clinic_id, CLINIC_A);
    assert.equal(storedRow(t.store, "patients", "p-a")!.given_name, "Edited");
    assert.equal(storedRow(t.store, "patients", "p-a")!.local_server_deleted_at, null);
    assert.ok(storedRow(t.store, "events", "ev-a"));
    assert.ok(storedRow(t.store, "visits", "v-a"));
    assert.equal(storedRow(t.store, "visits", "v-a-for-b"), undefined);
    // Refused: anything at clinic B, a deletion without the flag, a prescription.
    assert.equal(storedRow(t.store, "patients", "p-new-b"), undefined);
    assert.equal(storedRow(t.store, "patients", "p-b")!.primary_clinic_id, CLINIC_B);
    assert.equal(storedRow(t.store, "events", "ev-b"), undefined);
    assert.equal(storedRow(t.store, "events", "ev-new-b"), undefined);
    assert.equal(storedRow(t.store, "prescriptions", "rx-a"), undefined);
    const logged = refusals(t).map((c) => [c.table, c.rowId, c.reason]);
    const reason = (id: string) => logged.find((c) => c[1] === id)?.[2] as string | undefined;
    assert.deepEqual(
      logged.map((c) => c[1]).sort(),
      ["ev-b", "ev-new-b", "p-a", "p-b", "p-new-b", "rx-a", "v-a-for-b"],
    );
    assert.match(reason("p-new-b")!, /create patients at clinic 'clinic-b'/);
    assert.match(reason("p-b")!, /change patients at clinic 'clinic-b'/);
    assert.match(
      reason("p-a")!,
      /delete patients at clinic 'clinic-a'.*can_delete_patient_records/,
    );
    assert.match(reason("ev-b")!, /clinic 'clinic-b'/);
    assert.match(reason("ev-new-b")!, /clinic 'clinic-b'/);
    assert.match(reason("rx-a")!, /can_prescribe_medications/);
    assert.match(reason("v-a-for-b")!, /create visits at clinic 'clinic-b'/);
    // The refused deletion comes back to the phone as `created`: after its push the app has
    // forgotten the row, and would skip it as `updated`.
    const next = await phone.pull(start.timestamp);
    assert.ok(next.changes.patients.created.some((r) => r.id === "p-a"), "p-a is sent again");
    // Deleting by pushing the row with is_deleted set needs the delete flag too.
    await phone.push(next.timestamp, {
      patients: { updated: [patientRow("p-new", T0 + 2000, { is_deleted: true })] },
    });
    assert.equal(storedRow(t.store, "patients", "p-new")!.local_server_deleted_at, null);
    assert.match(
      refusals(t).at(-1)!.reason!,
      /may not delete patients at clinic 'clinic-a'.*can_delete_patient_records/,
    );
    // A refused deletion is kept as such, and has no content to restore.
    const deletion = t.store.conflicts.views().find((c) => c.rowId === "p-a")!;
    assert.deepEqual(deletion.lostRow, { id: "p-a", is_deleted: true });
    assert.equal(deletion.restorable, false);
  } finally {
    await t.close();
  }
});
