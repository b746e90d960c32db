/**
 * Entry point: parse flags, check the data folder, start the loopback admin
 * server first (the desktop runtime binds the program's first Deno.serve), then
 * (headless) unlock and start the LAN server, print the ready line, open the page.
 */
import { HubError, isNoSpace, join, Logger } from "./core/mod.ts";
import { DataDirLock, Hub, runRestoreCommand } from "./hub/mod.ts";
import { cliFailure, DEFAULT_ADMIN_PORT, HELP, parseCli, readPassphraseFile } from "./hub/cli.ts";
import { startAdminServer } from "./ui/mod.ts";
import { pairingPayload, pairingTerminal } from "./ui/mod.ts";
import { UPDATE_MANIFEST_URL, UPDATE_PUBLIC_KEY, VERSION } from "./version.ts";
import { launchAndConfirm, recoverInterruptedSwap, rollback, Updater } from "./update/mod.ts";

/** One line for the person at the terminal (stderr; stdout carries only the ready line). */
function say(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(text + "\n"));
}

function defaultDataDir(): string {
  if (Deno.build.standalone) {
    const exe = Deno.execPath();
    const i = Math.max(exe.lastIndexOf("/"), exe.lastIndexOf("\\"));
    return join(exe.slice(0, i), "hub-data");
  }
  return "data";
}

async function checkDataDir(dir: string, logger: Logger): Promise<void> {
  const probe = join(dir, `.write-test-${crypto.randomUUID()}`);
  try {
    // Owner-only: the database is encrypted, but nobody else needs to copy it.
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    await tightenDataDir(dir, logger);
    await Deno.writeFile(probe, new Uint8Array(1));
    await Deno.remove(probe);
  } catch (err) {
    if (isNoSpace(err)) {
      // Start anyway: phones can still pull and the operator must be told why
      // nothing can be saved (the status and the health line say so too).
      logger.log("error", "hub.disk_full", {
        dataDir: dir,
        hint: "The hub's disk is full: it starts, but cannot save anything until space is freed.",
      });
      await Deno.remove(probe).catch(() => {});
      return;
    }
    throw new HubError(
      "data_dir_unusable",
      400,
      `the data folder ${dir} cannot be used (${(err as Error).message}); ` +
        "choose a writable folder with --data-dir",
      { cause: err },
    );
  }
}

/**
 * An existing data folder keeps the mode it was made with (mkdir does not change
 * it); tighten a group/world-accessible one to owner-only, as a new one is.
 */
async function tightenDataDir(dir: string, logger: Logger): Promise<void> {
  if (Deno.build.os === "windows") return;
  const mode = (await Deno.stat(dir)).mode;
  if (mode === null || (mode & 0o077) === 0) return;
  const was = (mode & 0o777).toString(8).padStart(4, "0");
  try {
    await Deno.chmod(dir, 0o700);
    say(
      `The data folder ${dir} was open to other users (mode ${was}); it is now owner-only (0700).`,
    );
  } catch (err) {
    logger.log("warn", "data_dir.loose_mode", { mode: was, error: err });
    say(
      `warning: the data folder ${dir} is open to other users (mode ${was}) and could not be ` +
        `tightened (${(err as Error).message}); run: chmod 700 ${dir}`,
    );
  }
}

async function openBrowser(
  dataDir: string,
  adminUrl: string,
  code: string,
  logger: Logger,
): Promise<void> {
  // The one-time code goes through a private file, never a command line (argv is
  // visible to other users); the file redirects the browser to redeem it.
  const file = join(dataDir, "open-admin.html");
  const target = `${adminUrl}/launch?code=${code}`;
  await Deno.writeTextFile(
    file,
    `<!doctype html><meta http-equiv="refresh" content="0;url=${target}"><a href="${target}">Open the Local Sync Hub</a>\n`,
    { mode: 0o600 },
  );
  if (Deno.build.os !== "windows") await Deno.chmod(file, 0o600);
  const cmd = Deno.build.os === "darwin"
    ? ["open", file]
    : Deno.build.os === "windows"
    ? ["cmd", "/c", "start", "", file]
    : ["xdg-open", file];
  try {
    const child = new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "null", stderr: "null" })
      .spawn();
    child.status.catch(() => {});
  } catch {
    logger.log("warn", "admin.open_failed", { hint: `open ${file} in a browser` });
  }
}

/** The part of `Deno.BrowserWindow` (deno desktop only) the hub uses. */
interface DesktopWindow {
  bind(name: string, handler: (...args: unknown[]) => unknown): void;
}

/** Adopts the desktop window when running under `deno desktop`; undefined under `deno run`. */
function desktopWindow(): DesktopWindow | undefined {
  const ctor = (Deno as unknown as {
    BrowserWindow?: new (options: Record<string, unknown>) => DesktopWindow;
  }).BrowserWindow;
  return ctor ? new ctor({ title: "Local Sync Hub", width: 1100, height: 760 }) : undefined;
}

/**
 * Runs the hub with command-line `args` (default `Deno.args`); a bench-only entry
 * (bench/_mem_hub.ts) calls it to measure the real program from inside.
 */
export async function main(args: string[] = Deno.args): Promise<void> {
  if (args[0] === "restore") return await runRestoreCommand(args.slice(1));
  const cli = parseCli(args);
  if (cli.help) {
    await Deno.stdout.write(new TextEncoder().encode(HELP));
    return;
  }
  if (cli.version) {
    await Deno.stdout.write(new TextEncoder().encode(VERSION + "\n"));
    return;
  }
  const dataDir = cli.dataDir ?? defaultDataDir();
  // The one logger of this process: the hub hands it to every part.
  const logger = new Logger();
  await checkDataDir(dataDir, logger);
  // One hub per data folder: held until the process ends (the kernel drops it
  // even on SIGKILL, so a killed hub never blocks a restart).
  let dataLock: DataDirLock;
  try {
    dataLock = await DataDirLock.acquire(dataDir);
  } catch (err) {
    if (err instanceof HubError) throw err;
    throw new HubError("data_dir_lock_failed", 500, `cannot lock the data folder: ${err}`, {
      cause: err,
    });
  }
  const exePath = Deno.build.standalone ? Deno.execPath() : null;
  if (exePath && await recoverInterruptedSwap(exePath)) {
    logger.log("warn", "update.recovered_interrupted_swap", {});
  }
  const hub = new Hub({
    dataDir,
    version: VERSION,
    lan: { host: cli.host, port: cli.port, maxBodyBytes: cli.maxBodyMb * 1024 * 1024 },
    logger,
    backups: { dir: cli.backupDir, everyMinutes: cli.backupEvery },
  });
  await hub.init();
  let admin: Awaited<ReturnType<typeof startAdminServer>>;
  const updater = new Updater({
    currentVersion: VERSION,
    manifestUrl: cli.updateUrl ?? UPDATE_MANIFEST_URL,
    publicKey: UPDATE_PUBLIC_KEY,
    exePath,
    logger,
    // Hand over to the new executable: release the database and ports, start it,
    // and exit once it reports healthy; otherwise put the previous one back.
    relaunch: async (exe) => {
      await hub.backups.before("update");
      // Closes the admin server and releases the data folder (the new executable takes it).
      await hub.shutdown();
      if (await launchAndConfirm(exe, args, 90_000)) Deno.exit(0);
      logger.log("error", "update.unhealthy_rolling_back", {});
      await rollback(exe);
      Deno.exit(await launchAndConfirm(exe, args, 90_000) ? 0 : 1);
    },
  });
  try {
    admin = await startAdminServer(hub, { port: cli.adminPort ?? DEFAULT_ADMIN_PORT, updater });
  } catch (err) {
    // Only the default port falls back: a port asked for by flag must be that port.
    if (!(cli.adminPort === null && err instanceof HubError && err.code === "address_in_use")) {
      throw err;
    }
    admin = await startAdminServer(hub, { port: 0, updater });
    say(
      `The admin port ${DEFAULT_ADMIN_PORT} is in use (another hub?); the admin page is on ` +
        `port ${admin.port} this time (choose one with --admin-port).`,
    );
  }
  // The hub's shutdown ends with these, in this order.
  hub.closeOnShutdown(() => admin.close());
  hub.closeOnShutdown(() => dataLock.release());
  if (cli.updateUrl !== null && !UPDATE_PUBLIC_KEY) {
    say(
      "warning: --update-url does nothing in this build: it has no release key built in " +
        "(a development build, e.g. deno run), so updates are off.",
    );
  }
  let lan: string | null = null;
  if (cli.passphraseFile) {
    const passphrase = await readPassphraseFile(cli.passphraseFile);
    try {
      if (hub.state === "new") await hub.setup(passphrase);
      else await hub.unlock(passphrase);
      await hub.startServer();
      lan = `http://${cli.host}:${hub.server.port}`;
    } catch (err) {
      await admin.close();
      if (err instanceof HubError) throw err;
      throw new HubError("start_failed", 500, String(err), { cause: err });
    }
  }
  await dataLock.describe({ admin: admin.url, lan });
  const ready = { event: "ready", admin: admin.url, token: admin.guard.token, lan };
  await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(ready) + "\n"));
  const healthFile = Deno.env.get("HUB_UPDATE_HEALTH_FILE");
  if (healthFile) await Deno.writeTextFile(healthFile, "ok");
  updater.start();
  logger.log("info", "hub.ready", { admin: admin.url, lan, state: hub.state });

  const desktop = desktopWindow();
  if (desktop) {
    // deno desktop: the window already shows our first server's "/"; the page asks
    // for a one-time launch code through a binding (no URL, no argv carries it).
    desktop.bind("hubLaunchCode", () => admin.guard.newLaunchCode());
  } else {
    if (cli.open) await openBrowser(dataDir, admin.url, admin.guard.newLaunchCode(), logger);
    // Always say how to reach the page: there may be no browser (a server, ssh),
    // or it may not have opened. A one-time code, never the bearer token, in a URL.
    say(
      `Admin page: ${admin.url}/launch?code=${admin.guard.newLaunchCode()}\n` +
        "  Open it in a browser on this computer. The link works once, within 10 minutes; " +
        `afterwards ${admin.url} asks for the passphrase${
          hub.state === "new" ? " (once the hub is set up)" : ""
        }.`,
    );
    if (hub.state === "unlocked" && hub.server.running) {
      const s = hub.vault.secrets;
      const url = hub.server.status().urls[0];
      const qr = await pairingTerminal(pairingPayload(url, s.hubId, s.hubPublicKey));
      say(`Pair a phone: scan this code (${url})\n${qr}`);
    } else {
      say("Phones can pair once the hub is set up or unlocked on the admin page.");
    }
  }

  const stop = async () => {
    logger.log("info", "hub.stopping", {});
    await hub.shutdown();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
}

if (import.meta.main) {
  try {
    await main();
  } catch (err) {
    // The one place a failure to start becomes a message and an exit code.
    const failure = cliFailure(err);
    Deno.stderr.writeSync(new TextEncoder().encode(`error: ${failure.message}\n`));
    Deno.exit(failure.exitCode);
  }
}
