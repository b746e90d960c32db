/**
 * Shared pieces of the relay tests: a real Hub with its LAN and admin servers on
 * 127.0.0.1, a cloud double seeded with a clinic, users (bcrypt) and permissions,
 * realistic rows in the cloud's and the phone's shapes, a logged-in test phone,
 * and comparisons of what the hub and the double hold.
 */
import assert from "node:assert/strict";
import bcrypt from "bcryptjs";
import { type Logger, memoryLogger } from "../../core/mod.ts";
import { Hub } from "../../hub/mod.ts";
import type { CloudTimeouts, CycleResult, RelaySchedule, SyncHealth } from "../../cloud/mod.ts";
import { TABLES } from "../../store/mod.ts";
import { type AdminServer, startAdminServer } from "../../ui/mod.ts";
import { CloudDouble, type CloudDoubleOptions } from "../cloud_double.ts";
import { PhoneClient } from "../phone_client.ts";
import { storeConnection } from "../../store/testing.ts";

const TEST_LOG = memoryLogger({ max: 20_000 });
/** The logger every fixture hub is handed (kept quiet). */
export const TEST_LOGGER: Logger = TEST_LOG.logger;
/** Log lines the hubs wrote during these tests (checked for secrets). */
export const LOG_LINES: string[] = TEST_LOG.lines;

/** The passphrase of every test hub. */
export const PASSPHRASE = "correct horse battery staple";

/** A relay schedule for tests: no timer-driven cycle unless a test waits for one. */
export const TEST_SCHEDULE: Partial<RelaySchedule> = {
  intervalMs: 600_000,
  backoffBaseMs: 150,
  backoffMaxMs: 600,
  probeMs: 100,
  mergeBatchRows: 50,
  pushChunkRows: 40,
};

/** Short timeouts so a hung cloud shows quickly. */
export const TEST_TIMEOUTS: CloudTimeouts = { connectMs: 1_000, transferMs: 3_000 };

/** The clinic the hub is authorised for, another one it is not, and a user of each. */
export const CLINIC = "0b7f3f5e-1c7a-4d2e-9a51-6f3c2a1d0e01";
export const OTHER_CLINIC = "0b7f3f5e-1c7a-4d2e-9a51-6f3c2a1d0e02";
export const USER = {
  id: "5d0c2a4e-7b61-4f0e-8a3d-2c9b1e4f6a01",
  email: "amina.haddad@clinic.example",
  password: "S3cure-clinic-pass",
};
const OTHER_USER_ID = "5d0c2a4e-7b61-4f0e-8a3d-2c9b1e4f6a02";

/** A hub under test with its admin API and LAN server. */
export interface TestHub extends AsyncDisposable {
  hub: Hub;
  admin: AdminServer;
  dir: string;
  lanUrl: string;
  /** Calls the admin API; returns status and parsed JSON (shapes: docs/admin-api.md). */
  // deno-lint-ignore no-explicit-any
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** Starts a set-up, unlocked hub (LAN server and admin API on 127.0.0.1). */
export async function startHub(
  options: { relay?: Partial<RelaySchedule>; timeouts?: CloudTimeouts; dir?: string } = {},
): Promise<TestHub> {
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "relay-test-" });
  const hub = new Hub({
    dataDir: dir,
    version: "test",
    lan: { host: "127.0.0.1", port: 0 },
    vault: { iterations: 1000, allowWeakKdfForTests: true },
    relay: { ...TEST_SCHEDULE, ...options.relay },
    cloudTimeouts: options.timeouts ?? TEST_TIMEOUTS,
    logger: TEST_LOGGER,
  });
  await hub.init();
  if (hub.state === "new") await hub.setup(PASSPHRASE);
  else await hub.unlock(PASSPHRASE);
  await hub.startServer();
  const token = "t".repeat(40);
  const admin = await startAdminServer(hub, { port: 0, token });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await hub.shutdown();
    await admin.close();
    if (!options.dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  return {
    hub,
    admin,
    dir,
    lanUrl: `http://127.0.0.1:${hub.server.port}`,
    async api(method, path, body) {
      const res = await fetch(admin.url + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A double seeded with the clinic, an unrelated clinic, users and permissions. */
export async function startCloud(options: CloudDoubleOptions = {}): Promise<CloudDouble> {
  const cloud = await CloudDouble.start({ clinicIds: [CLINIC], ...options });
  seedPeople(cloud);
  return cloud;
}

/** Inserts the clinics, a user per clinic (bcrypt hashes) and their permission rows. */
export function seedPeople(cloud: CloudDouble): void {
  const t = "2025-03-04T05:06:07.123Z";
  for (const [id, name] of [[CLINIC, "Zaatari North"], [OTHER_CLINIC, "Irbid Central"]]) {
    cloud.insert("clinics", {
      id,
      name,
      is_deleted: false,
      is_archived: false,
      attributes: ["maternity"],
      metadata: { region: "north" },
      address: "Block 4",
      created_at: t,
      updated_at: t,
    });
  }
  const hash = bcrypt.hashSync(USER.password, 4);
  for (
    const [id, clinic, email] of [
      [USER.id, CLINIC, USER.email],
      [OTHER_USER_ID, OTHER_CLINIC, "omar@other.example"],
    ]
  ) {
    cloud.insert("users", {
      id,
      clinic_id: clinic,
      name: "Dr " + email.split("@")[0],
      role: "provider",
      email,
      hashed_password: hash,
      instance_url: null,
      created_at: t,
      updated_at: t,
      is_deleted: false,
    });
    cloud.insert("user_clinic_permissions", {
      id: crypto.randomUUID(),
      user_id: id,
      clinic_id: clinic,
      can_register_patients: true,
      can_view_history: true,
      can_edit_records: true,
      can_delete_records: true,
      is_clinic_admin: false,
      created_by: null,
      last_modified_by: null,
      can_edit_other_provider_event: false,
      can_download_patient_reports: true,
      can_prescribe_medications: true,
      can_dispense_medications: true,
      can_delete_patient_visits: false,
      // The relay tests' phones delete patients; sync_push needs this flag for that.
      can_delete_patient_records: true,
      created_at: t,
      updated_at: t,
    });
  }
}

const GIVEN = ["Amina", "Omar", "Layla", "Yusuf", "Fatima", "Hassan", "Mariam", "Karim"];
const FAMILY = ["Haddad", "Nasser", "Khalil", "Saleh", "Mansour", "Aziz", "Farouk", "Rahman"];

/** A deterministic UUID for row `i` of a series (`series` < 2^16). */
export function uuidFor(series: number, i: number): string {
  const a = series.toString(16).padStart(4, "0");
  const b = i.toString(16).padStart(12, "0");
  return `7e1d${a}-0000-4000-8000-${b}`;
}

/** A patient as the cloud serves it (ISO dates, booleans, JSON objects). */
export function cloudPatient(i: number, series = 1, clinic = CLINIC): Record<string, unknown> {
  const t = new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString();
  return {
    id: uuidFor(series, i),
    given_name: GIVEN[i % GIVEN.length],
    surname: FAMILY[(i * 7) % FAMILY.length],
    date_of_birth: `19${50 + (i % 50)}-${String(1 + (i % 12)).padStart(2, "0")}-${
      String(1 + (i % 28)).padStart(2, "0")
    }T00:00:00.000Z`,
    citizenship: "Jordan",
    hometown: ["Amman", "Irbid", "Zarqa", "Mafraq"][i % 4],
    phone: `+96279${String(1_000_000 + i).slice(-7)}`,
    sex: i % 2 === 0 ? "female" : "male",
    camp: i % 3 === 0 ? "Zaatari" : "",
    government_id: `GOV${100_000 + i}`,
    external_patient_id: null,
    primary_clinic_id: clinic,
    additional_data: {
      blood_type: ["A+", "O+", "B-", "AB+"][i % 4],
      allergies: i % 5 === 0 ? ["penicillin"] : [],
      notes: "Referred by the community health worker after a home visit.",
    },
    metadata: { source: "cloud", version: 1 },
    photo_url: null,
    image_timestamp: null,
    last_modified_by: null,
    is_deleted: false,
    created_at: t,
    updated_at: t,
  };
}

/** A visit as the cloud serves it. */
export function cloudVisit(i: number, patientId: string, series = 2): Record<string, unknown> {
  const t = new Date(Date.UTC(2025, 1, 1) + i * 60_000).toISOString();
  return {
    id: uuidFor(series, i),
    patient_id: patientId,
    clinic_id: CLINIC,
    provider_id: USER.id,
    provider_name: "Dr amina.haddad",
    metadata: { triage: i % 3 },
    is_deleted: false,
    created_at: t,
    updated_at: t,
  };
}

/** A patient as the phone pushes it (WatermelonDB raw record: ms, JSON text, `_status`). */
export function phonePatient(
  i: number,
  series = 9,
  updatedAt = Date.now(),
): Record<string, unknown> {
  return {
    id: uuidFor(series, i),
    given_name: "Phone" + GIVEN[i % GIVEN.length],
    surname: FAMILY[i % FAMILY.length],
    date_of_birth: "1990-05-17",
    citizenship: "Jordan",
    hometown: "Mafraq",
    phone: "+962790000000",
    sex: "female",
    camp: "",
    government_id: `PH${i}`,
    external_patient_id: null,
    primary_clinic_id: CLINIC,
    additional_data: JSON.stringify({ from: "phone", i }),
    metadata: "{}",
    photo_url: null,
    image_timestamp: null,
    last_modified_by: USER.id,
    is_deleted: false,
    created_at: updatedAt - 1000,
    updated_at: updatedAt,
    _status: "created",
    _changed: "",
  };
}

/** A phone paired with the hub and logged in as {@link USER}. */
export async function loggedInPhone(lanUrl: string): Promise<PhoneClient> {
  const phone = new PhoneClient(lanUrl, { deviceName: "test tablet" });
  await phone.handshake();
  await phone.login(USER.email, USER.password);
  return phone;
}

/** What a phone received over one or more pulls. */
export interface PhoneView {
  cursor: number;
  /** Every id received as created, per table, in order (duplicates kept). */
  created: Map<string, string[]>;
  updated: Map<string, Record<string, unknown>[]>;
  deleted: Map<string, string[]>;
  /** The phone's copy of each row after applying the pulls. */
  rows: Map<string, Map<string, Record<string, unknown>>>;
}

/** An empty view (a fresh phone). */
export function newView(): PhoneView {
  return { cursor: 0, created: new Map(), updated: new Map(), deleted: new Map(), rows: new Map() };
}

/**
 * Pulls until the hub has nothing more after the cursor, applying each page the
 * way WatermelonDB does (an `updated` row it lacks is skipped). Returns the number
 * of changes received.
 */
export async function pullAll(phone: PhoneClient, view: PhoneView): Promise<number> {
  let received = 0;
  for (let page = 0; page < 1000; page++) {
    const r = await phone.pull(view.cursor === 0 ? null : view.cursor);
    let n = 0;
    for (const [table, set] of Object.entries(r.changes)) {
      const rows = view.rows.get(table) ?? new Map();
      view.rows.set(table, rows);
      for (const row of set.created) {
        push(view.created, table, String(row.id));
        rows.set(String(row.id), row);
      }
      for (const row of set.updated) {
        push(view.updated, table, row);
        if (rows.has(String(row.id))) rows.set(String(row.id), row);
      }
      // As the app does: the id is `.id` of each entry (a bare string is lost).
      for (const { id } of set.deleted) {
        push(view.deleted, table, id);
        rows.delete(id);
      }
      n += set.created.length + set.updated.length + set.deleted.length;
    }
    view.cursor = r.timestamp;
    received += n;
    if (n === 0) return received;
  }
  throw new Error("the hub kept sending pages");
}

/**
 * Pushes from a phone at its cursor and keeps what it pushed in its view: the
 * phone holds its own rows (the hub never sends them back to it, SPEC §5).
 */
export async function phonePush(
  phone: PhoneClient,
  view: PhoneView,
  changes: Record<string, { created?: unknown[]; updated?: unknown[]; deleted?: unknown[] }>,
): Promise<void> {
  await phone.push(view.cursor, changes);
  for (const [table, set] of Object.entries(changes)) {
    const rows = view.rows.get(table) ?? new Map();
    view.rows.set(table, rows);
    for (const row of [...(set.created ?? []), ...(set.updated ?? [])]) {
      // Marked synced after the push: WatermelonDB's own `_status`/`_changed` aside.
      const r = Object.fromEntries(
        Object.entries(row as Record<string, unknown>).filter(([k]) => !k.startsWith("_")),
      );
      rows.set(String(r.id), { ...rows.get(String(r.id)), ...r });
    }
    for (const d of set.deleted ?? []) {
      rows.delete(typeof d === "string" ? d : String((d as Record<string, unknown>).id));
    }
  }
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

/** Waits until `check` returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Registers the hub with the double through the admin API; asserts success. */
export async function register(t: TestHub, cloud: CloudDouble): Promise<void> {
  const r = await t.api("POST", "/api/cloud/register", { url: cloud.url, apiKey: cloud.apiKey });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

/** GET /api/cloud/health. */
export async function health(t: TestHub): Promise<SyncHealth> {
  const r = await t.api("GET", "/api/cloud/health");
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as SyncHealth;
}

/** POST /api/cloud/sync; asserts success and returns the cycle result. */
export async function syncOk(t: TestHub): Promise<CycleResult> {
  const r = await t.api("POST", "/api/cloud/sync");
  assert.equal(r.status, 200, `sync failed: ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Waits until no cycle runs and the last one succeeded. */
export async function settled(t: TestHub, timeoutMs = 15_000): Promise<SyncHealth> {
  return await waitFor(
    async () => {
      const h = await health(t);
      return !h.cycleRunning && h.lastError === null && h.lastSuccessAt !== null ? h : null;
    },
    "a successful relay cycle",
    timeoutMs,
  );
}

// ---- comparing what the hub and the double hold ---------------------------

function canonical(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${
    Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(",")
  }}`;
}

/** Columns the two sides keep on their own (cloud bookkeeping, deletion times). */
const SKIP = new Set(["server_created_at", "last_modified", "deleted_at"]);

/** One row normalised for comparison: the hub's data columns, JSON by value, booleans 0/1. */
function normalise(table: string, row: Record<string, unknown>, columns: string[]): string {
  const t = TABLES.get(table)!;
  const out: Record<string, unknown> = {};
  for (const name of columns) {
    const col = t.columns.find((c) => c.name === name)!;
    let v = row[name];
    if (v === undefined) v = null;
    if (typeof v === "boolean") v = v ? 1 : 0;
    if (col.type === "TEXT" && typeof v === "string" && /^[[{]/.test(v)) {
      try {
        v = JSON.parse(v);
      } catch {
        // plain text
      }
    }
    if (col.type === "TEXT" && v !== null && typeof v === "object") v = canonical(v);
    out[name] = v;
  }
  return JSON.stringify(out);
}

/** Live rows of a hub table, normalised, by id (over `columns`). */
export function hubRows(hub: Hub, table: string, columns?: string[]): Map<string, string> {
  const t = TABLES.get(table)!;
  const cols = columns ?? t.columns.map((c) => c.name).filter((c) => !SKIP.has(c));
  const rows = storeConnection(hub.store).prepare(
    `SELECT * FROM "${table}" WHERE local_server_deleted_at IS NULL ${
      t.softDelete ? "AND coalesce(is_deleted, 0) = 0" : ""
    }`,
  ).all() as Record<string, unknown>[];
  return new Map(rows.map((r) => [String(r.id), normalise(table, r, cols)]));
}

/** Live rows of a double table in the hub's clinics, normalised like {@link hubRows}. */
export function cloudRows(
  cloud: CloudDouble,
  table: string,
  columns?: string[],
): Map<string, string> {
  const t = TABLES.get(table)!;
  const cols = columns ?? t.columns.map((c) => c.name).filter((c) => !SKIP.has(c));
  const out = new Map<string, string>();
  for (const r of cloud.rows(table)) {
    const clinic = table === "patients"
      ? r.primary_clinic_id
      : table === "clinics"
      ? r.id
      : r.clinic_id;
    if (typeof clinic === "string" && !cloud.clinicIds.includes(clinic)) continue;
    out.set(String(r.id), normalise(table, r, cols));
  }
  return out;
}

/**
 * Asserts the hub and the double hold the same live rows of `table`: same ids and
 * the same data in every column the cloud's rows all carry. Returns the row count.
 */
export function assertSameRows(hub: Hub, cloud: CloudDouble, table: string): number {
  const all = cloud.rows(table);
  const cols = TABLES.get(table)!.columns.map((x) => x.name).filter((x) =>
    !SKIP.has(x) && all.every((r) => x in r)
  );
  const c = cloudRows(cloud, table, cols);
  const h = hubRows(hub, table, cols);
  const onlyCloud = [...c.keys()].filter((id) => !h.has(id));
  const onlyHub = [...h.keys()].filter((id) => !c.has(id));
  assert.deepEqual(
    { onlyCloud: onlyCloud.slice(0, 5), onlyHub: onlyHub.slice(0, 5) },
    { onlyCloud: [], onlyHub: [] },
    `${table}: ${onlyCloud.length} rows only in the cloud, ${onlyHub.length} only on the hub`,
  );
  for (const [id, row] of c) assert.equal(h.get(id), row, `${table} ${id} differs`);
  return c.size;
}

/** The hub's change stamp of every row of a table (to show a cycle changed nothing). */
export function stamps(hub: Hub, table: string): Map<string, number> {
  const rows = storeConnection(hub.store).prepare(
    `SELECT id, local_server_last_modified_at AS s FROM "${table}"`,
  ).all() as { id: string; s: number }[];
  return new Map(rows.map((r) => [r.id, r.s]));
}
