/**
 * The real hub (`main.ts`) with a memory sampler beside it, for
 * bench/memory_soak.ts only: every `--every` ms it appends one JSON line to
 * `--samples FILE` with what only the process itself can see (V8's heap and
 * external memory, and RSS split into anonymous and file-backed pages). With
 * `--gc-every MS` (the child must run with `--v8-flags=--expose-gc`) a sample
 * taken right after a full GC is added that often: the live heap, which is what
 * a leak in JavaScript grows. Each sample also carries glibc's own account
 * (`mallinfo2`, through FFI): bytes malloc handed out and bytes it holds free,
 * which tells SQLite's page cache and other native data (in use) from
 * fragmentation (free but kept).
 *
 * On SIGUSR1 (sent once the load has stopped) it takes the breakdown apart:
 * a sample after a full GC, after `malloc_trim(0)` (what glibc gives back is
 * what it held free), and after `PRAGMA shrink_memory` on the hub's database
 * connections plus another trim (what SQLite's page cache held).
 *
 * The product has no such hook; this file is not part of it.
 *
 * `deno run -A --v8-flags=--expose-gc bench/_mem_hub.ts --samples F --every MS
 *   [--gc-every MS] -- <main.ts arguments>`
 */
import v8 from "node:v8";
import BetterSqlite3 from "better-sqlite3-multiple-ciphers";
import { main } from "../main.ts";

// The hub's connections, seen through the pragmas every open runs (store/_db.ts).
const connections = new Set<BetterSqlite3.Database>();
const pragma = BetterSqlite3.prototype.pragma;
BetterSqlite3.prototype.pragma = function (this: BetterSqlite3.Database, ...a: unknown[]) {
  connections.add(this);
  // deno-lint-ignore no-explicit-any
  return (pragma as any).apply(this, a);
} as typeof pragma;

const libc = Deno.build.os === "linux"
  ? Deno.dlopen("libc.so.6", {
    mallinfo2: { parameters: [], result: { struct: Array(10).fill("usize") } },
    malloc_trim: { parameters: ["usize"], result: "i32" },
  })
  : null;

/** glibc's totals over all arenas: obtained (heap and mmap), handed out, held free. */
function mallinfo(): { arena: number; mmap: number; inUse: number; free: number } {
  if (!libc) return { arena: 0, mmap: 0, inUse: 0, free: 0 };
  const v = new BigUint64Array(libc.symbols.mallinfo2().buffer);
  return { arena: Number(v[0]), mmap: Number(v[4]), inUse: Number(v[7]), free: Number(v[8]) };
}

const sep = Deno.args.indexOf("--");
if (sep < 0) throw new Error("usage: _mem_hub.ts --samples F --every MS [--gc-every MS] -- ARGS");
const own = Deno.args.slice(0, sep);
function arg(name: string, fallback?: string): string {
  const i = own.indexOf(name);
  const v = i >= 0 ? own[i + 1] : fallback;
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
}
const file = Deno.openSync(arg("--samples"), { write: true, create: true, truncate: true });
const everyMs = Number(arg("--every", "5000"));
const gcEveryMs = Number(arg("--gc-every", "0"));
const gc = (globalThis as { gc?: () => void }).gc;
if (gcEveryMs > 0 && !gc) throw new Error("--gc-every needs --v8-flags=--expose-gc");
const enc = new TextEncoder();

/** One sample: bytes, from V8 and /proc/self/status. */
function sample(afterGc: boolean, step?: string): void {
  const m = Deno.memoryUsage();
  const h = v8.getHeapStatistics();
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  const line = {
    at: Date.now(),
    afterGc,
    step,
    rss: kb("VmRSS"),
    rssAnon: kb("RssAnon"),
    rssFile: kb("RssFile"),
    heapTotal: m.heapTotal,
    heapUsed: m.heapUsed,
    external: m.external,
    mallocedV8: h.malloced_memory,
    contexts: h.number_of_native_contexts,
    detached: h.number_of_detached_contexts,
    malloc: mallinfo(),
  };
  file.writeSync(enc.encode(JSON.stringify(line) + "\n"));
}

sample(false);
setInterval(() => sample(false), everyMs);
if (gcEveryMs > 0) {
  setInterval(() => {
    gc!();
    sample(true);
  }, gcEveryMs);
}
Deno.addSignalListener("SIGUSR1", () => {
  sample(false, "idle");
  gc?.();
  sample(true, "gc");
  libc?.symbols.malloc_trim(0n);
  sample(true, "trim");
  for (const db of connections) if (db.open) db.pragma("shrink_memory");
  libc?.symbols.malloc_trim(0n);
  sample(true, "shrink");
});
await main(Deno.args.slice(sep + 1));
