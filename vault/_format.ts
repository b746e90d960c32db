/**
 * The on-disk form of `hub.vault`: one JSON document with a versioned header
 * (format, version, KDF name, parameters, salt) and an AES-256-GCM sealed body.
 * The header is the GCM additional data, so it cannot be changed without the
 * seal breaking; a SHA-256 checksum over everything tells damage (truncation,
 * bit rot) apart from a wrong passphrase.
 */
import { fromB64, HubError, sha256Hex, toB64 } from "../core/mod.ts";

/** Identifies the file type. */
export const VAULT_FORMAT = "hikma-local-hub-vault";
/** The only format version written today. */
export const VAULT_VERSION = 1;
/**
 * Lowest PBKDF2 iteration count accepted for a new vault (OWASP 2023 for SHA-512 is 210,000; we use more).
 *
 * @example
 * ```ts
 * import { createVault, generateSecrets, MIN_ITERATIONS } from "./mod.ts";
 *
 * MIN_ITERATIONS; // 600000
 * const secrets = await generateSecrets();
 * await createVault("/srv/hub/hub.vault", "example passphrase 1", secrets, {
 *   iterations: MIN_ITERATIONS * 2, // fewer throws HubError `weak_kdf`
 * });
 * ```
 */
export const MIN_ITERATIONS = 600_000;

/** KDF parameters, stored so they can be raised later. */
export interface KdfParams {
  name: "PBKDF2-HMAC-SHA512";
  iterations: number;
  salt: Uint8Array<ArrayBuffer>;
}

/** Everything in the file once parsed (body still sealed). */
export interface VaultFile {
  kdf: KdfParams;
  nonce: Uint8Array<ArrayBuffer>;
  body: Uint8Array<ArrayBuffer>;
}

/** The bytes authenticated as GCM additional data: the header in a fixed key order. */
export function headerAad(kdf: KdfParams): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(JSON.stringify({
    format: VAULT_FORMAT,
    version: VAULT_VERSION,
    kdf: { name: kdf.name, iterations: kdf.iterations, salt: toB64(kdf.salt) },
    cipher: "AES-256-GCM",
  }));
}

async function checksum(kdf: KdfParams, nonce: Uint8Array, body: Uint8Array): Promise<string> {
  const aad = headerAad(kdf);
  const all = new Uint8Array(aad.length + nonce.length + body.length);
  all.set(aad, 0);
  all.set(nonce, aad.length);
  all.set(body, aad.length + nonce.length);
  return await sha256Hex(all);
}

/** Serialises a sealed vault. */
export async function encodeVault(file: VaultFile): Promise<Uint8Array> {
  const doc = {
    format: VAULT_FORMAT,
    version: VAULT_VERSION,
    kdf: { name: file.kdf.name, iterations: file.kdf.iterations, salt: toB64(file.kdf.salt) },
    cipher: "AES-256-GCM",
    nonce: toB64(file.nonce),
    body: toB64(file.body),
    checksum: await checksum(file.kdf, file.nonce, file.body),
  };
  return new TextEncoder().encode(JSON.stringify(doc, null, 1) + "\n");
}

function damaged(why: string, cause?: unknown): HubError {
  return new HubError(
    "vault_damaged",
    500,
    `The vault file is damaged (${why}). Restore hub.vault from a backup; ` +
      "without it the database cannot be opened.",
    { cause },
  );
}

/** Parses and checks a vault file; throws a clear `vault_damaged` or `vault_unsupported` error. */
export async function decodeVault(bytes: Uint8Array): Promise<VaultFile> {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw damaged("it is truncated or not a vault", err);
  }
  if (doc === null || typeof doc !== "object" || doc.format !== VAULT_FORMAT) {
    throw damaged("it is not a hub vault");
  }
  if (doc.version !== VAULT_VERSION) {
    throw new HubError(
      "vault_unsupported",
      500,
      `The vault was written by a newer hub (format ${String(doc.version)}). ` +
        "Run the newer hub version.",
    );
  }
  const kdf = doc.kdf as Record<string, unknown> | undefined;
  if (
    !kdf || kdf.name !== "PBKDF2-HMAC-SHA512" || typeof kdf.iterations !== "number" ||
    !Number.isSafeInteger(kdf.iterations) || kdf.iterations < 1 || typeof kdf.salt !== "string" ||
    typeof doc.nonce !== "string" || typeof doc.body !== "string" ||
    typeof doc.checksum !== "string" || doc.cipher !== "AES-256-GCM"
  ) {
    throw damaged("its header is incomplete");
  }
  let parsed: VaultFile;
  try {
    parsed = {
      kdf: { name: "PBKDF2-HMAC-SHA512", iterations: kdf.iterations, salt: fromB64(kdf.salt) },
      nonce: fromB64(doc.nonce),
      body: fromB64(doc.body),
    };
  } catch (err) {
    throw damaged("a field is not valid base64", err);
  }
  if (parsed.nonce.length !== 12 || parsed.body.length < 16 || parsed.kdf.salt.length < 16) {
    throw damaged("a field has the wrong length");
  }
  if (await checksum(parsed.kdf, parsed.nonce, parsed.body) !== doc.checksum) {
    throw damaged("checksum mismatch");
  }
  return parsed;
}
