/**
 * `restore --from FILE --data-dir DIR --passphrase-file F`: restores a backup into
 * a new or empty data folder without starting the hub (headless, scripts). The
 * hub is then started on DIR as usual. Returns the exit code: 0 restored, 1 the
 * backup or folder was refused (the message says why), 2 bad flags.
 */
import { parseArgs } from "node:util";
import { HubError, log } from "../core/mod.ts";
import { DataDirLock } from "./_datalock.ts";
import { restoreBackup, restoredMessage } from "./_backups.ts";

const RESTORE_HELP = `Restore a backup into a data folder (new or empty), then start the hub on it.

Usage: deno task start restore --from FILE --data-dir DIR --passphrase-file F

  --from FILE             the backup (*.hubbackup)
  --data-dir DIR          where the restored hub.vault and hub.db go; refused when it
                          already holds a hub
  --passphrase-file FILE  the passphrase the hub had when the backup was taken
`;

function say(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(text + "\n"));
}

/** Runs the restore command; returns the process exit code. */
export async function runRestoreCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        from: { type: "string" },
        "data-dir": { type: "string" },
        "passphrase-file": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    say(`error: ${(err as Error).message.split("\n")[0]} (see restore --help)`);
    return 2;
  }
  if (values.help) {
    await Deno.stdout.write(new TextEncoder().encode(RESTORE_HELP));
    return 0;
  }
  const from = values.from, dataDir = values["data-dir"], pf = values["passphrase-file"];
  if (!from || !dataDir || !pf) {
    say("error: restore needs --from FILE, --data-dir DIR and --passphrase-file F");
    return 2;
  }
  let passphrase: string;
  try {
    passphrase = (await Deno.readTextFile(pf)).replace(/\r?\n$/, "");
  } catch (err) {
    say(`error: cannot read --passphrase-file: ${(err as Error).message}`);
    return 2;
  }
  let lock: DataDirLock | null = null;
  try {
    await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
    // No hub may run on the folder while it is restored into.
    lock = await DataDirLock.acquire(dataDir);
    const r = await restoreBackup({ from, dataDir, passphrase });
    const rows = Object.entries(r.counts).filter(([t]) => !t.startsWith("sqlite_"))
      .reduce((n, [, c]) => n + c, 0);
    say(`Restored hub "${r.hubName}" (${r.hubId}) into ${dataDir}: ${rows} rows.`);
    say(restoredMessage(r.backupTakenAt));
    say(`Start it with: deno task start --data-dir ${dataDir}`);
    return 0;
  } catch (err) {
    if (err instanceof HubError) {
      say(`error: ${err.message}`);
      return 1;
    }
    log("error", "restore.failed", { error: err });
    say(`error: the restore failed: ${(err as Error).message}`);
    return 1;
  } finally {
    lock?.release();
  }
}
