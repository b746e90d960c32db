/** Command-line flags of `deno task start` and of the compiled executable. */
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
  --help                  show this help
  --version               print the version

When ready, one JSON line goes to stdout:
  {"event":"ready","admin":"http://127.0.0.1:PORT","token":"...","lan":"http://HOST:PORT"|null}
and on stderr, for people: the admin page's one-time launch address (it works once,
within 10 minutes, in a browser on this computer; later, the same page asks for the
passphrase) and, when the LAN server runs, the pairing QR code for phones.
`;

function bad(message: string): never {
  throw new HubError("bad_flag", 2, message);
}

function intFlag(name: string, value: string | undefined, min: number, max: number): number {
  if (value === undefined) bad(`${name} needs a value`);
  if (!/^\d+$/.test(value)) bad(`${name} must be a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) bad(`${name} must be between ${min} and ${max}`);
  return n;
}

/** Parses argv strictly: unknown flags and missing values are errors (exit code 2). */
export function parseCli(args: string[]): CliOptions {
  const o: CliOptions = {
    dataDir: null,
    port: 4001,
    host: "0.0.0.0",
    adminPort: null,
    open: true,
    passphraseFile: null,
    maxBodyMb: 128,
    updateUrl: null,
    help: false,
    version: false,
  };
  for (let i = 0; i < args.length; i++) {
    let arg = args[i];
    let inline: string | undefined;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const value = () => inline ?? args[++i];
    switch (arg) {
      case "--data-dir": {
        const v = value();
        if (!v) bad("--data-dir needs a folder");
        o.dataDir = v;
        break;
      }
      case "--port":
        o.port = intFlag(arg, value(), 1, 65535);
        break;
      case "--admin-port":
        o.adminPort = intFlag(arg, value(), 0, 65535);
        break;
      case "--host": {
        const v = value();
        if (!v || !/^[0-9a-fA-F:.]+$|^[a-zA-Z0-9.-]+$/.test(v)) bad("--host needs an address");
        o.host = v;
        break;
      }
      case "--no-open":
        o.open = false;
        break;
      case "--passphrase-file": {
        const v = value();
        if (!v) bad("--passphrase-file needs a file");
        o.passphraseFile = v;
        break;
      }
      case "--max-body-mb":
        o.maxBodyMb = intFlag(arg, value(), 1, 1024);
        break;
      case "--update-url": {
        const v = value();
        if (!v || !/^https?:\/\/\S+$/.test(v)) bad("--update-url needs an http(s) URL");
        o.updateUrl = v;
        break;
      }
      case "--help":
      case "-h":
        o.help = true;
        break;
      case "--version":
      case "-V":
        o.version = true;
        break;
      default:
        bad(`unknown flag ${args[i]} (see --help)`);
    }
  }
  return o;
}
