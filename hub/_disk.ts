/**
 * Free space on the data folder's disk, for the operator (status and health
 * line). Deno has no statfs, so `df -Pk` is asked (POSIX output format) and the
 * answer is cached for a few seconds; where it cannot run (Windows, no
 * permission) free space is simply unknown (null).
 */

import type { Logger } from "../core/mod.ts";

/** Free and total bytes of the disk holding a folder. */
export interface DiskSpace {
  freeBytes: number;
  totalBytes: number;
}

/** What the operator sees about the disk. */
export interface DiskStatus {
  freeBytes: number | null;
  totalBytes: number | null;
  /** True when writes found the disk full (or almost nothing is left). */
  full: boolean;
  /** When a write first found it full (null when not full). */
  fullSince: number | null;
  /** A sentence for the operator, or null when all is well. */
  warning: string | null;
}

/**
 * Below this much free space the operator is warned before the disk runs out.
 *
 * @example
 * ```ts
 * import { type Hub, LOW_SPACE_BYTES } from "./mod.ts";
 *
 * LOW_SPACE_BYTES; // 536870912 (512 MiB)
 * declare const hub: Hub; // the running hub
 * const disk = await hub.diskStatus();
 * if (disk.freeBytes !== null && disk.freeBytes < LOW_SPACE_BYTES && !disk.full) {
 *   disk.warning; // "The hub's disk is almost full (300 MB free). Free some space soon."
 * }
 * ```
 */
export const LOW_SPACE_BYTES = 512 * 1024 * 1024;
/** Below this the disk counts as full even before a write failed. */
export const FULL_SPACE_BYTES = 1024 * 1024;

/** Reads free space with `df -Pk` (null where it cannot). */
export async function diskSpace(dir: string): Promise<DiskSpace | null> {
  if (Deno.build.os === "windows") return null;
  try {
    const out = await new Deno.Command("df", {
      args: ["-Pk", dir],
      stdout: "piped",
      stderr: "null",
    })
      .output();
    if (!out.success) return null;
    const line = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
    const cols = line.split(/\s+/);
    const total = Number(cols[1]) * 1024;
    const free = Number(cols[3]) * 1024;
    if (!Number.isFinite(total) || !Number.isFinite(free)) return null;
    return { freeBytes: free, totalBytes: total };
  } catch {
    return null;
  }
}

/**
 * Caches {@link diskSpace} for `ttlMs`, and tells the log once when the disk
 * turns full and once when it has room again.
 */
export class DiskWatch {
  #dir: string;
  #ttlMs: number;
  #logger: Logger;
  #toldFull = false;
  #at = 0;
  #last: DiskSpace | null = null;
  #pending: Promise<DiskSpace | null> | null = null;

  /** Watches the disk of `dir`. */
  constructor(dir: string, logger: Logger, ttlMs = 5_000) {
    this.#dir = dir;
    this.#logger = logger;
    this.#ttlMs = ttlMs;
  }

  /**
   * The disk's state: free space (with a warning before it runs out), and
   * whether writes find it full (the store's `fullSince`, until a write succeeds
   * again). A change between full and not is logged once.
   */
  async status(fullSince: number | null): Promise<DiskStatus> {
    const status = describeDisk(await this.read(), fullSince);
    if (status.full && !this.#toldFull) {
      this.#logger.log("error", "hub.disk_full", { freeBytes: status.freeBytes });
    } else if (!status.full && this.#toldFull) {
      this.#logger.log("info", "hub.disk_ok", { freeBytes: status.freeBytes });
    }
    this.#toldFull = status.full;
    return status;
  }

  /** The state from the last reading (no disk access). */
  lastStatus(fullSince: number | null): DiskStatus {
    return describeDisk(this.#last, fullSince);
  }

  /** Says at once, not at the first phone's push, that a database just opened cannot save. */
  tellUnwritable(): void {
    this.#logger.log("error", "hub.disk_full", {
      hint: "The hub's disk is full: it opened, but cannot save anything until space is freed.",
    });
    this.#toldFull = true;
  }

  /** The last reading (may be stale or null). */
  get last(): DiskSpace | null {
    return this.#last;
  }

  /** A reading at most `ttlMs` old. */
  async read(): Promise<DiskSpace | null> {
    if (Date.now() - this.#at < this.#ttlMs) return this.#last;
    this.#pending ??= diskSpace(this.#dir).then((s) => {
      this.#last = s;
      this.#at = Date.now();
      this.#pending = null;
      return s;
    });
    return await this.#pending;
  }
}

/** Builds the operator's view from the free space and the store's disk-full state. */
export function describeDisk(space: DiskSpace | null, fullSince: number | null): DiskStatus {
  const free = space?.freeBytes ?? null;
  const full = fullSince !== null || (free !== null && free < FULL_SPACE_BYTES);
  const mb = free === null ? null : Math.floor(free / (1024 * 1024));
  let warning: string | null = null;
  if (full) {
    warning = "The hub's disk is full: phones cannot save changes and the cloud relay cannot " +
      `write. Free some space on this computer${mb === null ? "" : ` (${mb} MB free)`}.`;
  } else if (free !== null && free < LOW_SPACE_BYTES) {
    warning = `The hub's disk is almost full (${mb} MB free). Free some space soon.`;
  }
  return {
    freeBytes: free,
    totalBytes: space?.totalBytes ?? null,
    full,
    fullSince: full ? (fullSince ?? Date.now()) : null,
    warning,
  };
}
