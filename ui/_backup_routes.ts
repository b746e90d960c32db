/**
 * The admin API's backup routes (docs/admin-api.md, "Backups"): the status and
 * list, "back up now", the settings, and restoring a backup on a hub that is not
 * set up yet (the first-run screen). Handlers throw `HubError`; the admin
 * server's one error mapping turns it into a reply.
 */
import { HubError, join } from "../core/mod.ts";
import { type Hub, restoreBackup } from "../hub/mod.ts";

/** What a backup route needs of the admin server's request context. */
export interface BackupRouteCtx {
  hub: Hub;
  req: Request;
  url: URL;
}

/** The largest backup the first-run screen accepts (a hub of a few million rows). */
export const MAX_RESTORE_BYTES = 8 * 1024 * 1024 * 1024;
const MAX_SETTINGS_JSON = 16 * 1024;

async function settingsBody(req: Request): Promise<Record<string, unknown>> {
  const text = await req.text();
  if (text.length > MAX_SETTINGS_JSON) {
    throw new HubError("too_large", 413, "Request body too large.");
  }
  try {
    const v = JSON.parse(text || "{}");
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
  } catch { /* below */ }
  throw new HubError("bad_request", 400, "Body must be a JSON object.");
}

/** Streams the request body to `path` (at most {@link MAX_RESTORE_BYTES}). */
async function saveUpload(req: Request, path: string): Promise<number> {
  if (!req.body) throw new HubError("bad_request", 400, "Send the backup file as the body.");
  const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  let total = 0;
  try {
    for await (const chunk of req.body) {
      total += chunk.length;
      if (total > MAX_RESTORE_BYTES) {
        throw new HubError("too_large", 413, "That file is larger than any hub backup.");
      }
      let off = 0;
      while (off < chunk.length) off += await file.write(chunk.subarray(off));
    }
  } finally {
    file.close();
  }
  return total;
}

/** Method, `URLPattern` path and handler of each backup route. */
export const BACKUP_ROUTES: [string, string, (ctx: BackupRouteCtx) => unknown][] = [
  ["GET", "/api/backups", async ({ hub }) => {
    const status = await hub.backups.status();
    if (!status) throw new HubError("locked", 423, "Unlock the hub first.");
    return { ...status, backups: await hub.backups.list() };
  }],
  ["POST", "/api/backups", async ({ hub }) => {
    if (hub.state !== "unlocked") throw new HubError("locked", 423, "Unlock the hub first.");
    return await hub.backups.backupNow("manual");
  }],
  ["PUT", "/api/backups/settings", async ({ hub, req }) => {
    const b = await settingsBody(req);
    const patch: Record<string, unknown> = {};
    for (const k of ["dir", "everyMinutes", "keepLast"]) if (k in b) patch[k] = b[k];
    return await hub.backups.updateSettings(patch);
  }],
  ["POST", "/api/backups/restored/acknowledge", ({ hub }) => {
    hub.backups.acknowledgeRestore();
    return { ok: true };
  }],
  // First run: the body is the backup file; the passphrase comes in a header so
  // the file can be streamed to disk instead of held in memory.
  ["POST", "/api/restore", async ({ hub, req }) => {
    if (hub.state !== "new") {
      throw new HubError(
        "already_set_up",
        409,
        "This hub is already set up: a backup can only be restored on a hub that is not set up.",
      );
    }
    const passphrase = req.headers.get("x-backup-passphrase") ?? "";
    if (passphrase === "") {
      throw new HubError("bad_request", 400, "Enter the passphrase the backup was made with.");
    }
    await Deno.mkdir(hub.dataDir, { recursive: true, mode: 0o700 });
    const upload = join(hub.dataDir, `.upload-${crypto.randomUUID()}.hubbackup`);
    try {
      await saveUpload(req, upload);
      const r = await restoreBackup({ from: upload, dataDir: hub.dataDir, passphrase });
      await hub.init();
      await hub.unlock(passphrase);
      await hub.startServer().catch((err) =>
        hub.logger.log("warn", "lan.autostart_failed", { error: err })
      );
      return { restored: r, status: await hub.status() };
    } finally {
      await Deno.remove(upload).catch(() => {});
    }
  }],
];
