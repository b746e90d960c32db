/**
 * Cloud relay benchmark (issue 5): 100,000 rows each way through the cloud
 * double (tests/cloud_double.ts) over loopback HTTP.
 *
 * 1. First sync: the double holds 100,000 realistic rows (patients, visits,
 *    events with form data); the hub registers and its first cycle pulls and
 *    merges them all.
 * 2. Upload: a phone pushes 100,000 new rows to the hub over the LAN (not timed),
 *    then one relay cycle pushes them to the double.
 * 3. Echo: the next cycle pulls the cloud's echo of those 100,000 rows and must
 *    change nothing.
 *
 * The hub is the real program (`main.ts`, headless) in a child process; its peak
 * memory is read from /proc/<pid>/status (VmHWM, reset before each phase through
 * clear_refs, and VmRSS sampled every 50 ms). Every phase has a time limit.
 *
 * Run: `deno run -A bench/relay_bench.ts [--rows N] [--quick] [--no-write]`.
 * Without `--quick`/`--no-write` it replaces the "## Cloud relay (issue 5)"
 * section of bench/RESULTS.md.
 */
import { CloudDouble } from "../tests/cloud_double.ts";
import {
  cloudPatient,
  cloudVisit,
  PASSPHRASE,
  phonePatient,
  seedPeople,
  USER,
  uuidFor,
} from "../tests/cloud/_fixtures.ts";
import { PhoneClient } from "../tests/phone_client.ts";
import { CLINIC } from "../tests/cloud/_fixtures.ts";
import { writeResultsSection } from "./_results.ts";
import { freePort, type HubProcess, spawnHeadlessHub } from "../tests/hub_process.ts";

const args = Deno.args;
const QUICK = args.includes("--quick");
const WRITE = !QUICK && !args.includes("--no-write");
const ROWS = (() => {
  const i = args.indexOf("--rows");
  return i >= 0 ? Number(args[i + 1]) : QUICK ? 10_000 : 100_000;
})();
/** Time limit of each phase. */
const PHASE_LIMIT_MS = 10 * 60_000;
const MiB = 1024 * 1024;

function out(line = ""): void {
  Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));
}

const fmt = (x: number) => Math.round(x).toLocaleString("en-US");

/** Splits `n` rows into patients 40 %, visits 30 %, events 30 %. */
function mix(n: number): { patients: number; visits: number; events: number } {
  const patients = Math.round(n * 0.4);
  const visits = Math.round(n * 0.3);
  return { patients, visits, events: n - patients - visits };
}

/** An event as the cloud serves it: a filled form of ~1 KB. */
function cloudEvent(i: number, patientId: string, visitId: string, series = 3) {
  const t = new Date(Date.UTC(2025, 2, 1) + i * 60_000).toISOString();
  return {
    id: uuidFor(series, i),
    patient_id: patientId,
    form_id: "9a3c1f00-0000-4000-8000-000000000001",
    visit_id: visitId,
    event_type: "vitals_and_history",
    form_data: [
      { fieldId: "complaint", name: "Chief complaint", value: "Cough for three days, mild fever" },
      { fieldId: "history", name: "History", value: "No known chronic illness. ".repeat(6) },
      { fieldId: "bp", name: "Blood pressure", value: `${110 + (i % 30)}/${70 + (i % 15)}` },
      { fieldId: "temp", name: "Temperature", value: 36.5 + (i % 20) / 10 },
      { fieldId: "plan", name: "Plan", value: "Paracetamol, fluids, review in one week." },
    ],
    metadata: { app_version: "3.4.1", device: `tablet-${i % 7}` },
    is_deleted: false,
    created_at: t,
    updated_at: t,
    recorded_by_user_id: USER.id,
  };
}

/** Fills the double with `n` rows in the realistic mix. */
function seedCloud(cloud: CloudDouble, n: number): void {
  const m = mix(n);
  cloud.insertMany(
    "patients",
    (function* () {
      for (let i = 0; i < m.patients; i++) yield cloudPatient(i);
    })(),
  );
  cloud.insertMany(
    "visits",
    (function* () {
      for (let i = 0; i < m.visits; i++) yield cloudVisit(i, uuidFor(1, i % m.patients));
    })(),
  );
  cloud.insertMany(
    "events",
    (function* () {
      for (let i = 0; i < m.events; i++) {
        yield cloudEvent(i, uuidFor(1, i % m.patients), uuidFor(2, i % m.visits));
      }
    })(),
  );
}

/** The phone's rows for the upload phase, in WatermelonDB's raw shape, in batches. */
function* phoneBatches(n: number, size: number): Generator<Record<string, unknown>> {
  const m = mix(n);
  const now = Date.now();
  const total = m.patients + m.visits + m.events;
  for (let from = 0; from < total; from += size) {
    const changes: Record<string, { created: unknown[]; updated: unknown[]; deleted: unknown[] }> =
      {
        patients: { created: [], updated: [], deleted: [] },
        visits: { created: [], updated: [], deleted: [] },
        events: { created: [], updated: [], deleted: [] },
      };
    for (let k = from; k < Math.min(from + size, total); k++) {
      if (k < m.patients) {
        changes.patients.created.push(phonePatient(k, 50, now));
      } else if (k < m.patients + m.visits) {
        const i = k - m.patients;
        changes.visits.created.push({
          ...cloudVisit(i, uuidFor(50, i % m.patients), 51),
          metadata: JSON.stringify({ triage: i % 3 }),
          created_at: now - 1000,
          updated_at: now,
          _status: "created",
          _changed: "",
        });
      } else {
        const i = k - m.patients - m.visits;
        const e = cloudEvent(i, uuidFor(50, i % m.patients), uuidFor(51, i % m.visits), 52);
        changes.events.created.push({
          ...e,
          form_data: JSON.stringify(e.form_data),
          metadata: JSON.stringify(e.metadata),
          created_at: now - 1000,
          updated_at: now,
          _status: "created",
          _changed: "",
        });
      }
    }
    yield changes;
  }
}

// ---- the hub process -----------------------------------------------------

type HubProc = HubProcess;

/** The hub as a child process, headless, on a free port. */
function startHub(dir: string): Promise<HubProc> {
  return spawnHeadlessHub(dir, freePort(), "warn");
}

async function api(h: HubProc, method: string, path: string, body?: unknown) {
  const res = await fetch(h.admin + path, {
    method,
    headers: { authorization: `Bearer ${h.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(PHASE_LIMIT_MS),
  });
  const json = await res.json();
  if (res.status !== 200) {
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  }
  return json;
}

function status(pid: number): { rss: number; hwm: number } {
  const text = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

function cpuMs(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms
}

/** Measures one phase: wall time, hub CPU, peak memory (VmHWM reset first, VmRSS sampled). */
async function phase<T>(pid: number, fn: () => Promise<T>) {
  let hwmReset = true;
  try {
    Deno.writeTextFileSync(`/proc/${pid}/clear_refs`, "5");
  } catch {
    hwmReset = false;
  }
  const startRss = status(pid).rss;
  let sampled = startRss;
  const sampler = setInterval(() => {
    sampled = Math.max(sampled, status(pid).rss);
  }, 50);
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const value = await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("phase over its time limit")), PHASE_LIMIT_MS);
      }),
    ]);
    const wallMs = performance.now() - t0;
    const s = status(pid);
    return {
      value,
      wallMs,
      cpuMs: cpuMs(pid) - cpu0,
      startRss,
      hwm: s.hwm,
      sampled: Math.max(sampled, s.rss),
      hwmReset,
    };
  } finally {
    clearInterval(sampler);
    clearTimeout(timer);
  }
}

async function machine(): Promise<string> {
  const mem = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  const kb = Number(/MemTotal:\s+(\d+)/.exec(mem)?.[1] ?? 0);
  const cpu = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = /model name\s*:\s*(.+)/.exec(cpu)?.[1]?.trim() ?? "unknown CPU";
  return `${navigator.hardwareConcurrency} cores (${model}), ${
    (kb / 1024 / 1024).toFixed(1)
  } GiB RAM, ${Deno.build.os}/${Deno.build.arch}, Deno ${Deno.version.deno}`;
}

async function main(): Promise<void> {
  const load0 = Deno.loadavg()[0];
  const cloud = await CloudDouble.start({ clinicIds: [CLINIC], rowsPerChunk: 500 });
  seedPeople(cloud);
  const t0 = performance.now();
  seedCloud(cloud, ROWS);
  out(`double seeded with ${fmt(ROWS)} rows in ${fmt(performance.now() - t0)} ms`);
  const dir = await Deno.makeTempDir({ prefix: "relay-bench-" });
  await Deno.writeTextFile(`${dir}/passphrase`, PASSPHRASE + "\n");
  const hub = await startHub(dir);
  const pid = hub.proc.pid;
  const idle = status(pid);
  try {
    // 1. First sync: registration starts the first cycle; wait for it to succeed.
    const first = await phase(pid, async () => {
      await api(hub, "POST", "/api/cloud/register", { url: cloud.url, apiKey: cloud.apiKey });
      for (;;) {
        const h = await api(hub, "GET", "/api/cloud/health");
        if (h.lastSuccessAt !== null && !h.cycleRunning) return h.lastCycle;
        if (h.lastError) throw new Error(`first sync failed: ${h.lastError}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    const pulled = Object.entries(first.value.pulled as Record<string, number>)
      .filter(([t]) => ["patients", "visits", "events"].includes(t))
      .reduce((n, [, c]) => n + c, 0);
    out(`first sync: ${fmt(pulled)} rows in ${fmt(first.value.durationMs)} ms (cycle)`);

    // 2. A phone records ROWS rows at the hub (not timed), then one cycle uploads them.
    const phone = new PhoneClient(hub.lan);
    await phone.handshake();
    await phone.login(USER.email, USER.password);
    const t1 = performance.now();
    for (const changes of phoneBatches(ROWS, 5_000)) await phone.push(null, changes);
    out(`phone pushed ${fmt(ROWS)} rows to the hub in ${fmt(performance.now() - t1)} ms`);
    const up = await phase(pid, () => api(hub, "POST", "/api/cloud/sync"));
    const pushed = Object.values(up.value.pushed as Record<string, number>).reduce(
      (a, b) => a + b,
      0,
    );
    out(`upload: ${fmt(pushed)} rows in ${fmt(up.value.durationMs)} ms (cycle)`);

    // 3. The echo of the upload comes back and must change nothing.
    const echo = await phase(pid, () => api(hub, "POST", "/api/cloud/sync"));
    const echoed = Object.values(echo.value.pulled as Record<string, number>).reduce(
      (a, b) => a + b,
      0,
    );
    out(
      `echo: ${fmt(echoed)} rows in ${
        fmt(echo.value.durationMs)
      } ms, upserted ${echo.value.merged.upserted}`,
    );

    // Checks: everything arrived once.
    const cloudRows = ["patients", "visits", "events"].reduce((n, t) => n + cloud.size(t), 0);
    if (pulled !== ROWS) throw new Error(`first sync pulled ${pulled}, expected ${ROWS}`);
    if (pushed !== ROWS) throw new Error(`upload pushed ${pushed}, expected ${ROWS}`);
    if (cloudRows !== 2 * ROWS) throw new Error(`the double holds ${cloudRows} rows`);
    if (echo.value.merged.upserted !== 0) throw new Error("the echo changed rows");
    const pushRequests = cloud.count("push");

    const rate = (rows: number, ms: number) => fmt(rows / (ms / 1000));
    const mib = (b: number) => `${fmt(b / MiB)} MiB`;
    const row = (name: string, rows: number, p: typeof first, cycleMs: number) =>
      `| ${name} | ${fmt(rows)} | ${fmt(cycleMs)} ms | **${rate(rows, cycleMs)} rows/s** | ${
        fmt(p.wallMs)
      } ms | ${fmt(p.cpuMs)} ms | ${mib(p.startRss)} | ${mib(p.hwm)} | ${mib(p.sampled)} |`;
    const lines = [
      "## Cloud relay (issue 5)",
      "",
      `- Date: ${new Date().toISOString().slice(0, 10)}`,
      `- Machine: ${await machine()}; 1-minute load average ${load0.toFixed(2)} before, ${
        Deno.loadavg()[0].toFixed(2)
      } after (the machine is shared with other sessions)`,
      `- Command: \`deno run -A bench/relay_bench.ts\``,
      `- Work: the hub is \`main.ts\` (headless, default relay settings: merge batches of 2,000 rows, ` +
      `push chunks of 5,000) in a child process; the cloud double (tests/cloud_double.ts) runs in ` +
      `the benchmark process on loopback. Rows: 40 % patients (~700 B of JSON), 30 % visits, ` +
      `30 % events with a ~1 KB form. Upload rows reach the hub first through a phone's ` +
      `\`sync_push\` (not timed).`,
      `- "Cycle" is the hub's own cycle duration (pull + merge + push + commit); "wall" the admin ` +
      `call (first sync: registration until the health line shows the success). Peak memory of ` +
      `the hub process: VmHWM ${
        first.hwmReset ? "reset before each phase (clear_refs)" : "since start"
      }, ` +
      `and VmRSS sampled every 50 ms. Idle hub after unlock: ${mib(idle.rss)}.`,
      "",
      "| Phase | Rows | Cycle | Rate (cycle) | Wall | Hub CPU | RSS at start | Peak (VmHWM) | Peak (sampled RSS) |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      row("1. First sync, cloud → hub", pulled, first, first.value.durationMs),
      row("2. Upload, hub → cloud", pushed, up, up.value.durationMs),
      row("3. Echo of the upload (changes nothing)", echoed, echo, echo.value.durationMs),
      "",
      `Checks: the first sync pulled ${fmt(pulled)} of ${fmt(ROWS)} rows; the upload pushed ` +
      `${fmt(pushed)} in ${pushRequests} requests; the double then held ${
        fmt(cloudRows)
      } rows; the ` +
      `echo cycle upserted ${echo.value.merged.upserted} rows and pushed ${
        Object.keys(echo.value.pushed).length === 0 ? "nothing" : JSON.stringify(echo.value.pushed)
      }.`,
    ];
    for (const l of lines) out(l);
    if (WRITE) {
      await writeResultsSection("## Cloud relay (issue 5)", lines.join("\n"));
      out("bench/RESULTS.md updated");
    }
  } finally {
    try {
      hub.proc.kill("SIGTERM");
    } catch {
      // gone
    }
    await hub.proc.status;
    await cloud.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
