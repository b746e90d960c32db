/**
 * minisign signatures (SPEC §9), verified and made with WebCrypto Ed25519 and
 * BLAKE2b-512 from @noble/hashes (WebCrypto has no BLAKE2b).
 *
 * Public key line: base64("Ed" ‖ key_id(8) ‖ ed25519_pk(32)).
 * Signature file: line 1 untrusted comment; line 2 base64(alg(2) ‖ key_id(8) ‖ sig(64)),
 * alg "ED" signs BLAKE2b-512(file), legacy "Ed" the raw file; line 3
 * "trusted comment: …"; line 4 base64(global sig over sig(64) ‖ trusted comment text).
 */
import { blake2b } from "@noble/hashes/blake2.js";
import { fromB64, HubError, toB64 } from "../core/mod.ts";

/** A parsed minisign public key. */
export interface MinisignPublicKey {
  keyId: Uint8Array;
  publicKey: Uint8Array<ArrayBuffer>;
}

/** A parsed minisign signature file. */
export interface MinisignSignature {
  algorithm: "ED" | "Ed";
  keyId: Uint8Array;
  signature: Uint8Array<ArrayBuffer>;
  trustedComment: string;
  globalSignature: Uint8Array<ArrayBuffer>;
}

function refused(reason: string): HubError {
  return new HubError("bad_signature", 400, `Update refused: ${reason}.`);
}

/**
 * Parses a public key given as the base64 line or a whole `.pub` file.
 *
 * @example
 * ```ts
 * import { generateKeyPair, parsePublicKey } from "./mod.ts";
 *
 * const { publicFile } = await generateKeyPair();
 * const key = parsePublicKey(publicFile); // or just its second line, "RW..."
 * key.keyId.length; // 8
 * key.publicKey.length; // 32
 * ```
 */
export function parsePublicKey(text: string): MinisignPublicKey {
  const line =
    text.split(/\r?\n/).map((l) => l.trim()).filter((l) =>
      l && !l.startsWith("untrusted comment:")
    )[0] ?? "";
  let raw: Uint8Array;
  try {
    raw = fromB64(line);
  } catch {
    throw refused("the public key is not valid base64");
  }
  if (raw.length !== 42 || raw[0] !== 0x45 || raw[1] !== 0x64) {
    throw refused("the public key is not a minisign Ed25519 key");
  }
  return { keyId: raw.slice(2, 10), publicKey: raw.slice(10, 42) };
}

/**
 * Parses a `.minisig` file's text.
 *
 * @example
 * ```ts
 * import { parseSignature } from "./mod.ts";
 *
 * const sig = parseSignature(await Deno.readTextFile("dist/local-sync-hub-linux-x86_64.sig"));
 * sig.algorithm; // "ED" (BLAKE2b-prehashed)
 * sig.trustedComment; // "timestamp:1763629200\tfile:local-sync-hub-linux-x86_64\tversion:1.5.0"
 * ```
 */
export function parseSignature(text: string): MinisignSignature {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  if (lines.length < 4 || !lines[0].startsWith("untrusted comment:")) {
    throw refused("the signature file is not in minisign format");
  }
  const prefix = "trusted comment: ";
  if (!lines[2].startsWith(prefix)) throw refused("the signature has no trusted comment");
  let sigLine: Uint8Array<ArrayBuffer>;
  let global: Uint8Array<ArrayBuffer>;
  try {
    sigLine = fromB64(lines[1].trim());
    global = fromB64(lines[3].trim());
  } catch {
    throw refused("the signature is not valid base64");
  }
  if (sigLine.length !== 74 || global.length !== 64) {
    throw refused("the signature has the wrong length");
  }
  const alg = String.fromCharCode(sigLine[0], sigLine[1]);
  if (alg !== "ED" && alg !== "Ed") throw refused(`unknown signature algorithm ${alg}`);
  return {
    algorithm: alg,
    keyId: sigLine.slice(2, 10),
    signature: sigLine.slice(10, 74),
    trustedComment: lines[2].slice(prefix.length),
    globalSignature: global,
  };
}

/** BLAKE2b-512 of a file read in chunks (no whole-file copy). */
export async function blake2bFile(path: string): Promise<Uint8Array<ArrayBuffer>> {
  const h = blake2b.create({ dkLen: 64 });
  using f = await Deno.open(path, { read: true });
  for await (const chunk of f.readable) h.update(chunk);
  return new Uint8Array(h.digest());
}

async function ed25519Verify(
  pk: Uint8Array<ArrayBuffer>,
  sig: Uint8Array<ArrayBuffer>,
  msg: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  const key = await crypto.subtle.importKey("raw", pk, { name: "Ed25519" }, false, ["verify"]);
  return await crypto.subtle.verify({ name: "Ed25519" }, key, sig, msg);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Verifies a file against a minisign signature and public key: key id, file
 * signature (prehashed or legacy), global signature over the trusted comment,
 * and — when `expectedVersion` is given — `version:` in the trusted comment.
 * Throws `bad_signature` with the reason; returns the trusted comment.
 *
 * @example
 * ```ts
 * import { parsePublicKey, verifyFile } from "./mod.ts";
 *
 * const publicKey = parsePublicKey(await Deno.readTextFile("release.pub"));
 * const sigText = await Deno.readTextFile("dist/local-sync-hub-linux-x86_64.sig");
 * await verifyFile("dist/local-sync-hub-linux-x86_64", sigText, publicKey, "1.5.0");
 * // "timestamp:1763629200\tfile:local-sync-hub-linux-x86_64\tversion:1.5.0";
 * // with "1.6.0" instead: HubError `bad_signature` ("the signature is for version 1.5.0, ...")
 * ```
 */
export async function verifyFile(
  path: string,
  signatureText: string,
  publicKey: MinisignPublicKey,
  expectedVersion?: string,
): Promise<string> {
  const sig = parseSignature(signatureText);
  if (!equalBytes(sig.keyId, publicKey.keyId)) {
    throw refused("it was signed with a different key (key id mismatch)");
  }
  const message = sig.algorithm === "ED"
    ? await blake2bFile(path)
    : new Uint8Array(await Deno.readFile(path));
  if (!(await ed25519Verify(publicKey.publicKey, sig.signature, message))) {
    throw refused("the file does not match its signature (damaged or tampered)");
  }
  const comment = new TextEncoder().encode(sig.trustedComment);
  const global = new Uint8Array(64 + comment.length);
  global.set(sig.signature, 0);
  global.set(comment, 64);
  if (!(await ed25519Verify(publicKey.publicKey, sig.globalSignature, global))) {
    throw refused("the trusted comment's signature is broken");
  }
  if (expectedVersion !== undefined) {
    const m = /(?:^|\s)version:(\S+)/.exec(sig.trustedComment);
    if (!m) throw refused("the trusted comment names no version");
    if (m[1] !== expectedVersion) {
      throw refused(`the signature is for version ${m[1]}, not ${expectedVersion}`);
    }
  }
  return sig.trustedComment;
}

/** An Ed25519 signing key in minisign's terms. */
export interface MinisignSecretKey {
  keyId: Uint8Array;
  /** 32-byte Ed25519 seed. */
  seed: Uint8Array;
  publicKey: Uint8Array;
}

const ED25519_PKCS8_PREFIX = Uint8Array.fromHex("302e020100300506032b657004220420");

async function signingKey(seed: Uint8Array): Promise<CryptoKey> {
  const pkcs8 = new Uint8Array(48);
  pkcs8.set(ED25519_PKCS8_PREFIX, 0);
  pkcs8.set(seed, 16);
  return await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
}

/**
 * Makes a new key pair; returns the minisign public key file and the secret key file texts.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from "./mod.ts";
 *
 * const { publicFile, secretFile } = await generateKeyPair();
 * await Deno.writeTextFile("release.pub", publicFile);
 * await Deno.writeTextFile("release.key", secretFile, { mode: 0o600 });
 * ```
 */
export async function generateKeyPair(): Promise<{ publicFile: string; secretFile: string }> {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  const seed = Uint8Array.fromBase64(jwk.d!, { alphabet: "base64url" });
  const pk = Uint8Array.fromBase64(jwk.x!, { alphabet: "base64url" });
  const keyId = crypto.getRandomValues(new Uint8Array(8));
  return {
    publicFile: publicKeyFile({ keyId, seed, publicKey: pk }),
    secretFile: secretKeyFile({ keyId, seed, publicKey: pk }),
  };
}

function keyIdHex(keyId: Uint8Array): string {
  return [...keyId].reverse().map((b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
}

/**
 * The `.pub` file text of a key.
 *
 * @example
 * ```ts
 * import { parseSecretKey, publicKeyFile } from "./mod.ts";
 *
 * const key = parseSecretKey(await Deno.readTextFile("release.key"));
 * publicKeyFile(key);
 * // "untrusted comment: minisign public key <key id>\nRW...\n" (the matching release.pub)
 * ```
 */
export function publicKeyFile(key: MinisignSecretKey): string {
  const raw = new Uint8Array(42);
  raw.set([0x45, 0x64], 0);
  raw.set(key.keyId, 2);
  raw.set(key.publicKey, 10);
  return `untrusted comment: minisign public key ${keyIdHex(key.keyId)}\n${toB64(raw)}\n`;
}

/**
 * An unencrypted minisign secret key file (as `minisign -G -W` writes):
 * "Ed" ‖ kdf "\0\0" ‖ "B2" ‖ salt(32) ‖ ops(8) ‖ mem(8) ‖ key_id(8) ‖ sk(64) ‖ checksum(32),
 * the checksum being BLAKE2b-256("Ed" ‖ key_id ‖ sk).
 *
 * @example
 * ```ts
 * import { generateKeyPair, parseSecretKey, secretKeyFile } from "./mod.ts";
 *
 * const { secretFile } = await generateKeyPair();
 * const key = parseSecretKey(secretFile);
 * secretKeyFile(key) === secretFile; // true
 * ```
 */
export function secretKeyFile(key: MinisignSecretKey): string {
  const sk = new Uint8Array(64);
  sk.set(key.seed, 0);
  sk.set(key.publicKey, 32);
  const checksum = blake2b(concat(new Uint8Array([0x45, 0x64]), key.keyId, sk), { dkLen: 32 });
  const raw = concat(
    new Uint8Array([0x45, 0x64, 0, 0, 0x42, 0x32]),
    new Uint8Array(48),
    key.keyId,
    sk,
    checksum,
  );
  return `untrusted comment: minisign secret key (unencrypted)\n${toB64(raw)}\n`;
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Reads an unencrypted minisign secret key file (encrypted keys: decrypt with `minisign -C` first).
 *
 * @example
 * ```ts
 * import { parseSecretKey } from "./mod.ts";
 *
 * const key = parseSecretKey(await Deno.readTextFile("release.key"));
 * key.seed.length; // 32
 * ```
 */
export function parseSecretKey(text: string): MinisignSecretKey {
  const line =
    text.split(/\r?\n/).map((l) => l.trim()).filter((l) =>
      l && !l.startsWith("untrusted comment:")
    )[0] ?? "";
  const raw = fromB64(line);
  if (raw.length !== 158 || raw[0] !== 0x45 || raw[1] !== 0x64) {
    throw new Error("not a minisign secret key");
  }
  if (raw[2] !== 0 || raw[3] !== 0) {
    throw new Error(
      "the secret key is password-protected; sign with `minisign -S` or remove the password with `minisign -C`",
    );
  }
  const keyId = raw.slice(54, 62);
  const sk = raw.slice(62, 126);
  const checksum = blake2b(concat(raw.slice(0, 2), keyId, sk), { dkLen: 32 });
  const stored = raw.slice(126, 158);
  // minisign 0.11 leaves the checksum zeroed in unencrypted (-W) key files.
  if (!stored.every((b) => b === 0) && !equalBytes(checksum, stored)) {
    throw new Error("secret key checksum mismatch");
  }
  return { keyId, seed: sk.slice(0, 32), publicKey: sk.slice(32, 64) };
}

/**
 * Signs a file (prehashed `ED`) and returns the `.minisig` text.
 *
 * @example
 * ```ts
 * import { parseSecretKey, signFile } from "./mod.ts";
 *
 * const key = parseSecretKey(await Deno.readTextFile("release.key"));
 * const sig = await signFile(
 *   "dist/local-sync-hub-linux-x86_64",
 *   key,
 *   "timestamp:1763629200\tfile:local-sync-hub-linux-x86_64\tversion:1.5.0",
 * );
 * await Deno.writeTextFile("dist/local-sync-hub-linux-x86_64.sig", sig);
 * ```
 */
export async function signFile(
  path: string,
  key: MinisignSecretKey,
  trustedComment: string,
): Promise<string> {
  const k = await signingKey(key.seed);
  const sig = new Uint8Array(
    await crypto.subtle.sign({ name: "Ed25519" }, k, await blake2bFile(path)),
  );
  const comment = new TextEncoder().encode(trustedComment);
  const global = new Uint8Array(
    await crypto.subtle.sign({ name: "Ed25519" }, k, concat(sig, comment)),
  );
  const line2 = concat(new Uint8Array([0x45, 0x44]), key.keyId, sig);
  return `untrusted comment: signature from local-sync-hub release key\n${toB64(line2)}\n` +
    `trusted comment: ${trustedComment}\n${toB64(global)}\n`;
}
