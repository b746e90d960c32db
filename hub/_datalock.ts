/**
 * One hub per data folder. Two hubs on one folder would run two change clocks
 * and two relays on one database, so the running hub holds an exclusive
 * OS-level lock on `<data>/hub.lock` (flock on Unix, LockFileEx on Windows)
 * for as long as it runs. The kernel drops the lock when the process ends,
 * however it ends (a SIGKILL included), so a stale file never blocks a restart:
 * the file's content only describes the holder, the lock itself decides.
 */
import { HubError, join } from "../core/mod.ts";

/**
 * Name of the lock file inside the data folder.
 *
 * @example
 * ```ts
 * import { LOCK_FILE } from "./mod.ts";
 * import { join } from "../core/mod.ts";
 *
 * LOCK_FILE; // "hub.lock"
 * // What the running hub wrote about itself (the OS lock, not the file, keeps others out):
 * const holder = JSON.parse(await Deno.readTextFile(join("/srv/hub/data", LOCK_FILE)));
 * holder.pid; // 4242
 * ```
 */
export const LOCK_FILE = "hub.lock";

/** What the lock file tells a second copy about the running one. */
export interface LockHolder {
  pid: number;
  startedAt: string;
  admin?: string | null;
  lan?: string | null;
}

/**
 * A held data-folder lock.
 *
 * @example
 * ```ts
 * import { DataDirLock } from "./mod.ts";
 *
 * const lock = await DataDirLock.acquire("/srv/hub/data"); // holds /srv/hub/data/hub.lock
 * await lock.describe({ admin: "http://127.0.0.1:4002", lan: "http://192.168.1.20:4001" });
 * // Meanwhile `DataDirLock.acquire("/srv/hub/data")` in another hub throws HubError
 * // `hub_already_running` (409), naming this hub's pid, start time and admin URL.
 * lock.release(); // at exit, or before an updated executable takes over
 * ```
 */
export class DataDirLock {
  #file: Deno.FsFile | null;
  #holder: LockHolder;
  readonly path: string;

  private constructor(file: Deno.FsFile, path: string, holder: LockHolder) {
    this.#file = file;
    this.path = path;
    this.#holder = holder;
  }

  /**
   * Takes the lock on `dir` or throws `hub_already_running` with one line naming
   * the running hub (pid, start time, admin URL when known).
   */
  static async acquire(dir: string): Promise<DataDirLock> {
    const path = join(dir, LOCK_FILE);
    // No truncate on open: the running hub's description must survive a failed try.
    const file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
    let locked = false;
    try {
      locked = await file.tryLock(true);
    } catch (err) {
      file.close();
      throw err;
    }
    if (!locked) {
      file.close();
      const holder = await readHolder(path);
      throw new HubError("hub_already_running", 409, describeRunning(dir, holder));
    }
    const lock = new DataDirLock(file, path, {
      pid: Deno.pid,
      startedAt: new Date().toISOString(),
    });
    await lock.#write();
    return lock;
  }

  /** Adds what other copies should be told (admin URL, LAN URL) to the lock file. */
  async describe(extra: Partial<LockHolder>): Promise<void> {
    this.#holder = { ...this.#holder, ...extra };
    await this.#write();
  }

  async #write(): Promise<void> {
    const file = this.#file;
    if (!file) return;
    const data = new TextEncoder().encode(JSON.stringify(this.#holder) + "\n");
    try {
      await file.truncate(0);
      await file.seek(0, Deno.SeekMode.Start);
      let off = 0;
      while (off < data.length) off += await file.write(data.subarray(off));
    } catch {
      // The description is a courtesy (a full disk must not stop the hub); the
      // lock itself is what keeps a second hub out.
    }
  }

  /** Releases the lock (before handing over to an updated executable, or at exit). */
  release(): void {
    const file = this.#file;
    if (!file) return;
    this.#file = null;
    try {
      file.unlockSync();
    } finally {
      file.close();
    }
  }
}

async function readHolder(path: string): Promise<LockHolder | null> {
  try {
    const v = JSON.parse(await Deno.readTextFile(path));
    return typeof v?.pid === "number" ? v as LockHolder : null;
  } catch {
    return null;
  }
}

function describeRunning(dir: string, holder: LockHolder | null): string {
  const who = holder
    ? `pid ${holder.pid}, started ${holder.startedAt}` +
      (holder.admin ? `, admin ${holder.admin}` : "") + (holder.lan ? `, LAN ${holder.lan}` : "")
    : "its description is unreadable";
  return `another hub is already running on the data folder ${dir} (${who}); ` +
    "stop it first, or start this one with another --data-dir";
}
