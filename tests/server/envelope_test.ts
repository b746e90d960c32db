/**
 * POST /rpc/command and /rpc/query (SPEC §3): every transport error is a plain
 * 400 (never 401, never sealed), handler errors are `200 {payload:"",
 * success:false, error}`, replays are refused and change nothing, only the four
 * routes exist, bodies are bounded, and a locked hub answers only ping/heartbeat.
 */
import assert from "node:assert/strict";
import { LOCKED_MESSAGE } from "../../core/mod.ts";
import { b64u, openJson, PhoneClient, sealJson } from "../phone_client.ts";
import {
  loggedInPhone,
  PASSPHRASE,
  patientRow,
  postRaw,
  startHub,
  storedRow,
  storeSnapshot,
} from "./_fixtures.ts";

type Route = "command" | "query";

/** Seals arbitrary text (not necessarily JSON) the way the phone seals requests. */
async function sealText(key: CryptoKey, text: string, aad: string): Promise<string> {
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: new TextEncoder().encode(aad) },
      key,
      new TextEncoder().encode(text),
    ),
  );
  const out = new Uint8Array(12 + ct.length);
  out.set(nonce);
  out.set(ct, 12);
  return b64u(out);
}

function envelopeBody(clientId: string, payload: unknown): string {
  return JSON.stringify({ client_id: clientId, payload });
}

function assertTransportError(r: { status: number; type: string; text: string }, status = 400) {
  assert.equal(r.status, status, r.text);
  assert.match(r.type, /^text\/plain/);
  assert.ok(!r.text.includes('"payload"'));
}

/** Asserts the SPEC's handler-error reply: 200, unsealed, with a message. */
function assertHandlerError(r: { status: number; type: string; text: string }, message?: RegExp) {
  assert.equal(r.status, 200, r.text);
  const body = JSON.parse(r.text);
  assert.deepEqual(Object.keys(body).sort(), ["error", "payload", "success"]);
  assert.equal(body.success, false);
  assert.equal(body.payload, "");
  assert.equal(typeof body.error, "string");
  if (message) assert.match(body.error, message);
}

Deno.test("envelope: transport errors are 400 plain text and the session survives them", async () => {
  const t = await startHub();
  try {
    const phone = new PhoneClient(t.url, { clientId: "phone-e" });
    await phone.handshake();
    const key = phone.key!;
    const id = phone.clientId;
    const ping = { command: "ping", data: {}, token: null };
    const cases: [string, Route, string][] = [
      ["malformed JSON", "command", "{oops"],
      ["empty body", "query", ""],
      ["JSON array", "command", "[1,2]"],
      ["missing client_id", "command", JSON.stringify({ payload: "x" })],
      [
        "unknown client_id",
        "command",
        envelopeBody("never-shook", await sealJson(key, ping, "command")),
      ],
      ["missing payload", "command", JSON.stringify({ client_id: id })],
      ["payload not a string", "command", envelopeBody(id, 42)],
      ["empty payload", "command", envelopeBody(id, "")],
      ["payload not base64url", "command", envelopeBody(id, "!!!!" + "A".repeat(60))],
      ["padded payload", "command", envelopeBody(id, (await sealJson(key, ping, "command")) + "=")],
      ["payload too short", "command", envelopeBody(id, b64u(new Uint8Array(27)))],
      [
        "random bytes",
        "command",
        envelopeBody(id, b64u(crypto.getRandomValues(new Uint8Array(80)))),
      ],
      [
        "AAD query on /rpc/command",
        "command",
        envelopeBody(id, await sealJson(key, ping, "query")),
      ],
      [
        "AAD command on /rpc/query",
        "query",
        envelopeBody(id, await sealJson(key, ping, "command")),
      ],
      [
        "AAD command_response",
        "command",
        envelopeBody(id, await sealJson(key, ping, "command_response")),
      ],
      [
        "inner not JSON",
        "command",
        envelopeBody(id, await sealText(key, "ping please", "command")),
      ],
      ["inner JSON array", "command", envelopeBody(id, await sealText(key, "[]", "command"))],
      [
        "inner without data",
        "command",
        envelopeBody(id, await sealJson(key, { command: "ping", token: null }, "command")),
      ],
      [
        "inner with data null",
        "command",
        envelopeBody(id, await sealJson(key, { command: "ping", data: null }, "command")),
      ],
      [
        "inner with data an array",
        "command",
        envelopeBody(id, await sealJson(key, { command: "ping", data: [] }, "command")),
      ],
      [
        "query without params",
        "query",
        envelopeBody(id, await sealJson(key, { query: "ping", token: null }, "query")),
      ],
      [
        "query sending data instead of params",
        "query",
        envelopeBody(id, await sealJson(key, { query: "ping", data: {} }, "query")),
      ],
      [
        "command name missing",
        "command",
        envelopeBody(id, await sealJson(key, { data: {}, token: null }, "command")),
      ],
      [
        "command shape on /rpc/query",
        "query",
        envelopeBody(id, await sealJson(key, ping, "query")),
      ],
      [
        "token not a string",
        "command",
        envelopeBody(id, await sealJson(key, { ...ping, token: 12 }, "command")),
      ],
    ];
    for (const [name, route, body] of cases) {
      const r = await postRaw(t.url, `/rpc/${route}`, body);
      assert.equal(r.status, 400, `${name}: ${r.status} ${r.text}`);
      assertTransportError(r);
    }
    // None of that hurt the genuine session.
    assert.deepEqual((await phone.command("ping")).result, { pong: true });
  } finally {
    await t.close();
  }
});

Deno.test("envelope: handler errors are 200, unsealed, never 401", async () => {
  const t = await startHub();
  try {
    const phone = new PhoneClient(t.url);
    await phone.handshake();
    const send = async (route: Route, inner: unknown) =>
      await postRaw(
        t.url,
        `/rpc/${route}`,
        envelopeBody(phone.clientId, await sealJson(phone.key!, inner, route)),
      );
    assertHandlerError(
      await send("command", { command: "no_such_command", data: {}, token: null }),
      /no_such_command/,
    );
    assertHandlerError(await send("query", { query: "no_such_query", params: {}, token: null }));
    // login exists as a command only.
    assertHandlerError(await send("query", { query: "login", params: {}, token: null }));
    // Bad params.
    assertHandlerError(
      await send("command", { command: "login", data: { email: 5 }, token: null }),
      /email/,
    );
    // Wrong credentials.
    assertHandlerError(
      await send("command", {
        command: "login",
        data: { email: "nobody@x.test", password: "nope" },
        token: null,
      }),
      /^Invalid email or password$/,
    );
    // No token, garbage token.
    assertHandlerError(
      await send("query", { query: "sync_pull", params: { lastPulledAt: 0 }, token: null }),
      /Unauthorized/,
    );
    assertHandlerError(
      await send("query", { query: "sync_pull", params: { lastPulledAt: 0 }, token: "x.y.z" }),
      /Unauthorized/,
    );
    // The sealed success reply uses the response label.
    const ok = await send("query", { query: "heartbeat", params: {}, token: null });
    const body = JSON.parse(ok.text);
    assert.equal(body.success, true);
    assert.deepEqual(await openJson(phone.key!, body.payload, "query_response"), {
      status: "ok",
    });
    await assert.rejects(openJson(phone.key!, body.payload, "query"));
  } finally {
    await t.close();
  }
});

Deno.test("replay: a replayed ping is refused", async () => {
  const t = await startHub();
  try {
    const phone = new PhoneClient(t.url);
    await phone.handshake();
    assert.equal((await phone.command("ping")).success, true);
    const r = await postRaw(t.url, "/rpc/command", phone.lastRequestBody!);
    assertTransportError(r);
    assert.match(r.text, /replay/i);
    assert.equal((await phone.command("ping")).success, true);
  } finally {
    await t.close();
  }
});

Deno.test("replay: a replayed push is refused and does not write again", async () => {
  const t = await startHub();
  try {
    const phone = await loggedInPhone(t.url);
    const pulled = await phone.pull(0);
    await phone.push(pulled.timestamp, {
      patients: { created: [patientRow("p-replay", 1_700_000_000_000)], updated: [], deleted: [] },
    });
    const captured = phone.lastRequestBody!;
    const stamp = storedRow(t.store, "patients", "p-replay")!.local_server_last_modified_at;
    const snapshot = storeSnapshot(t.store);
    const clock = t.store.clock.current();
    const pushed = t.store.devices.get(phone.clientId)!.rowsPushed;
    const r = await postRaw(t.url, "/rpc/command", captured);
    assertTransportError(r);
    assert.equal(storeSnapshot(t.store), snapshot);
    assert.equal(t.store.clock.current(), clock);
    assert.equal(storedRow(t.store, "patients", "p-replay")!.local_server_last_modified_at, stamp);
    assert.equal(t.store.devices.get(phone.clientId)!.rowsPushed, pushed);
    // Another phone's incremental pull sees the row exactly once.
    const other = await loggedInPhone(t.url);
    const all = await other.pull(0);
    assert.equal(all.changes.patients.created.filter((r) => r.id === "p-replay").length, 1);
    const next = await other.pull(all.timestamp);
    assert.deepEqual(next.changes, {});
  } finally {
    await t.close();
  }
});

Deno.test("replay: the same request sent twice at once is applied once", async () => {
  const t = await startHub();
  try {
    const phone = await loggedInPhone(t.url);
    const payload = await sealJson(phone.key!, {
      command: "sync_push",
      data: {
        lastPulledAt: 0,
        changes: {
          patients: {
            created: [patientRow("p-race", 1_700_000_000_000)],
            updated: [],
            deleted: [],
          },
        },
      },
      token: phone.token,
    }, "command");
    const body = envelopeBody(phone.clientId, payload);
    const clockBefore = t.store.clock.current();
    for (let round = 0; round < 5; round++) {
      const req = () =>
        t.hub.server.handle(
          new Request("http://hub/rpc/command", { method: "POST", body }),
        );
      const statuses = (await Promise.all([req(), req(), req()])).map((r) => r.status);
      if (round === 0) {
        assert.deepEqual(statuses.filter((s) => s === 200).length, 1, String(statuses));
      } else {
        assert.deepEqual(statuses, [400, 400, 400]);
      }
    }
    // One push, one stamp.
    const row = storedRow(t.store, "patients", "p-race")!;
    assert.ok((row.local_server_last_modified_at as number) > clockBefore);
    assert.equal(t.store.clock.current(), row.local_server_last_modified_at);
  } finally {
    await t.close();
  }
});

Deno.test("replay: a forged request cannot burn the nonce of a genuine one", async () => {
  const t = await startHub();
  try {
    const phone = new PhoneClient(t.url);
    await phone.handshake();
    const genuine = await sealJson(
      phone.key!,
      { command: "ping", data: {}, token: null },
      "command",
    );
    const bytes = Uint8Array.fromBase64(genuine, { alphabet: "base64url" });
    bytes[20] ^= 1;
    const forged = b64u(bytes);
    assertTransportError(
      await postRaw(t.url, "/rpc/command", envelopeBody(phone.clientId, forged)),
    );
    const ok = await postRaw(t.url, "/rpc/command", envelopeBody(phone.clientId, genuine));
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.text).success, true);
  } finally {
    await t.close();
  }
});

Deno.test("routes: anything but the four routes is 404", async () => {
  const t = await startHub();
  try {
    const cases: [string, string][] = [
      ["GET", "/"],
      ["GET", "/rpc"],
      ["GET", "/rpc/handshake"],
      ["GET", "/rpc/command"],
      ["GET", "/rpc/query"],
      ["POST", "/rpc/heartbeat"],
      ["PUT", "/rpc/command"],
      ["DELETE", "/rpc/query"],
      ["PATCH", "/rpc/handshake"],
      ["POST", "/rpc/handshake/"],
      ["POST", "/rpc/Command"],
      ["GET", "/rpc/heartbeat/"],
      ["POST", "/rpc/sync"],
      ["GET", "/api/v2/sync"],
      ["GET", "/api/status"],
      ["GET", "/api/devices"],
      ["POST", "/api/server/stop"],
      ["GET", "/sync"],
      ["GET", "/favicon.ico"],
      ["OPTIONS", "/rpc/command"],
    ];
    for (const [method, path] of cases) {
      const res = await fetch(`${t.url}${path}`, {
        method,
        body: method === "GET" || method === "OPTIONS" ? undefined : "{}",
      });
      const text = await res.text();
      assert.equal(res.status, 404, `${method} ${path}: ${res.status} ${text}`);
    }
    const hb = await fetch(`${t.url}/rpc/heartbeat?x=1`);
    assert.equal(hb.status, 200);
    assert.equal(await hb.text(), '{"status":"ok"}');
    assert.ok(t.hub.server.running);
  } finally {
    await t.close();
  }
});

Deno.test("limits: a body over the limit is 413, declared or streamed", async () => {
  const t = await startHub({ lan: { maxBodyBytes: 4096 } });
  try {
    const phone = new PhoneClient(t.url);
    await phone.handshake();
    // A sealed request just under the limit works; one over it is 413.
    const small = await phone.command("ping", { pad: "x".repeat(2000) });
    assert.equal(small.success, true);
    const big = await phone.command("ping", { pad: "x".repeat(5000) });
    assert.equal(big.status, 413);
    assert.ok(big.text!.length > 0);
    // Without a Content-Length: the limit is enforced while reading.
    const chunk = new TextEncoder().encode("x".repeat(1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 16) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${t.url}/rpc/query`, { method: "POST", body: stream });
    assert.equal(res.status, 413);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    await res.body?.cancel();
    // The handshake has its own small limit.
    const hs = await postRaw(
      t.url,
      "/rpc/handshake",
      JSON.stringify({
        client_id: "p",
        client_public_key: "A".repeat(43),
        pad: "y".repeat(70_000),
      }),
    );
    assert.equal(hs.status, 413);
    // The server is fine afterwards.
    assert.equal((await phone.command("ping")).success, true);
  } finally {
    await t.close();
  }
});

Deno.test("locked: only ping and heartbeat answer; everything else is the locked error", async () => {
  const t = await startHub();
  try {
    const phone = await loggedInPhone(t.url);
    await t.hub.lock();
    assert.deepEqual((await phone.command("ping")).result, { pong: true });
    assert.deepEqual((await phone.query("ping")).result, { pong: true });
    assert.deepEqual((await phone.query("heartbeat")).result, { status: "ok" });
    const locked = /^Database is locked/;
    const login = await phone.command("login", { email: "nurse@clinic.test", password: "x" });
    assert.equal(login.success, false);
    assert.match(login.error!, locked);
    assert.equal(login.error, LOCKED_MESSAGE);
    // Every registered procedure other than ping/heartbeat answers the locked error.
    const names: string[] = [];
    for (const p of t.hub.server.registry.list()) {
      if (p.whileLocked) {
        assert.ok(["ping", "heartbeat"].includes(p.name), `${p.name} answers while locked`);
        continue;
      }
      names.push(`${p.kind}:${p.name}`);
      const r = p.kind === "command"
        ? await phone.command(p.name, { lastPulledAt: 0, changes: {} })
        : await phone.query(p.name, { lastPulledAt: 0 });
      assert.equal(r.status, 200, `${p.kind} ${p.name}`);
      assert.equal(r.success, false, `${p.kind} ${p.name}`);
      assert.match(r.error!, locked, `${p.kind} ${p.name}`);
    }
    assert.ok(names.includes("query:sync_pull") && names.includes("command:sync_push"));
    // Unknown names are refused too (never a sealed reply).
    assert.equal((await phone.query("made_up")).success, false);
    // Unlocked again, the same session and token work.
    await t.hub.unlock(PASSPHRASE);
    const pulled = await phone.pull(0);
    assert.ok(pulled.timestamp > 0);
  } finally {
    await t.close();
  }
});

Deno.test("limits: a body that stops arriving gets 408; the server still stops", async () => {
  const t = await startHub({ lan: { bodyTimeoutMs: 300 } });
  let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
  try {
    const phone = new PhoneClient(t.url);
    await phone.handshake();
    // A client that starts a body and never finishes it (and never closes).
    const stalled = new ReadableStream<Uint8Array>({
      start(controller) {
        stream = controller;
        controller.enqueue(new TextEncoder().encode('{"client_id":"'));
      },
    });
    const res = await fetch(`${t.url}/rpc/command`, { method: "POST", body: stalled });
    assert.equal(res.status, 408);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    await res.body?.cancel();
    assert.equal((await phone.command("ping")).success, true);
    // Stopping must not wait for that client (a watchdog turns a hang into a failure).
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const stopped = await Promise.race([
      t.hub.stopServer().then(() => "stopped"),
      new Promise((resolve) => watchdog = setTimeout(() => resolve("still waiting"), 20_000)),
    ]);
    clearTimeout(watchdog);
    assert.equal(stopped, "stopped");
    assert.equal(t.hub.server.running, false);
  } finally {
    try {
      stream?.close();
    } catch {
      // the connection is gone
    }
    await t.close();
  }
});
