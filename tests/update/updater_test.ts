import assert from "node:assert/strict";
import {
  compareVersions,
  generateKeyPair,
  launchAndConfirm,
  parseSecretKey,
  recoverInterruptedSwap,
  rollback,
  signFile,
  swapExecutable,
  Updater,
} from "../../update/mod.ts";
import { HubError, Logger } from "../../core/mod.ts";

const QUIET = new Logger({ sink: () => {} });

const POSIX = Deno.build.os !== "windows";

/** A stand-in "executable": a shell script that reports healthy (or not) like main.ts does. */
function standIn(label: string, healthy: boolean): string {
  return `#!/bin/sh\n# ${label}\n${
    healthy ? 'echo ok > "$HUB_UPDATE_HEALTH_FILE"\nsleep 30\n' : "exit 3\n"
  }`;
}

interface Release {
  dir: string;
  exe: string;
  newBytes: Uint8Array<ArrayBuffer>;
  publicKey: string;
  manifest: Record<string, unknown>;
  server: Deno.HttpServer;
  base: string;
  /** When set, the download stops after this many bytes and the connection breaks. */
  cutAfter: number | null;
  manifestStatus: number;
}

async function release(
  options: { version?: string; signedVersion?: string } = {},
): Promise<Release> {
  const dir = await Deno.makeTempDir({ prefix: "hub-updater-" });
  const exe = `${dir}/local-sync-hub`;
  await Deno.writeTextFile(exe, standIn("old 1.0.0", true), { mode: 0o755 });
  const version = options.version ?? "1.1.0";
  const newFile = `${dir}/staging-new`;
  await Deno.writeTextFile(newFile, standIn(`new ${version}`, true), { mode: 0o755 });
  const newBytes = await Deno.readFile(newFile);
  const pair = await generateKeyPair();
  const sig = await signFile(
    newFile,
    parseSecretKey(pair.secretFile),
    `timestamp:1\tfile:local-sync-hub\tversion:${options.signedVersion ?? version}`,
  );
  const r = {
    dir,
    exe,
    newBytes,
    publicKey: pair.publicFile,
    manifest: {},
    cutAfter: null,
    manifestStatus: 200,
  } as unknown as Release;
  r.server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/latest.json") {
      return new Response(JSON.stringify(r.manifest), { status: r.manifestStatus });
    }
    if (path === "/files/local-sync-hub") {
      if (r.cutAfter === null) return new Response(r.newBytes);
      const cut = r.cutAfter;
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(r.newBytes.slice(0, cut));
          setTimeout(() => c.error(new Error("connection cut")), 20);
        },
      });
      return new Response(body, { headers: { "content-length": String(r.newBytes.length) } });
    }
    return new Response("not found", { status: 404 });
  });
  r.base = `http://127.0.0.1:${(r.server.addr as Deno.NetAddr).port}`;
  r.manifest = {
    version,
    notes: "Faster sync",
    pub_date: "2026-11-20T00:00:00Z",
    platforms: {
      "linux-x86_64": {
        signature: new TextEncoder().encode(sig).toBase64(),
        url: `${r.base}/files/local-sync-hub`,
      },
    },
  };
  return r;
}

function updater(r: Release, relaunch?: (exe: string) => Promise<void>): Updater {
  return new Updater({
    logger: QUIET,
    currentVersion: "1.0.0",
    manifestUrl: `${r.base}/latest.json`,
    publicKey: r.publicKey,
    exePath: r.exe,
    platform: "linux-x86_64",
    relaunch,
    timeoutMs: 5_000,
  });
}

Deno.test("versions compare as semver", () => {
  assert.equal(compareVersions("1.10.0", "1.9.9"), 1);
  assert.equal(compareVersions("1.0.0", "1.0.0-rc.1"), 1);
  assert.equal(compareVersions("1.0.0-rc.2", "1.0.0-rc.10"), -1);
  assert.equal(compareVersions("v2.0.0", "2.0.0"), 0);
  assert.throws(() => compareVersions("one", "1.0.0"), HubError);
});

Deno.test({
  name: "check finds the newer version; install verifies, swaps and relaunches only when asked",
  ignore: !POSIX,
  fn: async () => {
    const r = await release();
    let relaunched: string | null = null;
    const u = updater(r, (exe) => {
      relaunched = exe;
      return Promise.resolve();
    });
    const s = await u.check();
    assert.equal(s.state, "available");
    assert.equal(s.latest, "1.1.0");
    assert.equal(s.notes, "Faster sync");
    assert.equal(s.canInstall, true);
    // Checking never installs.
    assert.match(await Deno.readTextFile(r.exe), /old 1\.0\.0/);
    assert.equal(relaunched, null);
    await u.install();
    assert.match(await Deno.readTextFile(r.exe), /new 1\.1\.0/);
    assert.match(await Deno.readTextFile(`${r.exe}.previous`), /old 1\.0\.0/);
    assert.equal(relaunched, r.exe);
    assert.equal(u.status().progress?.received, r.newBytes.length);
    await r.server.shutdown();
  },
});

Deno.test({
  name: "a signature for another version is refused and the executable is untouched",
  ignore: !POSIX,
  fn: async () => {
    const r = await release({ version: "1.1.0", signedVersion: "1.0.5" });
    const u = updater(r);
    await u.check();
    await assert.rejects(() => u.install(), /version 1\.0\.5, not 1\.1\.0/);
    assert.match(await Deno.readTextFile(r.exe), /old 1\.0\.0/);
    assert.equal(u.status().state, "failed");
    assert.equal(u.status().retryable, false);
    await assert.rejects(() => Deno.lstat(`${r.exe}.download`), Deno.errors.NotFound);
    await r.server.shutdown();
  },
});

Deno.test({
  name: "a tampered download is refused and the executable is untouched",
  ignore: !POSIX,
  fn: async () => {
    const r = await release();
    r.newBytes = new TextEncoder().encode(standIn("evil 1.1.0", true));
    const u = updater(r);
    await u.check();
    await assert.rejects(() => u.install(), /damaged or tampered/);
    assert.match(await Deno.readTextFile(r.exe), /old 1\.0\.0/);
    await r.server.shutdown();
  },
});

Deno.test({
  name: "an interrupted download leaves the current executable untouched and is retryable",
  ignore: !POSIX,
  fn: async () => {
    const r = await release();
    r.cutAfter = 10;
    const u = updater(r);
    await u.check();
    await assert.rejects(() => u.install(), /interrupted|incomplete/);
    assert.match(await Deno.readTextFile(r.exe), /old 1\.0\.0/);
    assert.equal(u.status().retryable, true);
    await assert.rejects(() => Deno.lstat(`${r.exe}.download`), Deno.errors.NotFound);
    await r.server.shutdown();
  },
});

Deno.test("offline: the check is a retryable error and nothing else", async () => {
  const u = new Updater({
    logger: QUIET,
    currentVersion: "1.0.0",
    manifestUrl: "http://127.0.0.1:9/latest.json",
    publicKey: (await generateKeyPair()).publicFile,
    exePath: null,
    timeoutMs: 2_000,
  });
  await assert.rejects(() => u.check(), /offline/);
  const s = u.status();
  assert.equal(s.state, "failed");
  assert.equal(s.retryable, true);
  await assert.rejects(() => u.install(), /No update is available/);
});

Deno.test("a build without an update URL or key has updates disabled", async () => {
  const u = new Updater({
    logger: QUIET,
    currentVersion: "1.0.0",
    manifestUrl: null,
    publicKey: null,
    exePath: null,
  });
  assert.equal(u.status().state, "disabled");
  await assert.rejects(() => u.check(), /not configured/);
});

Deno.test({
  name: "swap keeps the previous executable and rollback restores it",
  ignore: !POSIX,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const exe = `${dir}/hub`;
    await Deno.writeTextFile(exe, standIn("old", true), { mode: 0o755 });
    await Deno.writeTextFile(`${dir}/new`, standIn("new", false), { mode: 0o600 });
    await swapExecutable(exe, `${dir}/new`);
    assert.match(await Deno.readTextFile(exe), /new/);
    assert.equal((await Deno.stat(exe)).mode! & 0o111, 0o111);
    // The new one does not come up healthy: roll back, and the old one does.
    assert.equal(await launchAndConfirm(exe, [], 3_000), null);
    await rollback(exe);
    assert.match(await Deno.readTextFile(exe), /old/);
    assert.match(await Deno.readTextFile(`${exe}.failed`), /new/);
    const child = await launchAndConfirm(exe, [], 5_000);
    assert.ok(child, "the restored executable reports healthy");
    child.kill("SIGKILL");
    await child.status;
  },
});

Deno.test({
  name: "a crash between the two renames is repaired at the next start",
  ignore: !POSIX,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const exe = `${dir}/hub`;
    await Deno.writeTextFile(`${exe}.previous`, standIn("old", true), { mode: 0o755 });
    assert.equal(await recoverInterruptedSwap(exe), true);
    assert.match(await Deno.readTextFile(exe), /old/);
    assert.equal(await recoverInterruptedSwap(exe), false);
  },
});
