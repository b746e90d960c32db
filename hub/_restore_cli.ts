/**
 * `restore --from FILE --data-dir DIR --passphrase-file F`: restores a backup into
 * a new or empty data folder without starting the hub (headless, scripts). The
 * hub is then started on DIR as usual.
 */
import { parseArgs } from "node:util";
import { HubError } from "../core/mod.ts";
import { DataDirLock } from "./_datalock.ts";
import { readPassphraseFile } from "./cli.ts";
import { restoredMessage } from "./_backup_status.ts";
import { restoreBackup } from "./_restore.ts";

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

/** A usage error: `main.ts` prints it and exits with code 2 (hub/cli.ts `cliFailure`). */
function bad(message: string): never {
  throw new HubError("bad_flag", 400, `${message} (see restore --help)`);
}

/**
 * Runs the restore command. Throws `HubError`s that `main.ts` turns into the
 * message and exit code, as for any failure to start: a usage error (`bad_flag`,
 * `passphrase_file_unreadable`) exits 2; a refused backup or folder, 1.
 *
 * @example
 * ```ts
 * import { runRestoreCommand } from "../hub/mod.ts";
 *
 * // main.ts, for `deno task start restore ...`:
 * await runRestoreCommand([
 *   "--from", "/media/stick/hub-backup-20260101T120000Z.hubbackup",
 *   "--data-dir", "/srv/new-hub",
 *   "--passphrase-file", "/root/hub-passphrase.txt",
 * ]); // stderr: Restored hub "Clinic North Hub" (hub-example-1) into /srv/new-hub: 1200 rows. ...
 * ```
 */
export async function runRestoreCommand(args: string[]): Promise<void> {
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
    bad((err as Error).message.split("\n")[0]);
  }
  if (values.help) {
    await Deno.stdout.write(new TextEncoder().encode(RESTORE_HELP));
    return;
  }
  const from = values.from, dataDir = values["data-dir"], pf = values["passphrase-file"];
  if (!from || !dataDir || !pf) {
    bad("restore needs --from FILE, --data-dir DIR and --passphrase-file F");
  }
  const passphrase = await readPassphraseFile(pf);
  await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
  // No hub may run on the folder while it is restored into.
  const lock = await DataDirLock.acquire(dataDir);
  try {
    const r = await restoreBackup({ from, dataDir, passphrase });
    const rows = Object.entries(r.counts).filter(([t]) => !t.startsWith("sqlite_"))
      .reduce((n, [, c]) => n + c, 0);
    say(`Restored hub "${r.hubName}" (${r.hubId}) into ${dataDir}: ${rows} rows.`);
    say(restoredMessage(r.backupTakenAt));
    say(`Start it with: deno task start --data-dir ${dataDir}`);
  } finally {
    lock.release();
  }
}
