/**
 * `POST /api/session {passphrase}`: a browser without a session (a tab left open
 * across a restart of the hub, or the address typed in) signs in with the
 * passphrase. On a locked hub this is the unlock; on an unlocked one the
 * passphrase is only checked. Either way it is throttled like an unlock
 * (hub/_throttle.ts). A hub that is not set up has no passphrase yet: only its
 * launch address opens it. Same-origin only (`Origin` must match `Host`), so no
 * other web page can post a guessed passphrase.
 */
import { HubError } from "../core/mod.ts";
import type { Hub } from "../hub/mod.ts";
import { type AdminGuard, SESSION_COOKIE } from "./_guard.ts";

/** The cookie of a browser session: HttpOnly, SameSite=Strict, no expiry (it dies with the launch). */
export function sessionCookie(sid: string): string {
  return `${SESSION_COOKIE}=${sid}; HttpOnly; SameSite=Strict; Path=/`;
}

/**
 * Signs a browser in with the passphrase; returns the new session's CSRF token
 * and the cookie to set. Throws `HubError` (wrong passphrase 401, throttled 429,
 * not set up 409, cross-origin 403).
 */
export async function signInWithPassphrase(
  hub: Hub,
  guard: AdminGuard,
  req: Request,
  passphrase: unknown,
): Promise<{ csrf: string; cookie: string }> {
  if (!guard.sameOrigin(req)) {
    throw new HubError("forbidden", 403, "Forbidden: cross-origin request.");
  }
  if (typeof passphrase !== "string") {
    throw new HubError("bad_request", 400, "passphrase is required.");
  }
  if (hub.state === "new") {
    throw new HubError(
      "not_set_up",
      409,
      "This hub is not set up yet: open the launch address the hub printed when it started.",
    );
  }
  if (hub.state === "locked") await hub.unlock(passphrase);
  else await hub.verifyPassphrase(passphrase);
  const { sid, csrf } = guard.newSession();
  return { csrf, cookie: sessionCookie(sid) };
}
