/**
 * What a headless start tells the person at the terminal (stderr): the admin
 * page's one-time launch address (never the bearer token), the pairing QR when
 * the LAN server runs, the fallback when the default admin port is taken, a
 * data folder's loose mode tightened, and --update-url ignored in a development build.
 */
import assert from "node:assert/strict";
import { DEFAULT_ADMIN_PORT } from "../hub/cli.ts";
import { freePort, PASSPHRASE, ROOT, tempDir } from "./_helpers.ts";

interface Started {
  ready: { admin: string; token: string; lan: string | null };
  /** stderr so far. */
  stderr: () => string;
  stop(): Promise<{ code: number; stderr: string }>;
}

/** Starts main.ts with `args`, waits for the ready line and for `until` on stderr. */
async function start(args: string[], until: RegExp): Promise<Started> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}main.ts`, "--host", "127.0.0.1", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let err = "";
  const errDone = (async () => {
    for await (const s of child.stderr.pipeThrough(new TextDecoderStream())) err += s;
  })();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const deadline = Date.now() + 60_000;
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the hub exited before it was ready:\n${err}`);
    out += value;
  }
  const drained = (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  while (!until.test(err)) {
    if (Date.now() > deadline) throw new Error(`no ${until} on stderr:\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    ready: JSON.parse(out.split("\n")[0]),
    stderr: () => err,
    stop: async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const status = await child.status;
      await drained;
      await errDone;
      return { code: status.code, stderr: err };
    },
  };
}

const LAUNCH = /Admin page: (http:\/\/127\.0\.0\.1:\d+\/launch\?code=[A-Za-z0-9_-]+)/;

Deno.test("cli start: without a passphrase file the launch address is printed and opens the first-run page", async () => {
  await using dir = await tempDir();
  const hub = await start(
    ["--no-open", "--data-dir", `${dir.path}/data`, "--port", String(freePort())],
    LAUNCH,
  );
  try {
    const launch = LAUNCH.exec(hub.stderr())![1];
    assert.ok(launch.startsWith(hub.ready.admin + "/launch?code="));
    assert.ok(!hub.stderr().includes(hub.ready.token), "the bearer token was printed");
    assert.match(hub.stderr(), /works once/);
    // The address gives a browser session on a hub waiting for its first run.
    const r = await fetch(launch, { redirect: "manual" });
    await r.body?.cancel();
    assert.equal(r.status, 303);
    const cookie = (r.headers.get("set-cookie") ?? "").split(";")[0];
    const status = await fetch(`${hub.ready.admin}/api/status`, { headers: { cookie } });
    assert.equal(status.status, 200);
    assert.equal((await status.json()).state, "new");
    // Valid once.
    const again = await fetch(launch, { redirect: "manual" });
    await again.body?.cancel();
    assert.equal(again.status, 403);
    // Nothing is paired before set-up; the terminal says where that happens.
    assert.match(hub.stderr(), /Phones can pair once the hub is set up/);
  } finally {
    const { code } = await hub.stop();
    assert.equal(code, 0);
  }
});

Deno.test("cli start: with a passphrase file the QR is printed, whether or not a browser is opened", async () => {
  await using dir = await tempDir();
  const pass = `${dir.path}/passphrase`;
  await Deno.writeTextFile(pass, PASSPHRASE);
  const lan = freePort();
  const hub = await start(
    [
      "--no-open",
      "--passphrase-file",
      pass,
      "--data-dir",
      `${dir.path}/data`,
      "--port",
      String(lan),
      "--admin-port",
      "0",
    ],
    /Pair a phone: scan this code/,
  );
  try {
    assert.match(hub.stderr(), LAUNCH);
    assert.match(
      hub.stderr(),
      new RegExp(`Pair a phone: scan this code \\(http://127\\.0\\.0\\.1:${lan}\\)`),
    );
    assert.match(hub.stderr(), /█|▄|▀/, "no QR code drawn");
  } finally {
    await hub.stop();
  }
});

Deno.test("cli start: the default admin port is 4002; when taken, a free one, said in one line", async () => {
  await using dir = await tempDir();
  // Hold the default port (or find it held already by another hub on this machine).
  let blocker: Deno.Listener | null = null;
  try {
    blocker = Deno.listen({ hostname: "127.0.0.1", port: DEFAULT_ADMIN_PORT });
  } catch (err) {
    if (!(err instanceof Deno.errors.AddrInUse)) throw err;
  }
  try {
    const hub = await start(
      ["--no-open", "--data-dir", `${dir.path}/data`, "--port", String(freePort())],
      LAUNCH,
    );
    try {
      const port = Number(new URL(hub.ready.admin).port);
      assert.notEqual(port, DEFAULT_ADMIN_PORT);
      const lines = hub.stderr().split("\n").filter((l) => l.includes("admin port 4002 is in use"));
      assert.equal(lines.length, 1, hub.stderr());
      assert.ok(lines[0].includes(`port ${port} this time`));
    } finally {
      await hub.stop();
    }
  } finally {
    blocker?.close();
  }
  // An admin port given by flag does not fall back: it must be that port.
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `${ROOT}main.ts`,
        "--no-open",
        "--data-dir",
        `${dir.path}/data`,
        "--port",
        String(freePort()),
        "--admin-port",
        String((taken.addr as Deno.NetAddr).port),
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.notEqual(out.code, 0);
    assert.match(new TextDecoder().decode(out.stderr), /already in use/);
  } finally {
    taken.close();
  }
});

Deno.test({
  name: "cli start: an existing data folder open to others is tightened to 0700, said once",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using dir = await tempDir();
    const data = `${dir.path}/data`;
    await Deno.mkdir(data);
    await Deno.chmod(data, 0o755);
    const hub = await start(
      ["--no-open", "--data-dir", data, "--port", String(freePort()), "--admin-port", "0"],
      LAUNCH,
    );
    try {
      assert.equal((await Deno.stat(data)).mode! & 0o777, 0o700);
      assert.match(
        hub.stderr(),
        /open to other users \(mode 0755\); it is now owner-only \(0700\)/,
      );
    } finally {
      await hub.stop();
    }
  },
});

Deno.test("cli start: --update-url in a development build says it does nothing", async () => {
  await using dir = await tempDir();
  const hub = await start(
    [
      "--no-open",
      "--data-dir",
      `${dir.path}/data`,
      "--port",
      String(freePort()),
      "--admin-port",
      "0",
      "--update-url",
      "https://updates.example.org/latest.json",
    ],
    LAUNCH,
  );
  const { stderr } = await hub.stop();
  assert.match(stderr, /--update-url does nothing in this build/);
});
