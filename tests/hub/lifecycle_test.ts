/**
 * The hub's lifecycle: setup, lock/unlock, the growing delay on wrong
 * passphrases, rotate key, change passphrase, clear and reset, each checked by
 * what an operator (or a phone) would notice: the state, the rows, the errors.
 */
import assert from "node:assert/strict";
import BetterSqlite3 from "better-sqlite3-multiple-ciphers";
import { LOCKED_MESSAGE } from "../../core/mod.ts";
import { MAX_DELAY_MS, PassphraseThrottle } from "../../hub/mod.ts";
import { openVault } from "../../vault/mod.ts";
import {
  captureLogs,
  expectedSnapshot,
  makeHub,
  manualClock,
  OTHER_PASSPHRASE,
  PASSPHRASE,
  patientSnapshot,
  rejectsCode,
  seedPatients,
  tempDir,
} from "../_helpers.ts";

const logs = captureLogs();

/** True when `keyHex` opens the SQLCipher 4 file at `path` (checked outside the store). */
function keyOpens(path: string, keyHex: string): boolean {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    db.pragma("cipher = 'sqlcipher'");
    db.pragma("legacy = 4");
    db.pragma(`key = "x'${keyHex}'"`);
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    return true;
  } catch {
    return false;
  } finally {
    db.close();
  }
}

Deno.test("hub: a new hub is 'new'; setup makes it unlocked with both files", async () => {
  await using dir = await tempDir();
  const hub = await makeHub({ dataDir: `${dir.path}/nested/data` });
  assert.equal(hub.state, "new");
  await rejectsCode(() => hub.store, "locked");
  await rejectsCode(() => hub.unlock(PASSPHRASE), "not_set_up");
  await hub.setup(PASSPHRASE);
  assert.equal(hub.state, "unlocked");
  const status = await hub.status();
  assert.equal(status.state, "unlocked");
  assert.ok(status.hub);
  assert.match(status.hub.fingerprint, /^[0-9A-F]{4}(-[0-9A-F]{4}){3}$/);
  assert.equal(status.counts?.patients.rows, 0);
  await Deno.stat(hub.vaultPath);
  await Deno.stat(hub.dbPath);
  await rejectsCode(() => hub.setup(PASSPHRASE), "already_set_up");
  await hub.shutdown();
});

Deno.test("hub: lock closes the store (locked error), unlock brings every row back", async () => {
  await using dir = await tempDir();
  const hub = await makeHub({ dataDir: dir.path });
  await hub.setup(PASSPHRASE);
  seedPatients(hub.store, 250);
  const store = hub.store;
  await hub.lock();
  assert.equal(hub.state, "locked");
  const err = await rejectsCode(() => hub.store, "locked");
  assert.equal(err.status, 423);
  assert.equal(err.message, LOCKED_MESSAGE);
  await rejectsCode(() => hub.vault, "locked");
  assert.equal(store.closed, true);
  // The closed connection itself refuses work (the key left memory with it).
  assert.throws(() => store.devices.list());
  assert.equal((await hub.status()).counts, null);
  assert.equal((await hub.status()).hub, null);

  // A fresh process (new Hub object) sees a locked hub.
  const again = await makeHub({ dataDir: dir.path });
  assert.equal(again.state, "locked");
  await again.unlock(PASSPHRASE);
  assert.equal(again.state, "unlocked");
  assert.deepEqual(patientSnapshot(again.store), expectedSnapshot(250));
  await again.unlock(PASSPHRASE); // unlocking an unlocked hub is a no-op
  await again.shutdown();
});

Deno.test("hub: a wrong passphrase is refused, and the next try right after gets too_many_attempts", async () => {
  await using dir = await tempDir();
  const clock = manualClock();
  const hub = await makeHub({ dataDir: dir.path, now: clock.now });
  await hub.setup(PASSPHRASE);
  await hub.lock();

  const wrong = await rejectsCode(() => hub.unlock("definitely not it"), "wrong_passphrase");
  assert.equal(wrong.status, 401);
  assert.equal(wrong.details?.retryAfterSeconds, 1);
  assert.equal(hub.state, "locked");
  // Immediately after, even the right passphrase is held back, and the reply says for how long.
  const held = await rejectsCode(() => hub.unlock(PASSPHRASE), "too_many_attempts");
  assert.equal(held.status, 429);
  assert.equal(held.details?.retryAfterSeconds, 1);
  assert.match(held.message, /try again in 1 s/i);
  assert.equal(hub.state, "locked");

  // The delay grows with each failure in a row: 1 s, 2 s, 4 s.
  clock.t += 1000;
  await rejectsCode(() => hub.unlock("wrong again, sorry"), "wrong_passphrase");
  clock.t += 1000;
  const second = await rejectsCode(() => hub.unlock(PASSPHRASE), "too_many_attempts");
  assert.equal(second.details?.retryAfterSeconds, 1);
  clock.t += 1000;
  const third = await rejectsCode(() => hub.unlock("third wrong guess"), "wrong_passphrase");
  assert.equal(third.details?.retryAfterSeconds, 4);
  assert.equal((await hub.status()).unlockFailures, 3);
  clock.t += 3999;
  await rejectsCode(() => hub.unlock(PASSPHRASE), "too_many_attempts");
  clock.t += 1;
  await hub.unlock(PASSPHRASE);
  assert.equal(hub.state, "unlocked");
  // Success resets the count.
  assert.equal((await hub.status()).unlockFailures, 0);
  // The log says it happened without logging the guess.
  assert.ok(logs.some((l) => l.includes("hub.wrong_passphrase")));
  assert.ok(!logs.some((l) => l.includes("third wrong guess")));
  await hub.shutdown();
});

Deno.test("hub: the passphrase throttle doubles up to its cap", () => {
  const clock = manualClock();
  const t = new PassphraseThrottle(clock.now);
  t.check();
  const delays: number[] = [];
  for (let i = 0; i < 12; i++) delays.push(t.fail());
  assert.deepEqual(delays.slice(0, 5), [1000, 2000, 4000, 8000, 16000]);
  assert.equal(delays.at(-1), MAX_DELAY_MS);
  assert.ok(delays.every((d, i) => i === 0 || d >= delays[i - 1]));
  assert.throws(() => t.check(), (e: Error & { code?: string }) => e.code === "too_many_attempts");
  clock.t += MAX_DELAY_MS;
  t.check();
  t.succeed();
  assert.equal(t.failures, 0);
});

Deno.test("hub: wrong passphrases on change-passphrase and clear count towards the delay", async () => {
  await using dir = await tempDir();
  const clock = manualClock();
  const hub = await makeHub({ dataDir: dir.path, now: clock.now });
  await hub.setup(PASSPHRASE);
  await rejectsCode(
    () => hub.changePassphrase("guess number one", OTHER_PASSPHRASE),
    "wrong_passphrase",
  );
  await rejectsCode(() => hub.clear(PASSPHRASE), "too_many_attempts");
  clock.t += 1000;
  await rejectsCode(() => hub.clear("guess number two"), "wrong_passphrase");
  await rejectsCode(() => hub.changePassphrase(PASSPHRASE, OTHER_PASSPHRASE), "too_many_attempts");
  // Nothing changed: the old passphrase still opens the vault.
  await openVault(hub.vaultPath, PASSPHRASE);
  await hub.shutdown();
});

Deno.test("hub: rotate key re-encrypts under a new key and keeps every row", async () => {
  await using dir = await tempDir();
  const hub = await makeHub({ dataDir: dir.path });
  await hub.setup(PASSPHRASE);
  seedPatients(hub.store, 3000, { source: "phone" });
  const oldKey = hub.vault.secrets.dbKey;
  const result = await hub.rotateKey();
  assert.equal(typeof result.durationMs, "number");
  const newKey = hub.vault.secrets.dbKey;
  assert.notEqual(newKey, oldKey);
  assert.equal(hub.vault.secrets.pendingDbKey, undefined);
  // The open store keeps working, and writes after the rotation stick.
  assert.deepEqual(patientSnapshot(hub.store), expectedSnapshot(3000));
  seedPatients(hub.store, 10, { prefix: "after" });
  await hub.rotateKey();
  const newest = hub.vault.secrets.dbKey;
  await hub.lock();

  assert.equal(keyOpens(hub.dbPath, oldKey), false, "the old key still opens the database");
  assert.equal(keyOpens(hub.dbPath, newKey), false, "the previous key still opens the database");
  assert.equal(keyOpens(hub.dbPath, newest), true, "the current key does not open the database");
  // The vault on disk holds the current key and nothing pending.
  const sealed = (await openVault(hub.vaultPath, PASSPHRASE)).secrets;
  assert.equal(sealed.dbKey, newest);
  assert.equal(sealed.pendingDbKey, undefined);

  await hub.unlock(PASSPHRASE);
  assert.deepEqual(
    patientSnapshot(hub.store),
    [...expectedSnapshot(3000), ...expectedSnapshot(10, "after")].sort(),
  );
  // Pending-for-cloud marks survive too.
  assert.equal(hub.store.pendingCloud().count, 3000);
  await hub.shutdown();
});

Deno.test("hub: rotate key and the other data calls need an unlocked hub", async () => {
  await using dir = await tempDir();
  const hub = await makeHub({ dataDir: dir.path });
  await hub.setup(PASSPHRASE);
  await hub.lock();
  await rejectsCode(() => hub.rotateKey(), "locked");
  await rejectsCode(() => hub.changePassphrase(PASSPHRASE, OTHER_PASSPHRASE), "locked");
  await rejectsCode(() => hub.clear(PASSPHRASE, true), "locked");
});

Deno.test("hub: an unlock finishes a rotation that was cut short after the rekey", async () => {
  await using dir = await tempDir();
  const hub = await makeHub({ dataDir: dir.path });
  await hub.setup(PASSPHRASE);
  seedPatients(hub.store, 100);
  // Simulate a crash between step 2 (database rekeyed) and step 3 (vault updated).
  const next = crypto.getRandomValues(new Uint8Array(32)).toHex();
  await hub.vault.update((v) => {
    v.pendingDbKey = next;
  });
  hub.store.rekey(next);
  await hub.lock();

  const again = await makeHub({ dataDir: dir.path });
  await again.unlock(PASSPHRASE);
  assert.deepEqual(patientSnapshot(again.store), expectedSnapshot(100));
  await again.lock();
  const sealed = (await openVault(hub.vaultPath, PASSPHRASE)).secrets;
  assert.equal(sealed.dbKey, next);
  assert.equal(sealed.pendingDbKey, undefined);
});

Deno.test("hub: an unlock drops a pending key that was never applied", async () => {
  await using dir = await tempDir();
  const hub = await makeHub({ dataDir: dir.path });
  await hub.setup(PASSPHRASE);
  seedPatients(hub.store, 100);
  const key = hub.vault.secrets.dbKey;
  await hub.vault.update((v) => {
    v.pendingDbKey = crypto.getRandomValues(new Uint8Array(32)).toHex();
  });
  await hub.lock();
  const again = await makeHub({ dataDir: dir.path });
  await again.unlock(PASSPHRASE);
  assert.deepEqual(patientSnapshot(again.store), expectedSnapshot(100));
  await again.lock();
  const sealed = (await openVault(hub.vaultPath, PASSPHRASE)).secrets;
  assert.equal(sealed.dbKey, key);
  assert.equal(sealed.pendingDbKey, undefined);
});

Deno.test("hub: change passphrase keeps every row; the old passphrase stops working", async () => {
  await using dir = await tempDir();
  const hub = await makeHub({ dataDir: dir.path });
  await hub.setup(PASSPHRASE);
  seedPatients(hub.store, 500);
  const dbBefore = hub.vault.secrets.dbKey;
  await rejectsCode(() => hub.changePassphrase(PASSPHRASE, "too short"), "weak_passphrase");
  await hub.changePassphrase(PASSPHRASE, OTHER_PASSPHRASE);
  assert.equal(hub.state, "unlocked");
  await hub.lock();

  const again = await makeHub({ dataDir: dir.path });
  await rejectsCode(() => again.unlock(PASSPHRASE), "wrong_passphrase");
  const third = await makeHub({ dataDir: dir.path });
  await third.unlock(OTHER_PASSPHRASE);
  assert.deepEqual(patientSnapshot(third.store), expectedSnapshot(500));
  // Only the vault was re-sealed: the database key is the same.
  assert.equal(third.vault.secrets.dbKey, dbBefore);
  await third.shutdown();
});

Deno.test("hub: clear refuses while changes wait for the cloud, unless forced, and reports what it deleted", async () => {
  await using dir = await tempDir();
  const clock = manualClock();
  const hub = await makeHub({ dataDir: dir.path, now: clock.now });
  await hub.setup(PASSPHRASE);
  seedPatients(hub.store, 40, { source: "cloud", prefix: "c" });
  seedPatients(hub.store, 7, { source: "phone", prefix: "ph" });
  assert.equal(hub.store.pendingCloud().count, 7);

  await rejectsCode(() => hub.clear("not my passphrase"), "wrong_passphrase");
  clock.t += 1000; // wait out the delay the wrong guess imposed
  const refused = await rejectsCode(() => hub.clear(PASSPHRASE), "changes_pending");
  assert.equal(refused.status, 409);
  assert.equal(refused.details?.pending, 7);
  assert.equal(hub.store.counts().patients.rows, 47, "a refused clear deleted rows");

  const { deleted } = await hub.clear(PASSPHRASE, true);
  assert.equal(deleted.patients, 47);
  assert.equal(deleted.visits, 0);
  assert.equal(hub.store.counts().patients.rows, 0);
  assert.equal(hub.store.pendingCloud().count, 0);
  // The clock never goes back after a clear (phones' cursors stay valid).
  const before = hub.store.clock.current();
  assert.ok(hub.store.clock.next() > before);
  await hub.shutdown();
});

Deno.test("hub: clear without pending changes needs no force", async () => {
  await using dir = await tempDir();
  const hub = await makeHub({ dataDir: dir.path });
  await hub.setup(PASSPHRASE);
  seedPatients(hub.store, 25, { source: "cloud" });
  hub.store.setMeta("cloud.watermark", "12345");
  const { deleted } = await hub.clear(PASSPHRASE);
  assert.equal(deleted.patients, 25);
  assert.equal(hub.store.getMeta("cloud.watermark"), undefined);
  await hub.shutdown();
});

Deno.test("hub: reset needs the word RESET, then the hub is new and can be set up again", async () => {
  await using dir = await tempDir();
  const hub = await makeHub({ dataDir: dir.path });
  await hub.setup(PASSPHRASE);
  seedPatients(hub.store, 30);
  const oldId = (await hub.status()).hub!.id;
  await hub.lock();
  for (const word of ["", "reset", "yes", "RESET "]) {
    await rejectsCode(() => hub.reset(word), "confirm_required");
    assert.equal(hub.state, "locked");
  }
  await Deno.stat(hub.vaultPath);

  await hub.reset("RESET");
  assert.equal(hub.state, "new");
  await assert.rejects(Deno.stat(hub.vaultPath), Deno.errors.NotFound);
  await assert.rejects(Deno.stat(hub.dbPath), Deno.errors.NotFound);
  const fresh = await makeHub({ dataDir: dir.path });
  assert.equal(fresh.state, "new");

  await hub.setup(OTHER_PASSPHRASE);
  assert.equal(hub.store.counts().patients.rows, 0);
  assert.notEqual((await hub.status()).hub!.id, oldId);
  await hub.shutdown();
});

Deno.test("hub: reset works on an unlocked hub with a running LAN server", async () => {
  await using dir = await tempDir();
  const hub = await makeHub({ dataDir: dir.path });
  await hub.setup(PASSPHRASE);
  await hub.startServer();
  assert.equal(hub.server.running, true);
  await hub.reset("RESET");
  assert.equal(hub.state, "new");
  assert.equal(hub.server.running, false);
  await rejectsCode(() => hub.store, "locked");
  await rejectsCode(() => hub.startServer(), "not_set_up");
});

Deno.test("hub: setup moves an orphaned database aside instead of deleting or reusing it", async () => {
  await using dir = await tempDir();
  const hub = await makeHub({ dataDir: dir.path });
  await hub.setup(PASSPHRASE);
  seedPatients(hub.store, 5);
  await hub.lock();
  await Deno.remove(hub.vaultPath); // vault lost; the database can never be read again
  const orphan = await Deno.readFile(hub.dbPath);
  const fresh = await makeHub({ dataDir: dir.path });
  assert.equal(fresh.state, "new");
  await fresh.setup(OTHER_PASSPHRASE);
  assert.equal(fresh.store.counts().patients.rows, 0);
  const kept = [...Deno.readDirSync(dir.path)].map((e) => e.name).filter((n) =>
    n.startsWith("hub.db.orphaned-")
  );
  assert.equal(kept.length, 1);
  assert.deepEqual(await Deno.readFile(`${dir.path}/${kept[0]}`), orphan);
  await fresh.shutdown();
});

Deno.test("hub: a missing database next to a vault is a clear error, not a fresh empty database", async () => {
  await using dir = await tempDir();
  const hub = await makeHub({ dataDir: dir.path });
  await hub.setup(PASSPHRASE);
  await hub.lock();
  await Deno.remove(hub.dbPath);
  await rejectsCode(() => hub.unlock(PASSPHRASE), "db_missing");
  assert.equal(hub.state, "locked");
  await assert.rejects(Deno.stat(hub.dbPath), Deno.errors.NotFound);
});

Deno.test("hub: lifecycle calls run one at a time (an unlock racing a lock leaves a consistent state)", async () => {
  await using dir = await tempDir();
  const hub = await makeHub({ dataDir: dir.path });
  await hub.setup(PASSPHRASE);
  seedPatients(hub.store, 50);
  await hub.lock();
  const results = await Promise.allSettled([
    hub.unlock(PASSPHRASE),
    hub.rotateKey(),
    hub.lock(),
    hub.unlock(PASSPHRASE),
  ]);
  assert.deepEqual(results.map((r) => r.status), [
    "fulfilled",
    "fulfilled",
    "fulfilled",
    "fulfilled",
  ]);
  assert.equal(hub.state, "unlocked");
  assert.deepEqual(patientSnapshot(hub.store), expectedSnapshot(50));
  await hub.shutdown();
});
