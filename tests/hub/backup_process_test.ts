/**
 * Backups with real processes: SIGKILL during backups leaves no partial file
 * counted as good, and the headless run of issue 14 (a backup within a minute of a
 * push with `--backup-dir B --backup-every 1`; `restore` into NEW; the hub on NEW
 * serves every row; a flipped byte is refused).
 */
import assert from "node:assert/strict";
import { join } from "../../core/mod.ts";
import { BACKUP_EXTENSION, verifyBackup } from "../../store/mod.ts";
import { openVault } from "../../vault/mod.ts";
import { makeHub, PASSPHRASE, ROOT, seedPatients, tempDir } from "../_helpers.ts";
import { freePort, spawnHeadlessHub } from "../hub_process.ts";
import { loggedInPhone, patientRow, pulledRows, seedPeople } from "../server/_fixtures.ts";

const CHILD = new URL("../fixtures/backup_child.ts", import.meta.url).pathname;
const KILLS = Number(Deno.env.get("HUB_BACKUP_KILLS") ?? 8);

/** Starts the child, kills it after `delayMs` from its `started` line, returns completed backups. */
async function runAndKill(dataDir: string, backupDir: string, delayMs: number): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, dataDir, backupDir, PASSPHRASE],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let done = 0;
  let killed = false;
  for (;;) {
    const { value, done: end } = await reader.read();
    if (end) break;
    buf += value;
    if (!killed && buf.includes("started\n")) {
      killed = true;
      setTimeout(() => child.kill("SIGKILL"), delayMs);
    }
    const m = [...buf.matchAll(/done (\d+)\n/g)].pop();
    if (m) done = Number(m[1]);
  }
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL", `child ended on its own: ${await stderr}`);
  return done;
}

Deno.test("backup: SIGKILL during backups leaves no partial file counted as good", async () => {
  await using dir = await tempDir();
  const dataDir = join(dir.path, "data");
  const backupDir = join(dir.path, "backups");
  const setup = await makeHub({ dataDir });
  await setup.setup(PASSPHRASE);
  seedPatients(setup.store, 20_000, { source: "phone" });
  const key = setup.vault.secrets.dbKey;
  await setup.lock();
  let completed = 0;
  let leftoversSeen = 0;
  for (let run = 0; run < KILLS; run++) {
    completed += await runAndKill(dataDir, backupDir, 50 + Math.random() * 700);
    const names = [...Deno.readDirSync(backupDir)].map((e) => e.name);
    leftoversSeen += names.filter((n) => n.includes(".tmp-")).length;
    // Every file with the final name is whole and restorable.
    for (const n of names.filter((n) => n.endsWith(BACKUP_EXTENSION))) {
      await verifyBackup(join(backupDir, n), key);
    }
  }
  assert.ok(completed > 0, "no backup finished before a kill");
  assert.ok(leftoversSeen > 0, "no kill landed during a backup");
  // The database the backups were taken from is intact, too.
  const vault = await openVault(join(dataDir, "hub.vault"), PASSPHRASE);
  assert.equal(vault.secrets.dbKey, key);
  vault.close();
});

async function waitFor<T>(what: string, ms: number, fn: () => Promise<T | null>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function runMain(args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test({
  name: "backup: headless --backup-dir B --backup-every 1, restore into NEW, served whole",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using dir = await tempDir();
    const backupDir = join(dir.path, "B");
    await Deno.writeTextFile(join(dir.path, "passphrase"), PASSPHRASE + "\n");
    // The old hub, set up with the clinic's people (as a cloud link would bring them).
    const setup = await makeHub({ dataDir: join(dir.path, "data") });
    await setup.setup(PASSPHRASE);
    seedPeople(setup.store, Date.now());
    seedPatients(setup.store, 500, { source: "cloud" });
    await setup.lock();

    const port = freePort();
    const old = await spawnHeadlessHub(dir.path, port, "info", [
      "--backup-dir",
      backupDir,
      "--backup-every",
      "1",
    ]);
    let pushedAt = 0;
    try {
      const phone = await loggedInPhone(old.lan);
      const p = await phone.pull(null);
      await phone.push(p.timestamp, {
        patients: {
          created: Array.from({ length: 20 }, (_, i) => patientRow(`pushed-${i}`, Date.now())),
          updated: [],
          deleted: [],
        },
      });
      pushedAt = Date.now();
      const file = await waitFor("a backup in B", 75_000, async () => {
        for await (const e of Deno.readDir(backupDir)) {
          if (e.name.endsWith(BACKUP_EXTENSION)) return join(backupDir, e.name);
        }
        return null;
      });
      const after = Date.now() - pushedAt;
      assert.ok(after <= 65_000, `the backup came ${after} ms after the push`);
      old.proc.kill("SIGTERM");
      await old.proc.status;

      // A flipped byte is refused, and leaves nothing in the folder.
      const bytes = await Deno.readFile(file);
      bytes[Math.floor(bytes.length / 2)] ^= 0x10;
      const bad = join(dir.path, "bad.hubbackup");
      await Deno.writeFile(bad, bytes);
      const refused = await runMain([
        "restore",
        "--from",
        bad,
        "--data-dir",
        join(dir.path, "refused"),
        "--passphrase-file",
        join(dir.path, "passphrase"),
      ]);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /damaged/);

      // Restore into NEW, then the hub on NEW serves every row.
      const ok = await runMain([
        "restore",
        "--from",
        file,
        "--data-dir",
        join(dir.path, "new", "data"),
        "--passphrase-file",
        join(dir.path, "passphrase"),
      ]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stderr, /may be missing/);
      await Deno.writeTextFile(join(dir.path, "new", "passphrase"), PASSPHRASE);
      const port2 = freePort();
      const restored = await spawnHeadlessHub(join(dir.path, "new"), port2);
      try {
        const phone2 = await loggedInPhone(restored.lan);
        const all = await phone2.pull(null);
        const ids = pulledRows(all.changes).filter((r) => r.table === "patients").map((r) =>
          r.row.id as string
        );
        assert.equal(ids.length, 520);
        for (let i = 0; i < 20; i++) assert.ok(ids.includes(`pushed-${i}`));
        // The admin API says it was restored.
        const st = await (await fetch(`${restored.admin}/api/status`, {
          headers: { authorization: `Bearer ${restored.token}` },
        })).json();
        assert.match(st.backups.restored.message, /may be missing/);
      } finally {
        restored.proc.kill("SIGTERM");
        await restored.proc.status;
      }
    } finally {
      try {
        old.proc.kill("SIGKILL");
      } catch { /* already ended */ }
      await old.proc.status;
    }
  },
});
