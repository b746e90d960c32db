/**
 * The backup folder: which good backups it holds, and keeping the last K plus the
 * newest of each of the last seven days (the rest are removed after each backup).
 * Files are read by their header only (`peekBackupHeader`); a file is proven when
 * it is restored, and was proven before it got its final name.
 */
import { join, syncDir } from "../core/mod.ts";
import { BACKUP_EXTENSION, peekBackupHeader } from "../store/mod.ts";

/** Days for which the newest backup of each day is kept. */
export const KEEP_DAILY_DAYS = 7;

/** One backup in the folder. */
export interface BackupEntry {
  file: string;
  bytes: number;
  takenAt: number;
  reason: string;
  clock: number;
  hubId: string;
  counts: Record<string, number>;
}

/** True when `dir` is there and is a folder (a pulled stick's folder is not). */
export async function isFolder(dir: string): Promise<boolean> {
  try {
    return (await Deno.stat(dir)).isDirectory;
  } catch {
    return false;
  }
}

/**
 * The backups in `dir`, newest first: every hub's when `hubId` is null, else only
 * that hub's. A folder that is not there holds none.
 */
export async function listBackups(dir: string, hubId: string | null): Promise<BackupEntry[]> {
  if (!(await isFolder(dir))) return [];
  const out: BackupEntry[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !e.name.endsWith(BACKUP_EXTENSION) || e.name.startsWith(".")) continue;
    const path = join(dir, e.name);
    const h = await peekBackupHeader(path);
    if (!h) continue;
    if (hubId && h.hub?.id !== hubId) continue;
    const size = (await Deno.stat(path).catch(() => null))?.size ?? 0;
    out.push({
      file: e.name,
      bytes: size,
      takenAt: h.takenAt,
      reason: h.reason,
      clock: h.clock,
      hubId: h.hub?.id,
      counts: h.counts,
    });
  }
  return out.sort((a, b) => b.takenAt - a.takenAt || b.file.localeCompare(a.file));
}

/**
 * Keeps the newest `keepLast` of `entries` (newest first, one hub's) plus the newest
 * of each of the last {@link KEEP_DAILY_DAYS} days; removes the rest from `dir`.
 * Returns how many it removed.
 */
export async function pruneBackups(
  dir: string,
  entries: BackupEntry[],
  keepLast: number,
  now: number,
): Promise<number> {
  const keep = new Set(entries.slice(0, keepLast).map((e) => e.file));
  const cutoff = now - KEEP_DAILY_DAYS * 24 * 3_600_000;
  const days = new Set<string>();
  for (const e of entries) {
    if (e.takenAt < cutoff) continue;
    const day = new Date(e.takenAt).toISOString().slice(0, 10);
    if (!days.has(day)) {
      days.add(day);
      keep.add(e.file);
    }
  }
  let removed = 0;
  for (const e of entries) {
    if (keep.has(e.file)) continue;
    await Deno.remove(join(dir, e.file)).then(() => removed++).catch(() => {});
  }
  if (removed > 0) await syncDir(dir);
  return removed;
}
