/**
 * Fixtures for the LAN server tests: a hub on a random loopback port with a
 * weak (fast) vault KDF, seeded users/clinics/permissions written as if they
 * came from the cloud, an admin API client, and helpers to read the store.
 */
import bcrypt from "bcryptjs";
import { type Logger, memoryLogger } from "../../core/mod.ts";
import { Hub } from "../../hub/mod.ts";
import type { LanServerOptions } from "../../server/mod.ts";
import { type Store, tableDef } from "../../store/mod.ts";
import { type AdminServer, startAdminServer } from "../../ui/mod.ts";
import { type DeletedEntry, PhoneClient } from "../phone_client.ts";
import { storeConnection, upsertRow } from "../../store/testing.ts";

/** The passphrase every test hub is set up with. */
export const PASSPHRASE = "correct horse battery staple";
/** The admin bearer token every test admin server uses. */
export const ADMIN_TOKEN = "test-admin-token-0123456789";
/** Password of every seeded user. */
export const PASSWORD = "s3cret-Passw0rd";

// Cost 4 keeps seeding fast; the hub verifies whatever cost the hash carries.
const HASH = bcrypt.hashSync(PASSWORD, 4);

const TEST_LOG = memoryLogger({ max: 5000 });
/** The logger every fixture hub is handed (its lines stay off stderr). */
export const testLogger: Logger = TEST_LOG.logger;
/** Lines written to {@link testLogger} while tests run (some tests inspect them). */
export const logLines: string[] = TEST_LOG.lines;

/** A wall clock tests can move, forwards or back. */
export class TestClock {
  /** Current reading, epoch ms. */
  value: number;
  /** Starts at `start`. */
  constructor(start = Date.UTC(2026, 0, 15, 12, 0, 0)) {
    this.value = start;
  }
  /** The clock as a function (what Hub and LanServer take). */
  readonly now = (): number => this.value;
  /** Moves the clock by `ms` (negative steps back). */
  step(ms: number): void {
    this.value += ms;
  }
}

/** A started hub and where to reach it. */
export interface TestHub {
  hub: Hub;
  dataDir: string;
  url: string;
  store: Store;
  /** Stops the server and locks the hub. */
  close(): Promise<void>;
}

/** Options for {@link startHub}. */
export interface StartHubOptions {
  dataDir?: string;
  lan?: Partial<LanServerOptions>;
  /** One wall clock for the store's change clock and the LAN server. */
  now?: () => number;
  /** Seed the standard clinic, users and permissions (default true). */
  seed?: boolean;
  /** The hub's logger (default {@link testLogger}). */
  logger?: Logger;
}

/** Builds a hub (new or existing data dir), sets it up or unlocks it, starts the LAN server. */
export async function startHub(options: StartHubOptions = {}): Promise<TestHub> {
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "lan-test-" });
  const hub = new Hub({
    dataDir,
    version: "test",
    lan: {
      host: "127.0.0.1",
      port: 0,
      ...(options.now ? { now: options.now } : {}),
      ...options.lan,
    },
    vault: { iterations: 1000, allowWeakKdfForTests: true },
    now: options.now,
    logger: options.logger ?? testLogger,
  });
  await hub.init();
  if (hub.state === "new") {
    await hub.setup(PASSPHRASE);
    if (options.seed !== false) seedPeople(hub.store, options.now?.() ?? Date.now());
  } else {
    await hub.unlock(PASSPHRASE);
  }
  await hub.startServer();
  return {
    hub,
    dataDir,
    url: `http://127.0.0.1:${hub.server.port}`,
    store: hub.store,
    close: () => hub.shutdown(),
  };
}

/** Clinic ids and users seeded by {@link seedPeople}. */
export const CLINIC_A = "clinic-a";
/** A second clinic (nobody has permissions there). */
export const CLINIC_B = "clinic-b";
/** A provider with every permission at clinic A. */
export const NURSE = { id: "user-nurse", email: "nurse@clinic.test", clinicId: CLINIC_A };
/** A second provider with every permission at clinic A. */
export const DOCTOR = { id: "user-doctor", email: "doctor@clinic.test", clinicId: CLINIC_A };
/** A user without any user_clinic_permissions row. */
export const NO_PERMS = { id: "user-noperms", email: "noperms@clinic.test", clinicId: CLINIC_A };
/** A user deleted in the cloud. */
export const DELETED = { id: "user-deleted", email: "deleted@clinic.test", clinicId: CLINIC_A };

/** Writes one row as if it came from the cloud (one transaction, one stamp). */
export function cloudRow(store: Store, table: string, row: Record<string, unknown>, now?: number) {
  store.transaction(() =>
    upsertRow(
      {
        db: storeConnection(store),
        stamp: store.clock.next(),
        now: now ?? Date.now(),
        source: "cloud",
      },
      tableDef(table),
      row,
    )
  );
}

/** All permission flags set. */
export const ALL_PERMISSIONS = {
  can_register_patients: 1,
  can_view_history: 1,
  can_edit_records: 1,
  can_delete_records: 1,
  is_clinic_admin: 1,
  can_edit_other_provider_event: 1,
  can_download_patient_reports: 1,
  can_prescribe_medications: 1,
  can_dispense_medications: 1,
  can_delete_patient_visits: 1,
  can_delete_patient_records: 1,
};

/** Seeds the clinics, users (with bcrypt hashes) and permission rows the tests use. */
export function seedPeople(store: Store, now: number): void {
  cloudRow(store, "clinics", { id: CLINIC_A, name: "Clinic A", created_at: now, updated_at: now });
  cloudRow(store, "clinics", { id: CLINIC_B, name: "Clinic B", created_at: now, updated_at: now });
  for (const u of [NURSE, DOCTOR, NO_PERMS, DELETED]) {
    cloudRow(store, "users", {
      id: u.id,
      clinic_id: u.clinicId,
      name: `Name of ${u.id}`,
      role: "provider",
      email: u.email,
      hashed_password: HASH,
      created_at: now,
      updated_at: now,
      is_deleted: u === DELETED,
      deleted_at: u === DELETED ? now : null,
    });
  }
  for (const u of [NURSE, DOCTOR, DELETED]) {
    cloudRow(store, "user_clinic_permissions", {
      id: `perm-${u.id}`,
      user_id: u.id,
      clinic_id: u.clinicId,
      ...ALL_PERMISSIONS,
      created_at: now,
      updated_at: now,
    });
  }
}

/** A phone that has handshaken and logged in as `user`. */
export async function loggedInPhone(
  url: string,
  user: { email: string } = NURSE,
  options: { clientId?: string; deviceName?: string } = {},
): Promise<PhoneClient> {
  const phone = new PhoneClient(url, options);
  await phone.handshake();
  await phone.login(user.email, PASSWORD);
  return phone;
}

/** A patient row as the phone would push it (WatermelonDB adds `_status` and `_changed`). */
export function patientRow(
  id: string,
  updatedAt: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    given_name: `Given ${id}`,
    surname: `Surname ${id}`,
    date_of_birth: "1990-04-02",
    sex: "female",
    citizenship: "Testland",
    hometown: "Village",
    phone: "+000 111 222",
    camp: "North",
    additional_data: { note: "added on a phone" },
    metadata: {},
    government_id: null,
    external_patient_id: null,
    primary_clinic_id: CLINIC_A,
    is_deleted: false,
    created_at: updatedAt,
    updated_at: updatedAt,
    _status: "created",
    _changed: "",
    ...extra,
  };
}

/** An event row for `patientId`. */
export function eventRow(
  id: string,
  patientId: string,
  updatedAt: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    patient_id: patientId,
    form_id: "form-1",
    visit_id: null,
    event_type: "Vitals",
    form_data: [{ fieldId: "f1", value: "120/80" }],
    metadata: {},
    is_deleted: false,
    created_at: updatedAt,
    updated_at: updatedAt,
    recorded_by_user_id: NURSE.id,
    _status: "created",
    _changed: "",
    ...extra,
  };
}

/** A table's part of a WatermelonDB change set. */
export interface TableChanges {
  created: Record<string, unknown>[];
  updated: Record<string, unknown>[];
  deleted: DeletedEntry[];
}

/** Every row of a pull, flattened with the table and list it came in. */
export function pulledRows(
  changes: Record<string, TableChanges>,
): { table: string; list: "created" | "updated"; row: Record<string, unknown> }[] {
  const out: { table: string; list: "created" | "updated"; row: Record<string, unknown> }[] = [];
  for (const [table, set] of Object.entries(changes)) {
    for (const row of set.created) out.push({ table, list: "created", row });
    for (const row of set.updated) out.push({ table, list: "updated", row });
  }
  return out;
}

/** Reads one stored row (data and bookkeeping columns). */
export function storedRow(
  store: Store,
  table: string,
  id: string,
): Record<string, unknown> | undefined {
  tableDef(table); // only schema names reach SQL
  return storeConnection(store).prepare(`SELECT * FROM "${table}" WHERE id = ?`).get(id) as
    | Record<string, unknown>
    | undefined;
}

/** Counts rows of a table. */
export function countRows(store: Store, table: string): number {
  tableDef(table);
  return (storeConnection(store).prepare(`SELECT count(*) AS n FROM "${table}"`).get() as {
    n: number;
  }).n;
}

/** The change clock value persisted in hub_meta. */
export function persistedClock(store: Store): number {
  return Number(store.getMeta("clock"));
}

/** A fingerprint of everything a push could change: clock, rows, stamps, tombstones, conflicts. */
export function storeSnapshot(store: Store): string {
  const parts: unknown[] = [store.getMeta("clock")];
  for (const t of ["patients", "events", "visits", "users"]) {
    parts.push(
      storeConnection(store).prepare(
        `SELECT id, updated_at, local_server_last_modified_at, local_server_deleted_at
         FROM "${t}" ORDER BY id`,
      ).all(),
    );
  }
  parts.push(
    storeConnection(store).prepare("SELECT * FROM tombstones ORDER BY table_name, row_id").all(),
  );
  parts.push(storeConnection(store).prepare("SELECT count(*) AS n FROM conflicts").get());
  return JSON.stringify(parts);
}

/** An admin API client with the bearer token. */
export interface AdminClient {
  server: AdminServer;
  get(path: string): Promise<{ status: number; body: Record<string, unknown> }>;
  post(path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
}

/** Starts the loopback admin API for `hub`. */
export async function adminClient(hub: Hub): Promise<AdminClient> {
  const server = await startAdminServer(hub, { port: 0, token: ADMIN_TOKEN });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() as Record<string, unknown> };
  };
  return {
    server,
    get: (path) => call("GET", path),
    post: (path, body) => call("POST", path, body ?? {}),
  };
}

/** POSTs a raw body to a LAN route and returns status, content type and text. */
export async function postRaw(
  url: string,
  route: string,
  body: string,
): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`${url}${route}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  return {
    status: res.status,
    type: res.headers.get("content-type") ?? "",
    text: await res.text(),
  };
}
