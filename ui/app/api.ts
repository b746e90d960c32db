/// <reference lib="dom" />
/**
 * The page's only way to the hub: the documented admin API (docs/admin-api.md).
 * Same-origin fetches with the session cookie; writes carry the CSRF token from
 * `GET /api/session` (the browser adds `Origin` itself).
 */
import type {
  ActivityBucket,
  AutoLockState,
  BackupEntry,
  BackupSettings,
  BackupStatus,
  Clinic,
  Conflict,
  Device,
  HubStatus,
  UpdateStatus,
} from "./types.ts";

/** A failed admin API call, with the server's message and details. */
export class ApiError extends Error {
  /** HTTP status (0 when the hub did not answer). */
  readonly status: number;
  /** The server's error code (`wrong_passphrase`, `changes_pending`...). */
  readonly code: string | null;
  /** The whole error body. */
  readonly body: Record<string, unknown>;

  /** Wraps one error reply. */
  constructor(status: number, message: string, body: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.code = typeof body.code === "string" ? body.code : null;
    this.body = body;
  }

  /** Seconds to wait before retrying (429 and wrong-passphrase replies), or null. */
  get retryAfterSeconds(): number | null {
    const v = this.body.retryAfterSeconds;
    return typeof v === "number" ? v : null;
  }
}

let csrf: string | null = null;

/**
 * Fetches the CSRF token of this browser session. Without a session it returns
 * the hub's state from the refusal (`locked`/`unlocked`: the page may sign in
 * with the passphrase; `new`: only the launch address opens it).
 */
export async function openSession(): Promise<{ ok: true } | { ok: false; state: string | null }> {
  try {
    const s = await call<{ csrf: string | null }>("GET", "/api/session");
    csrf = s.csrf;
    return { ok: true };
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      return { ok: false, state: typeof err.body.state === "string" ? err.body.state : null };
    }
    throw err;
  }
}

/** Signs this browser in with the passphrase (a tab left open across a restart of the hub). */
export async function signIn(passphrase: string): Promise<void> {
  const s = await call<{ csrf: string }>("POST", "/api/session", { passphrase });
  csrf = s.csrf;
}

/** Calls the admin API; throws {@link ApiError} on any non-2xx reply or network failure. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET") {
    headers["content-type"] = "application/json";
    if (csrf) headers["x-csrf-token"] = csrf;
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "");
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const msg = typeof data?.error === "string" ? data.error : `HTTP ${res.status}`;
    throw new ApiError(res.status, msg, data ?? {});
  }
  return data as T;
}

/** The typed endpoints the page uses. */
export const api = {
  status: () => call<HubStatus>("GET", "/api/status"),
  setup: (passphrase: string) => call<HubStatus>("POST", "/api/setup", { passphrase }),
  unlock: (passphrase: string) => call<HubStatus>("POST", "/api/unlock", { passphrase }),
  lock: () => call<HubStatus>("POST", "/api/lock"),
  reset: (confirm: string) => call<HubStatus>("POST", "/api/reset", { confirm }),
  changePassphrase: (current: string, next: string) =>
    call<{ ok: true }>("POST", "/api/passphrase", { current, next }),
  rotateKey: () => call<{ durationMs: number }>("POST", "/api/rotate-key"),
  clear: (passphrase: string, force: boolean) =>
    call<{ deleted: Record<string, number> }>("POST", "/api/clear", { passphrase, force }),
  startServer: () => call<HubStatus["server"]>("POST", "/api/server/start"),
  stopServer: () => call<HubStatus["server"]>("POST", "/api/server/stop"),
  devices: () => call<{ devices: Device[] }>("GET", "/api/devices"),
  revoke: (clientId: string) =>
    call<{ ok: true }>("POST", `/api/devices/${encodeURIComponent(clientId)}/revoke`),
  removeDevice: (clientId: string) =>
    call<{ ok: true }>("POST", `/api/devices/${encodeURIComponent(clientId)}/remove`),
  /** The undecided conflicts (decided ones leave the list). */
  conflicts: () => call<{ conflicts: Conflict[] }>("GET", "/api/conflicts?open=1&limit=100"),
  keepNewer: (id: number) => call<{ ok: true }>("POST", `/api/conflicts/${id}/keep-newer`),
  restoreOlder: (id: number) => call<{ ok: true }>("POST", `/api/conflicts/${id}/restore-older`),
  activity: () => call<{ buckets: ActivityBucket[] }>("GET", "/api/activity"),
  pairing: (url?: string) =>
    call<{ payload: string; svg: string; url: string; urls: string[] }>(
      "GET",
      url ? `/api/pairing?url=${encodeURIComponent(url)}` : "/api/pairing",
    ),
  registerCloud: (url: string, apiKey: string, allowInsecure: boolean) =>
    call<{ hubId: string; hubName: string; clinicIds: string[] }>(
      "POST",
      "/api/cloud/register",
      { url, apiKey, allowInsecure },
    ),
  syncCloud: () =>
    call<{
      pulled: Record<string, number>;
      pushed: Record<string, number>;
      durationMs: number;
    }>("POST", "/api/cloud/sync"),
  clinics: () => call<{ registered: boolean; clinics: Clinic[] }>("GET", "/api/clinics"),
  autoLock: () => call<AutoLockState>("GET", "/api/auto-lock"),
  setAutoLock: (minutes: number | null) =>
    call<AutoLockState>("POST", "/api/auto-lock", { minutes }),
  touch: () => call<{ ok: true }>("POST", "/api/touch"),
  update: () => call<UpdateStatus>("GET", "/api/update"),
  checkUpdate: () => call<UpdateStatus>("POST", "/api/update/check"),
  installUpdate: () => call<UpdateStatus>("POST", "/api/update/install"),
  backups: () => call<BackupStatus & { backups: BackupEntry[] }>("GET", "/api/backups"),
  backupNow: () => call<{ file: string; bytes: number }>("POST", "/api/backups"),
  acknowledgeRestore: () => call<{ ok: true }>("POST", "/api/backups/restored/acknowledge"),
  backupSettings: (patch: Partial<BackupSettings>) =>
    call<BackupSettings>("PUT", "/api/backups/settings", patch),
  /** First run: sends the backup file as the body, the passphrase in a header. */
  restore: async (file: Blob, passphrase: string): Promise<{ status: HubStatus }> => {
    const headers: Record<string, string> = {
      accept: "application/json",
      "content-type": "application/octet-stream",
      "x-backup-passphrase": passphrase,
    };
    if (csrf) headers["x-csrf-token"] = csrf;
    let res: Response;
    try {
      res = await fetch("/api/restore", {
        method: "POST",
        headers,
        body: file,
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, "");
    }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new ApiError(res.status, data?.error ?? `HTTP ${res.status}`, data ?? {});
    return data;
  },
};
