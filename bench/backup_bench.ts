/**
 * Backup benchmark (issue 14), loopback only, bounded in time:
 *
 * 1. backup time and file size for the 300,000-row database of the LAN benchmark
 *    (100,000 patients + 200,000 events, seeded by bench/_lan_seed.ts): snapshot
 *    (`VACUUM INTO` in a Worker), writing the file, and proving it restorable;
 * 2. the 50-phone load (handshake + pull + push, 0–1000 ms apart, as in
 *    bench/lan_bench.ts) for `--seconds` each: without backups, with backups
 *    taken back to back in a Worker (the worst case: the schedule takes one every
 *    5 minutes), and with the same backups on the hub's main thread
 *    (`HUB_BACKUP_INLINE=1`), to show what the Worker buys.
 *
 * `deno run -A bench/backup_bench.ts [--quick] [--seconds N]`; prints the figures and
 * writes bench/out/backup_bench.json. The hub runs as a child (bench/_lan_hub.ts), its
 * log in bench/out/backup_bench_hub_<run>.log.
 */
import { quietHub, seedHub } from "./_lan_seed.ts";
import { cpuMsOf, freePort, startHubChild } from "./_lan_proc.ts";
import { benchPhone, newTally, phoneLoop } from "./_lan_phones.ts";
import { rng } from "./_lan_rows.ts";
import { percentile } from "./_lan_bare.ts";

const QUICK = Deno.args.includes("--quick");
const si = Deno.args.indexOf("--seconds");
const SECONDS = si >= 0 ? Number(Deno.args[si + 1]) : QUICK ? 10 : 30;
const SIZE = QUICK ? { patients: 10_000, events: 20_000 } : { patients: 100_000, events: 200_000 };
const PHONES = 50;
const THINK_MS = 1000;
const PASSPHRASE = "bench passphrase for the backups";
const ROOT = new URL("../", import.meta.url).pathname;
const OUT = `${ROOT}bench/out`;

function say(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
}

const work = await Deno.makeTempDir({ prefix: "backup-bench-" });
const dataDir = `${work}/data`;
const backupDir = `${work}/backups`;
const passFile = `${work}/passphrase`;
await Deno.writeTextFile(passFile, PASSPHRASE);
const figures: Record<string, unknown> = {};
await Deno.mkdir(OUT, { recursive: true });

try {
  let t = performance.now();
  const seeded = await seedHub(dataDir, PASSPHRASE, SIZE);
  say(`seeded ${seeded.patients} patients + ${seeded.events} events in ${seeded.seconds} s`);

  // ------------------------------------------------------------- 1. time and size
  const hub = quietHub(dataDir);
  await hub.init();
  await hub.unlock(PASSPHRASE);
  await hub.backups.updateSettings({ dir: backupDir, keepLast: 3 });
  const dbBytes = (await Deno.stat(`${dataDir}/hub.db`)).size;
  const runs: {
    ms: number;
    bytes: number;
    snapshotMs: number;
    writeMs: number;
    verifyMs: number;
  }[] = [];
  for (let i = 0; i < 3; i++) {
    // Each run after a small write, as the schedule does (only when something changed).
    hub.store.setMeta("bench.run", String(i));
    t = performance.now();
    const b = await hub.backups.backupNow("bench");
    runs.push({ ms: Math.round(performance.now() - t), bytes: b.bytes, ...b.timings });
  }
  await hub.shutdown();
  figures.backup = { rows: seeded.patients + seeded.events, dbBytes, runs };
  say(`backup: ${JSON.stringify(figures.backup)}`);

  // ------------------------------------------------------------- 2. load with and without
  for (
    const [name, extra, env] of [
      ["without", [], {}],
      ["worker", ["--backup-loop", backupDir], {}],
      ["inline", ["--backup-loop", backupDir], { HUB_BACKUP_INLINE: "1" }],
    ] as [string, string[], Record<string, string>][]
  ) {
    const logPath = `${OUT}/backup_bench_hub_${name}.log`;
    const child = await startHubChild(dataDir, passFile, freePort(), logPath, {
      args: extra,
      env: { HUB_LOG_LEVEL: "warn", ...env },
    });
    let load;
    try {
      load = await runPhones(child.pid, child.url, SECONDS);
    } finally {
      await child.stop();
    }
    // The hub logs each backup it took (bench/_lan_hub.ts --backup-loop) on stderr.
    const backups = (await Deno.readTextFile(logPath)).split("\n")
      .filter((l) => l.startsWith('{"event":"backup"'))
      .map((l) => JSON.parse(l) as { ms: number; bytes: number });
    figures[name] = {
      ...load,
      backups: backups.length,
      backupMs: backups.map((b) => b.ms),
    };
    say(`${name}: ${JSON.stringify(figures[name])}`);
  }
  figures.machine = {
    cores: navigator.hardwareConcurrency,
    load: (await Deno.readTextFile("/proc/loadavg")).trim(),
    date: new Date().toISOString(),
    seconds: SECONDS,
  };
  await Deno.writeTextFile(`${OUT}/backup_bench.json`, JSON.stringify(figures, null, 1));
  say(JSON.stringify(figures));
} finally {
  await Deno.remove(work, { recursive: true }).catch(() => {});
}

/**
 * 50 phones, each looping handshake → incremental pull → push of one patient and
 * one event, 0..THINK_MS apart, for `seconds` (as bench/lan_bench.ts does).
 */
async function runPhones(pid: number, url: string, seconds: number) {
  const phones = await Promise.all(Array.from({ length: PHONES }, () => benchPhone(url)));
  // Start at the head: the phones are up to date.
  let head = 0;
  for (;;) {
    const r = await phones[0].query<{
      changes: Record<string, { created: unknown[]; updated: unknown[]; deleted: unknown[] }>;
      timestamp: number;
    }>("sync_pull", { lastPulledAt: head });
    if (!r.success) throw new Error(`pull: ${r.error}`);
    const rows = Object.values(r.result!.changes).reduce(
      (n, c) => n + c.created.length + c.updated.length + c.deleted.length,
      0,
    );
    head = r.result!.timestamp;
    if (rows === 0) break;
  }
  const tally = newTally();
  const cpu0 = cpuMsOf(pid);
  const deadline = Date.now() + seconds * 1000;
  let serial = pid * 1000;
  await Promise.all(phones.map((p, idx) =>
    phoneLoop(p, head, deadline, THINK_MS, {
      random: rng(5000 + idx),
      serial: () => ++serial,
      patientKind: 11,
      eventKind: 12,
    }, tally)
  ));
  const all = [...tally.latency.handshake, ...tally.latency.pull, ...tally.latency.push];
  return {
    requests: all.length,
    errors: tally.errors.length,
    firstErrors: tally.errors.slice(0, 3),
    p50: Math.round(percentile(all, 50) * 10) / 10,
    p99: Math.round(percentile(all, 99) * 10) / 10,
    max: Math.round(Math.max(...all)),
    hubCpuMs: cpuMsOf(pid) - cpu0,
    seconds,
  };
}
