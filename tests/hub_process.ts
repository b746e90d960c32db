/**
 * Runs the real hub (`main.ts`, headless) as a child process, for tests and
 * benches that kill it or measure its memory: the data folder must hold a
 * `passphrase` file; the ready line on stdout gives the admin URL and token.
 */

const ROOT = new URL("..", import.meta.url).pathname;

/** A hub child process. */
export interface HubProcess {
  proc: Deno.ChildProcess;
  admin: string;
  token: string;
  lan: string;
  /** What the hub logged on stderr (the last ~200 KB), for diagnostics and counts. */
  log: () => string;
}

/**
 * `deno run` arguments of a headless hub on `<dir>/data` unlocked by
 * `<dir>/passphrase`, with its admin page on any free port.
 */
export function headlessArgs(dir: string, lanPort: number): string[] {
  return [
    "run",
    "-A",
    "main.ts",
    "--no-open",
    "--passphrase-file",
    `${dir}/passphrase`,
    "--data-dir",
    `${dir}/data`,
    "--host",
    "127.0.0.1",
    "--port",
    String(lanPort),
    // Any free admin port: another hub on this computer may hold the default one.
    "--admin-port",
    "0",
  ];
}

/** A free loopback port (for `--port`, which must be 1..65535). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Starts `main.ts --no-open --passphrase-file <dir>/passphrase --data-dir <dir>/data`
 * on 127.0.0.1:`lanPort` and waits (at most 60 s) for its ready line.
 */
export async function spawnHeadlessHub(
  dir: string,
  lanPort: number,
  logLevel: "debug" | "info" | "warn" | "error" = "info",
  extraArgs: string[] = [],
): Promise<HubProcess> {
  const proc = new Deno.Command(Deno.execPath(), {
    args: [...headlessArgs(dir, lanPort), ...extraArgs],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", HUB_LOG_LEVEL: logLevel },
  }).spawn();
  let err = "";
  (async () => {
    for await (const s of proc.stderr.pipeThrough(new TextDecoderStream())) {
      err += s;
      if (err.length > 400_000) err = err.slice(-200_000);
    }
  })().catch(() => {});
  const out = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const deadline = setTimeout(() => proc.kill("SIGKILL"), 60_000);
  try {
    while (!buf.includes("\n")) {
      const { value, done } = await out.read();
      if (done) throw new Error(`the hub exited before it was ready:\n${err.slice(-3000)}`);
      buf += value;
    }
  } finally {
    clearTimeout(deadline);
  }
  (async () => {
    while (!(await out.read()).done) { /* drain */ }
  })().catch(() => {});
  const ready = JSON.parse(buf.slice(0, buf.indexOf("\n")));
  if (ready.event !== "ready") throw new Error(`unexpected first line: ${buf}`);
  return {
    proc,
    admin: ready.admin,
    token: ready.token,
    lan: `http://127.0.0.1:${lanPort}`,
    log: () => err,
  };
}
