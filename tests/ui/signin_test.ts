/**
 * A browser tab without a session (the hub restarted under it, or the address
 * was typed in): the refusal says the hub's state, and the passphrase signs it in
 * (unlocking a locked hub), throttled, same-origin only. A session dies with the
 * launch that issued it.
 */
import assert from "node:assert/strict";
import { startAdminServer } from "../../ui/mod.ts";
import { captureLogs, makeHub, manualClock, PASSPHRASE, tempDir } from "../_helpers.ts";
import type { Hub } from "../../hub/mod.ts";

captureLogs();

async function json(res: Response): Promise<{ status: number; body: Record<string, unknown> }> {
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

function signIn(url: string, passphrase: string, origin: string | null = url): Promise<Response> {
  return fetch(`${url}/api/session`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(origin ? { origin } : {}) },
    body: JSON.stringify({ passphrase }),
  });
}

async function withHub(fn: (hub: Hub, dir: string) => Promise<void>): Promise<void> {
  await using dir = await tempDir("hub-signin-");
  const hub = await makeHub({ dataDir: dir.path, now: manualClock(Date.now()).now });
  try {
    await fn(hub, dir.path);
  } finally {
    await hub.shutdown();
  }
}

Deno.test("sign-in: a hub not set up refuses the passphrase route; the 401 says the state", async () => {
  await withHub(async (hub) => {
    const admin = await startAdminServer(hub, { port: 0 });
    try {
      const no = await json(await fetch(`${admin.url}/api/status`));
      assert.equal(no.status, 401);
      assert.equal(no.body.state, "new");
      assert.equal(no.body.code, "no_session");
      const r = await json(await signIn(admin.url, PASSPHRASE));
      assert.equal(r.status, 409);
      assert.match(String(r.body.error), /launch address/);
      assert.equal(hub.state, "new");
    } finally {
      await admin.close();
    }
  });
});

Deno.test("sign-in: after a restart the old cookie is refused, and the passphrase unlocks and signs in", async () => {
  await withHub(async (hub, dir) => {
    await hub.setup(PASSPHRASE);
    const first = await startAdminServer(hub, { port: 0 });
    const port = first.port;
    const launch = await fetch(`${first.url}/launch?code=${first.guard.newLaunchCode()}`, {
      redirect: "manual",
    });
    await launch.body?.cancel();
    const oldCookie = (launch.headers.get("set-cookie") ?? "").split(";")[0];
    assert.equal(
      (await json(
        await fetch(`${first.url}/api/status`, {
          headers: { cookie: oldCookie },
        }),
      )).status,
      200,
    );
    // "Restart": the hub locks (process exit), a new admin server takes the same port.
    await first.close();
    await hub.shutdown();
    const hub2 = await makeHub({ dataDir: dir });
    const second = await startAdminServer(hub2, { port });
    try {
      assert.equal(second.url, first.url, "the address stays the same");
      const stale = await json(
        await fetch(`${second.url}/api/status`, {
          headers: { cookie: oldCookie },
        }),
      );
      assert.equal(stale.status, 401, "a cookie outlived the launch that issued it");
      assert.equal(stale.body.state, "locked");
      // Another web page cannot post a passphrase (no Origin, or a foreign one).
      assert.equal((await json(await signIn(second.url, PASSPHRASE, null))).status, 403);
      assert.equal(
        (await json(await signIn(second.url, PASSPHRASE, "http://evil.example"))).status,
        403,
      );
      assert.equal(hub2.state, "locked");
      // A wrong passphrase is refused and throttled like an unlock.
      const wrong = await json(await signIn(second.url, "not the passphrase at all"));
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.code, "wrong_passphrase");
      const tooSoon = await signIn(second.url, PASSPHRASE);
      assert.equal(tooSoon.status, 429);
      assert.ok(Number(tooSoon.headers.get("retry-after")) >= 1);
      await tooSoon.body?.cancel();
      await new Promise((r) => setTimeout(r, 1100));
      const ok = await signIn(second.url, PASSPHRASE);
      const okBody = await json(ok);
      assert.equal(okBody.status, 200);
      assert.equal(okBody.body.state, "unlocked");
      assert.equal(hub2.state, "unlocked");
      const setCookie = ok.headers.get("set-cookie") ?? "";
      assert.match(setCookie, /HttpOnly/);
      assert.match(setCookie, /SameSite=Strict/);
      assert.doesNotMatch(setCookie, /Max-Age|Expires/i, "the cookie must end with the browser");
      const cookie = setCookie.split(";")[0];
      // The new session works, writes included (with its CSRF token).
      const lock = await json(
        await fetch(`${second.url}/api/lock`, {
          method: "POST",
          headers: { cookie, origin: second.url, "x-csrf-token": String(okBody.body.csrf) },
        }),
      );
      assert.equal(lock.status, 200);
      assert.equal(hub2.state, "locked");
    } finally {
      await second.close();
      await hub2.shutdown();
    }
  });
});

Deno.test("sign-in: an unlocked hub only checks the passphrase and stays unlocked", async () => {
  await withHub(async (hub) => {
    await hub.setup(PASSPHRASE);
    const admin = await startAdminServer(hub, { port: 0 });
    try {
      const no = await json(await fetch(`${admin.url}/api/status`));
      assert.equal(no.body.state, "unlocked");
      const r = await signIn(admin.url, PASSPHRASE);
      const b = await json(r);
      assert.equal(b.status, 200);
      assert.equal(hub.state, "unlocked");
      const cookie = (r.headers.get("set-cookie") ?? "").split(";")[0];
      const s = await json(await fetch(`${admin.url}/api/session`, { headers: { cookie } }));
      assert.equal(s.body.csrf, b.body.csrf);
    } finally {
      await admin.close();
    }
  });
});
