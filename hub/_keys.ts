/**
 * The hub's key material, apart from its lifecycle: opening the database under
 * the vault's key (finishing a rotation that was cut short), rotating that key
 * crash-safely, building what the LAN server sees from the vault's keys, and the
 * fingerprint people compare.
 */
import { fromB64u, HubError, type Logger, sha256Hex } from "../core/mod.ts";
import type { HubAccess } from "../server/mod.ts";
import { Store, type StoreOptions } from "../store/mod.ts";
import type { OpenVault } from "../vault/mod.ts";

/**
 * Opens the database with the vault's key. If a key rotation was cut short,
 * the database may be under the pending key: try it, then finish the rotation.
 * Closes the vault when neither key opens it.
 */
export async function openStoreWithVaultKey(
  dbPath: string,
  vault: OpenVault,
  options: StoreOptions,
  logger: Logger,
): Promise<Store> {
  const s = vault.secrets;
  try {
    const store = Store.open(dbPath, s.dbKey, options);
    if (s.pendingDbKey) {
      await vault.update((v) => {
        delete v.pendingDbKey;
      });
    }
    return store;
  } catch (err) {
    if (!(err instanceof HubError && err.code === "wrong_db_key" && s.pendingDbKey)) {
      vault.close();
      throw err;
    }
  }
  const store = Store.open(dbPath, s.pendingDbKey, options);
  await vault.update((v) => {
    v.dbKey = v.pendingDbKey!;
    delete v.pendingDbKey;
  });
  logger.log("info", "hub.rotation_completed_on_unlock", {});
  return store;
}

/**
 * Re-encrypts the database under a new random key. Crash-safe in three durable
 * steps: (1) the vault records the new key as pending, (2) the database is
 * rekeyed in one journaled transaction, (3) the vault makes the new key current.
 * An unlock after a crash at any point tries the current key, then the pending
 * one ({@link openStoreWithVaultKey}).
 */
export async function rotateDbKey(vault: OpenVault, store: Store): Promise<void> {
  const next = crypto.getRandomValues(new Uint8Array(32)).toHex();
  await vault.update((v) => {
    v.pendingDbKey = next;
  });
  store.rekey(next);
  await vault.update((v) => {
    v.dbKey = next;
    delete v.pendingDbKey;
  });
}

/** What the LAN server sees of an unlocked hub, built from the vault's keys. */
export async function accessFromVault(
  vault: OpenVault,
  store: Store,
  publish: HubAccess["publish"],
): Promise<HubAccess> {
  const s = vault.secrets;
  return {
    store,
    hubId: s.hubId,
    hubName: s.hubName,
    hubPublicKey: fromB64u(s.hubPublicKey),
    hubPrivateKey: await importX25519Private(s.hubPrivateKey, s.hubPublicKey),
    jwtKey: fromB64u(s.jwtKey),
    publish,
  };
}

/**
 * Short fingerprint of the hub's public key for people to compare (`AB12-CD34-EF56-7890`).
 *
 * @example
 * ```ts
 * await keyFingerprint(new Uint8Array(32)); // "6671-3A85-4E3E-8D47" style
 * ```
 */
export async function keyFingerprint(publicKey: Uint8Array): Promise<string> {
  const hex = (await sha256Hex(publicKey)).slice(0, 16).toUpperCase();
  return hex.match(/.{4}/g)!.join("-");
}

/**
 * Imports the hub's raw X25519 private key (as a JWK, which WebCrypto accepts).
 *
 * @example
 * ```ts
 * import { importX25519Private } from "./mod.ts";
 * import type { VaultSecrets } from "../vault/mod.ts";
 *
 * declare const secrets: VaultSecrets; // the open vault's
 * const key = await importX25519Private(secrets.hubPrivateKey, secrets.hubPublicKey);
 * ```
 */
export async function importX25519Private(d: string, x: string): Promise<CryptoKey> {
  return await crypto.subtle.importKey(
    "jwk",
    { kty: "OKP", crv: "X25519", d, x },
    { name: "X25519" },
    false,
    ["deriveBits"],
  );
}
