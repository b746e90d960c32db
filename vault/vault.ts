/**
 * The vault: the hub's secrets sealed under a key derived from the operator's
 * passphrase. Nothing in it is ever written to disk in the clear.
 */
import { exists, fromB64u, HubError, toB64u, writeFileDurable } from "../core/mod.ts";
import { decodeVault, encodeVault, headerAad, type KdfParams, MIN_ITERATIONS } from "./_format.ts";

/** Cloud link details (filled in by cloud registration). */
export interface CloudLink {
  url: string;
  apiKey: string;
  clinicIds: string[];
  registeredAt: number;
  allowInsecure?: boolean;
}

/** What the vault body holds. */
export interface VaultSecrets {
  /** Raw 256-bit SQLCipher key, hex. */
  dbKey: string;
  /** Set only while a key rotation is in flight: the key the database may already be under. */
  pendingDbKey?: string;
  /** The hub's long-lived X25519 private key, raw 32 bytes base64url. */
  hubPrivateKey: string;
  /** The matching public key, raw 32 bytes base64url (shown in the pairing QR). */
  hubPublicKey: string;
  /** HS256 signing key for phone session tokens, 32 bytes base64url. */
  jwtKey: string;
  /** The hub's id (a local UUID until the cloud assigns one). */
  hubId: string;
  /** The hub's display name. */
  hubName: string;
  /** The cloud link, once registered. */
  cloud?: CloudLink;
}

/** Options for creating a vault. */
export interface CreateVaultOptions {
  /** PBKDF2 iterations; at least {@link MIN_ITERATIONS} unless `allowWeakKdfForTests`. */
  iterations?: number;
  /** Only tests set this, to keep hundreds of unlocks fast. Never reachable from the CLI. */
  allowWeakKdfForTests?: boolean;
}

/**
 * Shortest passphrase accepted at setup and on change.
 *
 * @example
 * ```ts
 * import { MIN_PASSPHRASE_LENGTH } from "./mod.ts";
 *
 * MIN_PASSPHRASE_LENGTH; // 12
 * const hint = `At least ${MIN_PASSPHRASE_LENGTH} characters.`;
 * ```
 */
export const MIN_PASSPHRASE_LENGTH = 12;

async function deriveKey(passphrase: string, kdf: KdfParams): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(passphrase.normalize("NFC")),
    "PBKDF2",
    false,
    ["deriveKey"],
  );
  return await crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-512", salt: kdf.salt, iterations: kdf.iterations },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/**
 * Checks a new passphrase against the setup rules; throws a clear error.
 *
 * @example
 * ```ts
 * import { checkNewPassphrase } from "./mod.ts";
 *
 * checkNewPassphrase("example passphrase 1"); // "example passphrase 1"
 * checkNewPassphrase("short"); // throws HubError `weak_passphrase` (400)
 * ```
 */
export function checkNewPassphrase(passphrase: unknown): string {
  if (typeof passphrase !== "string" || passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new HubError(
      "weak_passphrase",
      400,
      `The passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters long.`,
    );
  }
  if (passphrase.trim().length === 0) {
    throw new HubError("weak_passphrase", 400, "The passphrase cannot be only spaces.");
  }
  return passphrase;
}

/**
 * Makes a fresh set of secrets for a new hub.
 *
 * @example
 * ```ts
 * import { generateSecrets } from "./mod.ts";
 *
 * const secrets = await generateSecrets("Clinic North Hub");
 * secrets.hubName; // "Clinic North Hub"
 * secrets.dbKey.length; // 64 (hex of a random 256-bit SQLCipher key)
 * ```
 */
export async function generateSecrets(hubName = "Local Sync Hub"): Promise<VaultSecrets> {
  const pair = await crypto.subtle.generateKey({ name: "X25519" }, true, [
    "deriveBits",
  ]) as CryptoKeyPair;
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  return {
    dbKey: crypto.getRandomValues(new Uint8Array(32)).toHex(),
    hubPrivateKey: jwk.d!,
    hubPublicKey: jwk.x!,
    jwtKey: toB64u(crypto.getRandomValues(new Uint8Array(32))),
    hubId: crypto.randomUUID(),
    hubName,
  };
}

/**
 * An open vault: the decrypted secrets plus the derived key, so the hub can
 * re-seal after a change without asking for the passphrase again. Dropped on lock.
 *
 * @example
 * ```ts
 * import { openVault } from "./mod.ts";
 *
 * const vault = await openVault("/srv/hub/hub.vault", "example passphrase 1");
 * await vault.update((s) => {
 *   s.hubName = "Clinic South Hub";
 * });
 * vault.secrets.hubName; // "Clinic South Hub"
 * vault.kdf; // { name: "PBKDF2-HMAC-SHA512", iterations: 600000 }
 * vault.close(); // on lock; `vault.secrets` now throws `locked`
 * ```
 */
export class OpenVault {
  #path: string;
  #key: CryptoKey | null;
  #kdf: KdfParams;
  #secrets: VaultSecrets | null;

  /** Use {@link createVault} or {@link openVault}. */
  constructor(path: string, key: CryptoKey, kdf: KdfParams, secrets: VaultSecrets) {
    this.#path = path;
    this.#key = key;
    this.#kdf = kdf;
    this.#secrets = secrets;
  }

  /** The secrets (a copy; change them with {@link update}). */
  get secrets(): VaultSecrets {
    if (!this.#secrets) throw new HubError("locked", 423, "The vault is closed.");
    return structuredClone(this.#secrets);
  }

  /** The KDF parameters the vault is sealed with (no secrets). */
  get kdf(): { name: string; iterations: number } {
    return { name: this.#kdf.name, iterations: this.#kdf.iterations };
  }

  /** Applies `change` to the secrets and re-seals the file durably. */
  async update(change: (s: VaultSecrets) => VaultSecrets | void): Promise<void> {
    if (!this.#secrets || !this.#key) throw new HubError("locked", 423, "The vault is closed.");
    const next = structuredClone(this.#secrets);
    const returned = change(next);
    const value = returned ?? next;
    await seal(this.#path, this.#key, this.#kdf, value);
    this.#secrets = value;
  }

  /** Re-seals under a new passphrase with a new salt (and current KDF strength). */
  async changePassphrase(next: string, options: CreateVaultOptions = {}): Promise<void> {
    if (!this.#secrets) throw new HubError("locked", 423, "The vault is closed.");
    checkNewPassphrase(next);
    const kdf = newKdf(options, Math.max(this.#kdf.iterations, MIN_ITERATIONS));
    const key = await deriveKey(next, kdf);
    await seal(this.#path, key, kdf, this.#secrets);
    this.#key = key;
    this.#kdf = kdf;
  }

  /** Forgets the key and the secrets. */
  close(): void {
    this.#key = null;
    this.#secrets = null;
  }
}

function newKdf(options: CreateVaultOptions, floor = MIN_ITERATIONS): KdfParams {
  const iterations = options.iterations ?? floor;
  if (iterations < MIN_ITERATIONS && !options.allowWeakKdfForTests) {
    throw new HubError("weak_kdf", 400, `PBKDF2 needs at least ${MIN_ITERATIONS} iterations.`);
  }
  return {
    name: "PBKDF2-HMAC-SHA512",
    iterations: options.allowWeakKdfForTests ? (options.iterations ?? floor) : iterations,
    salt: crypto.getRandomValues(new Uint8Array(16)),
  };
}

async function seal(path: string, key: CryptoKey, kdf: KdfParams, secrets: VaultSecrets) {
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const plain = new TextEncoder().encode(JSON.stringify(secrets));
  const body = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: headerAad(kdf) },
      key,
      plain,
    ),
  );
  plain.fill(0);
  await writeFileDurable(path, await encodeVault({ kdf, nonce, body }), 0o600);
}

/**
 * Creates a new vault file; refuses to overwrite an existing one.
 *
 * @example
 * ```ts
 * import { createVault, generateSecrets } from "./mod.ts";
 *
 * const secrets = await generateSecrets("Clinic North Hub");
 * const vault = await createVault("/srv/hub/hub.vault", "example passphrase 1", secrets);
 * // a second call for the same path throws HubError `already_set_up` (409)
 * ```
 */
export async function createVault(
  path: string,
  passphrase: string,
  secrets: VaultSecrets,
  options: CreateVaultOptions = {},
): Promise<OpenVault> {
  checkNewPassphrase(passphrase);
  if (await exists(path)) {
    throw new HubError("already_set_up", 409, "This hub is already set up.");
  }
  const kdf = newKdf(options);
  const key = await deriveKey(passphrase, kdf);
  await seal(path, key, kdf, secrets);
  return new OpenVault(path, key, kdf, secrets);
}

/**
 * Opens the vault with the passphrase. Throws `wrong_passphrase` (401) when the
 * seal does not open, `vault_damaged` when the file is corrupt, `not_set_up` when absent.
 *
 * @example
 * ```ts
 * import { openVault } from "./mod.ts";
 * import { HubError } from "../core/mod.ts";
 *
 * try {
 *   const vault = await openVault("/srv/hub/hub.vault", "example passphrase 1");
 *   vault.secrets.hubName; // "Clinic North Hub"
 * } catch (err) {
 *   if (err instanceof HubError && err.code === "wrong_passphrase") {
 *     // ask again (status 401)
 *   } else throw err;
 * }
 * ```
 */
export async function openVault(path: string, passphrase: string): Promise<OpenVault> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new HubError("not_set_up", 409, "This hub is not set up yet.");
    }
    throw err;
  }
  const file = await decodeVault(bytes);
  const key = await deriveKey(passphrase, file.kdf);
  let plain: Uint8Array;
  try {
    plain = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: file.nonce, additionalData: headerAad(file.kdf) },
        key,
        file.body,
      ),
    );
  } catch {
    throw new HubError("wrong_passphrase", 401, "Wrong passphrase.");
  }
  let secrets: VaultSecrets;
  try {
    secrets = JSON.parse(new TextDecoder().decode(plain));
    plain.fill(0);
    if (
      typeof secrets.dbKey !== "string" || !/^[0-9a-f]{64}$/.test(secrets.dbKey) ||
      fromB64u(secrets.hubPrivateKey).length !== 32 || fromB64u(secrets.jwtKey).length !== 32
    ) throw new Error("missing fields");
  } catch (err) {
    throw new HubError(
      "vault_damaged",
      500,
      "The vault opened but its contents are incomplete. Restore hub.vault from a backup.",
      { cause: err },
    );
  }
  return new OpenVault(path, key, file.kdf, secrets);
}
