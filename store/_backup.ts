/**
 * Backups of the store: take a consistent encrypted snapshot beside the running
 * hub, write it with the vault into one backup file (store/_backup_file.ts), and
 * prove the file restorable before anyone counts it as good. What is durable when:
 *
 * 1. `VACUUM INTO` a temp snapshot in the backup folder (encrypted under the same
 *    key; see store/_backup_snapshot.ts for the experiment that shows it).
 * 2. The backup file is written under a temp name (`.<name>.tmp-<uuid>`) and fsynced.
 * 3. It is verified from its bytes (store/_backup_verify.ts): checksum, header, the
 *    database section copied to a temp folder opens with the key, `integrity_check`
 *    says ok, and its row counts and clock equal the header's.
 * 4. Only then is it renamed to its final `*.hubbackup` name and the folder fsynced.
 *
 * So a file with the final name has been verified; a crash (or SIGKILL) at any
 * step leaves only temp files, which the next backup removes.
 */
import { HubError, join, syncDir } from "../core/mod.ts";
import { runStep, type SnapshotFacts } from "./_backup_snapshot.ts";
import { BACKUP_EXTENSION, type BackupHeader, writeBackupFile } from "./_backup_file.ts";
import { verifyBackup } from "./_backup_verify.ts";

/** What a backup needs from the hub. */
export interface BackupSource {
  dbPath: string;
  vaultPath: string;
  keyHex: string;
  hub: { id: string; name: string };
  appVersion: string;
}

/** A backup written and verified. */
export interface WrittenBackup {
  path: string;
  header: BackupHeader;
  bytes: number;
  /** Milliseconds: snapshot, write, verify. */
  timings: { snapshotMs: number; writeMs: number; verifyMs: number };
}

function stampName(at: number): string {
  return new Date(at).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/** Temp files older than this are a killed backup's (a slow stick may take minutes to write one). */
export const LEFTOVER_AGE_MS = 30 * 60_000;

/**
 * Removes temp files a killed backup left in `dir` (never a finished backup, nor
 * a recent temp file: another hub may be writing it into a shared folder).
 * Returns how many it removed.
 *
 * @example
 * ```ts
 * import { removeLeftovers } from "../store/mod.ts";
 *
 * // `.hub-backup-file.tmp-<uuid>` from a backup killed an hour ago goes; backups stay.
 * await removeLeftovers("/media/stick/hub-backups"); // 1
 * ```
 */
export async function removeLeftovers(dir: string, now = Date.now()): Promise<number> {
  let removed = 0;
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !e.name.startsWith(".hub-backup-") || !/\.tmp-[0-9a-f-]{36}$/.test(e.name)) {
      continue;
    }
    const path = join(dir, e.name);
    const mtime = (await Deno.stat(path).catch(() => null))?.mtime?.getTime() ?? now;
    if (now - mtime < LEFTOVER_AGE_MS) continue;
    await Deno.remove(path).then(() => removed++).catch(() => {});
  }
  return removed;
}

/**
 * Takes a backup of the database at `source.dbPath` (while it is in use) into
 * `dir`, verifies it and gives it its final name. Throws when any step fails; a
 * failed backup leaves no file with the final name.
 *
 * @example
 * ```ts
 * import { createBackup } from "../store/mod.ts";
 *
 * declare const dbKey: string; // the database key, from the open vault
 * const written = await createBackup({
 *   dbPath: "/srv/hub/hub.db",
 *   vaultPath: "/srv/hub/hub.vault",
 *   keyHex: dbKey,
 *   hub: { id: "hub-example-1", name: "Clinic North Hub" },
 *   appVersion: "0.1.0",
 * }, "/media/stick/hub-backups", "manual");
 * written.path; // "/media/stick/hub-backups/hub-backup-20260101T120000Z.hubbackup"
 * ```
 */
export async function createBackup(
  source: BackupSource,
  dir: string,
  reason: string,
  now: () => number = Date.now,
): Promise<WrittenBackup> {
  const id = crypto.randomUUID();
  const takenAt = now();
  let name = `hub-backup-${stampName(takenAt)}${BACKUP_EXTENSION}`;
  for (let i = 2; await existsFile(join(dir, name)); i++) {
    name = `hub-backup-${stampName(takenAt)}-${i}${BACKUP_EXTENSION}`;
  }
  const snapshot = join(dir, `.hub-backup-snapshot.tmp-${id}`);
  const temp = join(dir, `.hub-backup-file.tmp-${id}`);
  const final = join(dir, name);
  try {
    let t = performance.now();
    // The vault as at rest, read before and after the snapshot: a key rotation or a
    // passphrase change that wrote the vault in between fails this backup (the next
    // one is taken as usual), so the vault in a file always opens its snapshot.
    const vault = await Deno.readFile(source.vaultPath);
    await runStep<null>({
      op: "snapshot",
      source: source.dbPath,
      key: source.keyHex,
      target: snapshot,
    });
    const facts = await runStep<SnapshotFacts>({
      op: "inspect",
      path: snapshot,
      key: source.keyHex,
      integrity: false,
    });
    const snapshotMs = performance.now() - t;
    t = performance.now();
    const vaultAfter = await Deno.readFile(source.vaultPath);
    if (vaultAfter.length !== vault.length || !vaultAfter.every((b, i) => b === vault[i])) {
      throw new HubError(
        "backup_keys_changed",
        409,
        "The hub's keys or passphrase changed during the backup; it will be taken again.",
      );
    }
    const { bytes } = await writeBackupFile(
      temp,
      {
        format: "hikma-local-hub-backup",
        version: 1,
        hub: source.hub,
        takenAt,
        takenAtText: new Date(takenAt).toISOString(),
        reason,
        appVersion: source.appVersion,
        schemaVersion: facts.schemaVersion,
        clock: facts.clock,
        cloudWatermark: facts.cloudWatermark,
        counts: facts.counts,
      },
      vault,
      snapshot,
    );
    await Deno.remove(snapshot);
    const writeMs = performance.now() - t;
    t = performance.now();
    const checked = await verifyBackup(temp, source.keyHex);
    const verifyMs = performance.now() - t;
    // Verified: only now does it get the name that counts it as good.
    await Deno.rename(temp, final);
    await syncDir(dir);
    return {
      path: final,
      header: checked.header,
      bytes,
      timings: {
        snapshotMs: Math.round(snapshotMs),
        writeMs: Math.round(writeMs),
        verifyMs: Math.round(verifyMs),
      },
    };
  } finally {
    await Deno.remove(snapshot).catch(() => {});
    await Deno.remove(temp).catch(() => {});
  }
}

async function existsFile(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
