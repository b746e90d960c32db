/**
 * Procedures benchmark (issue 4): `search_patients` over 100,000 patients must
 * answer in under 50 ms at p99. A real hub (SQLCipher store, LAN server on
 * loopback) holds 100,000 realistic patients (a third without a clinic, 2%
 * deleted, 30% with an additional attribute); a simulated phone logged in as a
 * user who may view two clinics runs a mix of searches. Each search is timed
 * end to end at the phone (seal, HTTP, auth, query, JSON, open) and, separately,
 * in process (the store's `searchPatients` alone).
 *
 * Run: `deno run -A bench/procedures_bench.ts [--patients N] [--samples N] [--quick] [--write]`
 * (`--quick`: 30 calls per search instead of 150; the data set stays 100,000).
 * `--write` replaces the "## Procedures (issue 4)" section of bench/RESULTS.md.
 */
import bcrypt from "bcryptjs";
import { Logger } from "../core/mod.ts";
import { Hub } from "../hub/mod.ts";
import { tableDef } from "../store/mod.ts";
import { PhoneClient } from "../tests/phone_client.ts";
import { writeResultsSection } from "./_results.ts";
import { storeConnection, upsertRow } from "../store/testing.ts";

const args = Deno.args;
function numArg(name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}
const QUICK = args.includes("--quick");
const PATIENTS = numArg("--patients", 100_000);
const SAMPLES = numArg("--samples", QUICK ? 30 : 150);
const WRITE = args.includes("--write");
const SECTION = "## Procedures (issue 4)";

const GIVEN = [
  "Amina",
  "Omar",
  "Layla",
  "Yusuf",
  "Fatima",
  "Hassan",
  "Mariam",
  "Karim",
  "Ali",
  "Aisha",
  "Ibrahim",
  "Zainab",
  "Khalid",
  "Sara",
  "Mustafa",
  "Huda",
  "Tariq",
  "Rania",
  "Samir",
  "Dina",
  "John",
  "Maria",
  "Jose",
  "Anna",
  "Chen",
  "Priya",
  "Kofi",
  "Nadia",
  "Elias",
  "Salma",
];
const FAMILY = [
  "Haddad",
  "Nasser",
  "Khalil",
  "Saleh",
  "Mansour",
  "Aziz",
  "Farouk",
  "Rahman",
  "Darwish",
  "Khoury",
  "Bakr",
  "Smith",
  "Garcia",
  "Nguyen",
  "Okafor",
  "Mensah",
  "Kumar",
  "Rossi",
];
const VILLAGES = ["Qana", "Tyre", "Sidon", "Jezzine", "Nabatieh", "Baalbek", "Zahle", "Byblos"];

function out(line = ""): void {
  Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)];
}

async function machine(): Promise<string> {
  const cpu = (await Deno.readTextFile("/proc/cpuinfo").catch(() => ""))
    .match(/model name\s*:\s*(.+)/)?.[1]?.trim() ?? "unknown CPU";
  const ram = Deno.systemMemoryInfo().total / 2 ** 30;
  return `${navigator.hardwareConcurrency} cores (${cpu}), ${ram.toFixed(1)} GiB RAM, ` +
    `${Deno.build.os}/${Deno.build.arch}, Deno ${Deno.version.deno}`;
}

/** Seeds clinics, one user allowed to view two clinics, and the patients. */
function seed(hub: Hub): number {
  const store = hub.store;
  const t0 = Date.UTC(2024, 0, 1);
  const started = performance.now();
  const write = (table: string, rows: Record<string, unknown>[]) =>
    store.transaction(() => {
      const ctx = {
        db: storeConnection(store),
        stamp: store.clock.next(),
        now: Date.now(),
        source: "cloud" as const,
      };
      for (const r of rows) upsertRow(ctx, tableDef(table), r);
    });
  write("clinics", ["c-a", "c-b", "c-c"].map((id) => ({ id, name: id })));
  write("users", [{
    id: "u-bench",
    clinic_id: "c-a",
    name: "Bench",
    role: "provider",
    email: "bench@clinic.test",
    hashed_password: bcrypt.hashSync("bench-password", 4),
  }]);
  write(
    "user_clinic_permissions",
    ["c-a", "c-b"].map((c) => ({
      id: `perm-${c}`,
      user_id: "u-bench",
      clinic_id: c,
      can_view_history: 1,
    })),
  );
  const BATCH = 5000;
  for (let start = 0; start < PATIENTS; start += BATCH) {
    const patients: Record<string, unknown>[] = [];
    const attrs: Record<string, unknown>[] = [];
    for (let i = start; i < Math.min(PATIENTS, start + BATCH); i++) {
      const id = `p-${i.toString(36).padStart(6, "0")}`;
      patients.push({
        id,
        given_name: GIVEN[(i * 7) % GIVEN.length] + (i % 11 === 0 ? "a" : ""),
        surname: `${FAMILY[(i * 13) % FAMILY.length]}${i % 5 === 0 ? "-" + (i % 97) : ""}`,
        date_of_birth: `19${String(40 + (i % 60)).padStart(2, "0")}-0${1 + (i % 9)}-1${i % 9}`,
        sex: i % 2 ? "male" : "female",
        phone: `+9617${String(1_000_000 + ((i * 7919) % 8_999_999))}`,
        citizenship: "LB",
        hometown: VILLAGES[i % VILLAGES.length],
        camp: `Camp ${i % 20}`,
        government_id: `GOV-${i}`,
        external_patient_id: `EXT-${i}`,
        additional_data: { notes: "Registered at the outreach day; follow up in spring.", n: i },
        metadata: { source: "bench", device: "tablet-3", tags: ["outreach", "2024"] },
        photo_url: "",
        primary_clinic_id: i % 3 === 0 ? null : ["c-a", "c-b", "c-c"][i % 3],
        created_at: t0 + i * 60_000,
        updated_at: t0 + i * 60_000 + (i % 13) * 1000,
        is_deleted: i % 50 === 0 ? 1 : 0,
      });
      if (i % 10 < 3) {
        attrs.push({
          id: `a-${id}`,
          patient_id: id,
          attribute_id: "field-village",
          attribute: "Village",
          string_value: VILLAGES[(i * 3) % VILLAGES.length],
          metadata: {},
          created_at: t0,
          updated_at: t0,
        });
      }
    }
    write("patients", patients);
    write("patient_additional_attributes", attrs);
  }
  return performance.now() - started;
}

/** The search mix: [label, params]. */
const MIX: [string, Record<string, unknown>][] = [
  ["given_name 'ali' (common)", { filters: { given_name: "ali" } }],
  ["given_name 'a' (one letter)", { filters: { given_name: "a" } }],
  ["surname 'nasser'", { filters: { surname: "nasser" } }],
  ["given_name 'zzq' (no match)", { filters: { given_name: "zzq" } }],
  ["phone '12345' (rare)", { filters: { phone: "12345" } }],
  ["government_id 'GOV-4321'", { filters: { government_id: "GOV-4321" } }],
  ["sex 'female' + given_name 'mar'", { filters: { sex: "female", given_name: "mar" } }],
  ["attribute village 'qana'", { filters: { "field-village": "qana" } }],
  ["given_name 'ali', offset 400", { filters: { given_name: "ali" }, offset: 400 }],
  ["surname 'haddad-4' + camp '1'", { filters: { surname: "haddad-4", camp: "1" } }],
];

interface Stat {
  label: string;
  p50: number;
  p99: number;
  total: number;
}

function stat(label: string, xs: number[], total: number): Stat {
  const s = [...xs].sort((a, b) => a - b);
  return { label, p50: pct(s, 0.5), p99: pct(s, 0.99), total };
}

async function main(): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "hub-proc-bench-" });
  const hub = new Hub({
    dataDir,
    version: "bench",
    lan: { host: "127.0.0.1", port: 0 },
    vault: { iterations: 1000, allowWeakKdfForTests: true },
    logger: new Logger({ sink: () => {} }),
  });
  const load0 = Deno.loadavg()[0];
  try {
    await hub.init();
    await hub.setup("correct horse battery staple");
    await hub.startServer();
    const seedMs = seed(hub);
    out(`seeded ${PATIENTS} patients in ${(seedMs / 1000).toFixed(1)} s`);
    const phone = new PhoneClient(`http://127.0.0.1:${hub.server.port}`);
    await phone.handshake();
    await phone.login("bench@clinic.test", "bench-password");
    const clinicIds = hub.store.people.clinicsWithFlag("u-bench", "can_view_history");

    // Warm the page cache the way a running hub would be.
    for (const [, params] of MIX) await phone.query("search_patients", params);

    const rpcAll: number[] = [];
    const rpc: Stat[] = [];
    const inProc: Stat[] = [];
    const inProcAll: number[] = [];
    for (const [label, params] of MIX) {
      const times: number[] = [];
      let total = 0;
      for (let i = 0; i < SAMPLES; i++) {
        const t = performance.now();
        const r = await phone.query<{ total: number }>("search_patients", params);
        times.push(performance.now() - t);
        if (!r.success) throw new Error(`search failed: ${r.error}`);
        total = r.result!.total;
      }
      rpcAll.push(...times);
      rpc.push(stat(label, times, total));
      const local: number[] = [];
      const f = params.filters as Record<string, string>;
      for (let i = 0; i < SAMPLES; i++) {
        const t = performance.now();
        hub.store.patients.search({
          filters: f,
          limit: 20,
          offset: (params.offset as number) ?? 0,
          clinicIds,
        });
        local.push(performance.now() - t);
      }
      inProcAll.push(...local);
      inProc.push(stat(label, local, total));
    }
    const listTimes: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t = performance.now();
      await phone.query("get_patients", { limit: 20, offset: (i * 20) % 2000 });
      listTimes.push(performance.now() - t);
    }
    const list = stat("get_patients (pages 1-100)", listTimes, 0);
    const overall = stat("all searches", rpcAll, 0);
    const overallLocal = stat("all searches", inProcAll, 0);

    const table = [
      "| Search | Matches (total) | Phone p50 | Phone p99 | In-process p50 | In-process p99 |",
      "|---|---:|---:|---:|---:|---:|",
      ...rpc.map((r, i) =>
        `| ${r.label} | ${r.total.toLocaleString("en-US")} | ${r.p50.toFixed(1)} ms | ` +
        `${r.p99.toFixed(1)} ms | ${inProc[i].p50.toFixed(1)} ms | ${inProc[i].p99.toFixed(1)} ms |`
      ),
      `| **${overall.label}** | | **${overall.p50.toFixed(1)} ms** | **${
        overall.p99.toFixed(1)
      } ms** | ${overallLocal.p50.toFixed(1)} ms | ${overallLocal.p99.toFixed(1)} ms |`,
      `| ${list.label} | | ${list.p50.toFixed(1)} ms | ${list.p99.toFixed(1)} ms | | |`,
    ];
    out();
    for (const l of table) out(l);
    out();
    out(`target: search_patients p99 < 50 ms: ${overall.p99.toFixed(1)} ms`);
    out(`load average: ${load0.toFixed(2)} before, ${Deno.loadavg()[0].toFixed(2)} after`);

    if (WRITE) {
      const cmd = `deno run -A bench/procedures_bench.ts ${args.join(" ")}`.trim();
      await writeResultsSection(
        SECTION,
        [
          SECTION,
          "",
          `- Date: ${new Date().toISOString().slice(0, 10)}`,
          `- Machine: ${await machine()}`,
          `- Command: \`${cmd}\``,
          `- Data: ${
            PATIENTS.toLocaleString("en-US")
          } patients (~700 bytes each; a third without ` +
          "a clinic, the rest spread over three clinics; 2% deleted; 30% with a `village` " +
          `attribute), seeded in ${(seedMs / 1000).toFixed(1)} s through \`upsertRow\`. The ` +
          "caller may view two of the three clinics, so every search also applies the clinic scope.",
          `- Method: ${SAMPLES} calls per search after one warm-up round; "Phone" is measured at ` +
          "a simulated phone on loopback (seal, HTTP, token and permission check, query, JSON, " +
          'open); "In-process" is `searchPatients` alone. Limit 20.',
          "- Indexes (migration 2): `patients_names` (names and the clinic) and `patients_search` " +
          "(every filter column), both partial on live rows and ordered by `updated_at DESC, id`. " +
          "A search scans one of them once, never touching the table: that one pass gives the " +
          "total and the rowids of the matches, of which the page is a slice. An attribute filter " +
          "drives the query from the matching attribute rows instead.",
          `- Load: the 1-minute load average was ${load0.toFixed(2)} before and ` +
          `${Deno.loadavg()[0].toFixed(2)} after the run (other work shares this machine; ` +
          "wall-clock percentiles rise with it).",
          "",
          ...table,
          "",
          `Target: search_patients p99 < 50 ms: **${
            overall.p99.toFixed(1)
          } ms** over all searches ` +
          "at the phone. A column search costs one scan of its index whatever it matches; the " +
          "wide index (filters beyond the names) is about four times the size of the names one, " +
          "and a one-letter term pays for listing ~56,000 rowids. Wall-clock times here roughly " +
          "double when the machine's other work takes a core (a run at load average 4 measured " +
          "p99 78.7 ms, with the earlier single wide index).",
          "",
        ].join("\n"),
      );
      out("bench/RESULTS.md updated");
    }
  } finally {
    await hub.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
}

if (import.meta.main) await main();
