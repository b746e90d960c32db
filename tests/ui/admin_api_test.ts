/**
 * The loopback admin API (issue 2 part): who may call it (Host check, bearer
 * token, browser cookie with Origin + CSRF, one-time launch codes) and the
 * lifecycle endpoints' shapes and statuses, over real HTTP.
 */
import assert from "node:assert/strict";
import { type AdminServer, startAdminServer } from "../../ui/mod.ts";
import type { Hub } from "../../hub/mod.ts";
import {
  captureLogs,
  makeHub,
  manualClock,
  OTHER_PASSPHRASE,
  PASSPHRASE,
  seedPatients,
  tempDir,
} from "../_helpers.ts";

captureLogs();

const TOKEN = "test-admin-token-0123456789abcdef";

interface Env extends AsyncDisposable {
  hub: Hub;
  admin: AdminServer;
  clock: ReturnType<typeof manualClock>;
  /** Calls the API with the bearer token; JSON body when given. */
  api(method: string, path: string, body?: unknown): Promise<Response>;
}

async function env(): Promise<Env> {
  const dir = await tempDir("hub-admin-");
  const clock = manualClock(Date.now());
  const hub = await makeHub({ dataDir: dir.path, now: clock.now });
  const admin = await startAdminServer(hub, { port: 0, token: TOKEN });
  return {
    hub,
    admin,
    clock,
    api: (method, path, body) =>
      fetch(`${admin.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    [Symbol.asyncDispose]: async () => {
      await hub.shutdown();
      await admin.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** Reads a JSON reply and its status. */
async function reply(res: Response): Promise<{ status: number; body: Record<string, unknown> }> {
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

/** Sends raw HTTP/1.1 so the Host header is exactly what a rebinding attacker's browser sends. */
async function rawStatus(port: number, host: string, path = "/api/status"): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(
      `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${TOKEN}\r\n` +
        "Connection: close\r\n\r\n",
    ));
    let text = "";
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
      if (text.includes("\r\n")) break;
    }
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  } finally {
    conn.close();
  }
}

Deno.test("admin: a foreign Host is refused (DNS rebinding), loopback names are accepted", async () => {
  await using e = await env();
  const port = e.admin.port;
  assert.equal(await rawStatus(port, `127.0.0.1:${port}`), 200);
  assert.equal(await rawStatus(port, `localhost:${port}`), 200);
  const foreign = [`evil.example:${port}`, "evil.example", `127.0.0.1:${port + 1}`, "127.0.0.1"];
  for (const host of foreign) {
    assert.equal(await rawStatus(port, host), 403, `Host "${host}"`);
  }
  // An empty Host is refused too (by the HTTP layer or by the guard).
  assert.ok([400, 403].includes(await rawStatus(port, "")));
  // The page itself is also refused to a foreign Host.
  assert.equal(await rawStatus(port, `evil.example:${port}`, "/"), 403);
});

Deno.test("admin: no token → 401, wrong token → 401, bearer token → 200; the page needs none", async () => {
  await using e = await env();
  const none = await reply(await fetch(`${e.admin.url}/api/status`));
  assert.equal(none.status, 401);
  assert.equal(typeof none.body.error, "string");
  const wrong = await fetch(`${e.admin.url}/api/status`, {
    headers: { authorization: "Bearer not-the-token" },
  });
  assert.equal(wrong.status, 401);
  await wrong.body?.cancel();
  const ok = await reply(await e.api("GET", "/api/status"));
  assert.equal(ok.status, 200);
  assert.equal(ok.body.state, "new");
  // A write without a token is refused as well, and changes nothing.
  const setup = await fetch(`${e.admin.url}/api/setup`, {
    method: "POST",
    body: JSON.stringify({ passphrase: PASSPHRASE }),
  });
  assert.equal(setup.status, 401);
  await setup.body?.cancel();
  assert.equal(e.hub.state, "new");
  const page = await fetch(`${e.admin.url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /text\/html/);
  await page.body?.cancel();
  const missing = await e.api("GET", "/api/no-such-thing");
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
});

Deno.test("admin: the browser cookie flow (launch code once, HttpOnly SameSite=Strict, Origin and CSRF on writes)", async () => {
  await using e = await env();
  await e.hub.setup(PASSPHRASE);
  const origin = e.admin.url; // http://127.0.0.1:PORT
  const code = e.admin.guard.newLaunchCode();
  const launch = await fetch(`${e.admin.url}/launch?code=${code}`, { redirect: "manual" });
  assert.equal(launch.status, 303);
  assert.equal(launch.headers.get("location"), "/");
  await launch.body?.cancel();
  const setCookie = launch.headers.get("set-cookie") ?? "";
  assert.match(setCookie, /HttpOnly/i);
  assert.match(setCookie, /SameSite=Strict/i);
  const cookie = setCookie.split(";")[0];
  assert.ok(cookie.includes("="));

  // The same code a second time is refused and sets nothing.
  const again = await fetch(`${e.admin.url}/launch?code=${code}`, { redirect: "manual" });
  assert.equal(again.status, 403);
  assert.equal(again.headers.get("set-cookie"), null);
  await again.body?.cancel();
  // So is a made-up code, and an expired one.
  const madeUp = await fetch(`${e.admin.url}/launch?code=abc`, { redirect: "manual" });
  assert.equal(madeUp.status, 403);
  await madeUp.body?.cancel();
  const old = e.admin.guard.newLaunchCode(Date.now() - 11 * 60_000);
  const expired = await fetch(`${e.admin.url}/launch?code=${old}`, { redirect: "manual" });
  assert.equal(expired.status, 403);
  await expired.body?.cancel();

  // Reads work with the cookie alone.
  const status = await reply(await fetch(`${e.admin.url}/api/status`, { headers: { cookie } }));
  assert.equal(status.status, 200);
  assert.equal(status.body.state, "unlocked");
  const session = await reply(await fetch(`${e.admin.url}/api/session`, { headers: { cookie } }));
  assert.equal(session.status, 200);
  const csrf = session.body.csrf as string;
  assert.equal(typeof csrf, "string");
  assert.ok(csrf.length >= 32);

  const lock = (headers: Record<string, string>) =>
    fetch(`${e.admin.url}/api/lock`, { method: "POST", headers: { cookie, ...headers } });
  const attempts: [string, Record<string, string>][] = [
    ["no Origin", { "x-csrf-token": csrf }],
    ["a foreign Origin", { origin: "http://evil.example", "x-csrf-token": csrf }],
    ["another port's Origin", { origin: "http://127.0.0.1:1", "x-csrf-token": csrf }],
    ["no CSRF header", { origin }],
    ["a wrong CSRF header", { origin, "x-csrf-token": csrf.slice(1) + "x" }],
  ];
  for (const [what, headers] of attempts) {
    const r = await lock(headers);
    assert.equal(r.status, 403, `cookie write with ${what}`);
    await r.body?.cancel();
    assert.equal(e.hub.state, "unlocked", `the write with ${what} took effect`);
  }
  const ok = await reply(await lock({ origin, "x-csrf-token": csrf }));
  assert.equal(ok.status, 200);
  assert.equal(ok.body.state, "locked");
  assert.equal(e.hub.state, "locked");
  // A cookie from no launch code is not a session.
  const forged = await fetch(`${e.admin.url}/api/status`, {
    headers: { cookie: `${cookie.split("=")[0]}=forged` },
  });
  assert.equal(forged.status, 401);
  await forged.body?.cancel();
});

Deno.test("admin: setup, status, lock and unlock answer the documented shapes", async () => {
  await using e = await env();
  const fresh = await reply(await e.api("GET", "/api/status"));
  assert.equal(fresh.status, 200);
  assert.equal(fresh.body.state, "new");
  assert.equal(fresh.body.hub, null);
  assert.equal(fresh.body.counts, null);
  assert.equal(typeof fresh.body.version, "string");
  assert.equal(typeof fresh.body.server, "object");

  const short = await reply(await e.api("POST", "/api/setup", { passphrase: "short" }));
  assert.equal(short.status, 400);
  assert.equal(short.body.code, "weak_passphrase");
  assert.equal(typeof short.body.error, "string");
  const noBody = await reply(await e.api("POST", "/api/setup", {}));
  assert.equal(noBody.status, 400);
  const notJson = await reply(
    await fetch(`${e.admin.url}/api/setup`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: "{not json",
    }),
  );
  assert.equal(notJson.status, 400);
  assert.equal(e.hub.state, "new");

  const setup = await reply(await e.api("POST", "/api/setup", { passphrase: PASSPHRASE }));
  assert.equal(setup.status, 200);
  assert.equal(setup.body.state, "unlocked");
  const hub = setup.body.hub as Record<string, string>;
  assert.match(hub.id, /^[0-9a-f-]{36}$/);
  assert.equal(typeof hub.name, "string");
  assert.equal(typeof hub.publicKey, "string");
  assert.equal(typeof (setup.body.counts as Record<string, unknown>).patients, "object");
  // Setting up starts the LAN server for the phones.
  assert.equal((setup.body.server as Record<string, unknown>).running, true);
  const twice = await reply(await e.api("POST", "/api/setup", { passphrase: PASSPHRASE }));
  assert.equal(twice.status, 409);

  seedPatients(e.hub.store, 12);
  const counted = await reply(await e.api("GET", "/api/status"));
  assert.deepEqual(
    (counted.body.counts as Record<string, unknown>).patients,
    { rows: 12, deleted: 0 },
  );

  const locked = await reply(await e.api("POST", "/api/lock"));
  assert.equal(locked.status, 200);
  assert.equal(locked.body.state, "locked");
  assert.equal(locked.body.counts, null);
  // Data endpoints answer the locked error while locked.
  const devices = await reply(await e.api("GET", "/api/devices"));
  assert.equal(devices.status, 423);
  assert.equal(devices.body.code, "locked");

  const unlocked = await reply(await e.api("POST", "/api/unlock", { passphrase: PASSPHRASE }));
  assert.equal(unlocked.status, 200);
  assert.equal(unlocked.body.state, "unlocked");
  assert.equal((unlocked.body.hub as Record<string, string>).id, hub.id);
});

Deno.test("admin: a wrong passphrase answers 401, and the next try at once 429 with retry-after", async () => {
  await using e = await env();
  await e.api("POST", "/api/setup", { passphrase: PASSPHRASE }).then((r) => r.body?.cancel());
  await e.api("POST", "/api/lock").then((r) => r.body?.cancel());

  const wrong = await e.api("POST", "/api/unlock", { passphrase: "this is not it at all" });
  const w = await reply(wrong);
  assert.equal(w.status, 401);
  assert.equal(w.body.code, "wrong_passphrase");
  assert.equal(w.body.retryAfterSeconds, 1);
  assert.equal(wrong.headers.get("retry-after"), "1");

  const held = await e.api("POST", "/api/unlock", { passphrase: PASSPHRASE });
  const h = await reply(held);
  assert.equal(h.status, 429);
  assert.equal(h.body.code, "too_many_attempts");
  assert.equal(held.headers.get("retry-after"), "1");
  assert.match(String(h.body.error), /try again in 1 s/i);
  assert.equal(e.hub.state, "locked");

  e.clock.t += 1000;
  const ok = await reply(await e.api("POST", "/api/unlock", { passphrase: PASSPHRASE }));
  assert.equal(ok.status, 200);
  assert.equal(ok.body.state, "unlocked");
});

Deno.test("admin: change passphrase, rotate key, clear and reset", async () => {
  await using e = await env();
  await e.api("POST", "/api/setup", { passphrase: PASSPHRASE }).then((r) => r.body?.cancel());
  seedPatients(e.hub.store, 30, { source: "cloud", prefix: "c" });
  seedPatients(e.hub.store, 5, { source: "phone", prefix: "ph" });

  // Change passphrase.
  const weak = await reply(
    await e.api("POST", "/api/passphrase", { current: PASSPHRASE, next: "x" }),
  );
  assert.equal(weak.status, 400);
  assert.equal(weak.body.code, "weak_passphrase");
  const missing = await reply(await e.api("POST", "/api/passphrase", { current: PASSPHRASE }));
  assert.equal(missing.status, 400);
  const changed = await reply(
    await e.api("POST", "/api/passphrase", { current: PASSPHRASE, next: OTHER_PASSPHRASE }),
  );
  assert.equal(changed.status, 200);
  assert.deepEqual(changed.body, { ok: true });
  const badCurrent = await reply(
    await e.api("POST", "/api/passphrase", { current: PASSPHRASE, next: "yet another passphrase" }),
  );
  assert.equal(badCurrent.status, 401);
  e.clock.t += 1000;

  // Rotate key.
  const keyBefore = e.hub.vault.secrets.dbKey;
  const rotated = await reply(await e.api("POST", "/api/rotate-key"));
  assert.equal(rotated.status, 200);
  assert.equal(typeof rotated.body.durationMs, "number");
  assert.notEqual(e.hub.vault.secrets.dbKey, keyBefore);
  const after = await reply(await e.api("GET", "/api/status"));
  assert.equal((after.body.counts as Record<string, { rows: number }>).patients.rows, 35);

  // Clear: refused while 5 changes wait for the cloud, then forced.
  const refused = await reply(await e.api("POST", "/api/clear", { passphrase: OTHER_PASSPHRASE }));
  assert.equal(refused.status, 409);
  assert.equal(refused.body.code, "changes_pending");
  assert.equal(refused.body.pending, 5);
  assert.equal(e.hub.store.counts().patients.rows, 35);
  const forced = await reply(
    await e.api("POST", "/api/clear", { passphrase: OTHER_PASSPHRASE, force: true }),
  );
  assert.equal(forced.status, 200);
  assert.equal((forced.body.deleted as Record<string, number>).patients, 35);
  assert.equal(e.hub.store.counts().patients.rows, 0);

  // Reset: needs the word, then the hub is new.
  const noWord = await reply(await e.api("POST", "/api/reset", { confirm: "reset" }));
  assert.equal(noWord.status, 400);
  assert.equal(noWord.body.code, "confirm_required");
  assert.equal(e.hub.state, "unlocked");
  const reset = await reply(await e.api("POST", "/api/reset", { confirm: "RESET" }));
  assert.equal(reset.status, 200);
  assert.equal(reset.body.state, "new");
  await assert.rejects(Deno.stat(e.hub.vaultPath), Deno.errors.NotFound);
});

Deno.test("admin: lifecycle writes while locked answer 423; oversized bodies 413", async () => {
  await using e = await env();
  await e.api("POST", "/api/setup", { passphrase: PASSPHRASE }).then((r) => r.body?.cancel());
  await e.api("POST", "/api/lock").then((r) => r.body?.cancel());
  for (
    const [path, body] of [
      ["/api/rotate-key", undefined],
      ["/api/passphrase", { current: PASSPHRASE, next: OTHER_PASSPHRASE }],
      ["/api/clear", { passphrase: PASSPHRASE, force: true }],
    ] as const
  ) {
    const r = await reply(await e.api("POST", path, body));
    assert.equal(r.status, 423, path);
    assert.equal(r.body.code, "locked", path);
  }
  const big = await reply(
    await e.api("POST", "/api/unlock", { passphrase: "x".repeat(200_000) }),
  );
  assert.equal(big.status, 413);
  assert.equal(e.hub.state, "locked");
});
