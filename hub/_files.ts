/**
 * The hub's two files on disk, `hub.db` and `hub.vault`: made together on first
 * run and wiped together on reset, in the order that keeps a crash part-way
 * harmless (the database is unreadable without the vault, so the vault is made
 * last and removed first: a hub caught in between is simply "new").
 */
import { exists } from "../core/mod.ts";
import { Store, type StoreOptions } from "../store/mod.ts";
import {
  createVault,
  type CreateVaultOptions,
  generateSecrets,
  type OpenVault,
  type VaultSecrets,
} from "../vault/mod.ts";

/** Where the hub keeps its files. */
export interface HubFiles {
  dataDir: string;
  dbPath: string;
  vaultPath: string;
}

/**
 * First run: a database under a new random key, then the vault sealed with
 * `passphrase` holding that key. A database left without a vault (it can never
 * be opened again) is moved aside, not deleted; a vault that cannot be written
 * takes the new database with it.
 */
export async function createHubFiles(
  files: HubFiles,
  passphrase: string,
  options: { store: StoreOptions; vault?: CreateVaultOptions },
): Promise<{ store: Store; vault: OpenVault; secrets: VaultSecrets }> {
  await Deno.mkdir(files.dataDir, { recursive: true, mode: 0o700 });
  for (const suffix of ["", "-wal", "-shm", "-journal"]) {
    const p = files.dbPath + suffix;
    if (await exists(p)) await Deno.rename(p, `${p}.orphaned-${Date.now()}`);
  }
  const secrets = await generateSecrets();
  // Database first, vault last: a crash in between leaves state "new".
  const store = Store.open(files.dbPath, secrets.dbKey, options.store);
  try {
    const vault = await createVault(files.vaultPath, passphrase, secrets, options.vault);
    return { store, vault, secrets };
  } catch (err) {
    store.close();
    for (const suffix of ["", "-wal", "-shm"]) {
      await Deno.remove(files.dbPath + suffix).catch(() => {});
    }
    throw err;
  }
}

/** Reset: the vault first (without it the database is unreadable), then the database. */
export async function removeHubFiles(files: HubFiles): Promise<void> {
  await Deno.remove(files.vaultPath).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  for (const suffix of ["", "-wal", "-shm", "-journal"]) {
    await Deno.remove(files.dbPath + suffix).catch(() => {});
  }
}
