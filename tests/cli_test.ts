/**
 * The command line: strict flag parsing (exit code 2 with one line on stderr),
 * --help and --version, an unusable data folder, and a headless start that
 * prints the ready line and then answers on both servers.
 */
import assert from "node:assert/strict";
import { parseCli } from "../hub/cli.ts";
import { VERSION } from "../version.ts";
import { freePort, PASSPHRASE, rejectsCode, ROOT, tempDir } from "./_helpers.ts";

const MAIN = `${ROOT}main.ts`;

/** Runs `deno run -A main.ts ...args` to completion. */
async function runMain(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("cli: defaults and every flag parse", () => {
  const d = parseCli([]);
  assert.deepEqual(
    [d.dataDir, d.port, d.host, d.adminPort, d.open, d.passphraseFile, d.help, d.version],
    [null, 4001, "0.0.0.0", null, true, null, false, false],
  );
  const o = parseCli([
    "--data-dir",
    "/srv/hub",
    "--port=4100",
    "--host",
    "192.168.1.20",
    "--admin-port",
    "8123",
    "--no-open",
    "--passphrase-file",
    "/run/secret",
    "--max-body-mb",
    "64",
  ]);
  assert.equal(o.dataDir, "/srv/hub");
  assert.equal(o.port, 4100);
  assert.equal(o.host, "192.168.1.20");
  assert.equal(o.adminPort, 8123);
  assert.equal(o.open, false);
  assert.equal(o.passphraseFile, "/run/secret");
  assert.equal(o.maxBodyMb, 64);
  assert.equal(parseCli(["--help"]).help, true);
  assert.equal(parseCli(["-h"]).help, true);
  assert.equal(parseCli(["--version"]).version, true);
  assert.equal(parseCli(["--host", "::1"]).host, "::1");
});

const BAD: string[][] = [
  ["--frobnicate"],
  ["data"],
  ["--port"],
  ["--port", "abc"],
  ["--port", "0"],
  ["--port", "65536"],
  ["--port", "-1"],
  ["--port", "40.5"],
  ["--port="],
  ["--admin-port", "70000"],
  ["--admin-port", "x"],
  ["--max-body-mb", "0"],
  ["--max-body-mb", "5000"],
  ["--data-dir"],
  ["--data-dir="],
  ["--passphrase-file"],
  ["--host"],
  ["--host", "bad host!"],
  ["--no-open=yes", "--bogus"],
];

for (const args of BAD) {
  Deno.test(`cli: parseCli refuses ${JSON.stringify(args)} with bad_flag`, async () => {
    const err = await rejectsCode(() => parseCli(args), "bad_flag");
    assert.equal(err.status, 400);
    assert.ok(err.message.length > 0 && !err.message.includes("\n"));
  });
}

Deno.test("cli: --help exits 0 and documents the flags", async () => {
  const r = await runMain(["--help"]);
  assert.equal(r.code, 0);
  for (const flag of ["--data-dir", "--port", "--host", "--admin-port", "--no-open"]) {
    assert.ok(r.stdout.includes(flag), `--help does not mention ${flag}`);
  }
  assert.ok(r.stdout.includes("--passphrase-file"));
});

Deno.test("cli: --version prints the version", async () => {
  const r = await runMain(["--version"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), VERSION);
});

Deno.test("cli: a bad flag exits 2 with one line on stderr and nothing on stdout", async () => {
  for (const args of [["--frobnicate"], ["--port", "0"], ["--port", "99999"]]) {
    const r = await runMain(args);
    assert.equal(r.code, 2, `exit code for ${args.join(" ")}`);
    assert.equal(r.stdout, "");
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, `stderr for ${args.join(" ")}: ${r.stderr}`);
    assert.match(lines[0], /^error: /);
  }
});

Deno.test("cli: an unusable data folder exits 2 with one line", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/a-file`;
  await Deno.writeTextFile(file, "not a folder");
  const r = await runMain([
    "--no-open",
    "--data-dir",
    `${file}/data`,
    "--port",
    String(freePort()),
  ]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /data folder/);
  assert.match(lines[0], /--data-dir/);
});

/** Starts main.ts headless; resolves with the ready line once printed. */
async function startHeadless(dataDir: string, passphraseFile: string, port: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "--no-open",
      "--passphrase-file",
      passphraseFile,
      "--data-dir",
      dataDir,
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const rest = (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    const status = await child.status;
    await rest;
    return { status, stderr: await stderr };
  };
  return { firstLine: text.split("\n")[0], stop, status: child.status };
}

Deno.test("cli: a headless start prints the ready line, serves both sides, and stops on SIGTERM", async () => {
  await using dir = await tempDir();
  const passFile = `${dir.path}/passphrase.txt`;
  await Deno.writeTextFile(passFile, PASSPHRASE + "\n");
  const dataDir = `${dir.path}/data`;
  const port = freePort();

  const run = await startHeadless(dataDir, passFile, port);
  let hubId: string;
  try {
    const ready = JSON.parse(run.firstLine);
    assert.equal(ready.event, "ready");
    assert.match(ready.admin, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(typeof ready.token, "string");
    assert.ok(ready.token.length >= 32);
    assert.equal(ready.lan, `http://127.0.0.1:${port}`);

    const status = await fetch(`${ready.admin}/api/status`, {
      headers: { authorization: `Bearer ${ready.token}` },
    });
    assert.equal(status.status, 200);
    const body = await status.json();
    assert.equal(body.state, "unlocked");
    assert.equal(body.server.running, true);
    hubId = body.hub.id;
    const denied = await fetch(`${ready.admin}/api/status`);
    assert.equal(denied.status, 401);
    await denied.body?.cancel();

    const beat = await fetch(`${ready.lan}/rpc/heartbeat`);
    assert.equal(beat.status, 200);
    assert.deepEqual(await beat.json(), { status: "ok" });
  } finally {
    const { status, stderr } = await run.stop();
    assert.equal(status.code, 0, stderr);
  }
  // First run set the hub up; the files are there and the passphrase never hit a log.
  await Deno.stat(`${dataDir}/hub.vault`);
  await Deno.stat(`${dataDir}/hub.db`);

  // Second run with the same folder unlocks the same hub.
  const again = await startHeadless(dataDir, passFile, port);
  try {
    const ready = JSON.parse(again.firstLine);
    const body = await (await fetch(`${ready.admin}/api/status`, {
      headers: { authorization: `Bearer ${ready.token}` },
    })).json();
    assert.equal(body.state, "unlocked");
    assert.equal(body.hub.id, hubId);
  } finally {
    const { stderr } = await again.stop();
    assert.ok(!stderr.includes(PASSPHRASE), "the passphrase appears in the log");
  }
});

Deno.test("cli: a headless start with the wrong passphrase fails with a clear message", async () => {
  await using dir = await tempDir();
  const passFile = `${dir.path}/passphrase.txt`;
  const dataDir = `${dir.path}/data`;
  await Deno.writeTextFile(passFile, PASSPHRASE);
  const first = await startHeadless(dataDir, passFile, freePort());
  await first.stop();
  await Deno.writeTextFile(passFile, "a different passphrase");
  const r = await runMain([
    "--no-open",
    "--passphrase-file",
    passFile,
    "--data-dir",
    dataDir,
    "--port",
    String(freePort()),
  ]);
  assert.notEqual(r.code, 0);
  assert.equal(r.stdout, "", "a ready line was printed for a hub that did not unlock");
  assert.match(r.stderr, /error: Wrong passphrase/);
  // A missing passphrase file is a usage error.
  const missing = await runMain([
    "--no-open",
    "--passphrase-file",
    `${dir.path}/nope.txt`,
    "--data-dir",
    dataDir,
    "--port",
    String(freePort()),
  ]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /passphrase-file/);
});

Deno.test("cli: a LAN port already in use is reported, not a crash", async () => {
  await using dir = await tempDir();
  const passFile = `${dir.path}/passphrase.txt`;
  await Deno.writeTextFile(passFile, PASSPHRASE);
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const r = await runMain([
      "--no-open",
      "--passphrase-file",
      passFile,
      "--data-dir",
      `${dir.path}/data`,
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /address already in use/i);
    assert.doesNotMatch(r.stderr, /Stack backtrace|Uncaught/);
  } finally {
    taken.close();
  }
});
