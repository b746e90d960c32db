/**
 * Backups (hub/_backup*.ts, hub/_restore.ts, store/_backup*.ts): the file is encrypted and
 * verified, a damaged one or a wrong passphrase is refused, a backup taken
 * during a push holds it whole or not at all, and a restored hub serves its rows
 * and moves its clock past the old hub's cursors.
 */
import assert from "node:assert/strict";
import BetterSqlite3 from "better-sqlite3-multiple-ciphers";
import { join } from "../../core/mod.ts";
import { HELP, parseCli } from "../../hub/cli.ts";
import { Hub, restoreBackup } from "../../hub/mod.ts";
import { BackupFile, removeLeftovers, RESTORE_CLOCK_MARGIN_MS } from "../../store/mod.ts";
import {
  loggedInPhone,
  logLines,
  NURSE,
  PASSPHRASE,
  patientRow,
  pulledRows,
  startHub,
  TestClock,
  testLogger,
} from "../server/_fixtures.ts";
import { OTHER_PASSPHRASE, rejectsCode, seedPatients, tempDir, TEST_LOGGER } from "../_helpers.ts";
import { storeConnection } from "../../store/testing.ts";

async function hubWithBackups(dataDir?: string, now?: () => number) {
  const t = await startHub({ dataDir, now });
  const backupDir = join(t.dataDir, "..", `${t.dataDir.split("/").pop()}-backups`);
  await t.hub.backups.updateSettings({ dir: backupDir });
  return { ...t, backupDir };
}

async function pushPatients(url: string, ids: string[], at = Date.now()) {
  const phone = await loggedInPhone(url);
  const p = await phone.pull(null);
  await phone.push(p.timestamp, {
    patients: { created: ids.map((id) => patientRow(id, at)), updated: [], deleted: [] },
  });
  return phone;
}

Deno.test("backup: the snapshot inside the file is encrypted, opens with the key only", async () => {
  const t = await hubWithBackups();
  try {
    await pushPatients(t.url, ["secret-patient-1"]);
    const b = await t.hub.backups.backupNow("manual");
    const path = join(t.backupDir, b.file);
    const bytes = await Deno.readFile(path);
    const text = new TextDecoder("latin1").decode(bytes);
    // The readable header says what it is, without patient data.
    const header = JSON.parse(text.split("\n")[1]);
    assert.deepEqual(header.format, "hikma-local-hub-backup");
    assert.deepEqual(header.hub.id, t.hub.vault.secrets.hubId);
    assert.deepEqual(header.counts.patients, 1);
    assert(header.clock > 0);
    // No plaintext anywhere: not the patient's name, not SQLite's plain header.
    assert(!text.includes("Given secret-patient-1"), "patient data in clear text");
    assert(!text.includes("SQLite format 3"), "an unencrypted database in the file");
    // The database section opens with the key and only with it.
    const { database } = await BackupFile.open(path);
    const dbFile = join(t.backupDir, "section.db");
    await Deno.writeFile(
      dbFile,
      bytes.subarray(database.offset, database.offset + database.length),
    );
    const open = (key: string | null) => {
      const db = new BetterSqlite3(dbFile, { readonly: true });
      try {
        if (key) {
          db.pragma("cipher = 'sqlcipher'");
          db.pragma("legacy = 4");
          db.pragma(`key = "x'${key}'"`);
        }
        return db.prepare("SELECT given_name FROM patients").pluck(true).all();
      } finally {
        db.close();
      }
    };
    assert.deepEqual(open(t.hub.vault.secrets.dbKey), ["Given secret-patient-1"]);
    let refused = 0;
    for (const key of [null, "00".repeat(32)]) {
      try {
        open(key);
      } catch {
        refused++;
      }
    }
    assert.deepEqual(refused, 2);
    await Deno.remove(dbFile);
    // Status: the last good backup and the folder.
    const st = (await t.hub.status()).backups!;
    assert.deepEqual(st.folder, "ok");
    assert.deepEqual(st.lastGood?.file, b.file);
    assert.deepEqual(st.warning, null);
  } finally {
    await t.close();
    await Deno.remove(t.backupDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("backup: one flipped byte anywhere is refused, a wrong passphrase is refused", async () => {
  const t = await hubWithBackups();
  await using target = await tempDir();
  try {
    await pushPatients(t.url, ["p-1", "p-2"]);
    const b = await t.hub.backups.backupNow();
    const path = join(t.backupDir, b.file);
    const good = await Deno.readFile(path);
    const damagedPath = join(t.backupDir, "damaged.hubbackup");
    // Positions across the whole file: magic, header, vault, database, trailer.
    const positions = new Set<number>([0, 5, 20, 40, good.length - 1, good.length - 30]);
    for (let i = 0; i < 40; i++) positions.add(Math.floor((i / 40) * good.length));
    for (const pos of positions) {
      const bad = good.slice();
      bad[pos] ^= 0x01;
      await Deno.writeFile(damagedPath, bad);
      const err = await rejectsCode(
        () =>
          restoreBackup({
            from: damagedPath,
            dataDir: join(target.path, `x${pos}`),
            passphrase: PASSPHRASE,
          }),
        "backup_damaged",
      );
      assert(/damaged/.test(err.message), err.message);
      // Nothing was left behind that looks like a hub.
      assert(!(await exists(join(target.path, `x${pos}`, "hub.vault"))));
    }
    // Cut short: also damaged.
    await Deno.writeFile(damagedPath, good.subarray(0, good.length - 100));
    await rejectsCode(
      () =>
        restoreBackup({
          from: damagedPath,
          dataDir: join(target.path, "cut"),
          passphrase: PASSPHRASE,
        }),
      "backup_damaged",
    );
    // Wrong passphrase: a clear message, and no hub in the folder.
    const wrong = await rejectsCode(
      () =>
        restoreBackup({
          from: path,
          dataDir: join(target.path, "w"),
          passphrase: OTHER_PASSPHRASE,
        }),
      "wrong_passphrase",
    );
    assert(/passphrase the hub had/.test(wrong.message));
    assert(!(await exists(join(target.path, "w", "hub.vault"))));
    // A folder that already holds a hub is refused.
    await rejectsCode(
      () => restoreBackup({ from: path, dataDir: t.dataDir, passphrase: PASSPHRASE }),
      "data_dir_in_use",
    );
  } finally {
    await t.close();
    await Deno.remove(t.backupDir, { recursive: true }).catch(() => {});
  }
});

async function exists(p: string): Promise<boolean> {
  return await Deno.lstat(p).then(() => true, () => false);
}

Deno.test("backup: taken during a concurrent push, the push is whole or absent", async () => {
  const t = await hubWithBackups();
  await using target = await tempDir();
  try {
    const phone = await loggedInPhone(t.url);
    const p = await phone.pull(null);
    const results: number[] = [];
    // Pushes of 400 patients each, one after another, while backups are taken.
    let stop = false;
    let rounds = 0;
    const pushes = (async () => {
      while (!stop) {
        const rows = Array.from(
          { length: 400 },
          (_, i) => patientRow(`r${rounds}-${i}`, Date.now()),
        );
        await phone.push(p.timestamp, { patients: { created: rows, updated: [], deleted: [] } });
        rounds++;
      }
    })();
    const files: string[] = [];
    while (files.length < 4) {
      files.push((await t.hub.backups.backupNow()).file);
    }
    stop = true;
    await pushes;
    let i = 0;
    for (const file of files) {
      const dir = join(target.path, `r${i++}`);
      await restoreBackup({ from: join(t.backupDir, file), dataDir: dir, passphrase: PASSPHRASE });
      const h = new Hub({
        dataDir: dir,
        version: "test",
        lan: { host: "127.0.0.1", port: 0 },
        logger: TEST_LOGGER,
      });
      await h.init();
      await h.unlock(PASSPHRASE);
      const rounds = storeConnection(h.store).prepare(
        "SELECT substr(id, 1, instr(id, '-') - 1) AS r, count(*) AS n FROM patients GROUP BY r",
      ).all() as { r: string; n: number }[];
      for (const r of rounds) assert.deepEqual(r.n, 400, `push ${r.r} is partial in ${file}`);
      results.push(rounds.length);
      await h.shutdown();
    }
    // Counts grew over time, and each was whole; at least one backup fell between pushes.
    assert(results.some((n) => n > 0 && n < rounds), `no backup during the pushes: ${results}`);
    assert.deepEqual([...results].sort((a, b) => a - b), results);
  } finally {
    await t.close();
    await Deno.remove(t.backupDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("restore: another folder serves every row; a change after it reaches an old cursor", async () => {
  // The old computer's clock ran 20 minutes ahead of the new one's: its cursors are
  // ahead of the new computer's wall clock.
  const t = await hubWithBackups(undefined, () => Date.now() + 20 * 60_000);
  await using target = await tempDir();
  const newDir = join(target.path, "new");
  let restored: Awaited<ReturnType<typeof startHub>> | null = null;
  try {
    const ids = Array.from({ length: 50 }, (_, i) => `before-${i}`);
    await pushPatients(t.url, ids);
    // Two phones sync before the backup, as the app does: pull, push, keep the pull's timestamp.
    const early = await loggedInPhone(t.url, NURSE, { clientId: "early-phone" });
    const earlyCursor = (await early.pull(null)).timestamp;
    const late = await loggedInPhone(t.url, NURSE, { clientId: "late-phone", deviceName: "Late" });
    const lateBefore = (await late.pull(null)).timestamp;
    // The relay's watermark as a cycle would leave it (no cloud in this test).
    t.hub.store.setMeta("cloud.watermark", "1764400000000");
    const b = await t.hub.backups.backupNow();
    assert.equal(b.header.cloudWatermark, "1764400000000");
    // After the backup: the old hub moves its watermark; the late phone syncs once more as the
    // app does (a pull that finds nothing new, its push, and it keeps that pull's timestamp),
    // then the old hub dies.
    t.hub.store.setMeta("cloud.watermark", "1764400099999");
    const lateAfter = await late.pull(lateBefore);
    assert.deepEqual(lateAfter.changes, {});
    await late.push(lateBefore, {
      patients: {
        created: [patientRow("after-backup", Date.now())],
        updated: [patientRow("before-0", Date.now(), { given_name: "Edited after the backup" })],
        deleted: [],
      },
    });
    const oldCursor = lateAfter.timestamp;
    await t.close();

    const r = await restoreBackup({
      from: join(t.backupDir, b.file),
      dataDir: newDir,
      passphrase: PASSPHRASE,
      logger: testLogger,
    });
    assert.deepEqual(r.counts.patients, 50);
    assert(r.clockFrom >= Date.now() + RESTORE_CLOCK_MARGIN_MS - 60_000);
    restored = await startHub({ dataDir: newDir });
    // The relay resumes from the backup's watermark (the cloud's upserts make repeats harmless).
    assert.equal(restored.hub.store.getMeta("cloud.watermark"), "1764400000000");
    // A new phone pulls everything the backup held.
    const fresh = await loggedInPhone(restored.url, NURSE, { clientId: "fresh-phone" });
    const all = await fresh.pull(null);
    const got = pulledRows(all.changes).filter((x) => x.table === "patients").map((x) => x.row.id);
    assert.deepEqual(got.sort(), ids.sort());
    // A change made after the restore reaches the phone whose cursor came from the old hub.
    const other = await loggedInPhone(restored.url, NURSE, { clientId: "other-phone" });
    const o = await other.pull(null);
    await other.push(o.timestamp, {
      patients: { created: [patientRow("after-restore", Date.now())], updated: [], deleted: [] },
    });
    const late2 = await loggedInPhone(restored.url, NURSE, { clientId: "late-phone" });
    const next = await late2.pull(oldCursor);
    const seen = pulledRows(next.changes).map((x) => x.row.id);
    assert(seen.includes("after-restore"), `not delivered: ${JSON.stringify(seen)}`);
    // The backup's older version of a record it changed after the backup is not sent over
    // its own (a force upload brings its version back to the hub).
    assert(!seen.includes("before-0"), `the older version was sent: ${JSON.stringify(seen)}`);
    // The phone that synced only before the backup comes back too.
    const early2 = await loggedInPhone(restored.url, NURSE, { clientId: "early-phone" });
    await early2.pull(earlyCursor);
    // The status names the restore and the phone that synced after the backup, only that one.
    const st = (await restored.hub.status()).backups!;
    assert(st.restored?.message.includes(b.header.takenAtText));
    assert.deepEqual(st.restored?.devicesAfterBackup.map((d) => d.device), ["late-phone"]);
    assert(logLines.some((l) => l.includes("hub.restored")));
    // The row the late phone pushed to the old hub after the backup is lost here; the app's
    // Force upload (forceSyncService: rows with updated_at after "Since", pushed with
    // lastPulledAt = Since) brings it back, and other phones then receive it.
    assert(!pulledRows(all.changes).some((x) => x.row.id === "after-backup"));
    const since = b.header.takenAt;
    await late2.push(since, {
      patients: {
        created: [{ ...patientRow("after-backup", Date.now()), _status: "synced" }],
        updated: [],
        deleted: [],
      },
    });
    const o2 = await other.pull(o.timestamp);
    assert(pulledRows(o2.changes).some((x) => x.row.id === "after-backup"));
    // After a force upload the app keeps its own clock as its cursor: that says nothing of
    // the old hub, so no phone is listed for it.
    await late2.pull(Date.now());
    await early2.pull(Date.now());
    const st2 = (await restored.hub.status()).backups!;
    assert.deepEqual(st2.restored?.devicesAfterBackup.map((d) => d.device), ["late-phone"]);
  } finally {
    await restored?.close();
    await Deno.remove(t.backupDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("backup: before a key rotation, and the rotated hub's later backup opens with its new key", async () => {
  const t = await hubWithBackups();
  await using target = await tempDir();
  try {
    await pushPatients(t.url, ["k-1"]);
    await t.hub.rotateKey();
    const list = await t.hub.backups.list();
    assert.deepEqual(list.map((e) => e.reason), ["rotate-key"]);
    await pushPatients(t.url, ["k-2"]);
    const after = await t.hub.backups.backupNow();
    await t.hub.changePassphrase(PASSPHRASE, OTHER_PASSPHRASE);
    // The backup before the passphrase change opens with the old passphrase only.
    await rejectsCode(
      () =>
        restoreBackup({
          from: join(t.backupDir, after.file),
          dataDir: join(target.path, "a"),
          passphrase: OTHER_PASSPHRASE,
        }),
      "wrong_passphrase",
    );
    const r = await restoreBackup({
      from: join(t.backupDir, after.file),
      dataDir: join(target.path, "b"),
      passphrase: PASSPHRASE,
    });
    assert.deepEqual(r.counts.patients, 2);
  } finally {
    await t.close();
    await Deno.remove(t.backupDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("backup: a missing folder is a warning and syncing goes on", async () => {
  const t = await hubWithBackups();
  try {
    await Deno.remove(t.backupDir, { recursive: true });
    await pushPatients(t.url, ["m-1"]);
    await rejectsCode(() => t.hub.backups.backupNow(), "backup_folder_missing");
    const st = (await t.hub.status()).backups!;
    assert.deepEqual(st.folder, "missing");
    assert(st.warning?.includes("not there"));
    // Phones keep syncing, and a key rotation is not refused because no backup could be taken.
    await pushPatients(t.url, ["m-2"]);
    await t.hub.rotateKey();
    assert.deepEqual(t.hub.store.counts().patients.rows, 2);
  } finally {
    await t.close();
  }
});

Deno.test("backup: keeps the last K and one a day for a week", async () => {
  const t = await hubWithBackups();
  try {
    await t.hub.backups.updateSettings({ keepLast: 2 });
    for (let i = 0; i < 4; i++) {
      await pushPatients(t.url, [`keep-${i}`]);
      await t.hub.backups.backupNow();
    }
    const list = await t.hub.backups.list();
    // The 2 newest; the newest of today is one of them.
    assert.deepEqual(list.length, 2);
    assert.deepEqual(list[0].counts.patients, 4);
  } finally {
    await t.close();
    await Deno.remove(t.backupDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("backup: a killed backup's old temp files are removed, recent ones and backups kept", async () => {
  await using dir = await tempDir();
  const old = join(dir.path, `.hub-backup-file.tmp-${crypto.randomUUID()}`);
  const recent = join(dir.path, `.hub-backup-snapshot.tmp-${crypto.randomUUID()}`);
  const done = join(dir.path, "hub-backup-20260101T000000Z.hubbackup");
  for (const p of [old, recent, done]) await Deno.writeFile(p, new Uint8Array(10));
  const hourAgo = new Date(Date.now() - 3_600_000);
  await Deno.utime(old, hourAgo, hourAgo);
  await Deno.utime(done, hourAgo, hourAgo);
  assert.equal(await removeLeftovers(dir.path), 1);
  assert.deepEqual(
    [...Deno.readDirSync(dir.path)].map((e) => e.name).sort(),
    [recent, done].map((p) => p.split("/").pop()).sort(),
  );
});

Deno.test("cli: --backup-dir and --backup-every", () => {
  const o = parseCli(["--backup-dir", "/media/stick", "--backup-every", "3"]);
  assert.equal(o.backupDir, "/media/stick");
  assert.equal(o.backupEvery, 3);
  assert.equal(parseCli([]).backupEvery, null);
  assert.throws(() => parseCli(["--backup-every", "0"]), /between 1 and 1440/);
  assert.throws(() => parseCli(["--backup-every", "five"]), /whole number/);
  assert.match(HELP, /--backup-dir DIR/);
  assert.match(HELP, /restore --from FILE --data-dir DIR --passphrase-file F/);
});

Deno.test("backup: the health warning comes when changes wait past the threshold for a good backup", async () => {
  const clock = new TestClock(Date.now());
  const t = await hubWithBackups(undefined, clock.now);
  try {
    await pushPatients(t.url, ["s-1"]);
    await t.hub.backups.backupNow();
    // Nothing changed since: an old backup is still a complete one.
    clock.step(3 * 3_600_000);
    let st = (await t.hub.status()).backups!;
    assert.equal(st.stale, false);
    assert.equal(st.warning, null);
    // A change that waits more than an hour (3 intervals of 5 minutes is less) for a backup.
    await pushPatients(t.url, ["s-2"], clock.now());
    clock.step(61 * 60_000);
    st = (await t.hub.status()).backups!;
    assert.equal(st.stale, true);
    assert.match(st.warning ?? "", /last good backup is \d+ minutes old/);
    await t.hub.backups.backupNow();
    st = (await t.hub.status()).backups!;
    assert.equal(st.warning, null);
  } finally {
    await t.close();
    await Deno.remove(t.backupDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("backup: a vault rewritten during the snapshot fails that backup instead of pairing the wrong key", async () => {
  const t = await hubWithBackups();
  try {
    seedPatients(t.hub.store, 20_000, { source: "phone" });
    const vaultPath = join(t.dataDir, "hub.vault");
    const running = t.hub.backups.backupNow();
    // As a key rotation or passphrase change would, while the snapshot is being taken.
    await new Promise((r) => setTimeout(r, 30));
    const text = await Deno.readTextFile(vaultPath);
    await Deno.writeTextFile(vaultPath, text + " ");
    await rejectsCode(() => running, "backup_keys_changed");
    assert.deepEqual(await t.hub.backups.list(), []);
    // The next one is taken as usual.
    await t.hub.backups.backupNow();
    assert.equal((await t.hub.backups.list()).length, 1);
  } finally {
    await t.close();
    await Deno.remove(t.backupDir, { recursive: true }).catch(() => {});
  }
});
