/**
 * Crash safety of rotate-key and change-passphrase: a child process loops the
 * operation on a hub holding 3,000 rows and is killed with SIGKILL at a random
 * moment; the hub must then unlock (with either passphrase, for the passphrase
 * case) with every row intact. Many runs on the same data folder, so each run
 * also starts from whatever the previous kill left behind.
 */
import assert from "node:assert/strict";
import { HubError } from "../../core/mod.ts";
import type { Hub } from "../../hub/mod.ts";
import { openVault } from "../../vault/mod.ts";
import {
  captureLogs,
  expectedSnapshot,
  makeHub,
  OTHER_PASSPHRASE,
  PASSPHRASE,
  patientSnapshot,
  ROOT,
  seedPatients,
  tempDir,
} from "../_helpers.ts";
import { storeConnection } from "../../store/testing.ts";

captureLogs();

/** Kills per operation; `deno task proof` raises it (HUB_CRASH_RUNS). */
const RUNS = Number(Deno.env.get("HUB_CRASH_RUNS") ?? 24);
const ROWS = 3000;
/** Kills land uniformly in this window after the child's loop started. */
const MAX_KILL_DELAY_MS = 300;
const CHILD = new URL("../fixtures/crash_child.ts", import.meta.url).pathname;

/** Runs the child until a random moment, kills it, and returns how many operations it completed. */
async function runAndKill(dataDir: string, mode: "rotate" | "passphrase"): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, dataDir, mode, PASSPHRASE, OTHER_PASSPHRASE],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let started = false;
  let done = 0;
  let killed = false;
  const reading = (async () => {
    for (;;) {
      const { value, done: end } = await lines.read();
      if (end) return;
      buffer += value;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line === "started" && !started) {
          started = true;
          const delay = Math.random() * MAX_KILL_DELAY_MS;
          setTimeout(() => {
            killed = true;
            child.kill("SIGKILL");
          }, delay);
        } else if (line.startsWith("done ")) done = Number(line.slice(5));
      }
    }
  })();
  const status = await child.status;
  await reading;
  const errText = await stderr;
  assert.ok(started, `child never started: ${errText}`);
  assert.ok(killed && status.signal === "SIGKILL", `child ended on its own: ${errText}`);
  return done;
}

/** Unlocks with the first passphrase that works (fresh Hub objects, so no throttle). */
async function unlockAny(dataDir: string, passphrases: string[]): Promise<Hub> {
  for (const p of passphrases) {
    const hub = await makeHub({ dataDir });
    try {
      await hub.unlock(p);
      return hub;
    } catch (err) {
      if (!(err instanceof HubError && err.code === "wrong_passphrase")) throw err;
    }
  }
  throw new Error("no passphrase unlocks the hub");
}

async function crashLoop(mode: "rotate" | "passphrase", passphrases: string[]): Promise<void> {
  await using dir = await tempDir();
  const setup = await makeHub({ dataDir: dir.path });
  await setup.setup(PASSPHRASE);
  seedPatients(setup.store, ROWS / 2, { source: "cloud" });
  seedPatients(setup.store, ROWS / 2, { source: "phone", start: ROWS / 2 });
  setup.store.setMeta("crash.verified", "0");
  await setup.lock();
  const expected = expectedSnapshot(ROWS);

  let operations = 0;
  for (let run = 1; run <= RUNS; run++) {
    operations += await runAndKill(dir.path, mode);
    const hub = await unlockAny(dir.path, passphrases);
    const store = hub.store;
    assert.equal(store.counts().patients.rows, ROWS, `run ${run}: rows lost`);
    assert.deepEqual(patientSnapshot(store), expected, `run ${run}: rows changed`);
    assert.equal(store.pendingCloud().count, ROWS / 2, `run ${run}: pending marks changed`);
    // A write committed after the previous recovery survived this crash too.
    assert.equal(store.getMeta("crash.verified"), String(run - 1));
    store.setMeta("crash.verified", String(run));
    assert.equal(storeConnection(store).pragma("integrity_check", { simple: true }), "ok");
    // An interrupted rotation is finished on unlock: nothing stays pending.
    assert.equal(hub.vault.secrets.pendingDbKey, undefined);
    await hub.lock();
  }
  // The kills landed while the loop was working, not only before its first step.
  assert.ok(operations > 0, "the child never completed an operation before being killed");
  // The vault is a whole, openable file after all of it.
  const opened = await Promise.any(passphrases.map((p) => openVault(`${dir.path}/hub.vault`, p)));
  assert.match(opened.secrets.dbKey, /^[0-9a-f]{64}$/);
}

Deno.test({
  name: `crash: SIGKILL at random points during rotate-key (${RUNS} runs) never loses a row`,
  fn: () => crashLoop("rotate", [PASSPHRASE]),
});

Deno.test({
  name:
    `crash: SIGKILL at random points during change-passphrase (${RUNS} runs) leaves a hub that one of the two passphrases unlocks`,
  fn: () => crashLoop("passphrase", [PASSPHRASE, OTHER_PASSPHRASE]),
});
