/**
 * The admin API endpoints the page needs beyond the foundation's: the event
 * stream (`GET /api/events`, long-poll and Server-Sent Events, resumable by id),
 * the idle auto-lock, the authorised clinics, and the page's own files with
 * their security headers. No browser here: plain HTTP with the bearer token.
 */
import assert from "node:assert/strict";
import { parseCursor } from "../../core/mod.ts";
import { CloudDouble } from "../cloud_double.ts";
import { startUiHub, type UiHub } from "./_browser.ts";

const PASSPHRASE = "correct horse battery staple";

/** Calls the admin API with the bearer token; returns status and JSON body. */
async function api(
  h: UiHub,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(h.admin.url + path, {
    method,
    headers: {
      authorization: `Bearer ${h.admin.guard.token}`,
      "content-type": "application/json",
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => ({})) };
}

interface Got {
  events: { id: number; type: string; data: Record<string, unknown> }[];
  reset: boolean;
  lastId: number;
}

async function events(h: UiHub, query: string): Promise<Got> {
  const r = await api(h, "GET", `/api/events?${query}`);
  assert.equal(r.status, 200);
  return r.body as unknown as Got;
}

Deno.test("events (long-poll): reset first, then each change once with increasing ids", async () => {
  await using h = await startUiHub();
  const first = await events(h, "wait=0");
  assert.equal(first.reset, true);
  assert.equal((await api(h, "POST", "/api/setup", { passphrase: PASSPHRASE })).status, 200);
  const afterSetup = await events(h, `since=${first.lastId}&wait=5`);
  assert.equal(afterSetup.reset, false);
  const status = afterSetup.events.findLast((e) => e.type === "status");
  assert.ok(status, "a status event follows the setup");
  assert.equal(status.data.state, "unlocked");
  const ids = afterSetup.events.map((e) => e.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  assert.ok(ids.every((id) => id > first.lastId));
  // Nothing changed since: an immediate poll is empty, not a repeat.
  const quiet = await events(h, `since=${afterSetup.lastId}&wait=0`);
  assert.deepEqual(quiet.events, []);
  // Everything since the start can be replayed in order.
  const all = await events(h, "since=0&wait=0");
  assert.deepEqual(
    all.events.map((e) => e.id),
    Array.from({ length: all.lastId }, (_, i) => i + 1),
  );
  // A cursor from another launch gets a reset.
  assert.equal((await events(h, `since=${all.lastId + 50}&wait=0`)).reset, true);
  assert.equal((await api(h, "GET", "/api/events?since=abc")).status, 400);
});

Deno.test("events (long-poll): a waiting request answers as soon as something changes", async () => {
  await using h = await startUiHub();
  await api(h, "POST", "/api/setup", { passphrase: PASSPHRASE });
  const now = await events(h, "since=0&wait=0");
  const started = Date.now();
  const pending = events(h, `since=${now.lastId}&wait=20`);
  await new Promise((r) => setTimeout(r, 300));
  await api(h, "POST", "/api/lock");
  const got = await pending;
  assert.ok(Date.now() - started < 10_000, "the poll returned long before its 20 s");
  const status = got.events.find((e) => e.type === "status");
  assert.equal(status?.data.state, "locked");
});

/** Reads Server-Sent Events from a response body. */
class SseReader {
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  constructor(res: Response) {
    this.#reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  }
  /** The next event (comments and `retry:` lines skipped). */
  async next(): Promise<{ id: string | null; event: string; data: string }> {
    while (true) {
      const end = this.#buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        let id: string | null = null;
        let event = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("id: ")) id = line.slice(4);
          else if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("data: ")) data.push(line.slice(6));
        }
        if (data.length > 0) return { id, event, data: data.join("\n") };
        continue;
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("stream ended");
      this.#buffer += value;
    }
  }
  /** Events until one of `type` arrives (returns it). */
  async until(type: string): Promise<{ id: string | null; event: string; data: string }> {
    while (true) {
      const e = await this.next();
      if (e.event === type) return e;
    }
  }
  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

function openStream(h: UiHub, lastEventId?: string): Promise<Response> {
  return fetch(`${h.admin.url}/api/events`, {
    headers: {
      authorization: `Bearer ${h.admin.guard.token}`,
      accept: "text/event-stream",
      ...(lastEventId ? { "last-event-id": lastEventId } : {}),
    },
  });
}

Deno.test("events (SSE): a reconnecting page gets exactly what it missed, in order", async () => {
  await using h = await startUiHub();
  await api(h, "POST", "/api/setup", { passphrase: PASSPHRASE });
  const res = await openStream(h);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
  const sse = new SseReader(res);
  await sse.until("reset");
  const status = await sse.until("status");
  assert.equal(JSON.parse(status.data).state, "unlocked");
  await sse.cancel();
  // While the page is away: the hub is locked. The log keeps snapshots, so the
  // page that comes back with its last id gets the state that changed since.
  await api(h, "POST", "/api/lock");
  const res2 = await openStream(h, status.id!);
  const sse2 = new SseReader(res2);
  const replay = await sse2.next();
  assert.notEqual(replay.event, "reset", "a known id resumes without a reset");
  // SSE ids are `<launch>-<id>` cursors: same launch, next id.
  const at = (id: string | null) => parseCursor(id ?? "")!;
  assert.equal(at(replay.id).launch, h.hub.events.launch);
  assert.equal(at(replay.id).launch, at(status.id).launch);
  assert.equal(at(replay.id).id, at(status.id).id + 1, "ids continue without a gap");
  let state = replay.event === "status" ? JSON.parse(replay.data).state : "";
  while (state !== "locked") state = JSON.parse((await sse2.until("status")).data).state;
  // And changes while connected arrive as they happen.
  await api(h, "POST", "/api/unlock", { passphrase: PASSPHRASE });
  while (state !== "unlocked") state = JSON.parse((await sse2.until("status")).data).state;
  await sse2.cancel();
});

Deno.test("events (SSE): open streams end when the admin server closes", async () => {
  const h = await startUiHub();
  try {
    const res = await openStream(h);
    const sse = new SseReader(res);
    await sse.until("reset");
    const closed = h.admin.close();
    const drain = async () => {
      try {
        while (true) await sse.next();
      } catch {
        return true;
      }
    };
    const ended = await Promise.race([
      drain(),
      new Promise<boolean>((r) => setTimeout(() => r(false), 5000)),
    ]);
    await closed;
    assert.ok(ended, "the stream ended with the server");
  } finally {
    await h.close();
  }
});

Deno.test("auto-lock: off by default; locks after the chosen idle minutes; activity postpones it", async () => {
  const clock = { t: Date.UTC(2026, 0, 15, 9, 0, 0) };
  await using h = await startUiHub({
    admin: { now: () => clock.t, autoLockCheckMs: 3_600_000 },
  });
  assert.equal((await api(h, "GET", "/api/auto-lock")).status, 423);
  await api(h, "POST", "/api/setup", { passphrase: PASSPHRASE });
  assert.equal((await api(h, "GET", "/api/auto-lock")).body.minutes, null);
  clock.t += 24 * 3_600_000;
  assert.equal(await h.admin.autoLock.check(), false, "off: never locks");
  assert.equal((await api(h, "POST", "/api/auto-lock", { minutes: 0.5 })).status, 400);
  assert.equal((await api(h, "POST", "/api/auto-lock", { minutes: 100_000 })).status, 400);
  const set = await api(h, "POST", "/api/auto-lock", { minutes: 5 });
  assert.equal(set.status, 200);
  assert.equal(set.body.minutes, 5);
  assert.equal(set.body.locksAt, clock.t + 5 * 60_000);
  clock.t += 4 * 60_000;
  assert.equal(await h.admin.autoLock.check(), false);
  // The page reports the operator's activity; idle time starts again.
  assert.equal((await api(h, "POST", "/api/touch")).status, 200);
  clock.t += 4 * 60_000;
  assert.equal(await h.admin.autoLock.check(), false);
  assert.equal(h.hub.state, "unlocked");
  clock.t += 61_000;
  assert.equal(await h.admin.autoLock.check(), true);
  assert.equal(h.hub.state, "locked");
  assert.ok(h.admin.events.since(0).events.some((e) => e.type === "autolock"));
  // The choice is kept in the encrypted database: it is there again after unlocking.
  await api(h, "POST", "/api/unlock", { passphrase: PASSPHRASE });
  assert.equal((await api(h, "GET", "/api/auto-lock")).body.minutes, 5);
  assert.equal((await api(h, "POST", "/api/auto-lock", { minutes: null })).body.minutes, null);
});

Deno.test("clinics: empty until linked, then the cloud's clinics with their names", async () => {
  const clinic = "6f1f1c2e-3b8a-4c55-9d7e-0a1b2c3d4e5f";
  await using cloud = await CloudDouble.start({ clinicIds: [clinic] });
  cloud.insert("clinics", { id: clinic, name: "Al Amal Clinic" });
  await using h = await startUiHub();
  assert.equal((await api(h, "GET", "/api/clinics")).status, 423);
  await api(h, "POST", "/api/setup", { passphrase: PASSPHRASE });
  assert.deepEqual((await api(h, "GET", "/api/clinics")).body, { registered: false, clinics: [] });
  const reg = await api(h, "POST", "/api/cloud/register", { url: cloud.url, apiKey: cloud.apiKey });
  assert.equal(reg.status, 200);
  assert.equal((await api(h, "POST", "/api/cloud/sync")).status, 200);
  assert.deepEqual((await api(h, "GET", "/api/clinics")).body, {
    registered: true,
    clinics: [{ id: clinic, name: "Al Amal Clinic" }],
  });
});

Deno.test("page: /, /app.js and /app.css answer without a session, with a strict CSP", async () => {
  await using h = await startUiHub();
  for (
    const [path, type] of [["/", "text/html"], ["/app.js", "text/javascript"], [
      "/app.css",
      "text/css",
    ]]
  ) {
    const res = await fetch(h.admin.url + path);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get("content-type") ?? "", new RegExp(type));
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    const text = await res.text();
    assert.ok(text.length > 0);
    if (path === "/") {
      assert.match(text, /<script type="module" src="\/app.js">/);
      assert.doesNotMatch(text, /<script>[^<]/, "no inline script");
    }
  }
  // The page's code carries no secret from this launch.
  const js = await (await fetch(h.admin.url + "/app.js")).text();
  assert.ok(!js.includes(h.admin.guard.token));
  // Other paths outside /api/ still 404, and the page is GET only.
  assert.equal(
    (await fetch(h.admin.url + "/app.jsx").then((r) => (r.body?.cancel(), r))).status,
    404,
  );
  const post = await fetch(h.admin.url + "/app.js", { method: "POST" });
  await post.body?.cancel();
  assert.notEqual(post.status, 200);
});
