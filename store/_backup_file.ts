/**
 * The backup file (`*.hubbackup`), one file per backup:
 *
 * ```
 * HIKMA-HUB-BACKUP 1\n                  magic and format version
 * {"format":...,"hub":...,...}\n         the header: one line of JSON, readable with `head -2`
 * <vault bytes>                          hub.vault as at rest (the key sealed by the passphrase)
 * <database bytes>                       the encrypted snapshot (SQLCipher 4, the vault's key)
 * \nsha256:<64 hex>\n                    SHA-256 of every byte before this trailer
 * ```
 *
 * The header gives the two sections' lengths, so the file's size is known from
 * it; the checksum is checked before anything in the file is believed, so one
 * flipped byte anywhere (magic, header, either section, the trailer itself) is
 * refused as damaged. Nothing in the file is readable without the passphrase but
 * the header, which holds no patient data: hub id and name, times, counts.
 */
import { createHash } from "node:crypto";
import { HubError } from "../core/mod.ts";

/** The first line of every backup file. */
export const BACKUP_MAGIC = "HIKMA-HUB-BACKUP 1\n";
/**
 * The file name ending of backups.
 *
 * @example
 * ```ts
 * import { BACKUP_EXTENSION } from "../store/mod.ts";
 *
 * BACKUP_EXTENSION; // ".hubbackup"
 * "hub-backup-20260101T120000Z.hubbackup".endsWith(BACKUP_EXTENSION); // true
 * ```
 */
export const BACKUP_EXTENSION = ".hubbackup";
const TRAILER_PREFIX = "\nsha256:";
const TRAILER_BYTES = TRAILER_PREFIX.length + 64 + 1;
const CHUNK = 1 << 20;
const MAX_HEADER = 64 * 1024;

/** The readable header of a backup. */
export interface BackupHeader {
  format: "hikma-local-hub-backup";
  version: 1;
  hub: { id: string; name: string };
  /** When the snapshot was taken (epoch ms, and the same as ISO text for people). */
  takenAt: number;
  takenAtText: string;
  /** Why it was taken: schedule, manual, rotate-key, passphrase, clear, update. */
  reason: string;
  appVersion: string;
  schemaVersion: number;
  /** The change clock's position in the snapshot. */
  clock: number;
  /** The relay's cloud watermark in the snapshot (null: never relayed). */
  cloudWatermark: string | null;
  /** Rows per table in the snapshot. */
  counts: Record<string, number>;
  /** Byte lengths of the two sections. */
  sections: { vault: number; database: number };
}

/** Where the sections of a checked backup file are. */
export interface CheckedBackup {
  header: BackupHeader;
  size: number;
  vault: { offset: number; length: number };
  database: { offset: number; length: number };
}

function damaged(path: string, why: string): HubError {
  return new HubError(
    "backup_damaged",
    422,
    `The backup ${baseName(path)} is damaged (${why}); it cannot be restored. Use another backup.`,
  );
}

function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await file.write(data.subarray(off));
}

/**
 * Writes a backup to `path` (a temp name: the caller renames it once verified) and
 * fsyncs it. The database section is streamed from the snapshot file.
 */
export async function writeBackupFile(
  path: string,
  header: Omit<BackupHeader, "sections">,
  vault: Uint8Array,
  snapshotPath: string,
): Promise<{ bytes: number }> {
  const dbSize = (await Deno.stat(snapshotPath)).size;
  const full: BackupHeader = { ...header, sections: { vault: vault.length, database: dbSize } };
  const head = new TextEncoder().encode(BACKUP_MAGIC + JSON.stringify(full) + "\n");
  const hash = createHash("sha256");
  const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  try {
    const put = async (b: Uint8Array) => {
      hash.update(b);
      await writeAll(file, b);
    };
    await put(head);
    await put(vault);
    const src = await Deno.open(snapshotPath, { read: true });
    try {
      const buf = new Uint8Array(CHUNK);
      let copied = 0;
      for (;;) {
        const n = await src.read(buf);
        if (n === null) break;
        copied += n;
        await put(buf.subarray(0, n));
      }
      if (copied !== dbSize) throw new Error("the snapshot changed while it was copied");
    } finally {
      src.close();
    }
    await writeAll(
      file,
      new TextEncoder().encode(`${TRAILER_PREFIX}${hash.digest("hex")}\n`),
    );
    await file.sync();
  } finally {
    file.close();
  }
  return { bytes: head.length + vault.length + dbSize + TRAILER_BYTES };
}

/** Reads `length` bytes at `offset` (fewer at the end of the file). */
async function readAt(file: Deno.FsFile, offset: number, length: number): Promise<Uint8Array> {
  await file.seek(offset, Deno.SeekMode.Start);
  const out = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = await file.read(out.subarray(got));
    if (n === null) break;
    got += n;
  }
  return out.subarray(0, got);
}

/**
 * Checks a backup file whole: the trailer's SHA-256 over every byte before it,
 * then the magic, the header and the section lengths. Throws `not_a_backup`,
 * `backup_damaged` or `backup_unsupported` with a message that says what to do.
 */
export async function checkBackupFile(path: string): Promise<CheckedBackup> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new HubError("not_found", 404, `There is no backup file ${path}.`);
    }
    throw err;
  }
  try {
    const size = (await file.stat()).size;
    const start = await readAt(file, 0, Math.min(size, MAX_HEADER));
    const looksLikeOurs = new TextDecoder().decode(start.subarray(0, 16)) ===
      BACKUP_MAGIC.slice(0, 16);
    if (size < BACKUP_MAGIC.length + TRAILER_BYTES) {
      if (looksLikeOurs) throw damaged(path, "it is cut short");
      throw new HubError("not_a_backup", 422, `${baseName(path)} is not a Local Sync Hub backup.`);
    }
    const trailer = new TextDecoder().decode(
      await readAt(file, size - TRAILER_BYTES, TRAILER_BYTES),
    );
    const m = /^\nsha256:([0-9a-f]{64})\n$/.exec(trailer);
    if (!m) {
      if (looksLikeOurs) throw damaged(path, "its end is missing or altered: cut short?");
      throw new HubError("not_a_backup", 422, `${baseName(path)} is not a Local Sync Hub backup.`);
    }
    // The checksum first: nothing in the file is believed before it matches.
    const hash = createHash("sha256");
    await file.seek(0, Deno.SeekMode.Start);
    const buf = new Uint8Array(CHUNK);
    let left = size - TRAILER_BYTES;
    while (left > 0) {
      const n = await file.read(buf.subarray(0, Math.min(CHUNK, left)));
      if (n === null) break;
      hash.update(buf.subarray(0, n));
      left -= n;
    }
    if (left !== 0 || hash.digest("hex") !== m[1]) {
      throw damaged(path, "its checksum does not match its contents");
    }
    const text = new TextDecoder().decode(start);
    if (!text.startsWith(BACKUP_MAGIC)) {
      if (text.startsWith("HIKMA-HUB-BACKUP ")) {
        throw new HubError(
          "backup_unsupported",
          422,
          `${baseName(path)} was written by a newer hub (format ${
            text.slice(17, text.indexOf("\n"))
          }). Restore it with the newer version.`,
        );
      }
      throw damaged(path, "it does not start as a backup does");
    }
    const end = text.indexOf("\n", BACKUP_MAGIC.length);
    if (end < 0) throw damaged(path, "its header is too long");
    let header: BackupHeader;
    try {
      header = JSON.parse(text.slice(BACKUP_MAGIC.length, end));
    } catch {
      throw damaged(path, "its header is not readable");
    }
    const s = header?.sections;
    const headBytes = new TextEncoder().encode(text.slice(0, end + 1)).length;
    if (
      header?.format !== "hikma-local-hub-backup" || header.version !== 1 ||
      !Number.isSafeInteger(s?.vault) || !Number.isSafeInteger(s?.database) ||
      headBytes + s.vault + s.database + TRAILER_BYTES !== size
    ) {
      throw damaged(path, "its header does not describe its contents");
    }
    return {
      header,
      size,
      vault: { offset: headBytes, length: s.vault },
      database: { offset: headBytes + s.vault, length: s.database },
    };
  } finally {
    file.close();
  }
}

/** Reads a section of a checked backup into memory (the vault: a few KiB). */
export async function readSection(
  path: string,
  section: { offset: number; length: number },
): Promise<Uint8Array> {
  const file = await Deno.open(path, { read: true });
  try {
    return await readAt(file, section.offset, section.length);
  } finally {
    file.close();
  }
}

/** Copies a section of a backup to `target` (new file, mode 0600) and fsyncs it. */
export async function extractSection(
  path: string,
  section: { offset: number; length: number },
  target: string,
): Promise<void> {
  const src = await Deno.open(path, { read: true });
  try {
    await src.seek(section.offset, Deno.SeekMode.Start);
    const out = await Deno.open(target, { write: true, createNew: true, mode: 0o600 });
    try {
      const buf = new Uint8Array(CHUNK);
      let left = section.length;
      while (left > 0) {
        const n = await src.read(buf.subarray(0, Math.min(CHUNK, left)));
        if (n === null) throw new Error("the backup ended early");
        await writeAll(out, buf.subarray(0, n));
        left -= n;
      }
      await out.sync();
    } finally {
      out.close();
    }
  } finally {
    src.close();
  }
}

/**
 * Reads only the header line of a backup, or null for a file that is not one (for
 * listings: the checksum is not checked, so the header is not yet believed).
 *
 * @example
 * ```ts
 * import { peekBackupHeader } from "../store/mod.ts";
 *
 * const h = await peekBackupHeader("/media/stick/hub-backup-20260101T120000Z.hubbackup");
 * h?.hub.name; // "Clinic North Hub"
 * h?.reason; // "schedule"
 * ```
 */
export async function peekBackupHeader(path: string): Promise<BackupHeader | null> {
  try {
    const file = await Deno.open(path, { read: true });
    try {
      const text = new TextDecoder().decode(await readAt(file, 0, MAX_HEADER));
      if (!text.startsWith(BACKUP_MAGIC)) return null;
      const end = text.indexOf("\n", BACKUP_MAGIC.length);
      return end < 0 ? null : JSON.parse(text.slice(BACKUP_MAGIC.length, end));
    } finally {
      file.close();
    }
  } catch {
    return null;
  }
}
