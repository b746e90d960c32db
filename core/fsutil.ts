/** Small file-system helpers whose durability rules are decided here, once. */
import { HubError } from "./errors.ts";

/**
 * True for the operating system's "no space left on device" (ENOSPC) and quota errors.
 *
 * @example
 * ```ts
 * import { isNoSpace } from "./mod.ts";
 *
 * isNoSpace(new Error("No space left on device (os error 28)")); // true
 * isNoSpace(new Deno.errors.NotFound("No such file or directory (os error 2)")); // false
 * ```
 */
export function isNoSpace(err: unknown): boolean {
  return /No space left|os error 28|Disk quota exceeded|os error 122|ENOSPC/i.test(
    String((err as Error)?.message ?? err),
  );
}

/**
 * Writes `data` to `path` so that after a crash the file holds either the old or
 * the new content, never a mix: write a temp file in the same folder, fsync it,
 * rename it over the target (atomic on POSIX and NTFS), then fsync the folder so
 * the rename itself survives a power cut. On any failure (a full disk above all)
 * the temp file is removed and the target is untouched; a full disk is reported
 * as the `disk_full` error.
 *
 * @example
 * ```ts
 * import { join, writeFileDurable } from "./mod.ts";
 *
 * const dataDir = await Deno.makeTempDir();
 * const settings = new TextEncoder().encode('{"port":4001}');
 * await writeFileDurable(join(dataDir, "settings.json"), settings); // mode 0o600
 * ```
 */
export async function writeFileDurable(
  path: string,
  data: Uint8Array,
  mode = 0o600,
): Promise<void> {
  const dir = dirname(path);
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  try {
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true, mode });
    try {
      let off = 0;
      while (off < data.length) off += await file.write(data.subarray(off));
      await file.sync();
    } finally {
      file.close();
    }
    if (Deno.build.os !== "windows") await Deno.chmod(tmp, mode);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    if (isNoSpace(err)) {
      throw new HubError(
        "disk_full",
        507,
        "The hub's disk is full: nothing was changed. Free some space on this computer and retry.",
        { cause: err },
      );
    }
    throw err;
  }
  await syncDir(dir);
}

/**
 * fsyncs a directory so that renames and creations inside it are durable (no-op on Windows).
 *
 * @example
 * ```ts
 * import { join, syncDir } from "./mod.ts";
 *
 * const dataDir = await Deno.makeTempDir();
 * await Deno.writeTextFile(join(dataDir, "hub.db.new"), "");
 * await Deno.rename(join(dataDir, "hub.db.new"), join(dataDir, "hub.db"));
 * await syncDir(dataDir); // the rename now survives a power cut
 * ```
 */
export async function syncDir(dir: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  const d = await Deno.open(dir, { read: true });
  try {
    await d.sync();
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic.
  } finally {
    d.close();
  }
}

/**
 * Returns the folder part of a path (handles both separators).
 *
 * @example
 * ```ts
 * import { dirname } from "./mod.ts";
 *
 * dirname("/srv/hub/hub.vault"); // "/srv/hub"
 * dirname("C:\\Hub\\hub.exe"); // "C:\\Hub"
 * dirname("hub.vault"); // "."
 * ```
 */
export function dirname(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  if (i < 0) return ".";
  if (i === 0) return path.slice(0, 1);
  return path.slice(0, i);
}

/**
 * Joins path segments with the platform's separator.
 *
 * @example
 * ```ts
 * import { join } from "./mod.ts";
 *
 * join("/srv/hub/", "data", "hub.db"); // "/srv/hub/data/hub.db" (backslashes on Windows)
 * ```
 */
export function join(...parts: string[]): string {
  const sep = Deno.build.os === "windows" ? "\\" : "/";
  return parts.filter((p) => p.length > 0).join(sep).replace(/[\\/]+/g, sep);
}

/**
 * True when `path` exists.
 *
 * @example
 * ```ts
 * import { exists } from "./mod.ts";
 *
 * if (!(await exists("/srv/hub/hub.vault"))) {
 *   // not set up yet: show the setup page
 * }
 * ```
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
