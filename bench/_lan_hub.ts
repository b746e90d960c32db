/**
 * The hub under benchmark, as its own process: what `main.ts --no-open
 * --passphrase-file F` does on the LAN side (unlock, start the LAN server, print
 * the ready line, stop on SIGTERM), without the loopback admin server, so the
 * benchmark does not depend on the admin UI's build and measures the LAN side.
 *
 * `deno run -A bench/_lan_hub.ts --data-dir DIR --passphrase-file F --port N [--host H]
 * [--page-rows N] [--backup-loop DIR]`
 *
 * `--backup-loop DIR` takes backups into DIR back to back while the hub runs (the
 * backup benchmark's worst case), and logs each one's timings on stderr.
 */
import { Hub } from "../hub/mod.ts";
import { DEFAULT_HANDSHAKE_RATE, DEFAULT_SESSION_LIMITS } from "../server/mod.ts";

function arg(name: string, fallback?: string): string {
  const i = Deno.args.indexOf(name);
  const v = i >= 0 ? Deno.args[i + 1] : fallback;
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
}

const host = arg("--host", "127.0.0.1");
const hub = new Hub({
  dataDir: arg("--data-dir"),
  version: "bench",
  lan: {
    host,
    port: Number(arg("--port")),
    // The bench plays 50 phones from one loopback address: the per-address limits
    // (handshakes, connections) would count them as one host. HUB_BENCH_FRONT=off
    // serves with Deno.serve directly, to measure what the LAN front costs.
    // HUB_BENCH_LIMITS=strict keeps every default (bench/proof.ts attacks from
    // other loopback addresses, so the phone's own address is not the attacker's).
    ...(Deno.env.get("HUB_BENCH_LIMITS") === "strict" ? {} : {
      handshakeRate: { ...DEFAULT_HANDSHAKE_RATE, exemptLoopback: true },
      sessions: { ...DEFAULT_SESSION_LIMITS, maxPerSource: 1024, maxSessions: 1024 },
      front: { exemptLoopback: true },
    }),
    ...(Deno.env.get("HUB_BENCH_FRONT") === "off" ? { front: false as const } : {}),
    // Experiments only; the benchmark runs with the hub's default page size.
    ...(Deno.args.includes("--page-rows") ? { pullPageRows: Number(arg("--page-rows")) } : {}),
  },
});
await hub.init();
await hub.unlock((await Deno.readTextFile(arg("--passphrase-file"))).replace(/\r?\n$/, ""));
await hub.startServer();
const ready = { event: "ready", lan: `http://${host}:${hub.server.port}` };
await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(ready) + "\n"));
if (Deno.args.includes("--backup-loop")) {
  await hub.backups.updateSettings({ dir: arg("--backup-loop"), keepLast: 2 });
  (async () => {
    for (;;) {
      const t0 = performance.now();
      const b = await hub.backups.backupNow("bench");
      const line = { event: "backup", ms: Math.round(performance.now() - t0), bytes: b.bytes };
      await Deno.stderr.write(new TextEncoder().encode(JSON.stringify(line) + "\n"));
    }
  })().catch(() => {});
}
Deno.addSignalListener("SIGTERM", async () => {
  await hub.shutdown();
  Deno.exit(0);
});
