/**
 * The admin API's backup routes (ui/_backup_routes.ts): settings persisted,
 * back up now, the list and status, the live event, and a restore on the
 * first-run screen of a new hub.
 */
import assert from "node:assert/strict";
import { join } from "../../core/mod.ts";
import { Hub } from "../../hub/mod.ts";
import { startAdminServer } from "../../ui/mod.ts";
import {
  ADMIN_TOKEN,
  adminClient,
  loggedInPhone,
  PASSPHRASE,
  patientRow,
  pulledRows,
  startHub,
} from "./_fixtures.ts";
import { OTHER_PASSPHRASE, tempDir, TEST_LOGGER } from "../_helpers.ts";

Deno.test("admin API: backup settings, back up now, list; restore on a new hub", async () => {
  await using dir = await tempDir();
  const t = await startHub();
  const admin = await adminClient(t.hub);
  const backupDir = join(dir.path, "B");
  try {
    // No folder yet: "back up now" says what to do.
    const none = await admin.post("/api/backups");
    assert.equal(none.status, 409);
    assert.equal(none.body.code, "no_backup_folder");
    const put = await fetch(`${admin.server.url}/api/backups/settings`, {
      method: "PUT",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ dir: backupDir, everyMinutes: 10 }),
    });
    assert.equal(put.status, 200);
    assert.deepEqual(await put.json(), { dir: backupDir, everyMinutes: 10, keepLast: 10 });
    const bad = await fetch(`${admin.server.url}/api/backups/settings`, {
      method: "PUT",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ everyMinutes: 0 }),
    });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
    // Settings are kept in the database: a lock and unlock keeps them.
    await t.hub.lock();
    await t.hub.unlock(PASSPHRASE);
    assert.deepEqual(t.hub.backups.settings().everyMinutes, 10);

    const phone = await loggedInPhone(t.url);
    const p = await phone.pull(null);
    await phone.push(p.timestamp, {
      patients: { created: [patientRow("api-1", Date.now())], updated: [], deleted: [] },
    });
    const since = t.hub.events.lastId;
    const now = await admin.post("/api/backups");
    assert.equal(now.status, 200, JSON.stringify(now.body));
    const events = t.hub.events.since(since).events.filter((e) => e.type === "backup");
    assert.deepEqual(events.map((e) => (e.data as { outcome: string }).outcome), ["started", "ok"]);
    const list = await admin.get("/api/backups");
    assert.equal(list.status, 200);
    const backups = list.body.backups as { file: string; counts: Record<string, number> }[];
    assert.equal(backups.length, 1);
    assert.equal(backups[0].counts.patients, 1);
    assert.equal((list.body.lastGood as { file: string }).file, backups[0].file);
    const status = await admin.get("/api/status");
    assert.equal((status.body.backups as { folder: string }).folder, "ok");

    // A new hub on another folder restores it from the first-run screen.
    const other = new Hub({
      dataDir: join(dir.path, "other"),
      version: "test",
      lan: { host: "127.0.0.1", port: 0 },
      logger: TEST_LOGGER,
    });
    await other.init();
    const otherAdmin = await startAdminServer(other, { port: 0, token: ADMIN_TOKEN });
    try {
      const file = await Deno.readFile(join(backupDir, backups[0].file));
      const wrong = await fetch(`${otherAdmin.url}/api/restore`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          "x-backup-passphrase": OTHER_PASSPHRASE,
        },
        body: file,
      });
      assert.equal(wrong.status, 401);
      assert.match((await wrong.json()).error, /passphrase the hub had/);
      assert.equal(other.state, "new");
      const ok = await fetch(`${otherAdmin.url}/api/restore`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "x-backup-passphrase": PASSPHRASE },
        body: file,
      });
      const reply = await ok.json();
      assert.equal(ok.status, 200, JSON.stringify(reply));
      assert.equal(other.state, "unlocked");
      assert.match(reply.status.backups.restored.message, /may be missing/);
      const url = `http://127.0.0.1:${other.server.port}`;
      const phone2 = await loggedInPhone(url);
      const all = await phone2.pull(null);
      assert.ok(pulledRows(all.changes).some((r) => r.row.id === "api-1"));
      // The operator acknowledges the notice: the record stays, marked read.
      const ack = await fetch(`${otherAdmin.url}/api/backups/restored/acknowledge`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      assert.equal(ack.status, 200);
      await ack.body?.cancel();
      const after = (await other.status()).backups!;
      assert.ok(after.restored?.acknowledgedAt);
      // A set-up hub refuses a restore.
      const again = await fetch(`${otherAdmin.url}/api/restore`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "x-backup-passphrase": PASSPHRASE },
        body: file,
      });
      assert.equal(again.status, 409);
      await again.body?.cancel();
    } finally {
      await otherAdmin.close();
      await other.shutdown();
    }
  } finally {
    await admin.server.close();
    await t.close();
  }
});
