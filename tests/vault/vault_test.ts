/**
 * The vault file: round trip, wrong passphrase, passphrase rules, tampering and
 * damage (always a clear `vault_damaged`, never a crash or a silent reset), file
 * mode, and changing the passphrase.
 */
import assert from "node:assert/strict";
import {
  checkNewPassphrase,
  createVault,
  generateSecrets,
  MIN_ITERATIONS,
  openVault,
} from "../../vault/mod.ts";
import {
  captureLogs,
  makeHub,
  OTHER_PASSPHRASE,
  PASSPHRASE,
  rejectsCode,
  tempDir,
  WEAK_VAULT,
} from "../_helpers.ts";

captureLogs();

async function freshVault(dir: string) {
  const path = `${dir}/hub.vault`;
  const secrets = await generateSecrets("Clinic North");
  const vault = await createVault(path, PASSPHRASE, secrets, WEAK_VAULT);
  return { path, secrets, vault };
}

/** The vault document as JSON (the format is plain JSON by design). */
async function readDoc(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(path));
}

/**
 * Recomputes the checksum the way an attacker who read the format would
 * (SHA-256 over header ‖ nonce ‖ body), so the tampering reaches the AEAD check.
 */
async function rechecksum(doc: Record<string, unknown>): Promise<void> {
  const kdf = doc.kdf as { name: string; iterations: number; salt: string };
  const header = new TextEncoder().encode(JSON.stringify({
    format: doc.format,
    version: doc.version,
    kdf: { name: kdf.name, iterations: kdf.iterations, salt: kdf.salt },
    cipher: doc.cipher,
  }));
  const nonce = Uint8Array.fromBase64(doc.nonce as string);
  const body = Uint8Array.fromBase64(doc.body as string);
  const all = new Uint8Array(header.length + nonce.length + body.length);
  all.set(header, 0);
  all.set(nonce, header.length);
  all.set(body, header.length + nonce.length);
  doc.checksum = new Uint8Array(await crypto.subtle.digest("SHA-256", all)).toHex();
}

Deno.test("vault: secrets survive a seal and an open", async () => {
  await using dir = await tempDir();
  const { path, secrets, vault } = await freshVault(dir.path);
  assert.deepEqual(vault.secrets, secrets);
  vault.close();
  const again = await openVault(path, PASSPHRASE);
  assert.deepEqual(again.secrets, secrets);
  assert.match(again.secrets.dbKey, /^[0-9a-f]{64}$/);
  assert.equal(
    Uint8Array.fromBase64(again.secrets.hubPublicKey, { alphabet: "base64url" }).length,
    32,
  );
  // Updates are sealed too and survive a reopen.
  await again.update((s) => {
    s.hubName = "Clinic South";
  });
  again.close();
  assert.equal((await openVault(path, PASSPHRASE)).secrets.hubName, "Clinic South");
});

Deno.test("vault: nothing secret is written in the clear", async () => {
  await using dir = await tempDir();
  const { path, secrets } = await freshVault(dir.path);
  const text = await Deno.readTextFile(path);
  for (const value of [secrets.dbKey, secrets.hubPrivateKey, secrets.jwtKey, secrets.hubName]) {
    assert.ok(!text.includes(value), "a secret appears in the vault file");
  }
  assert.ok(!text.includes(PASSPHRASE));
});

Deno.test("vault: a wrong passphrase is refused with wrong_passphrase", async () => {
  await using dir = await tempDir();
  const { path } = await freshVault(dir.path);
  const err = await rejectsCode(
    () => openVault(path, "not the passphrase at all"),
    "wrong_passphrase",
  );
  assert.equal(err.status, 401);
  // Case and Unicode form matter only as far as NFC: a different case is wrong.
  await rejectsCode(() => openVault(path, PASSPHRASE.toUpperCase()), "wrong_passphrase");
});

Deno.test("vault: passphrases shorter than 12 characters are refused at setup", async () => {
  await using dir = await tempDir();
  const secrets = await generateSecrets();
  for (const short of ["", "short", "elevenchars"]) {
    const err = await rejectsCode(
      () => createVault(`${dir.path}/hub.vault`, short, secrets, WEAK_VAULT),
      "weak_passphrase",
    );
    assert.equal(err.status, 400);
  }
  await rejectsCode(
    () => createVault(`${dir.path}/hub.vault`, " ".repeat(20), secrets, WEAK_VAULT),
    "weak_passphrase",
  );
  assert.equal(checkNewPassphrase("twelve chars"), "twelve chars");
  await assert.rejects(Deno.stat(`${dir.path}/hub.vault`), Deno.errors.NotFound);

  // Through the hub: the refusal leaves nothing behind and the hub still "new".
  const hub = await makeHub({ dataDir: dir.path });
  await rejectsCode(() => hub.setup("elevenchars"), "weak_passphrase");
  assert.equal(hub.state, "new");
  assert.deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name), []);
});

Deno.test("vault: KDF below 600,000 iterations is refused outside tests, and the default is stored", async () => {
  await using dir = await tempDir();
  const secrets = await generateSecrets();
  await rejectsCode(
    () => createVault(`${dir.path}/weak.vault`, PASSPHRASE, secrets, { iterations: 1000 }),
    "weak_kdf",
  );
  const v = await createVault(`${dir.path}/hub.vault`, PASSPHRASE, secrets);
  assert.equal(v.kdf.iterations, MIN_ITERATIONS);
  assert.ok(MIN_ITERATIONS >= 600_000);
  const doc = await readDoc(`${dir.path}/hub.vault`);
  assert.deepEqual(
    {
      name: (doc.kdf as Record<string, unknown>).name,
      it: (doc.kdf as Record<string, unknown>).iterations,
    },
    { name: "PBKDF2-HMAC-SHA512", it: MIN_ITERATIONS },
  );
});

Deno.test("vault: creating over an existing vault is refused", async () => {
  await using dir = await tempDir();
  const { path } = await freshVault(dir.path);
  const before = await Deno.readFile(path);
  await rejectsCode(
    () => createVault(path, OTHER_PASSPHRASE, {} as never, WEAK_VAULT),
    "already_set_up",
  );
  assert.deepEqual(await Deno.readFile(path), before);
});

Deno.test("vault: the file is mode 0600 after create, update and passphrase change", async () => {
  if (Deno.build.os === "windows") return;
  await using dir = await tempDir();
  const { path, vault } = await freshVault(dir.path);
  const mode = async () => (await Deno.stat(path)).mode! & 0o777;
  assert.equal(await mode(), 0o600);
  await vault.update((s) => {
    s.hubName = "x";
  });
  assert.equal(await mode(), 0o600);
  await vault.changePassphrase(OTHER_PASSPHRASE, WEAK_VAULT);
  assert.equal(await mode(), 0o600);
  // Atomic writes leave no temp files behind.
  assert.deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name), ["hub.vault"]);
});

Deno.test("vault: changing the passphrase: the old one fails, the new one opens the same secrets", async () => {
  await using dir = await tempDir();
  const { path, secrets, vault } = await freshVault(dir.path);
  const saltBefore = ((await readDoc(path)).kdf as Record<string, string>).salt;
  await vault.changePassphrase(OTHER_PASSPHRASE, WEAK_VAULT);
  await rejectsCode(() => openVault(path, PASSPHRASE), "wrong_passphrase");
  assert.deepEqual((await openVault(path, OTHER_PASSPHRASE)).secrets, secrets);
  assert.notEqual(((await readDoc(path)).kdf as Record<string, string>).salt, saltBefore);
  // A too-short new passphrase is refused and the current one keeps working.
  await rejectsCode(() => vault.changePassphrase("tooshort", WEAK_VAULT), "weak_passphrase");
  assert.deepEqual((await openVault(path, OTHER_PASSPHRASE)).secrets, secrets);
});

Deno.test("vault: a closed vault refuses access", async () => {
  await using dir = await tempDir();
  const { vault } = await freshVault(dir.path);
  vault.close();
  assert.throws(() => vault.secrets, (e: Error & { code?: string }) => e.code === "locked");
  await rejectsCode(() => vault.update(() => {}), "locked");
});

/** Every way of damaging the file, each a function from the good bytes to bad ones. */
const DAMAGE: [string, (bytes: Uint8Array, doc: Record<string, unknown>) => Promise<Uint8Array>][] =
  [
    ["a flipped byte in the body", (bytes) => {
      const text = new TextDecoder().decode(bytes);
      const at = text.indexOf('"body": "') + 20;
      const out = bytes.slice();
      // Flip between two base64 letters so it stays parseable base64.
      out[at] = out[at] === 0x41 ? 0x42 : 0x41;
      return Promise.resolve(out);
    }],
    ["a flipped bit in the decoded body", (_b, doc) => {
      const body = Uint8Array.fromBase64(doc.body as string);
      body[body.length >> 1] ^= 0x01;
      doc.body = body.toBase64();
      return Promise.resolve(new TextEncoder().encode(JSON.stringify(doc)));
    }],
    ["an edited iteration count in the header", (_b, doc) => {
      (doc.kdf as Record<string, number>).iterations = 1;
      return Promise.resolve(new TextEncoder().encode(JSON.stringify(doc)));
    }],
    ["an edited salt", (_b, doc) => {
      const kdf = doc.kdf as Record<string, string>;
      const salt = Uint8Array.fromBase64(kdf.salt);
      salt[0] ^= 0xff;
      kdf.salt = salt.toBase64();
      return Promise.resolve(new TextEncoder().encode(JSON.stringify(doc)));
    }],
    ["a truncated file (empty)", () => Promise.resolve(new Uint8Array(0))],
    ["a truncated file (10 bytes)", (b) => Promise.resolve(b.slice(0, 10))],
    ["a truncated file (half)", (b) => Promise.resolve(b.slice(0, b.length >> 1))],
    ["a truncated file (last 3 bytes gone)", (b) => Promise.resolve(b.slice(0, b.length - 3))],
    ["random garbage", () => Promise.resolve(crypto.getRandomValues(new Uint8Array(600)))],
    ["JSON of another kind", () => Promise.resolve(new TextEncoder().encode('{"hello":"world"}'))],
    ["JSON null", () => Promise.resolve(new TextEncoder().encode("null"))],
    ["a missing nonce", (_b, doc) => {
      delete doc.nonce;
      return Promise.resolve(new TextEncoder().encode(JSON.stringify(doc)));
    }],
    ["a nonce of the wrong length", async (_b, doc) => {
      doc.nonce = new Uint8Array(8).toBase64();
      await rechecksum(doc);
      return new TextEncoder().encode(JSON.stringify(doc));
    }],
    ["a body that is not base64", (_b, doc) => {
      doc.body = "***not base64***";
      return Promise.resolve(new TextEncoder().encode(JSON.stringify(doc)));
    }],
  ];

for (const [what, damage] of DAMAGE) {
  Deno.test(`vault: ${what} gives vault_damaged, and the file is left as it was`, async () => {
    await using dir = await tempDir();
    const { path } = await freshVault(dir.path);
    const bad = await damage(await Deno.readFile(path), await readDoc(path));
    await Deno.writeFile(path, bad);
    const err = await rejectsCode(() => openVault(path, PASSPHRASE), "vault_damaged");
    assert.match(err.message, /damaged/i);
    assert.match(err.message, /backup/i);
    // No silent reset: the damaged file is untouched.
    assert.deepEqual(await Deno.readFile(path), bad);
  });
}

Deno.test("vault: a damaged vault keeps the hub locked (not reset to new) and untouched", async () => {
  await using dir = await tempDir();
  const hub = await makeHub({ dataDir: dir.path });
  await hub.setup(PASSPHRASE);
  await hub.lock();
  const path = hub.vaultPath;
  const bytes = await Deno.readFile(path);
  const bad = bytes.slice(0, bytes.length - 40);
  await Deno.writeFile(path, bad);
  const db = await Deno.readFile(hub.dbPath);

  const fresh = await makeHub({ dataDir: dir.path });
  assert.equal(fresh.state, "locked");
  await rejectsCode(() => fresh.unlock(PASSPHRASE), "vault_damaged");
  assert.equal(fresh.state, "locked");
  // Damage is not a wrong guess: it does not start the growing delay.
  assert.equal((await fresh.status()).unlockFailures, 0);
  await rejectsCode(() => fresh.setup(PASSPHRASE), "already_set_up");
  assert.deepEqual(await Deno.readFile(path), bad);
  assert.deepEqual(await Deno.readFile(hub.dbPath), db);
});

Deno.test("vault: a tampered body or header with a recomputed checksum still never opens", async () => {
  await using dir = await tempDir();
  const { path } = await freshVault(dir.path);
  const good = await readDoc(path);

  const body = structuredClone(good);
  const b = Uint8Array.fromBase64(body.body as string);
  b[3] ^= 0x80;
  body.body = b.toBase64();
  await rechecksum(body);
  await Deno.writeTextFile(path, JSON.stringify(body));
  // The AEAD cannot tell tampering from a wrong key; either way the seal holds.
  await rejectsCode(() => openVault(path, PASSPHRASE), "wrong_passphrase");

  const header = structuredClone(good);
  (header.kdf as Record<string, number>).iterations += 1;
  await rechecksum(header);
  await Deno.writeTextFile(path, JSON.stringify(header));
  await rejectsCode(() => openVault(path, PASSPHRASE), "wrong_passphrase");

  // And the untouched document, re-serialised, still opens (the checks above are not vacuous).
  await Deno.writeTextFile(path, JSON.stringify(good));
  await openVault(path, PASSPHRASE);
});

Deno.test("vault: a newer format version is reported as unsupported, not damaged", async () => {
  await using dir = await tempDir();
  const { path } = await freshVault(dir.path);
  const doc = await readDoc(path);
  doc.version = 2;
  await Deno.writeTextFile(path, JSON.stringify(doc));
  await rejectsCode(() => openVault(path, PASSPHRASE), "vault_unsupported");
});

Deno.test("vault: a missing vault file says the hub is not set up", async () => {
  await using dir = await tempDir();
  await rejectsCode(() => openVault(`${dir.path}/hub.vault`, PASSPHRASE), "not_set_up");
});
