/**
 * The updater: checks a manifest at start and every 30 minutes, and — only when
 * the operator clicks — downloads the platform's executable, verifies its
 * minisign signature against the public key fixed at build time, swaps it in
 * (keeping the previous one) and hands over to the new process, rolling back if
 * it does not come up healthy. Offline is a retryable error, nothing more.
 */
import { fromB64, HubError, Logger } from "../core/mod.ts";
import { compareVersions, parseManifest, type PlatformEntry, platformKey } from "./_manifest.ts";
import { parsePublicKey, verifyFile } from "./_minisign.ts";
import { swapExecutable, swapPaths } from "./_swap.ts";

/** Where the updater is. */
export type UpdateState =
  | "disabled"
  | "idle"
  | "checking"
  | "up-to-date"
  | "available"
  | "downloading"
  | "verifying"
  | "installing"
  | "failed";

/** What `GET /api/update` shows. */
export interface UpdateStatus {
  state: UpdateState;
  current: string;
  latest: string | null;
  notes: string | null;
  pubDate: string | null;
  progress: { received: number; total: number | null } | null;
  error: string | null;
  retryable: boolean;
  checkedAt: number | null;
  canInstall: boolean;
}

/** Options of the updater. */
export interface UpdaterOptions {
  currentVersion: string;
  /** Manifest URL (null disables updates, e.g. development builds). */
  manifestUrl: string | null;
  /** minisign public key (line or file text) fixed at build time. */
  publicKey: string | null;
  /** The running executable (null under `deno run`: nothing to swap). */
  exePath: string | null;
  platform?: string;
  /** Hands over to the new executable after the swap (stops this process on success). */
  relaunch?: (exe: string) => Promise<void>;
  checkEveryMs?: number;
  timeoutMs?: number;
  /** Where the updater logs (main.ts hands in the hub's; default: stderr). */
  logger?: Logger;
}

/**
 * The updater of one running hub.
 *
 * @example
 * ```ts
 * import { Updater } from "./mod.ts";
 *
 * const updater = new Updater({
 *   currentVersion: "1.4.0",
 *   manifestUrl: "https://updates.example.org/hub/latest.json",
 *   publicKey: await Deno.readTextFile("release.pub"),
 *   exePath: Deno.execPath(),
 * });
 * const status = await updater.check(); // state "available" or "up-to-date"
 * if (status.state === "available") {
 *   await updater.install(); // only when the operator clicks Install
 * }
 * ```
 */
export class Updater {
  #o: UpdaterOptions;
  #entry: PlatformEntry | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #busy = false;
  #s: UpdateStatus;
  #watchers = new Set<(s: UpdateStatus) => void>();
  #lastProgressTold = 0;
  #logger: Logger;

  /** Creates the updater (does nothing until {@link start} or {@link check}). */
  constructor(options: UpdaterOptions) {
    this.#o = options;
    this.#logger = options.logger ?? new Logger();
    this.#s = {
      state: options.manifestUrl && options.publicKey ? "idle" : "disabled",
      current: options.currentVersion,
      latest: null,
      notes: null,
      pubDate: null,
      progress: null,
      error: null,
      retryable: false,
      checkedAt: null,
      canInstall: false,
    };
  }

  /** Current status (a copy). */
  status(): UpdateStatus {
    return { ...this.#s, progress: this.#s.progress ? { ...this.#s.progress } : null };
  }

  /**
   * Calls `fn` with the status whenever it changed (the admin stream's `update`
   * events; download progress at most four times a second). Returns the release.
   */
  watch(fn: (s: UpdateStatus) => void): () => void {
    this.#watchers.add(fn);
    return () => this.#watchers.delete(fn);
  }

  #changed(): void {
    const s = this.status();
    for (const fn of [...this.#watchers]) {
      try {
        fn(s);
      } catch {
        // A watcher's failure must not stop an update.
      }
    }
  }

  /** Checks now and every 30 minutes. */
  start(): void {
    if (this.#s.state === "disabled" || this.#timer) return;
    this.check().catch(() => {});
    this.#timer = setInterval(() => {
      if (!this.#busy) this.check().catch(() => {});
    }, this.#o.checkEveryMs ?? 30 * 60_000);
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  /** Stops the schedule. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #fail(message: string, retryable: boolean): never {
    this.#s.state = "failed";
    this.#s.error = message;
    this.#s.retryable = retryable;
    this.#s.progress = null;
    throw new HubError(
      retryable ? "update_unreachable" : "update_refused",
      retryable ? 503 : 400,
      message,
    );
  }

  /** Fetches the manifest and compares versions. */
  async check(): Promise<UpdateStatus> {
    if (this.#s.state === "disabled") {
      throw new HubError("updates_disabled", 409, "Updates are not configured in this build.");
    }
    if (this.#busy) return this.status();
    this.#busy = true;
    this.#s.state = "checking";
    this.#changed();
    try {
      let doc: unknown;
      try {
        const res = await fetch(this.#o.manifestUrl!, {
          signal: AbortSignal.timeout(this.#o.timeoutMs ?? 30_000),
        });
        if (!res.ok) {
          this.#fail(`The update server answered ${res.status}. Try again later.`, true);
        }
        doc = await res.json();
      } catch (err) {
        if (err instanceof HubError) throw err;
        this.#fail(
          "Could not reach the update server (offline?). Try again when the computer is online.",
          true,
        );
      }
      let manifest;
      try {
        manifest = parseManifest(doc);
      } catch (err) {
        this.#fail((err as Error).message, true);
      }
      this.#s.checkedAt = Date.now();
      this.#s.latest = manifest.version;
      this.#s.notes = manifest.notes ?? null;
      this.#s.pubDate = manifest.pub_date ?? null;
      this.#s.error = null;
      this.#s.retryable = false;
      const entry = manifest.platforms[this.#o.platform ?? platformKey()];
      if (compareVersions(manifest.version, this.#o.currentVersion) > 0 && entry) {
        this.#entry = entry;
        this.#s.state = "available";
        this.#s.canInstall = this.#o.exePath !== null;
      } else {
        this.#entry = null;
        this.#s.state = "up-to-date";
        this.#s.canInstall = false;
      }
      return this.status();
    } finally {
      this.#busy = false;
      this.#changed();
    }
  }

  /**
   * Downloads, verifies and swaps in the new executable, then relaunches.
   * Called only from the operator's click (POST /api/update/install).
   */
  async install(): Promise<UpdateStatus> {
    if (this.#busy) throw new HubError("update_busy", 409, "An update step is already running.");
    if (this.#s.state !== "available" || !this.#entry || !this.#s.latest) {
      throw new HubError("no_update", 409, "No update is available; check first.");
    }
    const exe = this.#o.exePath;
    if (!exe) {
      throw new HubError(
        "not_installed",
        409,
        "Updates apply to the installed executable; this hub runs from source (deno run).",
      );
    }
    this.#busy = true;
    const { download } = swapPaths(exe);
    const version = this.#s.latest;
    try {
      await this.#download(this.#entry.url, download);
      this.#s.state = "verifying";
      this.#changed();
      let sigText: string;
      try {
        sigText = new TextDecoder().decode(fromB64(this.#entry.signature));
      } catch {
        this.#fail("Update refused: the manifest's signature is not base64.", false);
      }
      try {
        await verifyFile(download, sigText, parsePublicKey(this.#o.publicKey!), version);
      } catch (err) {
        this.#fail((err as Error).message, false);
      }
      this.#s.state = "installing";
      this.#changed();
      await swapExecutable(exe, download);
      this.#logger.log("info", "update.swapped", { from: this.#o.currentVersion, to: version });
      if (this.#o.relaunch) await this.#o.relaunch(exe);
      return this.status();
    } catch (err) {
      await Deno.remove(download).catch(() => {});
      if (!(err instanceof HubError)) {
        this.#fail(`The update could not be installed: ${(err as Error).message}`, true);
      }
      throw err;
    } finally {
      this.#busy = false;
      this.#changed();
    }
  }

  /** Downloads to `target` with progress; the running executable is never touched here. */
  async #download(url: string, target: string): Promise<void> {
    this.#s.state = "downloading";
    this.#s.progress = { received: 0, total: null };
    this.#changed();
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.#o.timeoutMs ?? 30 * 60_000) });
    } catch {
      this.#fail("Could not download the update (offline?). Try again later.", true);
    }
    if (!res.ok || !res.body) this.#fail(`The update download answered ${res.status}.`, true);
    const total = Number(res.headers.get("content-length"));
    this.#s.progress.total = Number.isFinite(total) && total > 0 ? total : null;
    const file = await Deno.open(target, {
      write: true,
      create: true,
      truncate: true,
      mode: 0o700,
    });
    try {
      for await (const chunk of res.body) {
        let off = 0;
        while (off < chunk.length) off += await file.write(chunk.subarray(off));
        this.#s.progress.received += chunk.length;
        if (Date.now() - this.#lastProgressTold >= 250) {
          this.#lastProgressTold = Date.now();
          this.#changed();
        }
      }
      await file.sync();
    } catch {
      this.#fail("The download was interrupted. Try again.", true);
    } finally {
      file.close();
    }
    if (this.#s.progress.total !== null && this.#s.progress.received !== this.#s.progress.total) {
      this.#fail("The download was incomplete. Try again.", true);
    }
  }
}
