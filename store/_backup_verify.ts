/**
 * Proving a backup file restorable, for a new backup (before it gets its final
 * name) and for a restore (before anything is put in place): the file is checked
 * whole (store/_backup_file.ts), its vault section must be a vault, and its
 * database section, copied out, must open with the key, pass `integrity_check`
 * and hold the row counts and clock its header states.
 */
import { HubError, join } from "../core/mod.ts";
import { runStep, type SnapshotFacts } from "./_backup_snapshot.ts";
import { type BackupHeader, checkBackupFile, extractSection, readSection } from "./_backup_file.ts";

/**
 * A backup file checked whole: its checksum matched, its header describes it, and
 * its vault section is a hub vault (still sealed: only the passphrase the hub had
 * opens it). The database section is proven by {@link BackupFile.extractDatabase}.
 *
 * @example
 * ```ts
 * import { BackupFile } from "../store/mod.ts";
 * import { openVault } from "../vault/mod.ts";
 *
 * const backup = await BackupFile.open("/media/stick/hub-backup-20260101T120000Z.hubbackup");
 * backup.header.hub.name; // "Clinic North Hub"
 * await Deno.writeFile("/srv/new-hub/.restore-1/hub.vault", backup.vault, { mode: 0o600 });
 * const vault = await openVault("/srv/new-hub/.restore-1/hub.vault", "example passphrase 1");
 * await backup.extractDatabase("/srv/new-hub/.restore-1/hub.db", vault.secrets.dbKey);
 * ```
 */
export class BackupFile {
  /** Where the file is. */
  readonly path: string;
  /** The readable header (hub, times, counts, clock; no patient data). */
  readonly header: BackupHeader;
  /** The vault section's bytes: `hub.vault` as it was at rest when the backup was taken. */
  readonly vault: Uint8Array;
  /** Where the database section (the encrypted snapshot) lies in the file. */
  readonly database: { offset: number; length: number };

  private constructor(
    path: string,
    header: BackupHeader,
    vault: Uint8Array,
    database: { offset: number; length: number },
  ) {
    this.path = path;
    this.header = header;
    this.vault = vault;
    this.database = database;
  }

  /**
   * Checks the file at `path` whole and reads its vault section. Throws
   * `not_found`, `not_a_backup`, `backup_damaged` or `backup_unsupported` with a
   * message that says what to do.
   */
  static async open(path: string): Promise<BackupFile> {
    const checked = await checkBackupFile(path);
    const vault = await readSection(path, checked.vault);
    let doc: { format?: unknown } | null = null;
    try {
      doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(vault));
    } catch { /* below */ }
    if (doc?.format !== "hikma-local-hub-vault") {
      throw new HubError("backup_damaged", 422, "The backup's vault section is not a hub vault.");
    }
    return new BackupFile(path, checked.header, vault, checked.database);
  }

  /**
   * Copies the database section to `target` (a new file, mode 0600, fsynced) and
   * proves it: it opens with `keyHex`, passes `integrity_check`, and holds the
   * header's row counts and clock. Throws `backup_damaged` otherwise (`target` may
   * then be left behind: extract into a folder the caller removes).
   */
  async extractDatabase(target: string, keyHex: string): Promise<void> {
    await extractSection(this.path, this.database, target);
    let facts: SnapshotFacts;
    try {
      facts = await runStep<SnapshotFacts>({
        op: "inspect",
        path: target,
        key: keyHex,
        integrity: true,
      });
    } catch (err) {
      throw new HubError(
        "backup_damaged",
        422,
        `The backup's database does not open with its key (${(err as Error).message}).`,
        { cause: err },
      );
    }
    compareFacts(this.path, this.header, facts);
  }
}

/**
 * Proves the backup file at `path` restorable with the database key (see
 * {@link BackupFile}): the database section is copied to a temp folder, which is
 * removed afterwards. Throws `backup_damaged` (or the file's error) otherwise.
 *
 * @example
 * ```ts
 * import { verifyBackup } from "../store/mod.ts";
 *
 * declare const dbKey: string; // the database key, from the open vault
 * const path = "/media/stick/hub-backup-20260101T120000Z.hubbackup";
 * const backup = await verifyBackup(path, dbKey); // throws `backup_damaged`
 * backup.header.counts.patients; // 1200
 * ```
 */
export async function verifyBackup(path: string, keyHex: string): Promise<BackupFile> {
  const backup = await BackupFile.open(path);
  const tmp = await Deno.makeTempDir({ prefix: "hub-backup-verify-" });
  try {
    await backup.extractDatabase(join(tmp, "hub.db"), keyHex);
    return backup;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** Throws unless a copied-out database holds what the backup's header says. */
function compareFacts(path: string, header: BackupHeader, facts: SnapshotFacts): void {
  if (facts.integrity !== null && facts.integrity !== "ok") {
    throw new HubError(
      "backup_damaged",
      422,
      "The backup's database fails SQLite's integrity check; it cannot be restored.",
      { cause: new Error(`integrity_check of ${path}: ${facts.integrity.slice(0, 200)}`) },
    );
  }
  const names = new Set([...Object.keys(header.counts), ...Object.keys(facts.counts)]);
  for (const n of names) {
    if (header.counts[n] !== facts.counts[n]) {
      throw new HubError(
        "backup_damaged",
        422,
        `The backup's database does not hold the rows its header lists (${n}: ${
          facts.counts[n] ?? 0
        } instead of ${header.counts[n] ?? 0}).`,
      );
    }
  }
  if (facts.clock !== header.clock) {
    throw new HubError(
      "backup_damaged",
      422,
      "The backup's database does not match its header (change clock).",
    );
  }
}
