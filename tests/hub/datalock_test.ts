/**
 * One hub per data folder, with real processes: a second `main.ts` on the same
 * folder refuses to start with one line naming the running hub, and a SIGKILLed
 * hub leaves nothing that blocks the next start.
 */
import assert from "node:assert/strict";
import { PASSPHRASE, ROOT, tempDir } from "../_helpers.ts";
import { freePort, headlessArgs, spawnHeadlessHub } from "../hub_process.ts";
import { DataDirLock } from "../../hub/mod.ts";
import { HubError } from "../../core/mod.ts";

async function secondStart(dir: string): Promise<{ code: number; stderr: string; out: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: headlessArgs(dir, freePort()),
    cwd: ROOT,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stderr: dec.decode(out.stderr), out: dec.decode(out.stdout) };
}

Deno.test({
  name: "data lock: a second hub on the same folder fails with one line naming the first; " +
    "after a SIGKILL the folder starts again",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using dir = await tempDir();
    await Deno.writeTextFile(`${dir.path}/passphrase`, PASSPHRASE);
    const first = await spawnHeadlessHub(dir.path, freePort(), "warn");
    try {
      const second = await secondStart(dir.path);
      assert.equal(second.code, 1, second.stderr);
      assert.equal(second.out, "", "the second copy never reported ready");
      const lines = second.stderr.trim().split("\n");
      assert.equal(lines.length, 1, second.stderr);
      assert.match(lines[0], /another hub is already running on the data folder/);
      assert.ok(lines[0].includes(`pid ${first.proc.pid}`), lines[0]);
      assert.ok(lines[0].includes(first.admin), lines[0]);
      // The first one still answers.
      const hb = await fetch(`${first.lan}/rpc/heartbeat`);
      assert.equal(hb.status, 200);
      await hb.body?.cancel();
    } finally {
      first.proc.kill("SIGKILL");
      await first.proc.status;
    }
    // The lock file is still there (with the dead hub's pid) but no longer locked.
    const stale = JSON.parse(await Deno.readTextFile(`${dir.path}/data/hub.lock`));
    assert.equal(stale.pid, first.proc.pid);
    const again = await spawnHeadlessHub(dir.path, freePort(), "warn");
    try {
      const hb = await fetch(`${again.lan}/rpc/heartbeat`);
      assert.equal(hb.status, 200);
      await hb.body?.cancel();
      const now = JSON.parse(await Deno.readTextFile(`${dir.path}/data/hub.lock`));
      assert.equal(now.pid, again.proc.pid);
    } finally {
      again.proc.kill("SIGTERM");
      await again.proc.status;
    }
  },
});

Deno.test("data lock: in one process the lock is exclusive until released", async () => {
  await using dir = await tempDir();
  const a = await DataDirLock.acquire(dir.path);
  await a.describe({ admin: "http://127.0.0.1:1234" });
  await assert.rejects(() => DataDirLock.acquire(dir.path), (err) => {
    assert.ok(err instanceof HubError);
    assert.equal(err.code, "hub_already_running");
    assert.match(err.message, new RegExp(`pid ${Deno.pid}, .*admin http://127\\.0\\.0\\.1:1234`));
    return true;
  });
  a.release();
  const b = await DataDirLock.acquire(dir.path);
  b.release();
});
