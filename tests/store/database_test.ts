/**
 * The database file: encrypted (no SQLite header, no plaintext), unreadable
 * without the key, and in SQLCipher 4 format. Debian's sqlcipher is version 3
 * and cannot read version 4 files, so the format is checked by hand from the
 * published design (https://www.zetetic.net/sqlcipher/design/): per 4096-byte
 * page, AES-256-CBC with a random IV and an HMAC-SHA512 over ciphertext ‖ IV ‖
 * page number, in an 80-byte reserve at the end of the page; the HMAC key is
 * PBKDF2-HMAC-SHA512(key, salt XOR 0x3a, 2 iterations); the salt is the first 16
 * bytes of page 1. Also: the schema and the connection settings.
 */
import assert from "node:assert/strict";
import { createDecipheriv, createHmac, pbkdf2Sync } from "node:crypto";
import BetterSqlite3 from "better-sqlite3-multiple-ciphers";
import { SCHEMA_VERSION, Store, TABLES } from "../../store/mod.ts";
import {
  captureLogs,
  expectedSnapshot,
  makeHub,
  PASSPHRASE,
  patientSnapshot,
  rejectsCode,
  seedPatients,
  tempDir,
} from "../_helpers.ts";
import { storeConnection } from "../../store/testing.ts";

captureLogs();

const PAGE = 4096;
const RESERVE = 80; // IV (16) + HMAC-SHA512 (64)
const SQLITE_MAGIC = new TextEncoder().encode("SQLite format 3\0");

/** A set-up hub with `rows` patients, locked (WAL checkpointed into the main file). */
async function lockedHubWithRows(dir: string, rows: number) {
  const hub = await makeHub({ dataDir: dir });
  await hub.setup(PASSPHRASE);
  seedPatients(hub.store, rows);
  const key = hub.vault.secrets.dbKey;
  await hub.lock();
  return { hub, key, path: hub.dbPath };
}

/** Opens with better-sqlite3 directly and counts patients; throws if the file does not open. */
function countWith(path: string, setup: (db: BetterSqlite3.Database) => void): number {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    setup(db);
    return (db.prepare("SELECT count(*) AS n FROM patients").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

const sqlcipher4 = (keyHex: string) => (db: BetterSqlite3.Database) => {
  db.pragma("cipher = 'sqlcipher'");
  db.pragma("legacy = 4");
  db.pragma(`key = "x'${keyHex}'"`);
};

/** Checks one page's HMAC as SQLCipher 4 defines it; returns its IV and ciphertext. */
function verifyPage(file: Uint8Array, pgno: number, rawKey: Uint8Array, hmacKey: Uint8Array) {
  const page = file.subarray((pgno - 1) * PAGE, pgno * PAGE);
  const ciphertext = page.subarray(pgno === 1 ? 16 : 0, PAGE - RESERVE);
  const iv = page.subarray(PAGE - RESERVE, PAGE - RESERVE + 16);
  const mac = page.subarray(PAGE - RESERVE + 16, PAGE);
  const pageNo = new Uint8Array(4);
  new DataView(pageNo.buffer).setUint32(0, pgno, true);
  const expected = createHmac("sha512", hmacKey).update(ciphertext).update(iv).update(pageNo)
    .digest();
  const ok = Buffer.compare(expected, Buffer.from(mac)) === 0;
  const decipher = createDecipheriv("aes-256-cbc", rawKey, iv);
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  return { ok, plain };
}

Deno.test("database: the file does not start with the SQLite header and holds no plaintext", async () => {
  await using dir = await tempDir();
  const hub = await makeHub({ dataDir: dir.path });
  await hub.setup(PASSPHRASE);
  seedPatients(hub.store, 300);
  // While unlocked, recent writes sit in the WAL: it must be encrypted too.
  const names = ["Haddad", "Nasser", "Zaatari", "GOV100042", "penicillin", "community health"];
  const haystacks = [await Deno.readFile(hub.dbPath)];
  try {
    haystacks.push(await Deno.readFile(`${hub.dbPath}-wal`));
  } catch {
    // no WAL file yet
  }
  await hub.lock();
  haystacks.push(await Deno.readFile(hub.dbPath));
  const head = haystacks.at(-1)!.subarray(0, 16);
  assert.notDeepEqual(head, SQLITE_MAGIC);
  assert.ok(!new TextDecoder("latin1").decode(head).startsWith("SQLite format 3"));
  for (const bytes of haystacks) {
    const text = new TextDecoder("latin1").decode(bytes);
    for (const n of names) assert.ok(!text.includes(n), `"${n}" is readable in the database files`);
    assert.ok(!text.includes("CREATE TABLE"), "the schema is readable in the database files");
  }
});

Deno.test("database: cannot be opened without the key, with a wrong key, or with the library's default cipher", async () => {
  await using dir = await tempDir();
  const { key, path } = await lockedHubWithRows(dir.path, 120);
  const before = await Deno.readFile(path);
  assert.throws(() => countWith(path, () => {}), /not a database/i);
  const wrong = crypto.getRandomValues(new Uint8Array(32)).toHex();
  assert.throws(() => countWith(path, sqlcipher4(wrong)), /not a database/i);
  // One flipped bit in the key is as good as a random one.
  const nearly = (parseInt(key[0], 16) ^ 1).toString(16) + key.slice(1);
  assert.throws(() => countWith(path, sqlcipher4(nearly)), /not a database/i);
  // better-sqlite3-multiple-ciphers defaults to ChaCha20: the file is not in that format.
  assert.throws(() => countWith(path, (db) => db.pragma(`key = "x'${key}'"`)), /not a database/i);
  // The right key with SQLCipher 4 settings reads it.
  assert.equal(countWith(path, sqlcipher4(key)), 120);
  // The store refuses a wrong key with a code the lifecycle understands, and changes nothing.
  await rejectsCode(() => Store.open(path, wrong), "wrong_db_key");
  assert.deepEqual(await Deno.readFile(path), before);
});

Deno.test("database: an independent check that the file is SQLCipher 4 (HMAC-SHA512, AES-256-CBC, 4096-byte pages)", async () => {
  await using dir = await tempDir();
  const { hub, key, path } = await lockedHubWithRows(dir.path, 2000);
  const file = await Deno.readFile(path);
  assert.equal(file.length % PAGE, 0, "file size is not a whole number of 4096-byte pages");
  const rawKey = Uint8Array.fromHex(key);
  const salt = file.subarray(0, 16);
  const hmacKey = pbkdf2Sync(rawKey, salt.map((b) => b ^ 0x3a), 2, 32, "sha512");

  // Page 1: HMAC verifies, and the plaintext is the rest of an SQLite header page.
  const first = verifyPage(file, 1, rawKey, hmacKey);
  assert.ok(first.ok, "page 1 HMAC-SHA512 does not verify");
  const p = first.plain; // p[i] is byte 16 + i of the SQLite database header
  assert.equal((p[0] << 8) | p[1], 0x1000, "page size in the header is not 4096");
  assert.ok(p[2] === 1 || p[2] === 2, "write version is not legacy or WAL");
  assert.equal(p[4], RESERVE, "reserved bytes per page are not 80");
  assert.deepEqual([p[5], p[6], p[7]], [64, 32, 32], "payload fractions are not SQLite's");
  const pageCount = new DataView(p.buffer, p.byteOffset).getUint32(28 - 16);
  assert.equal(pageCount, file.length / PAGE, "header page count differs from the file size");
  const schemaFormat = new DataView(p.buffer, p.byteOffset).getUint32(44 - 16);
  assert.equal(schemaFormat, 4);
  // After the 100-byte header, page 1 is the schema's b-tree page (interior or leaf table).
  assert.ok([0x05, 0x0d].includes(p[100 - 16]), "page 1 does not hold a table b-tree page");

  // Every other page: HMAC verifies with its own number and decrypts to a b-tree page
  // (or a free/overflow page, which has no type byte).
  let btree = 0;
  for (let n = 2; n <= file.length / PAGE; n++) {
    const page = verifyPage(file, n, rawKey, hmacKey);
    assert.ok(page.ok, `page ${n} HMAC-SHA512 does not verify`);
    if ([0x02, 0x05, 0x0a, 0x0d].includes(page.plain[0])) btree++;
  }
  assert.ok(btree > file.length / PAGE / 2, "most pages do not decrypt to b-tree pages");

  // The check is not vacuous: a wrong key fails it, and so does a page number mix-up.
  const wrongHmac = pbkdf2Sync(crypto.getRandomValues(new Uint8Array(32)), salt, 2, 32, "sha512");
  assert.equal(verifyPage(file, 1, rawKey, wrongHmac).ok, false);
  const swapped = file.slice();
  swapped.set(file.subarray(2 * PAGE, 3 * PAGE), PAGE); // page 3's bytes at page 2
  assert.equal(verifyPage(swapped, 2, rawKey, hmacKey).ok, false);

  // The same holds after a key rotation (the rotation keeps the SQLCipher 4 format).
  await hub.unlock(PASSPHRASE);
  await hub.rotateKey();
  const rotated = hub.vault.secrets.dbKey;
  await hub.lock();
  const file2 = await Deno.readFile(path);
  const raw2 = Uint8Array.fromHex(rotated);
  const hmac2 = pbkdf2Sync(raw2, file2.subarray(0, 16).map((b) => b ^ 0x3a), 2, 32, "sha512");
  for (let n = 1; n <= file2.length / PAGE; n++) {
    assert.ok(verifyPage(file2, n, raw2, hmac2).ok, `page ${n} after rotation does not verify`);
  }
  assert.equal(verifyPage(file2, 1, raw2, hmac2).plain[0] << 8, 0x1000);
});

/** Reads every row of every table and runs the integrity check; throws on any failure. */
function readEverything(path: string, keyHex: string): void {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    sqlcipher4(keyHex)(db);
    for (const t of TABLES.keys()) db.prepare(`SELECT * FROM "${t}"`).all();
    const check = db.pragma("integrity_check", { simple: true });
    if (check !== "ok") throw new Error(`integrity_check failed: ${String(check).slice(0, 200)}`);
  } finally {
    db.close();
  }
}

Deno.test("database: a changed byte anywhere in a page is detected, not read as data", async () => {
  await using dir = await tempDir();
  const { key, path } = await lockedHubWithRows(dir.path, 2000);
  readEverything(path, key); // the untouched file reads fine
  const file = await Deno.readFile(path);
  const pages = file.length / PAGE;
  for (const at of [(pages - 1) * PAGE + 100, 5 * PAGE + PAGE - 30, 2 * PAGE + 4000]) {
    const bad = file.slice();
    bad[at] ^= 0x01; // ciphertext, HMAC, IV respectively
    await Deno.writeFile(path, bad);
    assert.throws(
      () => readEverything(path, key),
      /malformed|not a database|corrupt|integrity_check failed/i,
    );
  }
});

Deno.test("database: WAL with synchronous=FULL, migrations to the current version, STRICT tables", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/hub.db`;
  const key = "3c".repeat(32);
  let store = Store.open(path, key);
  try {
    assert.equal(storeConnection(store).pragma("journal_mode", { simple: true }), "wal");
    assert.equal(storeConnection(store).pragma("synchronous", { simple: true }), 2); // FULL
    assert.equal(storeConnection(store).pragma("user_version", { simple: true }), SCHEMA_VERSION);
    const list = storeConnection(store).prepare(
      "SELECT name, strict FROM pragma_table_list WHERE schema = 'main'",
    )
      .all() as { name: string; strict: number }[];
    const strict = new Map(list.map((r) => [r.name, r.strict]));
    for (const t of TABLES.keys()) {
      assert.equal(strict.get(t), 1, `table ${t} is missing or not STRICT`);
      const cols = storeConnection(store).prepare("SELECT name FROM pragma_table_info(?)").pluck()
        .all(t);
      for (
        const c of [
          "local_server_created_at",
          "local_server_last_modified_at",
          "local_server_deleted_at",
          "local_server_pending",
        ]
      ) assert.ok(cols.includes(c), `${t} lacks ${c}`);
    }
    for (const t of ["hub_meta", "devices", "conflicts", "tombstones"]) {
      assert.equal(strict.get(t), 1, `hub table ${t} is missing or not STRICT`);
    }
    seedPatients(store, 10);
  } finally {
    store.close();
  }
  // Reopening runs nothing twice and keeps the data.
  store = Store.open(path, key);
  try {
    assert.equal(storeConnection(store).pragma("user_version", { simple: true }), SCHEMA_VERSION);
    assert.deepEqual(patientSnapshot(store), expectedSnapshot(10));
    // A database from a newer hub is refused rather than half-understood.
    storeConnection(store).pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  } finally {
    store.close();
  }
  assert.throws(() => Store.open(path, key), /newer hub/);
});
