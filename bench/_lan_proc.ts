/**
 * The hub under test as a child process (`deno run -A bench/_lan_hub.ts
 * --passphrase-file ...`, main.ts's headless LAN path), and its memory and CPU
 * read from /proc (Linux).
 */

const ROOT = new URL("../", import.meta.url).pathname;

/** A running hub child. */
export interface HubChild {
  pid: number;
  url: string;
  /** Stops the hub (SIGTERM) and waits for it. */
  stop(): Promise<void>;
}

/** A free loopback port (bound and released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Extra command-line arguments and environment for a hub child. */
export interface HubChildOptions {
  /** Appended to bench/_lan_hub.ts's arguments (e.g. `--backup-loop DIR`). */
  args?: string[];
  /** Added to the child's environment (e.g. `HUB_LOG_LEVEL`, `HUB_BACKUP_INLINE`). */
  env?: Record<string, string>;
}

/**
 * Starts the hub headless on `port`; resolves once it printed its ready line.
 * Its stderr (the hub's log) goes to `logPath`, complete once `stop()` resolves.
 */
export async function startHubChild(
  dataDir: string,
  passphraseFile: string,
  port: number,
  logPath: string,
  options: HubChildOptions = {},
): Promise<HubChild> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "bench/_lan_hub.ts",
      "--passphrase-file",
      passphraseFile,
      "--data-dir",
      dataDir,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      ...(options.args ?? []),
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
  }).spawn();
  const log = await Deno.open(logPath, { write: true, create: true, truncate: true });
  const logDone = child.stderr.pipeTo(log.writable).catch(() => {});
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const deadline = Date.now() + 60_000;
  let ready: { lan: string | null } | null = null;
  while (!ready) {
    if (Date.now() > deadline) throw new Error("the hub did not become ready within 60 s");
    const { done, value } = await reader.read();
    if (done) throw new Error(`the hub exited before it was ready; see ${logPath}`);
    buf += value;
    const nl = buf.indexOf("\n");
    if (nl >= 0) ready = JSON.parse(buf.slice(0, nl));
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  const drain = (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })().catch(() => {});
  if (!ready.lan) throw new Error("the hub started without its LAN server");
  return {
    pid: child.pid,
    url: ready.lan,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
      await drain;
      await logDone;
    },
  };
}

/** Resident memory of a process: current and peak (bytes), from /proc/<pid>/status. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const text = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
  return { rss: kb("VmRSS") * 1024, hwm: kb("VmHWM") * 1024 };
}

/** CPU time (user + system) a process has used, in milliseconds. */
export function cpuMsOf(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the command name.
  return (Number(fields[11]) + Number(fields[12])) * 10; // USER_HZ is 100 on Linux
}

/** Samples a process's RSS every `everyMs` until stopped; returns the highest seen. */
export function rssSampler(pid: number, everyMs = 20): { stop(): number } {
  let peak = 0;
  const tick = () => {
    try {
      peak = Math.max(peak, memoryOf(pid).rss);
    } catch {
      // the process is gone
    }
  };
  tick();
  const id = setInterval(tick, everyMs);
  return {
    stop() {
      clearInterval(id);
      tick();
      return peak;
    },
  };
}
