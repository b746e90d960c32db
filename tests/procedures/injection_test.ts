/**
 * SQL injection and LIKE-wildcard attempts through every search filter and
 * free-text field: each is answered as plain text that matches nothing, no
 * error is raised (a clinic id the caller has no rights at is refused), and the
 * database is unchanged afterwards.
 */
import assert from "node:assert/strict";
import { PATIENT_FILTER_COLUMNS, type Store } from "../../store/mod.ts";
import { buildRegistry } from "../../server/mod.ts";
import { CLINIC, IDS, liveCount, phoneAs, startHub } from "./_fixtures.ts";
import { storeConnection } from "../../store/testing.ts";

const REGISTRY = buildRegistry();

// deno-lint-ignore no-explicit-any
type Any = any;

/** Attempts that would match rows, break out of a string, or run a second statement. */
const ATTEMPTS = [
  "' OR '1'='1",
  '" OR 1=1 --',
  "'); DROP TABLE patients; --",
  "%",
  "_",
  "\\",
  "%' OR 1=1 --",
  "ami%",
  "a_ina",
  "*/ UNION SELECT hashed_password FROM users --",
  "x\u0000y",
];

/** Searches whose answer must be empty for each attempt `v`: [kind, name, params, count]. */
type Probe = ["query", string, Record<string, unknown>, (r: Any) => number];
const total = (r: Any) => r.total as number;
const rows = (r: Any) => r.data.length as number;
const arr = (r: Any) => r.length as number;

function probes(v: string): Probe[] {
  const out: Probe[] = [];
  for (const col of PATIENT_FILTER_COLUMNS) {
    out.push(["query", "search_patients", { filters: { [col]: v } }, total]);
  }
  out.push(
    ["query", "search_patients", { filters: { [IDS.attributeField]: v } }, total],
    ["query", "search_patients", { filters: { [`given_name ${v}`]: "a" } }, total],
    // Similar names match on their first three letters too: start with ones no name has.
    ["query", "patients.similar", { given_name: `Zq${v}`, surname: `Zq${v}` }, rows],
    ["query", "appointments.search", { search_query: v, clinic_id: CLINIC.a, date: 0 }, total],
    ["query", "appointments.search", { search_query: "", clinic_id: v, date: 0 }, total],
    [
      "query",
      "appointments.search",
      { search_query: "", clinic_id: CLINIC.a, date: 0, status: [v], department_ids: [v] },
      total,
    ],
    ["query", "appointments.list", { start_date: 0, end_date: 9e15, clinic_id: v }, total],
    ["query", "appointments.list", { start_date: 0, end_date: 9e15, status: v }, total],
    ["query", "prescriptions.search", { search_query: v }, total],
    ["query", "prescriptions.search", { clinic_id: v, status: [v] }, total],
    ["query", "drugs.search", { search_term: v }, rows],
    ["query", "drugs.search", { form: v, route: v }, rows],
    ["query", "inventory.search", { clinic_id: CLINIC.a, search_term: v }, rows],
    ["query", "inventory.by_clinic", { clinic_id: v }, rows],
    ["query", "event_forms.list", { language: v }, rows],
    ["query", "event_forms.list", { clinic_id: v }, rows],
    ["query", "get_visits", { patient_id: v }, rows],
    ["query", "events.by_form", { form_id: v, patient_id: v }, arr],
    ["query", "clinic_departments.list", { clinic_id: v }, rows],
  );
  return out;
}

function schemaOf(env: { hub: { store: Store } }): string {
  return JSON.stringify(
    storeConnection(env.hub.store).prepare(
      "SELECT type, name, sql FROM sqlite_master ORDER BY name",
    ).all(),
  );
}

Deno.test("injection attempts through search filters and free text are harmless", async () => {
  const env = await startHub();
  try {
    const phone = await phoneAs(env.url, "admin");
    const tables = ["patients", "users", "appointments", "prescriptions", "drug_catalogue"];
    const before = tables.map((t) => liveCount(env.hub.store, t));
    const schema = schemaOf(env);
    for (const v of ATTEMPTS) {
      for (const [, name, params, count] of probes(v)) {
        const r = await phone.query(name, params);
        if (params.clinic_id === v && REGISTRY.get("query", name)!.scope.kind === "clinics") {
          // A clinic the caller holds no permission row at is refused before any query runs.
          assert.equal(r.success, false, `${name} ${JSON.stringify(params)} answered`);
          assert.match(r.error!, /^Forbidden: this user has no permissions at clinic /);
          continue;
        }
        assert.ok(r.success, `${name} ${JSON.stringify(params)} failed: ${r.error}`);
        assert.equal(count(r.result), 0, `${name} ${JSON.stringify(params)} matched rows`);
      }
      const gov = await phone.query("check_government_id", { government_id: v });
      assert.deepEqual(gov.result, { exists: false });
      const form = await phone.query("registration_form.get", { language: v });
      assert.equal((form.result as Any).id, IDS.registrationForm, "falls back to the newest form");
    }
    assert.deepEqual(tables.map((t) => liveCount(env.hub.store, t)), before);
    assert.equal(schemaOf(env), schema, "no table or index was touched");

    // Free text written through a command is stored and read back verbatim.
    const hostile = ATTEMPTS.join(" | ");
    const reg = await phone.command("register_patient", {
      patient: { id: "", given_name: hostile, surname: "'; DELETE FROM users; --" },
      additional_attributes: [{ attribute_id: IDS.attributeField, string_value: hostile }],
    });
    assert.ok(reg.success, reg.error);
    const id = (reg.result as Any).patient_id;
    const back = await phone.query("get_patient", { patient_id: id });
    assert.equal((back.result as Any).values["f-given"], hostile);
    assert.equal((back.result as Any).values[IDS.attributeField], hostile);
    const found = await phone.query("search_patients", { filters: { given_name: "' OR '1'='1" } });
    assert.deepEqual((found.result as Any).data.map((p: Any) => p.id), [id], "matched literally");
    assert.equal(liveCount(env.hub.store, "users"), before[1]);

    // And ordinary searches still work.
    const normal = await phone.query("search_patients", { filters: { given_name: "amin" } });
    assert.equal((normal.result as Any).total, 1);
  } finally {
    await env.close();
  }
});
