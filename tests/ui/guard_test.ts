/**
 * The admin guard's browser sessions stay bounded over a long launch: every
 * sign-in (a launch code redeemed, each load of the desktop window, the
 * passphrase) makes one, and a hub runs for weeks.
 */
import assert from "node:assert/strict";
import { AdminGuard, MAX_BROWSER_SESSIONS, SESSION_COOKIE } from "../../ui/mod.ts";

function cookieRequest(sid: string): Request {
  return new Request("http://127.0.0.1:4002/api/status", {
    headers: { cookie: `${SESSION_COOKIE}=${sid}` },
  });
}

Deno.test("guard: 10,000 sign-ins keep at most MAX_BROWSER_SESSIONS sessions in memory", () => {
  const guard = new AdminGuard();
  for (let i = 0; i < 10_000; i++) guard.redeem(guard.newLaunchCode());
  assert.ok(guard.browserSessionCount <= MAX_BROWSER_SESSIONS, `${guard.browserSessionCount}`);
  assert.equal(guard.browserSessionCount, MAX_BROWSER_SESSIONS);
});

Deno.test("guard: past the cap the least recently used session goes; one in use stays", () => {
  const guard = new AdminGuard();
  const kept = guard.newSession().sid; // the operator's open tab, used all along
  const idle = guard.newSession().sid; // a tab closed long ago
  for (let i = 0; i < MAX_BROWSER_SESSIONS * 3; i++) {
    guard.newSession();
    assert.equal(guard.check(cookieRequest(kept)).ok, true);
  }
  assert.equal(guard.check(cookieRequest(kept)).ok, true);
  const gone = guard.check(cookieRequest(idle));
  assert.equal(gone.ok, false);
  assert.equal(!gone.ok && gone.status, 401);
  assert.equal(guard.browserSessionCount, MAX_BROWSER_SESSIONS);
});
