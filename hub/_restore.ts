/**
 * Restoring a backup into a data folder (the `restore` command, and the first-run
 * screen's POST /api/restore). The store proves the file and its database section
 * (`BackupFile`); here are the hub's parts: the folder, the vault and its
 * passphrase, the clock jump record, and the order things are put in place.
 */
import { exists, HubError, join, Logger, syncDir } from "../core/mod.ts";
import { BackupFile, type RestoreRecord, Store } from "../store/mod.ts";
import { openVault, type VaultSecrets } from "../vault/mod.ts";

/** What {@link restoreBackup} did. */
export interface RestoreResult {
  hubId: string;
  hubName: string;
  backupTakenAt: number;
  counts: Record<string, number>;
  clockFrom: number;
}

/**
 * Restores a backup file into `dataDir` (new, or without a hub in it): checks the
 * whole file, opens its vault with the passphrase, copies the database into place,
 * checks it (integrity, counts), moves the change clock past anything the old hub
 * may have handed out, and records the restore. The vault is put in place last:
 * until then the folder holds no hub, so a crash part-way restores nothing. The
 * caller holds the folder's lock (`DataDirLock`) or knows no hub runs on it.
 *
 * @example
 * ```ts
 * import { restoreBackup } from "../hub/mod.ts";
 *
 * const r = await restoreBackup({
 *   from: "/media/stick/hub-backup-20260101T120000Z.hubbackup",
 *   dataDir: "/srv/new-hub",
 *   passphrase: "example passphrase 1", // the one the hub had when the backup was taken
 * });
 * r.hubName; // "Clinic North Hub"
 * r.counts.patients; // 1200
 * ```
 */
export async function restoreBackup(options: {
  from: string;
  dataDir: string;
  passphrase: string;
  now?: () => number;
  /** Where the restore's line goes (default: stderr). */
  logger?: Logger;
}): Promise<RestoreResult> {
  const now = options.now ?? Date.now;
  const backup = await BackupFile.open(options.from);
  const header = backup.header;
  const dir = options.dataDir;
  const vaultPath = join(dir, "hub.vault");
  const dbPath = join(dir, "hub.db");
  if (await exists(vaultPath)) {
    throw new HubError(
      "data_dir_in_use",
      409,
      `${dir} already holds a hub (hub.vault). Restore into an empty or new folder, ` +
        "or reset that hub first.",
    );
  }
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  // A database without a vault can never be opened again: move it aside, as setup does.
  for (const suffix of ["", "-wal", "-shm", "-journal"]) {
    const p = dbPath + suffix;
    if (await exists(p)) await Deno.rename(p, `${p}.orphaned-${now()}`);
  }
  // What an earlier restore cut short left behind (encrypted, but of no use).
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory && /^\.restore-[0-9a-f-]{36}$/.test(e.name)) {
      await Deno.remove(join(dir, e.name), { recursive: true }).catch(() => {});
    }
  }
  const staging = join(dir, `.restore-${crypto.randomUUID()}`);
  await Deno.mkdir(staging, { mode: 0o700 });
  try {
    const stagedVault = join(staging, "hub.vault");
    await Deno.writeFile(stagedVault, backup.vault, { mode: 0o600 });
    const secrets = await openStagedVault(stagedVault, options.passphrase, header.takenAtText);
    const stagedDb = join(staging, "hub.db");
    await backup.extractDatabase(stagedDb, secrets.dbKey);
    const store = Store.open(stagedDb, secrets.dbKey);
    let record: RestoreRecord;
    try {
      record = store.backups.markRestored({
        takenAt: header.takenAt,
        clock: header.clock,
        cloudWatermark: header.cloudWatermark,
      }, now());
    } finally {
      store.close();
    }
    // Database first, vault last (its presence makes the folder a hub).
    for (const suffix of ["-wal", "-shm"]) await Deno.remove(stagedDb + suffix).catch(() => {});
    await Deno.rename(stagedDb, dbPath);
    await Deno.rename(stagedVault, vaultPath);
    await syncDir(dir);
    (options.logger ?? new Logger()).log("warn", "hub.restored", {
      hubId: secrets.hubId,
      backupTakenAt: header.takenAtText,
    });
    return {
      hubId: secrets.hubId,
      hubName: secrets.hubName,
      backupTakenAt: header.takenAt,
      counts: header.counts,
      clockFrom: record.clockFrom,
    };
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
}

/** Opens the backup's vault with the passphrase; a wrong one is told which passphrase it needs. */
async function openStagedVault(
  path: string,
  passphrase: string,
  takenAtText: string,
): Promise<VaultSecrets> {
  try {
    const vault = await openVault(path, passphrase);
    const secrets = structuredClone(vault.secrets);
    vault.close();
    return secrets;
  } catch (err) {
    if (err instanceof HubError && err.code === "wrong_passphrase") {
      throw new HubError(
        "wrong_passphrase",
        401,
        "Wrong passphrase for this backup: use the passphrase the hub had when the backup " +
          `was taken (${takenAtText}).`,
      );
    }
    throw err;
  }
}
