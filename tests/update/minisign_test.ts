import assert from "node:assert/strict";
import {
  generateKeyPair,
  parsePublicKey,
  parseSecretKey,
  signFile,
  verifyFile,
} from "../../update/mod.ts";
import { minisign } from "../_programs.ts";

// Skipped, with the reason in the name, where Debian's minisign is not installed.
const MINISIGN = minisign();

async function tmp(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "hub-update-" });
}

async function runMinisign(args: string[]): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command(MINISIGN.path ?? "minisign", {
    args,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  })
    .output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout) + d.decode(r.stderr) };
}

Deno.test({
  name: MINISIGN.name(
    "signatures made by Debian's minisign (prehashed and legacy) verify in our code",
  ),
  ignore: MINISIGN.ignore,
  fn: async () => {
    const dir = await tmp();
    const file = `${dir}/hub-1.2.3`;
    await Deno.writeFile(file, randomBytes(300_000));
    assert.deepStrictEqual(
      (await runMinisign(["-G", "-W", "-p", `${dir}/k.pub`, "-s", `${dir}/k.key`])).code,
      0,
    );
    const pk = parsePublicKey(await Deno.readTextFile(`${dir}/k.pub`));
    assert.deepStrictEqual(
      (await runMinisign(["-S", "-W", "-s", `${dir}/k.key`, "-m", file, "-t", "version:1.2.3"]))
        .code,
      0,
    );
    const comment = await verifyFile(file, await Deno.readTextFile(`${file}.minisig`), pk, "1.2.3");
    assert.deepStrictEqual(comment, "version:1.2.3");
    assert.deepStrictEqual(
      (await runMinisign([
        "-S",
        "-l",
        "-W",
        "-s",
        `${dir}/k.key`,
        "-m",
        file,
        "-x",
        `${file}.legacy`,
        "-t",
        "x version:1.2.3",
      ])).code,
      0,
    );
    assert.deepStrictEqual(
      await verifyFile(file, await Deno.readTextFile(`${file}.legacy`), pk, "1.2.3"),
      "x version:1.2.3",
    );
  },
});

Deno.test({
  name: MINISIGN.name("signatures made by our signing script verify with minisign -V"),
  ignore: MINISIGN.ignore,
  fn: async () => {
    const dir = await tmp();
    const gen = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/sign.ts", "keygen", "--out", `${dir}/release`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.deepStrictEqual(gen.code, 0, new TextDecoder().decode(gen.stderr));
    const file = `${dir}/local-sync-hub`;
    await Deno.writeFile(file, randomBytes(100_000));
    const sign = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "scripts/sign.ts",
        "sign",
        "--key",
        `${dir}/release.key`,
        "--version",
        "2.0.0",
        "--base-url",
        "https://updates.example.org/2.0.0",
        "--file",
        `linux-x86_64=${file}`,
        "--manifest",
        `${dir}/latest.json`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.deepStrictEqual(sign.code, 0, new TextDecoder().decode(sign.stderr));
    const v = await runMinisign([
      "-V",
      "-p",
      `${dir}/release.pub`,
      "-m",
      file,
      "-x",
      `${file}.sig`,
    ]);
    assert.deepStrictEqual(v.code, 0, v.out);
    assert.deepStrictEqual(v.out.includes("version:2.0.0"), true);
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/latest.json`));
    assert.deepStrictEqual(manifest.version, "2.0.0");
    const entry = manifest.platforms["linux-x86_64"];
    assert.deepStrictEqual(entry.url, "https://updates.example.org/2.0.0/local-sync-hub");
    assert.deepStrictEqual(
      new TextDecoder().decode(Uint8Array.fromBase64(entry.signature)),
      await Deno.readTextFile(`${file}.sig`),
    );
    // And a tampered file is refused by minisign too.
    await Deno.writeFile(file, new Uint8Array([1, 2, 3]), { append: true });
    assert.deepStrictEqual(
      (await runMinisign(["-V", "-p", `${dir}/release.pub`, "-m", file, "-x", `${file}.sig`]))
        .code !==
        0,
      true,
    );
  },
});

async function signed(version: string) {
  const dir = await tmp();
  const file = `${dir}/hub`;
  await Deno.writeFile(file, randomBytes(50_000));
  const pair = await generateKeyPair();
  const key = parseSecretKey(pair.secretFile);
  const sig = await signFile(file, key, `timestamp:1\tfile:hub\tversion:${version}`);
  return { dir, file, sig, pk: parsePublicKey(pair.publicFile), pair };
}

Deno.test("a tampered file is refused with a clear reason", async () => {
  const s = await signed("1.0.0");
  await Deno.writeFile(s.file, new Uint8Array([0]), { append: true });
  await rejectsWith(() => verifyFile(s.file, s.sig, s.pk, "1.0.0"), "damaged or tampered");
});

Deno.test("a signature from another key is refused (key id)", async () => {
  const s = await signed("1.0.0");
  const other = parsePublicKey((await generateKeyPair()).publicFile);
  await rejectsWith(() => verifyFile(s.file, s.sig, other, "1.0.0"), "key id mismatch");
});

Deno.test("a wrong public key with the right key id is refused (signature)", async () => {
  const s = await signed("1.0.0");
  const other = parsePublicKey((await generateKeyPair()).publicFile);
  const forged = { keyId: s.pk.keyId, publicKey: other.publicKey };
  await rejectsWith(() => verifyFile(s.file, s.sig, forged, "1.0.0"), "tampered");
});

Deno.test("a broken global signature (edited trusted comment) is refused", async () => {
  const s = await signed("1.0.0");
  const lines = s.sig.split("\n");
  lines[2] = lines[2].replace("version:1.0.0", "version:9.9.9");
  await rejectsWith(
    () => verifyFile(s.file, lines.join("\n"), s.pk, "9.9.9"),
    "trusted comment's signature is broken",
  );
  const g = Uint8Array.fromBase64(s.sig.split("\n")[3]);
  g[0] ^= 1;
  const broken = s.sig.split("\n");
  broken[3] = g.toBase64();
  await rejectsWith(
    () => verifyFile(s.file, broken.join("\n"), s.pk, "1.0.0"),
    "trusted comment's signature is broken",
  );
});

Deno.test("a version other than the manifest's is refused", async () => {
  const s = await signed("1.0.0");
  await rejectsWith(
    () => verifyFile(s.file, s.sig, s.pk, "1.0.1"),
    "signature is for version 1.0.0, not 1.0.1",
  );
});

Deno.test("malformed keys and signatures are refused clearly", async () => {
  const s = await signed("1.0.0");
  await rejectsWith(() => verifyFile(s.file, "garbage", s.pk), "not in minisign format");
  await rejectsWith(() => parsePublicKey("not base64!"), "public key");
});

async function rejectsWith(fn: () => Promise<unknown> | unknown, text: string): Promise<void> {
  await assert.rejects(async () => await fn(), (err: Error) => {
    assert.ok(err.message.includes(text), `expected "${text}" in "${err.message}"`);
    return true;
  });
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  }
  return out;
}
