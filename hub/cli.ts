/** Command-line flags of `deno task start` and of the compiled executable. */
import { parseArgs } from "node:util";
import { HubError } from "../core/mod.ts";

/** Parsed flags. */
export interface CliOptions {
  dataDir: string | null;
  port: number;
  host: string;
  /** Loopback port of the admin page; null = {@link DEFAULT_ADMIN_PORT}, or a free one if taken. */
  adminPort: number | null;
  open: boolean;
  passphraseFile: string | null;
  maxBodyMb: number;
  updateUrl: string | null;
  /** Folder for backups (null: the stored setting, or none). */
  backupDir: string | null;
  /** Minutes between backups when something changed (null: the stored setting, default 5). */
  backupEvery: number | null;
  help: boolean;
  version: boolean;
}

/**
 * The admin page's port when `--admin-port` is not given. Fixed, so that a tab
 * left open reaches the hub again after a restart; when it is taken the hub
 * falls back to a free port and says so in one line.
 */
export const DEFAULT_ADMIN_PORT = 4002;

/** The `--help` text. */
export const HELP = `Local Sync Hub: keeps a clinic's phones in sync over the LAN, encrypted,
and relays everything to the clinic's cloud server when online.

Usage: deno task start [flags]      (or: local-sync-hub [flags])
       deno task start restore --from FILE --data-dir DIR --passphrase-file F
                                    restore a backup into DIR (new or empty), then
                                    start the hub with --data-dir DIR

  --data-dir DIR          where hub.vault and hub.db live
                          (default: next to the executable; ./data under deno run)
  --port N                LAN port for the phones (default 4001)
  --host ADDR             LAN address to listen on (default 0.0.0.0 = every interface)
  --admin-port N          loopback port of the admin page and API (default ${DEFAULT_ADMIN_PORT}; if
                          that is taken, a free port, said in one line; 0 = any free port)
  --no-open               do not open a browser (the admin page's address is printed anyway)
  --passphrase-file FILE  headless: set up (first run) or unlock with the passphrase in
                          FILE, then start the LAN server
  --max-body-mb N         largest request a phone may send, in MiB (default 128)
  --update-url URL        where to look for updates (default: fixed at build time; a build
                          without a release key, such as deno run, has updates off and
                          ignores it)
  --backup-dir DIR        take backups into DIR (a USB stick, a second disk, a share);
                          remembered, and changeable on the admin page
  --backup-every MINUTES  a backup every MINUTES when something changed (default 5)
  --help                  show this help
  --version               print the version

When ready, one JSON line goes to stdout:
  {"event":"ready","admin":"http://127.0.0.1:PORT","token":"...","lan":"http://HOST:PORT"|null}
and on stderr, for people: the admin page's one-time launch address (it works once,
within 10 minutes, in a browser on this computer; later, the same page asks for the
passphrase) and, when the LAN server runs, the pairing QR code for phones.
`;

/** A flag the hub cannot start with: a usage error (exit code 2, see {@link cliFailure}). */
function bad(message: string): never {
  throw new HubError("bad_flag", 400, message);
}

function intFlag(name: string, value: string | undefined, min: number, max: number): number {
  if (value === undefined) bad(`${name} needs a value`);
  if (!/^\d+$/.test(value)) bad(`${name} must be a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) bad(`${name} must be between ${min} and ${max}`);
  return n;
}

/** The flags, as `node:util` `parseArgs` takes them. */
const FLAGS = {
  "data-dir": { type: "string" },
  port: { type: "string" },
  "admin-port": { type: "string" },
  host: { type: "string" },
  "no-open": { type: "boolean" },
  "passphrase-file": { type: "string" },
  "max-body-mb": { type: "string" },
  "update-url": { type: "string" },
  "backup-dir": { type: "string" },
  "backup-every": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

/** Parses argv strictly: unknown flags, stray words and missing values are `bad_flag` errors. */
export function parseCli(args: string[]): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({ args, options: FLAGS, strict: true, allowPositionals: false }));
  } catch (err) {
    // parseArgs says what is wrong in a sentence of its own (unknown option,
    // missing value, a value given to a switch, a stray word).
    bad(`${(err as Error).message.split("\n")[0].replace(/\.$/, "")} (see --help)`);
  }
  const text = (name: string, value: string | undefined, what: string, ok = /\S/) => {
    if (value === undefined) return null;
    if (!ok.test(value)) bad(`--${name} needs ${what}`);
    return value;
  };
  const int = (name: string, fallback: number, min: number, max: number) => {
    const v = values[name as keyof typeof values] as string | undefined;
    return v === undefined ? fallback : intFlag(`--${name}`, v, min, max);
  };
  const adminPort = values["admin-port"] === undefined
    ? null
    : intFlag("--admin-port", values["admin-port"], 0, 65535);
  return {
    dataDir: text("data-dir", values["data-dir"], "a folder"),
    port: int("port", 4001, 1, 65535),
    host: text("host", values.host, "an address", /^[0-9a-fA-F:.]+$|^[a-zA-Z0-9.-]+$/) ??
      "0.0.0.0",
    adminPort,
    open: !values["no-open"],
    passphraseFile: text("passphrase-file", values["passphrase-file"], "a file"),
    maxBodyMb: int("max-body-mb", 128, 1, 1024),
    updateUrl: text("update-url", values["update-url"], "an http(s) URL", /^https?:\/\/\S+$/),
    backupDir: text("backup-dir", values["backup-dir"], "a folder"),
    backupEvery: values["backup-every"] === undefined
      ? null
      : intFlag("--backup-every", values["backup-every"], 1, 1440),
    help: values.help ?? false,
    version: values.version ?? false,
  };
}

/**
 * Error codes that mean the command line or a file it names is wrong: fix it and
 * run again (exit code 2). Every other failure to start exits with 1.
 */
const USAGE_ERRORS = new Set(["bad_flag", "data_dir_unusable", "passphrase_file_unreadable"]);

/**
 * Reads the passphrase in `--passphrase-file` (one trailing newline dropped, as
 * editors and `echo` add one); an unreadable file is a usage error.
 */
export async function readPassphraseFile(path: string): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).replace(/\r?\n$/, "");
  } catch (err) {
    throw new HubError(
      "passphrase_file_unreadable",
      400,
      `cannot read --passphrase-file: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** What the terminal is told when the hub cannot start, and the exit code. */
export interface CliFailure {
  /** One line for stderr, after `error: `. */
  message: string;
  /** 2: a usage error (see {@link USAGE_ERRORS}); 1: anything else. */
  exitCode: 1 | 2;
}

/**
 * The CLI's one mapping from a thrown error to its message and exit code; the
 * code comes from the error's `code`, never from its HTTP status.
 *
 * @example
 * ```ts
 * import { HubError } from "../core/mod.ts";
 *
 * cliFailure(new HubError("bad_flag", 400, "--port needs a value")); // exit code 2
 * ```
 */
export function cliFailure(err: unknown): CliFailure {
  if (err instanceof HubError) {
    return { message: err.message, exitCode: USAGE_ERRORS.has(err.code) ? 2 : 1 };
  }
  return { message: err instanceof Error ? err.message : String(err), exitCode: 1 };
}
