/**
 * Phone-side pull cost: what the Hikma Health app does with one `sync_pull`
 * reply before it writes any row, in pure JavaScript with the app's own
 * libraries — JSON.parse of the outer envelope `{"payload","success"}`,
 * `base64urlnopad.decode` (`@scure/base`), `gcm(key, nonce, aad).decrypt`
 * (`@noble/ciphers/aes`, AAD "query_response"), `TextDecoder().decode` and
 * JSON.parse of the reply `{"changes":…,"timestamp":…}`.
 *
 * Pages are built from bench/_lan_rows.ts (patients and events, 1 : 2, ~1.1 KB of
 * JSON each; 1 % of the entries are deletions as `{"id": …}`, a fifth of the rest
 * `updated`) at about 1, 2, 4, 8 and 16 MiB of reply JSON and at 20,000 rows (the
 * hub's default page). Each is sealed as the hub does (WebCrypto AES-256-GCM,
 * base64url without padding; not timed). The phone's side is timed per step and
 * in total, median of several runs, twice: in normal V8 (JIT) and in V8 with
 * `--jitless` (the closest stand-in here for Hermes, which has no JIT; a real
 * low-end phone may be slower still). Each measurement runs in its own child
 * process (this file with `--child jit|jitless`), which prints its figures as JSON.
 *
 * Run: `deno run -A bench/phone_pipeline_bench.ts [--quick] [--write] [--no-write]`
 * (`--quick`: fewer runs and no 16 MiB page). A full run replaces the
 * "## Phone-side pull cost (decrypt + base64 + parse)" section of
 * bench/RESULTS.md; `--quick` writes only with `--write`.
 */
// The phone app's own libraries (pinned in deno.json at the versions its range resolves to).
import { gcm } from "@noble/ciphers/aes.js";
import { base64urlnopad } from "@scure/base";
import { benchEvent, benchId, benchPatient, rng } from "./_lan_rows.ts";
import { writeResultsSection } from "./_results.ts";

const args = Deno.args;
const QUICK = args.includes("--quick");
const WRITE = (!QUICK || args.includes("--write")) && !args.includes("--no-write");
const CHILD = (() => {
  const i = args.indexOf("--child");
  return i >= 0 ? args[i + 1] as Mode : null;
})();
type Mode = "jit" | "jitless";

const HEADING = "## Phone-side pull cost (decrypt + base64 + parse)";
const MiB = 1024 * 1024;
/** Target sizes of the reply JSON, in MiB; plus the 20,000-row page. */
const SIZES_MIB = QUICK ? [1, 2, 4, 8] : [1, 2, 4, 8, 16];
/** The hub's default page (DEFAULT_PULL_PAGE_ROWS in store/_pull.ts). */
const PAGE_ROWS = 20_000;
/** Timed runs per page (the median is reported); the first, untimed, warms up. */
const RUNS: Record<Mode, number> = QUICK ? { jit: 3, jitless: 1 } : { jit: 7, jitless: 3 };
/** Time limit of each child process. */
const CHILD_LIMIT_MS = QUICK ? 5 * 60_000 : 12 * 60_000;
const STEPS = ["outer JSON.parse", "base64url decode", "GCM decrypt", "UTF-8 decode", "JSON.parse"];
const AAD = new TextEncoder().encode("query_response");
/** Fixed key, nonce and clock: both children build the same bytes. */
const KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 255);
const NONCE = Uint8Array.from({ length: 12 }, (_, i) => (i * 53 + 7) & 255);
const NOW = Date.UTC(2026, 0, 15);

function out(line = ""): void {
  Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));
}
function note(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// ---------------------------------------------------------------- pages

interface Entry {
  table: "patients" | "events";
  kind: "created" | "updated" | "deleted";
  json: string;
}

/**
 * The pool of page entries in a fixed order (patient, event, event, …): every
 * 100th a deletion, a fifth of the rest `updated`. A page of n rows is the
 * first n entries.
 */
function entryPool(n: number): Entry[] {
  const r = rng(20260115);
  const pool: Entry[] = [];
  let patients = 0;
  let events = 0;
  for (let i = 0; i < n; i++) {
    const table = i % 3 === 0 ? "patients" : "events";
    const kind = i % 100 === 99 ? "deleted" : i % 5 === 4 ? "updated" : "created";
    let json: string;
    if (table === "patients") {
      const p = patients++;
      json = kind === "deleted"
        ? JSON.stringify({ id: benchId(1, p) })
        : JSON.stringify(benchPatient(r, p, NOW, "bench-clinic"));
    } else {
      const e = events++;
      json = kind === "deleted"
        ? JSON.stringify({ id: benchId(2, e) })
        : JSON.stringify(benchEvent(r, e, benchId(1, e >> 1), NOW, "bench-user"));
    }
    pool.push({ table, kind, json });
  }
  return pool;
}

/** The reply JSON of the first `n` entries, shaped as the hub's pull reply. */
function pageJson(pool: Entry[], n: number): string {
  const parts: string[] = [];
  for (const table of ["patients", "events"] as const) {
    const kinds = { created: [] as string[], updated: [] as string[], deleted: [] as string[] };
    for (let i = 0; i < n; i++) if (pool[i].table === table) kinds[pool[i].kind].push(pool[i].json);
    parts.push(
      `${JSON.stringify(table)}:{"created":[${kinds.created.join(",")}],"updated":[${
        kinds.updated.join(",")
      }],"deleted":[${kinds.deleted.join(",")}]}`,
    );
  }
  return `{"changes":{${parts.join(",")}},"timestamp":${NOW}}`;
}

/** Rows needed for about `bytes` of reply JSON (from the entries' lengths). */
function rowsFor(pool: Entry[], bytes: number): number {
  let sum = 40; // envelope of the reply and table headers, roughly
  for (let i = 0; i < pool.length; i++) {
    sum += pool[i].json.length + 1;
    if (sum >= bytes) return i + 1;
  }
  throw new Error(`the pool of ${pool.length} rows is smaller than ${bytes} bytes`);
}

/** Seals the reply as the hub does (server/_rpc.ts): WebCrypto, base64url, envelope. */
async function envelope(json: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", KEY, "AES-GCM", false, ["encrypt"]);
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: NONCE, additionalData: AAD },
      key,
      new TextEncoder().encode(json),
    ),
  );
  const sealed = new Uint8Array(12 + ct.length);
  sealed.set(NONCE, 0);
  sealed.set(ct, 12);
  const b64 = sealed.toBase64({ alphabet: "base64url", omitPadding: true });
  return `{"payload":"${b64}","success":true}`;
}

// ---------------------------------------------------------------- the phone's side

/** What the app does with one reply; fills `t` with each step's milliseconds. */
function phoneOpen(text: string, key: Uint8Array, t: number[]): unknown {
  let a = performance.now();
  const outer = JSON.parse(text) as { payload: string; success: boolean };
  let b = performance.now();
  t[0] = b - a;
  if (!outer.success) throw new Error("envelope without success");
  const sealed = base64urlnopad.decode(outer.payload);
  a = performance.now();
  t[1] = a - b;
  const plain = gcm(key, sealed.subarray(0, 12), AAD).decrypt(sealed.subarray(12));
  b = performance.now();
  t[2] = b - a;
  const json = new TextDecoder().decode(plain);
  a = performance.now();
  t[3] = a - b;
  const reply = JSON.parse(json);
  b = performance.now();
  t[4] = b - a;
  return reply;
}

interface PageFigures {
  label: string;
  rows: number;
  jsonBytes: number;
  envelopeBytes: number;
  runs: number;
  totalMs: number;
  totalsMs: number[];
  stepsMs: number[];
}

function countRows(reply: unknown): number {
  const changes = (reply as { changes: Record<string, Record<string, unknown[]>> }).changes;
  let n = 0;
  for (const t of Object.values(changes)) {
    n += t.created.length + t.updated.length + t.deleted.length;
  }
  return n;
}

async function child(mode: Mode): Promise<void> {
  const t0 = performance.now();
  const pool = entryPool(PAGE_ROWS);
  const pages = [
    ...SIZES_MIB.map((mib) => ({ label: `${mib} MiB`, rows: rowsFor(pool, mib * MiB) })),
    { label: `${PAGE_ROWS.toLocaleString("en-US")} rows`, rows: PAGE_ROWS },
  ];
  note(`[${mode}] built ${PAGE_ROWS} rows in ${Math.round(performance.now() - t0)} ms`);
  const results: PageFigures[] = [];
  for (const page of pages) {
    const json = pageJson(pool, page.rows);
    const env = await envelope(json);
    const jsonBytes = new TextEncoder().encode(json).length;
    const totals: number[] = [];
    const steps: number[][] = STEPS.map(() => []);
    for (let run = 0; run <= RUNS[mode]; run++) {
      const t: number[] = [];
      const a = performance.now();
      const reply = phoneOpen(env, KEY, t);
      const total = performance.now() - a;
      const n = countRows(reply);
      if (n !== page.rows) throw new Error(`${page.label}: ${n} rows back, expected ${page.rows}`);
      if (run === 0) continue; // warm-up (and check)
      totals.push(total);
      t.forEach((ms, i) => steps[i].push(ms));
    }
    const fig: PageFigures = {
      label: page.label,
      rows: page.rows,
      jsonBytes,
      envelopeBytes: env.length,
      runs: RUNS[mode],
      totalMs: median(totals),
      totalsMs: totals,
      stepsMs: steps.map(median),
    };
    results.push(fig);
    note(
      `[${mode}] ${page.label.padEnd(11)} ${page.rows} rows, ${
        (jsonBytes / MiB).toFixed(2)
      } MiB: ` +
        `${fig.totalMs.toFixed(1)} ms (${fig.stepsMs.map((x) => x.toFixed(1)).join(" + ")})`,
    );
  }
  out(JSON.stringify({ mode, v8: Deno.version.v8, results }));
}

// ---------------------------------------------------------------- parent

async function runChild(mode: Mode): Promise<{ results: PageFigures[]; seconds: number }> {
  const t0 = performance.now();
  const flags = mode === "jitless" ? ["--v8-flags=--jitless"] : [];
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-lock",
      ...flags,
      new URL(import.meta.url).pathname,
      "--child",
      mode,
      ...(QUICK ? ["--quick"] : []),
    ],
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(CHILD_LIMIT_MS),
  });
  const { code, stdout } = await cmd.output();
  if (code !== 0) throw new Error(`${mode} child failed (exit ${code})`);
  const text = new TextDecoder().decode(stdout).trim().split("\n").pop()!;
  const parsed = JSON.parse(text) as { results: PageFigures[] };
  return { results: parsed.results, seconds: (performance.now() - t0) / 1000 };
}

async function loadAverage(): Promise<string> {
  return (await Deno.readTextFile("/proc/loadavg").catch(() => "?")).split(" ")[0];
}

async function machine(loadAtStart: string): Promise<string> {
  const cpu = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = /model name\s*:\s*(.+)/.exec(cpu)?.[1]?.trim() ?? "unknown CPU";
  const ram = Deno.systemMemoryInfo().total / 2 ** 30;
  return `${navigator.hardwareConcurrency} cores (${model}), ${ram.toFixed(1)} GiB RAM, ` +
    `${Deno.build.os}/${Deno.build.arch}, Deno ${Deno.version.deno} (V8 ${Deno.version.v8}); ` +
    `1-minute load average ${loadAtStart} at the start of the run and ${await loadAverage()} at ` +
    "the end (other work on this shared machine slows the runs; see the spread of the jitless runs)";
}

const f1 = (x: number) => x.toFixed(1);
const f0 = (x: number) => Math.round(x).toLocaleString("en-US");

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = await loadAverage();
  out(`phone pipeline bench${QUICK ? " (quick)" : ""}: JIT child, then jitless child`);
  const jit = await runChild("jit");
  const jitless = await runChild("jitless");
  const seconds = (performance.now() - started) / 1000;

  const table = [
    "| Page | Rows | Reply JSON MiB | Envelope MiB | JIT ms | Jitless ms | Jitless ms/MiB | JIT ms/MiB | Jitless ÷ JIT | Jitless runs, ms |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (let i = 0; i < jit.results.length; i++) {
    const a = jit.results[i];
    const b = jitless.results[i];
    const mib = a.jsonBytes / MiB;
    table.push(
      `| ${a.label} | ${a.rows.toLocaleString("en-US")} | ${mib.toFixed(2)} | ${
        (a.envelopeBytes / MiB).toFixed(2)
      } | ${f0(a.totalMs)} | **${f0(b.totalMs)}** | **${f0(b.totalMs / mib)}** | ${
        f0(a.totalMs / mib)
      } | ${(b.totalMs / a.totalMs).toFixed(1)}× | ${b.totalsMs.map(f0).join(", ")} |`,
    );
  }
  for (const line of table) out(line);

  const pick = (label: string) => jit.results.findIndex((r) => r.label === label);
  const stepRows = ["8 MiB", `${PAGE_ROWS.toLocaleString("en-US")} rows`]
    .map(pick).filter((i) => i >= 0);
  const steps = [
    "| Step | " + stepRows.flatMap((i) => {
      const l = jit.results[i].label;
      return [`${l}: JIT ms`, `${l}: jitless ms`, `${l}: jitless share`];
    }).join(" | ") + " |",
    "| --- | " + stepRows.flatMap(() => ["---:", "---:", "---:"]).join(" | ") + " |",
  ];
  STEPS.forEach((name, s) => {
    steps.push(
      `| ${name} | ` + stepRows.flatMap((i) => {
        const b = jitless.results[i];
        const sum = b.stepsMs.reduce((x, y) => x + y, 0);
        return [
          f1(jit.results[i].stepsMs[s]),
          f1(b.stepsMs[s]),
          `${Math.round((100 * b.stepsMs[s]) / sum)} %`,
        ];
      }).join(" | ") + " |",
    );
  });
  for (const line of steps) out(line);

  // Budget: bytes of reply JSON a jitless phone opens in 1 s and 2 s, from the
  // median ms/MiB over the pages (the cost is linear in size: it is per byte).
  const perMiB = median(jitless.results.map((r) => r.totalMs / (r.jsonBytes / MiB)));
  const oneSec = 1000 / perMiB;
  const twoSec = 2000 / perMiB;
  out(`jitless: ${f0(perMiB)} ms/MiB → 1 s ≈ ${f1(oneSec)} MiB, 2 s ≈ ${f1(twoSec)} MiB`);
  out(
    `total ${seconds.toFixed(0)} s (jit child ${jit.seconds.toFixed(0)} s, jitless ${
      jitless.seconds.toFixed(0)
    } s)`,
  );

  if (!WRITE) return;
  const cmd = `deno run -A bench/phone_pipeline_bench.ts${QUICK ? " --quick" : ""}`;
  const section = [
    HEADING,
    "",
    `- Date: ${new Date().toISOString().slice(0, 10)}`,
    `- Machine: ${await machine(loadAtStart)}`,
    `- Command: \`${cmd}\` (${seconds.toFixed(0)} s in all; each mode in its own child process)`,
    `- What is timed: the app's steps on one \`sync_pull\` reply before it writes a row — outer ` +
    '`JSON.parse` of `{"payload","success"}`, `base64urlnopad.decode` (`@scure/base` 2.4.0), ' +
    "`gcm(key, nonce, aad).decrypt` (`@noble/ciphers` 2.4.0, AAD `query_response`), " +
    "`TextDecoder().decode`, `JSON.parse` of the reply. Sealing (WebCrypto AES-256-GCM + " +
    "base64url, the hub's side) is not timed. Median of " +
    `${RUNS.jit} runs (JIT) and ${RUNS.jitless} runs (jitless) after one untimed warm-up.`,
    "- Pages: rows of bench/_lan_rows.ts (patients and events 1 : 2, ~1.1 KB each), 1 % of " +
    'entries deletions as `{"id": …}`, a fifth of the rest `updated`. MiB = 2^20 bytes of ' +
    "reply JSON (UTF-8); the envelope on the wire is about 4/3 of that.",
    "- **Jitless V8 is a stand-in, not Hermes.** Hermes (the app's engine) has no JIT; V8 with " +
    "`--jitless` is the closest thing on this machine, and it runs on a desktop-class x86 core. " +
    "Hermes on a real low-end Android phone may well be slower still (slower cores and memory; " +
    "Hermes's interpreter and `JSON.parse` differ from V8's, and a JavaScript `TextDecoder` " +
    "polyfill, if the app uses one, would cost more than Deno's native one).",
    "",
    ...table,
    "",
    "Step breakdown (medians per step; they need not add up exactly to the median total):",
    "",
    ...steps,
    "",
    `- **Budget:** jitless V8 opens a page at ~${f0(perMiB)} ms per MiB of reply JSON (median ` +
    "of the pages' ms/MiB), so the decode part of one sync stays within 1 s up " +
    `to ~${f1(oneSec)} MiB and within 2 s up to ~${f1(twoSec)} MiB on this machine. A slower ` +
    "phone divides those sizes by its slowdown against this machine.",
  ].join("\n");
  await writeResultsSection(HEADING, section);
  out("bench/RESULTS.md updated");
}

if (import.meta.main) {
  if (CHILD) await child(CHILD);
  else await main();
}
