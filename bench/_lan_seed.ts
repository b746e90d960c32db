/**
 * Seeds a hub's data folder for the LAN benchmark, writing directly through
 * `store/` as a cloud merge would: a clinic, a provider with a bcrypt (cost 10)
 * password and a permission row, then patients each followed by two events, in
 * transactions of `batch` rows with a new stamp every `ROWS_PER_STAMP`, as the
 * relay's merges do.
 *
 * Standalone: `deno run -A bench/_lan_seed.ts --data-dir DIR --passphrase-file F
 * [--patients N] [--events N]`.
 */
import bcrypt from "bcryptjs";
import { Logger } from "../core/mod.ts";
import { Hub } from "../hub/mod.ts";
import { tableDef } from "../store/mod.ts";
import { benchEvent, benchId, benchPatient, rng } from "./_lan_rows.ts";
import { ROWS_PER_STAMP, storeConnection, upsertRow } from "../store/testing.ts";

/** The benchmark's clinic, user and password. */
export const BENCH_CLINIC = "bench-clinic";
/** The provider every simulated phone logs in as. */
export const BENCH_USER = { id: "bench-user", email: "bench@clinic.test" };
/** Their password. */
export const BENCH_PASSWORD = "bench-password-123";

/** What was seeded. */
export interface SeedResult {
  hubId: string;
  dbPath: string;
  /** Raw SQLCipher key (the bare-pipeline comparison opens a copy of the database with it). */
  dbKey: string;
  patients: number;
  events: number;
  seconds: number;
}

/** An in-process hub on `dataDir` (loopback, any port) that logs nothing, not yet initialised. */
export function quietHub(dataDir: string): Hub {
  return new Hub({
    dataDir,
    version: "bench",
    lan: { host: "127.0.0.1", port: 0 },
    logger: new Logger({ sink: () => {} }),
  });
}

/** Sets a hub up in `dataDir` and seeds it; the hub is shut down afterwards. */
export async function seedHub(
  dataDir: string,
  passphrase: string,
  counts: { patients: number; events: number; batch?: number },
): Promise<SeedResult> {
  const started = performance.now();
  const hub = quietHub(dataDir);
  await hub.init();
  await hub.setup(passphrase);
  const store = hub.store;
  const now = Date.now();
  const write = (table: string, rows: Record<string, unknown>[]) => {
    store.transaction(() => {
      const ctx = {
        db: storeConnection(store),
        stamp: store.clock.next(),
        now,
        source: "cloud" as const,
      };
      const t = tableDef(table);
      for (const r of rows) upsertRow(ctx, t, r);
    });
  };
  write("clinics", [{ id: BENCH_CLINIC, name: "Bench clinic", created_at: now, updated_at: now }]);
  write("users", [{
    id: BENCH_USER.id,
    clinic_id: BENCH_CLINIC,
    name: "Bench Provider",
    role: "provider",
    email: BENCH_USER.email,
    hashed_password: bcrypt.hashSync(BENCH_PASSWORD, 10),
    created_at: now,
    updated_at: now,
  }]);
  write("user_clinic_permissions", [{
    id: "bench-perm",
    user_id: BENCH_USER.id,
    clinic_id: BENCH_CLINIC,
    can_register_patients: 1,
    can_view_history: 1,
    can_edit_records: 1,
    can_delete_records: 1,
    created_at: now,
    updated_at: now,
  }]);
  const batch = counts.batch ?? 5000;
  const r = rng(42);
  const perPatient = counts.patients > 0 ? Math.round(counts.events / counts.patients) : 0;
  let events = 0;
  let pending: { table: string; row: Record<string, unknown> }[] = [];
  const flush = () => {
    store.transaction(() => {
      const ctx = {
        db: storeConnection(store),
        stamp: store.clock.next(),
        now,
        source: "cloud" as const,
      };
      let n = 0;
      for (const p of pending) {
        upsertRow(ctx, tableDef(p.table), p.row);
        if (++n % ROWS_PER_STAMP === 0) ctx.stamp = store.clock.next();
      }
    });
    pending = [];
  };
  for (let i = 0; i < counts.patients; i++) {
    const p = benchPatient(r, i, now, BENCH_CLINIC);
    pending.push({ table: "patients", row: p });
    for (let j = 0; j < perPatient && events < counts.events; j++) {
      pending.push({
        table: "events",
        row: benchEvent(r, events++, benchId(1, i), now, BENCH_USER.id),
      });
    }
    if (pending.length >= batch) flush();
  }
  if (pending.length > 0) flush();
  const result: SeedResult = {
    hubId: hub.vault.secrets.hubId,
    dbPath: hub.dbPath,
    dbKey: hub.vault.secrets.dbKey,
    patients: counts.patients,
    events,
    seconds: (performance.now() - started) / 1000,
  };
  await hub.shutdown();
  return result;
}

if (import.meta.main) {
  const arg = (name: string) => {
    const i = Deno.args.indexOf(name);
    return i >= 0 ? Deno.args[i + 1] : undefined;
  };
  const dataDir = arg("--data-dir");
  const passFile = arg("--passphrase-file");
  if (!dataDir || !passFile) {
    throw new Error("usage: _lan_seed.ts --data-dir DIR --passphrase-file F [--patients N]");
  }
  const res = await seedHub(dataDir, (await Deno.readTextFile(passFile)).trim(), {
    patients: Number(arg("--patients") ?? 100_000),
    events: Number(arg("--events") ?? 200_000),
  });
  Deno.stdout.writeSync(
    new TextEncoder().encode(JSON.stringify({ ...res, dbKey: undefined }) + "\n"),
  );
}
