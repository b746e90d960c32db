/**
 * Does the hub's memory level off under steady phone load, or grow? The real hub
 * (`main.ts` headless, every default limit, through bench/_mem_hub.ts, which
 * samples V8's heap from inside) linked to the cloud double, and N phones each on
 * its own loopback address doing what bench/_soak.ts's phones do (handshake →
 * pull → push of 1–3 new patients, 0–2×think ms apart), with a cloud fault every
 * 15 s. Loopback only; bounded in phones and minutes.
 *
 * Every `--every` s: RSS (anonymous and file-backed), V8 heap used/total and
 * external memory; every minute the live heap right after a full GC; and the
 * size of hub.db and its WAL. A leak in JavaScript shows as a live heap that
 * grows with the rounds; SQLite's page cache as anonymous RSS that grows with the
 * database up to its bound; allocator fragmentation as RSS that grows with the
 * heap flat.
 *
 * `deno run -A bench/memory_soak.ts [--minutes 10] [--phones 50] [--think-ms 3000]
 *   [--every 5] [--rows-scale 1] [--no-faults] [--out NAME]`: at most 10 minutes of
 * load, about 12 in all. Raw samples: bench/out/<NAME>.json (default memory_soak);
 * a per-minute table and the idle breakdown on stdout.
 */
import { startCloud } from "../tests/cloud/_fixtures.ts";
import type { Fault } from "../tests/cloud_double.ts";
import { freePort, headlessArgs } from "../tests/hub_process.ts";
import { adminCaller, linkToCloud, phoneRounds, SoakPhone } from "./_soak.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const MiB = 1048576;

function flag(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}
const MINUTES = Math.min(flag("--minutes", 10), 10);
const PHONES = Math.min(flag("--phones", 50), 200);
const THINK_MS = flag("--think-ms", 3000);
const EVERY_S = flag("--every", 5);
const FAULTS = !Deno.args.includes("--no-faults");
/** Rows per push are 1–3 times this (1 in the proof's soak; more makes hub.db grow faster). */
const ROWS_SCALE = Math.min(flag("--rows-scale", 1), 100);

/** A sample the hub took of itself (bench/_mem_hub.ts). */
interface HubSample {
  at: number;
  afterGc: boolean;
  rss: number;
  rssAnon: number;
  rssFile: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  mallocedV8: number;
  contexts: number;
  detached: number;
  /** Step of the breakdown after the load (idle, gc, trim, shrink). */
  step?: string;
  /** glibc over all arenas: obtained from the system (heap, mmap), handed out, held free. */
  malloc: { arena: number; mmap: number; inUse: number; free: number };
}

function say(s: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(s + "\n"));
}

async function spawnHub(dir: string, lanPort: number, samples: string) {
  const mainArgs = headlessArgs(dir, lanPort).slice(3); // drop run -A main.ts
  const proc = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      "bench/_mem_hub.ts",
      "--samples",
      samples,
      "--every",
      String(EVERY_S * 1000),
      "--gc-every",
      "60000",
      "--",
      ...mainArgs,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", HUB_LOG_LEVEL: "warn" },
  }).spawn();
  let err = "";
  (async () => {
    for await (const s of proc.stderr.pipeThrough(new TextDecoderStream())) {
      err = (err + s).slice(-100_000);
    }
  })().catch(() => {});
  const out = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  while (!buf.includes("\n")) {
    const { value, done } = await out.read();
    if (done) throw new Error(`the hub exited before it was ready:\n${err.slice(-3000)}`);
    buf += value;
  }
  (async () => {
    while (!(await out.read()).done) { /* drain */ }
  })().catch(() => {});
  const ready = JSON.parse(buf.slice(0, buf.indexOf("\n")));
  return { proc, admin: ready.admin as string, token: ready.token as string, log: () => err };
}

function fileSize(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

const cloud = await startCloud({ rowsPerChunk: 500 });
const dir = await Deno.makeTempDir({ prefix: "memsoak-" });
await Deno.writeTextFile(`${dir}/passphrase`, "memory soak passphrase long enough");
await Deno.mkdir(`${ROOT}bench/out`, { recursive: true });
const samplesPath = `${dir}/samples.jsonl`;
const lanPort = freePort();
const hub = await spawnHub(dir, lanPort, samplesPath);
const api = adminCaller(hub);
const phones: SoakPhone[] = [];
const rounds: { at: number; ok: boolean }[] = [];
const files: { at: number; db: number; wal: number }[] = [];
const errors: string[] = [];
let pushedRows = 0;
let stop = false;
let started = 0;
try {
  await linkToCloud(api, cloud);
  for (let i = 0; i < PHONES; i++) {
    const p = new SoakPhone(lanPort, `127.0.${4 + Math.floor(i / 200)}.${(i % 200) + 1}`);
    await p.handshake();
    await p.login();
    phones.push(p);
  }
  say(`memory soak: ${PHONES} phones, ${MINUTES} min, faults ${FAULTS ? "on" : "off"}`);
  started = Date.now();
  const end = started + MINUTES * 60_000;
  const fileTimer = setInterval(() => {
    files.push({
      at: Date.now(),
      db: fileSize(`${dir}/data/hub.db`),
      wal: fileSize(`${dir}/data/hub.db-wal`),
    });
  }, EVERY_S * 1000);
  const faults: [Fault, "pull" | "push" | "any"][] = [
    [{ kind: "status", status: 500 }, "any"],
    [{ kind: "status", status: 429, retryAfterSeconds: 5 }, "any"],
    [{ kind: "cut", afterRows: 1 }, "pull"],
    [{ kind: "status", status: 503 }, "push"],
  ];
  const faulter = (async () => {
    for (let i = 0; FAULTS && !stop; i++) {
      await new Promise((r) => setTimeout(r, 15_000));
      if (stop) break;
      const [fault, on] = faults[i % faults.length];
      cloud.failNext(2, fault, on);
      api("POST", "/api/cloud/sync").catch(() => {});
    }
  })();
  const progress = setInterval(() => {
    const m = Math.round((Date.now() - started) / 60_000);
    say(`memory soak: minute ${m}, ${rounds.length} rounds`);
  }, 60_000);
  const series = { next: 0 };
  await Promise.all(phones.map((p, pi) =>
    phoneRounds(p, pi, {
      end,
      thinkMs: THINK_MS,
      rows: (1 + (pi % 3)) * ROWS_SCALE,
      series,
      onRound: (r) => {
        if (r.ok) pushedRows += r.ids.length;
        rounds.push({ at: Date.now(), ok: r.ok });
        if (r.error && errors.length < 5) errors.push(r.error.slice(0, 160));
      },
    })
  ));
  stop = true;
  clearInterval(progress);
  clearInterval(fileTimer);
  await faulter;
  // A minute idle (the sampler keeps running in the hub), then the breakdown (_mem_hub.ts).
  await new Promise((r) => setTimeout(r, 61_000 - ((Date.now() - started) % 60_000)));
  hub.proc.kill("SIGUSR1");
  await new Promise((r) => setTimeout(r, 3000));
} finally {
  stop = true;
  for (const p of phones) p.close();
  try {
    hub.proc.kill("SIGTERM");
  } catch { /* gone */ }
  await hub.proc.status;
  await cloud.close();
}

const samples: HubSample[] = (await Deno.readTextFile(samplesPath)).trim().split("\n").map((l) =>
  JSON.parse(l)
);
await Deno.remove(dir, { recursive: true }).catch(() => {});
const plain = samples.filter((s) => !s.afterGc && !s.step && s.at >= started);
const gcd = samples.filter((s) => s.afterGc && !s.step && s.at >= started);
const breakdown = samples.filter((s) => s.step);
const mib = (n: number) => (n / MiB).toFixed(1);
const rows = [];
for (let m = 0; m * 60_000 < (plain.at(-1)?.at ?? started) - started; m++) {
  const from = started + m * 60_000, to = from + 60_000;
  const inMin = plain.filter((s) => s.at >= from && s.at < to);
  const last = inMin.at(-1);
  const live = gcd.filter((s) => s.at >= from && s.at < to).at(-1);
  const f = files.filter((x) => x.at >= from && x.at < to).at(-1);
  if (!last) continue;
  rows.push({
    minute: m + 1,
    rounds: rounds.filter((r) => r.at < to).length,
    rssMax: Math.max(...inMin.map((s) => s.rss)),
    rss: last.rss,
    rssAnon: last.rssAnon,
    rssFile: last.rssFile,
    heapUsedMax: Math.max(...inMin.map((s) => s.heapUsed)),
    heapTotal: last.heapTotal,
    // What is neither V8's heap nor its external memory: SQLite, the allocator, Deno's own.
    native: last.rssAnon - last.heapTotal - last.external,
    external: last.external,
    mallocInUse: last.malloc.inUse,
    mallocFree: last.malloc.free,
    liveHeap: live?.heapUsed ?? null,
    liveHeapTotal: live?.heapTotal ?? null,
    db: f?.db ?? null,
    wal: f?.wal ?? null,
  });
}
const result = {
  date: new Date().toISOString(),
  phones: PHONES,
  minutes: MINUTES,
  thinkMs: THINK_MS,
  faults: FAULTS,
  rowsScale: ROWS_SCALE,
  pushedRows,
  rounds: rounds.length,
  failed: rounds.filter((r) => !r.ok).length,
  firstErrors: errors,
  perMinute: rows,
  samples,
  files,
};
const OUT = Deno.args.includes("--out") ? Deno.args[Deno.args.indexOf("--out") + 1] : "memory_soak";
await Deno.writeTextFile(`${ROOT}bench/out/${OUT}.json`, JSON.stringify(result, null, 1));
const n = (x: number | null) => x === null ? "–" : mib(x);
const table = [
  "| minute | rounds (total) | RSS max | RSS anon | RSS file | heap used (max) | heap total | external | native | malloc in use | malloc free | live heap (after GC) | hub.db | WAL |",
  "| -: | -: | -: | -: | -: | -: | -: | -: | -: | -: | -: | -: | -: | -: |",
  ...rows.map((r) =>
    `| ${r.minute} | ${r.rounds} | ${mib(r.rssMax)} | ${mib(r.rssAnon)} | ${mib(r.rssFile)} | ${
      mib(r.heapUsedMax)
    } | ${mib(r.heapTotal)} | ${mib(r.external)} | ${mib(r.native)} | ${mib(r.mallocInUse)} | ${
      mib(r.mallocFree)
    } | ${n(r.liveHeap)} | ${n(r.db)} | ${n(r.wal)} |`
  ),
].join("\n");
const steps = [
  "| after the load | RSS | RSS anon | heap used | heap total | external | malloc in use | malloc free |",
  "| - | -: | -: | -: | -: | -: | -: | -: |",
  ...breakdown.map((s) =>
    `| ${s.step} | ${mib(s.rss)} | ${mib(s.rssAnon)} | ${mib(s.heapUsed)} | ${mib(s.heapTotal)} | ${
      mib(s.external)
    } | ${mib(s.malloc.inUse)} | ${mib(s.malloc.free)} |`
  ),
].join("\n");
say(`rounds ${result.rounds}, failed ${result.failed} ${JSON.stringify(errors)}`);
await Deno.stdout.write(new TextEncoder().encode(`(MiB)\n${table}\n\n${steps}\n`));
