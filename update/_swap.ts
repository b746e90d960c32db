/**
 * Swapping the executable, inside its folder, followed by an fsync of the folder.
 * POSIX: hard-link the current file as `<exe>.previous`, then rename the verified
 * download over `<exe>` (atomic). Windows (a running executable can be renamed,
 * never overwritten): rename current → `<exe>.previous`, then download → `<exe>`;
 * a crash between the two leaves no `<exe>`, which {@link recoverInterruptedSwap}
 * repairs. {@link rollback} restores `<exe>.previous`.
 */
import { exists, syncDir } from "../core/mod.ts";
import { dirname } from "../core/mod.ts";

/**
 * Paths used around an executable.
 *
 * @example
 * ```ts
 * import { swapPaths } from "./mod.ts";
 *
 * swapPaths("/opt/local-sync-hub/local-sync-hub");
 * // {
 * //   previous: "/opt/local-sync-hub/local-sync-hub.previous",
 * //   download: "/opt/local-sync-hub/local-sync-hub.download",
 * //   failed: "/opt/local-sync-hub/local-sync-hub.failed",
 * // }
 * ```
 */
export function swapPaths(exe: string): { previous: string; download: string; failed: string } {
  return { previous: `${exe}.previous`, download: `${exe}.download`, failed: `${exe}.failed` };
}

/**
 * Moves `newFile` into place as `exe`, keeping the old one as `<exe>.previous`.
 *
 * @example
 * ```ts
 * import { swapExecutable, swapPaths } from "./mod.ts";
 *
 * const exe = "/opt/local-sync-hub/local-sync-hub";
 * // after the download was written to swapPaths(exe).download and verified:
 * await swapExecutable(exe, swapPaths(exe).download);
 * ```
 */
export async function swapExecutable(exe: string, newFile: string): Promise<void> {
  const { previous } = swapPaths(exe);
  await Deno.remove(previous).catch(() => {});
  if (Deno.build.os !== "windows") {
    // POSIX: keep the old file under a second name (hard link), then replace `exe`
    // in one rename. At no moment is there no executable at `exe`.
    await Deno.chmod(newFile, 0o755);
    await Deno.link(exe, previous);
    await Deno.rename(newFile, exe);
  } else {
    // Windows cannot replace a running executable, only rename it away first;
    // recoverInterruptedSwap repairs a crash between the two renames.
    await Deno.rename(exe, previous);
    try {
      await Deno.rename(newFile, exe);
    } catch (err) {
      await Deno.rename(previous, exe);
      throw err;
    }
  }
  await syncDir(dirname(exe));
}

/**
 * Puts `<exe>.previous` back as `exe`; the failed one is kept as `<exe>.failed`.
 *
 * @example
 * ```ts
 * import { launchAndConfirm, rollback } from "./mod.ts";
 *
 * const exe = "/opt/local-sync-hub/local-sync-hub";
 * if (!(await launchAndConfirm(exe, Deno.args, 90_000))) {
 *   await rollback(exe); // the new one did not come up healthy
 * }
 * ```
 */
export async function rollback(exe: string): Promise<void> {
  const { previous, failed } = swapPaths(exe);
  if (!(await exists(previous))) throw new Error("no previous executable to roll back to");
  await Deno.remove(failed).catch(() => {});
  if (Deno.build.os !== "windows" && await exists(exe)) {
    // Keep the failed file aside, then replace `exe` in one rename (no gap).
    await Deno.link(exe, failed);
  } else if (await exists(exe)) {
    await Deno.rename(exe, failed);
  }
  await Deno.rename(previous, exe);
  await syncDir(dirname(exe));
}

/**
 * After a crash between the two renames: restores the previous executable if `exe` is missing.
 *
 * @example
 * ```ts
 * import { recoverInterruptedSwap } from "./mod.ts";
 *
 * // at start-up of an installed executable, before anything else
 * if (await recoverInterruptedSwap(Deno.execPath())) {
 *   // true: `<exe>` was missing and `<exe>.previous` was put back
 * }
 * ```
 */
export async function recoverInterruptedSwap(exe: string): Promise<boolean> {
  const { previous } = swapPaths(exe);
  if (await exists(exe) || !(await exists(previous))) return false;
  await Deno.rename(previous, exe);
  await syncDir(dirname(exe));
  return true;
}

/**
 * Starts `exe` with `args` and waits until it reports healthy by writing
 * "ok" to the file named in `HUB_UPDATE_HEALTH_FILE` (main.ts does so once ready).
 * Returns the child when healthy; kills it and returns null otherwise.
 *
 * @example
 * ```ts
 * import { launchAndConfirm } from "./mod.ts";
 *
 * const exe = "/opt/local-sync-hub/local-sync-hub";
 * const child = await launchAndConfirm(exe, ["--data-dir", "/srv/hub"], 90_000);
 * if (child) Deno.exit(0); // the new process runs on; null means it never said "ok"
 * ```
 */
export async function launchAndConfirm(
  exe: string,
  args: string[],
  timeoutMs: number,
): Promise<Deno.ChildProcess | null> {
  const healthFile = `${exe}.health-${crypto.randomUUID()}`;
  const child = new Deno.Command(exe, {
    args,
    env: { HUB_UPDATE_HEALTH_FILE: healthFile },
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline && !exited) {
      try {
        if ((await Deno.readTextFile(healthFile)).trim() === "ok") return child;
      } catch {
        // not written yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await child.status;
    }
    return null;
  } finally {
    await Deno.remove(healthFile).catch(() => {});
  }
}
