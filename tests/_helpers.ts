/**
 * Shared test helpers: temporary folders, a hub with a cheap KDF, and seeding of
 * realistic rows through the store's own write path (`upsertRow` inside a
 * transaction stamped by the change clock).
 */
import { memoryLogger } from "../core/mod.ts";
import { Hub, type HubOptions } from "../hub/mod.ts";
import { type Store, tableDef } from "../store/mod.ts";
import { type ChangeSource, storeConnection, upsertRow } from "../store/testing.ts";

/** A passphrase that passes the setup rules. */
export const PASSPHRASE = "correct horse battery staple";
/** A second valid passphrase (for change-passphrase tests). */
export const OTHER_PASSPHRASE = "another long passphrase 42";

/** Vault options every test hub uses: 1,000 PBKDF2 iterations instead of 600,000. */
export const WEAK_VAULT = { iterations: 1000, allowWeakKdfForTests: true } as const;

/** The project root (where deno.json lives). */
export const ROOT = new URL("../", import.meta.url).pathname;

/** A temporary folder removed on dispose (`await using dir = await tempDir()`). */
export interface TempDir extends AsyncDisposable {
  path: string;
}

/** Makes a temporary folder. */
export async function tempDir(prefix = "hub-test-"): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
}

/** The logger every {@link makeHub} hub is handed: its lines stay in memory, off stderr. */
const TEST_LOG = memoryLogger();

/** The logger {@link makeHub} hands its hubs (for parts a test builds beside a hub). */
export const TEST_LOGGER = TEST_LOG.logger;

/**
 * The lines written by the hubs {@link makeHub} builds (and by anything handed
 * {@link TEST_LOGGER}); tests that assert on logs read them.
 */
export function captureLogs(): string[] {
  return TEST_LOG.lines;
}

/** Options of {@link makeHub}: any {@link HubOptions} field may be overridden. */
export type MakeHubOptions = Partial<HubOptions> & { dataDir: string };

/**
 * Builds a Hub on `dataDir` with a cheap KDF and a LAN server on 127.0.0.1 with
 * any free port, and reads what is on disk (`init`). It is not set up.
 */
export async function makeHub(options: MakeHubOptions): Promise<Hub> {
  const hub = new Hub({
    version: "0.0.0-test",
    lan: { host: "127.0.0.1", port: 0 },
    vault: WEAK_VAULT,
    logger: TEST_LOGGER,
    ...options,
  });
  await hub.init();
  return hub;
}

/** A clock tests move by hand: `clock.now` is the function, `clock.t` the time. */
export interface ManualClock {
  t: number;
  now: () => number;
}

/** Makes a {@link ManualClock} starting at `start` (epoch ms). */
export function manualClock(start = Date.UTC(2026, 0, 1)): ManualClock {
  const clock: ManualClock = { t: start, now: () => clock.t };
  return clock;
}

/** A realistic patient row (about 600 bytes of data), deterministic for `i`. */
export function patientRow(i: number, prefix = "p"): Record<string, unknown> {
  const given = ["Amina", "Omar", "Layla", "Yusuf", "Fatima", "Hassan", "Mariam", "Karim"];
  const family = ["Haddad", "Nasser", "Khalil", "Saleh", "Mansour", "Aziz", "Farouk", "Rahman"];
  const t = Date.UTC(2025, 0, 1) + i * 60_000;
  return {
    id: `${prefix}-${String(i).padStart(8, "0")}-4a1c-9e2b-${(i * 7919 % 1e12).toString(16)}`,
    given_name: given[i % given.length],
    surname: family[(i * 7) % family.length],
    date_of_birth: `19${50 + (i % 50)}-${String(1 + (i % 12)).padStart(2, "0")}-${
      String(1 + (i % 28)).padStart(2, "0")
    }`,
    citizenship: "Jordan",
    hometown: ["Amman", "Irbid", "Zarqa", "Mafraq"][i % 4],
    phone: `+96279${String(1_000_000 + i).slice(-7)}`,
    sex: i % 2 === 0 ? "female" : "male",
    camp: i % 3 === 0 ? "Zaatari" : "",
    government_id: `GOV${100_000 + i}`,
    external_patient_id: null,
    primary_clinic_id: "clinic-0001",
    additional_data: {
      blood_type: ["A+", "O+", "B-", "AB+"][i % 4],
      allergies: i % 5 === 0 ? ["penicillin"] : [],
      notes: "Referred by the community health worker after a home visit.",
    },
    metadata: { source: "test", version: 1 },
    photo_url: null,
    is_deleted: false,
    created_at: t,
    updated_at: t,
    last_modified: t,
    server_created_at: t,
  };
}

/**
 * Upserts `count` patient rows (ids `prefix-…` numbered from `start`) in
 * transactions of `batch` rows, each with its own change-clock stamp. `source`
 * "phone" marks them as pending for the cloud; "cloud" does not.
 * Returns the ids written.
 */
export function seedPatients(
  store: Store,
  count: number,
  options: { source?: ChangeSource; prefix?: string; start?: number; batch?: number } = {},
): string[] {
  const { source = "cloud", prefix = "p", start = 0, batch = 1000 } = options;
  const table = tableDef("patients");
  const ids: string[] = [];
  for (let from = start; from < start + count; from += batch) {
    const to = Math.min(from + batch, start + count);
    store.transaction(() => {
      const ctx = {
        db: storeConnection(store),
        stamp: store.clock.next(),
        now: Date.now(),
        source,
      };
      for (let i = from; i < to; i++) {
        const row = patientRow(i, prefix);
        upsertRow(ctx, table, row);
        ids.push(row.id as string);
      }
    });
  }
  return ids;
}

/** The patients' ids and names, sorted by id: a fingerprint of the table's content. */
export function patientSnapshot(store: Store): string[] {
  const rows = storeConnection(store).prepare(
    "SELECT id, given_name, surname, date_of_birth, additional_data FROM patients ORDER BY id",
  ).raw(true).all() as unknown[][];
  return rows.map((r) => JSON.stringify(r));
}

/** The expected {@link patientSnapshot} after seeding `count` rows with {@link seedPatients}. */
export function expectedSnapshot(count: number, prefix = "p", start = 0): string[] {
  const out: string[] = [];
  for (let i = start; i < start + count; i++) {
    const r = patientRow(i, prefix);
    out.push(
      JSON.stringify([
        r.id,
        r.given_name,
        r.surname,
        r.date_of_birth,
        JSON.stringify(r.additional_data),
      ]),
    );
  }
  return out.sort();
}

/** A free TCP port on 127.0.0.1 (released before returning; racy but fine for tests). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Expects `fn` to reject with a HubError of `code`; returns the error for more checks. */
export async function rejectsCode(
  fn: () => Promise<unknown> | unknown,
  code: string,
): Promise<Error & { code: string; status: number; details?: Record<string, unknown> }> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  if (caught === undefined) throw new Error(`expected an error with code ${code}, got none`);
  const e = caught as Error & { code?: string; status?: number };
  if (e.name !== "HubError" || e.code !== code) {
    throw new Error(`expected HubError ${code}, got ${e.name}: ${e.code ?? ""} ${e.message}`, {
      cause: caught,
    });
  }
  return e as Error & { code: string; status: number; details?: Record<string, unknown> };
}
