/**
 * What a user of the clinical procedures notices beyond the result shapes:
 * writes reach other phones and the relay, deletions cascade and stay deleted,
 * search pages and totals, not-found and unknown-procedure errors, the phone's
 * own register_patient body, event ownership, stock checks when dispensing.
 */
import assert from "node:assert/strict";
import { CLINIC, IDS, phoneAs, seed, startHub, USERS } from "./_fixtures.ts";
import { storeConnection } from "../../store/testing.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

async function ok<T = Any>(p: Promise<{ success?: boolean; result?: unknown; error?: string }>) {
  const r = await p;
  assert.ok(r.success, `call failed: ${r.error}`);
  return r.result as T;
}

async function fails(p: Promise<{ success?: boolean; error?: string }>, pattern: RegExp) {
  const r = await p;
  assert.equal(r.success, false, "the call should have failed");
  assert.match(r.error!, pattern);
}

Deno.test("procedure writes reach another phone's next pull, and wait for the relay", async () => {
  const env = await startHub();
  try {
    const a = await phoneAs(env.url, "admin");
    const b = await phoneAs(env.url, "nurse");
    const first = await b.pull(0);
    const pendingBefore = env.hub.store.pendingCloud().count;

    const reg = await ok(a.command("register_patient", {
      patient: { id: "", given_name: "Rami", surname: "Aziz" },
      additional_attributes: [],
    }));
    const next = await b.pull(first.timestamp);
    const created = next.changes.patients.created;
    assert.deepEqual(created.map((r) => r.id), [reg.patient_id]);
    assert.equal(created[0].primary_clinic_id, CLINIC.a, "a new patient joins the caller's clinic");
    assert.equal(created[0].last_modified_by, USERS.admin.id);
    assert.equal(typeof created[0].created_at, "number");
    assert.equal(created[0].updated_at, created[0].created_at);
    assert.equal(next.changes.patients.updated.length, 0);

    await ok(a.command("visits.update", { id: IDS.visit, provider_name: "Dr Z" }));
    const afterUpdate = await b.pull(next.timestamp);
    assert.deepEqual(afterUpdate.changes.visits.updated.map((r) => r.provider_name), ["Dr Z"]);
    assert.ok(
      (afterUpdate.changes.visits.updated[0].updated_at as number) > Date.UTC(2026, 0, 10, 9),
      "updated_at moves forward",
    );

    await ok(a.command("delete_patient", { patient_id: IDS.patient }));
    const afterDelete = await b.pull(afterUpdate.timestamp);
    assert.deepEqual(afterDelete.changes.patients.deleted, [{ id: IDS.patient }]);
    assert.deepEqual(afterDelete.changes.visits.deleted, [{ id: IDS.visit }]);
    assert.equal(afterDelete.changes.events.deleted.length, 3);
    assert.deepEqual(afterDelete.changes.patient_vitals.deleted, [{ id: IDS.vitals }]);
    assert.deepEqual(afterDelete.changes.appointments.deleted, [{ id: IDS.appointment }]);

    assert.ok(env.hub.store.pendingCloud().count > pendingBefore, "the relay has them to push");
  } finally {
    await env.close();
  }
});

Deno.test("deleted rows leave every read, and cannot be written again", async () => {
  const env = await startHub();
  try {
    const a = await phoneAs(env.url, "admin");
    await ok(a.command("delete_patient", { patient_id: IDS.patient }));
    await fails(a.query("get_patient", { patient_id: IDS.patient }), /^Patient 'pat-1' not found/);
    await fails(a.command("delete_patient", { patient_id: IDS.patient }), /not found/);
    const list = await ok(a.query("search_patients", { filters: { surname: "haddad" } }));
    assert.deepEqual(list.data.map((p: Any) => p.id), [IDS.patientToDelete]);
    assert.deepEqual((await ok(a.query("get_visits", { patient_id: IDS.patient }))).data, []);
    assert.equal((await ok(a.query("vitals.list", { patient_id: IDS.patient }))).length, 0);
    await fails(
      a.command("register_patient", {
        patient: { id: IDS.patient, given_name: "Back" },
        additional_attributes: [],
      }),
      /has been deleted/,
    );
    // The patient's events went with it.
    await fails(
      a.command("events.delete", { id: IDS.foreignEvent }),
      /^Event 'event-foreign' not found/,
    );
  } finally {
    await env.close();
  }
});

Deno.test("errors: unknown procedure, not found, null answers", async () => {
  const env = await startHub();
  try {
    const a = await phoneAs(env.url, "admin");
    await fails(a.query("patients.everything", {}), /^Unknown query: patients\.everything/);
    await fails(a.command("get_patient", { patient_id: IDS.patient }), /^Unknown command/);
    await fails(a.command("visits.update", { id: "nope", notes: "x" }), /^Visit 'nope' not found/);
    await fails(
      a.command("events.create", {
        patient_id: IDS.patient,
        visit_id: "no-visit",
        form_data: [],
      }),
      /^Visit 'no-visit' not found/,
    );
    await fails(a.command("vitals.create", { patient_id: "ghost" }), /^Patient 'ghost' not found/);
    await fails(a.query("get_event_form", { form_id: "nope" }), /^Event form 'nope' not found/);
    assert.equal(await ok(a.query("appointments.get", { id: "nope" })), null);
    assert.equal(await ok(a.query("problems.get", { id: "nope" })), null);
    assert.equal(await ok(a.query("drugs.by_barcode", { barcode: "000" })), null);
    assert.equal(await ok(a.query("drugs.get", { id: "nope" })), null);
  } finally {
    await env.close();
  }
});

Deno.test("register_patient takes the phone's own body and get_patient reads it back", async () => {
  const env = await startHub();
  try {
    const nurse = await phoneAs(env.url, "nurse");
    const now = new Date().toISOString();
    // What the app's createPatientToRegister sends: empty id, ISO dates, typed attribute values.
    const reg = await ok(nurse.command("register_patient", {
      patient: {
        id: "",
        given_name: "Hiba",
        surname: "Mansour",
        date_of_birth: "1988-02-03",
        sex: "female",
        citizenship: "",
        hometown: "",
        phone: "",
        camp: "",
        additional_data: {},
        metadata: {},
        photo_url: "",
        government_id: "",
        external_patient_id: "",
        created_at: now,
        updated_at: now,
      },
      additional_attributes: [{
        id: crypto.randomUUID(),
        patient_id: "",
        attribute_id: IDS.attributeField,
        attribute: "Blood type",
        string_value: "B+",
        metadata: {},
        is_deleted: false,
        created_at: now,
        updated_at: now,
        last_modified: now,
        server_created_at: now,
      }],
    }));
    assert.match(reg.patient_id, /^[0-9a-f-]{36}$/);
    const record = await ok(nurse.query("get_patient", { patient_id: reg.patient_id }));
    assert.equal(record.values["f-given"], "Hiba");
    assert.equal(record.values["f-dob"], "1988-02-03");
    assert.equal(record.values[IDS.attributeField], "B+");

    // An update through register_patient (the app's edit) keeps one attribute row per field.
    await ok(nurse.command("register_patient", {
      patient: { id: reg.patient_id, given_name: "Hiba", surname: "Mansour-Aziz" },
      additional_attributes: [{ attribute_id: IDS.attributeField, string_value: "AB+" }],
    }));
    const again = await ok(nurse.query("get_patient", { patient_id: reg.patient_id }));
    assert.equal(again.values["f-surname"], "Mansour-Aziz");
    assert.equal(again.values["f-dob"], "1988-02-03", "fields not sent are kept");
    assert.equal(again.values[IDS.attributeField], "AB+");
    const attrs = storeConnection(env.hub.store).prepare(
      "SELECT count(*) AS n FROM patient_additional_attributes WHERE patient_id = ?",
    ).get(reg.patient_id) as { n: number };
    assert.equal(attrs.n, 1);
  } finally {
    await env.close();
  }
});

Deno.test("events.update of another provider's event needs can_edit_other_provider_event", async () => {
  const env = await startHub();
  try {
    const nurse = await phoneAs(env.url, "nurse");
    const admin = await phoneAs(env.url, "admin");
    const body = { id: IDS.foreignEvent, form_data: [{ fieldId: "x", value: 1 }] };
    await fails(nurse.command("events.update", body), /can_edit_other_provider_event/);
    await ok(admin.command("events.update", body));
    const mine = await ok(nurse.command("events.create", {
      patient_id: IDS.patient,
      visit_id: IDS.visit,
      form_data: [],
    }));
    assert.equal(mine.visit_id, IDS.visit);
    await ok(nurse.command("events.update", { id: mine.id, form_data: [{ fieldId: "y" }] }));
    // The nurse may not delete (can_delete_records).
    await fails(nurse.command("events.delete", { id: mine.id }), /can_delete_records/);
  } finally {
    await env.close();
  }
});

Deno.test("dispensing takes stock out of tracked batches, all or nothing", async () => {
  const env = await startHub();
  try {
    const a = await phoneAs(env.url, "admin");
    const stock = () =>
      (storeConnection(env.hub.store).prepare(
        "SELECT quantity_available AS q FROM clinic_inventory WHERE id = ?",
      )
        .get(IDS.inventory) as { q: number }).q;
    await fails(
      a.command("prescription_items.dispense", {
        id: IDS.item,
        batch_quantities: { "untracked-batch": 3, [IDS.batch]: 500 },
      }),
      /^Batch 'batch-1' holds 100; 500 cannot be dispensed/,
    );
    assert.equal(stock(), 100);
    assert.equal(
      (await ok(a.query("dispensing.by_patient", { patient_id: IDS.patient }))).data.length,
      1,
    );
    const r = await ok(a.command("prescription_items.dispense", {
      id: IDS.item,
      batch_quantities: { "untracked-batch": 3, [IDS.batch]: 7 },
    }));
    assert.deepEqual(r, { ok: true, total_dispensed: 10 });
    assert.equal(stock(), 93);
    const records = (await ok(a.query("dispensing.by_patient", { patient_id: IDS.patient }))).data;
    assert.equal(records.length, 3);
    const avail = await ok(a.query("inventory.check_availability", {
      drug_id: IDS.drug,
      clinic_id: CLINIC.a,
      required_quantity: 90,
    }));
    assert.deepEqual(avail, { available: false, total_available: 83 });
  } finally {
    await env.close();
  }
});

Deno.test("search_patients: pages, totals, order, attribute filters, prefix match for sex", async () => {
  const env = await startHub();
  try {
    const a = await phoneAs(env.url, "admin");
    for (let i = 0; i < 25; i++) {
      await ok(a.command("register_patient", {
        patient: {
          id: `bulk-${String(i).padStart(2, "0")}`,
          given_name: `Sami ${i}`,
          surname: "Khalil",
          sex: i % 2 ? "male" : "female",
          updated_at: Date.UTC(2026, 1, 1) + i * 1000,
        },
        additional_attributes: i === 7
          ? [{ attribute_id: "field-weight", attribute: "Weight", number_value: 71.5 }]
          : [],
      }));
    }
    const page1 = await ok(a.query("search_patients", {
      filters: { surname: "khalil" },
      limit: 10,
    }));
    assert.equal(page1.total, 25);
    assert.deepEqual(page1.data.map((p: Any) => p.id).slice(0, 2), ["bulk-24", "bulk-23"]);
    const page3 = await ok(a.query("search_patients", {
      filters: { surname: "khalil" },
      limit: 10,
      offset: 20,
    }));
    assert.equal(page3.total, 25);
    assert.deepEqual(page3.data.map((p: Any) => p.id), [
      "bulk-04",
      "bulk-03",
      "bulk-02",
      "bulk-01",
      "bulk-00",
    ]);
    const past = await ok(
      a.query("search_patients", { filters: { surname: "khalil" }, offset: 99 }),
    );
    assert.deepEqual([past.total, past.data.length], [25, 0]);
    const males = await ok(
      a.query("search_patients", { filters: { surname: "khalil", sex: "male" } }),
    );
    assert.equal(males.total, 12, "'male' does not match 'female'");
    const byWeight = await ok(a.query("search_patients", { filters: { "field-weight": "71.5" } }));
    assert.deepEqual(byWeight.data.map((p: Any) => p.id), ["bulk-07"]);
    const both = await ok(a.query("search_patients", {
      filters: { "field-weight": "71", given_name: "Sami 8" },
    }));
    assert.equal(both.total, 0, "filters are ANDed");
    const list = await ok(a.query("get_patients", { limit: 5 }));
    assert.equal(list.total, 27);
    assert.equal(list.data.length, 5);
  } finally {
    await env.close();
  }
});

Deno.test("scoping: patients of clinics without can_view_history are not listed", async () => {
  const env = await startHub();
  try {
    const clerk = await phoneAs(env.url, "clerk");
    const admin = await phoneAs(env.url, "admin");
    seed(env.hub.store, "patients", [{ id: "no-clinic", given_name: "Walk", updated_at: 1 }]);
    const seen = await ok(clerk.query("get_patients", {}));
    assert.deepEqual(seen.data.map((p: Any) => p.id), ["no-clinic"]);
    const adminSees = await ok(admin.query("get_patients", {}));
    assert.equal(adminSees.total, 3);
    await fails(
      admin.query("get_patient", { patient_id: IDS.otherClinicPatient }),
      /can_view_history at clinic 'clinic-b'/,
    );
  } finally {
    await env.close();
  }
});

Deno.test("search order is updated_at descending, then id, on every page", async () => {
  const env = await startHub();
  try {
    const a = await phoneAs(env.url, "admin");
    const rows = [];
    for (let i = 0; i < 30; i++) {
      // Three updated_at values, ids out of order: ties are broken by id.
      rows.push({
        id: `tie-${(i * 7) % 30}`.padEnd(8, "x"),
        given_name: "Tala",
        primary_clinic_id: CLINIC.a,
        updated_at: Date.UTC(2026, 2, 1) + (i % 3) * 1000,
      });
    }
    seed(env.hub.store, "patients", rows);
    const expected = [...rows].sort((x, y) =>
      (y.updated_at - x.updated_at) || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)
    ).map((r) => r.id);
    const got: string[] = [];
    for (let offset = 0; offset < 30; offset += 7) {
      const page = await ok(a.query("search_patients", {
        filters: { given_name: "tal" },
        limit: 7,
        offset,
      }));
      assert.equal(page.total, 30);
      got.push(...page.data.map((p: Any) => p.id));
    }
    assert.deepEqual(got, expected);
    const listed = await ok(a.query("get_patients", { limit: 30 }));
    assert.deepEqual(listed.data.slice(0, 30).map((p: Any) => p.id), expected);
  } finally {
    await env.close();
  }
});
