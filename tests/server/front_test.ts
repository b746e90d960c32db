/**
 * The LAN front (server/_front.ts) and the body rules (server/_http.ts,
 * server/_rpc.ts), attacked over raw TCP: silent and slow clients are dropped,
 * connections are capped per address and in all, a body is read only for a live
 * session and only at a minimum rate, the shared body budget is fair, and the
 * open-files limit never ends the process.
 */
import assert from "node:assert/strict";
import { BodyBudget } from "../../server/_http.ts";
import { PhoneClient } from "../phone_client.ts";
import { loggedInPhone, NURSE, PASSPHRASE, patientRow, startHub, testLogger } from "./_fixtures.ts";
import { ROOT } from "../_helpers.ts";

const enc = new TextEncoder();

async function connect(port: number): Promise<Deno.TcpConn> {
  return await Deno.connect({ hostname: "127.0.0.1", port });
}

/** Resolves with "closed" when the server closes the connection, else "open" after `ms`. */
async function closedWithin(conn: Deno.Conn, ms: number): Promise<"closed" | "open"> {
  const buf = new Uint8Array(4096);
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const timer = new Promise<"open">((r) => setTimeout(() => r("open"), deadline - Date.now()));
    let t: "open" | number | null;
    try {
      t = await Promise.race([conn.read(buf), timer]);
    } catch {
      return "closed"; // reset
    }
    if (t === "open") return "open";
    if (t === null) return "closed";
  }
  return "open";
}

async function readReply(conn: Deno.Conn, ms = 5000): Promise<string> {
  const buf = new Uint8Array(8192);
  let text = "";
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !/\r\n\r\n[\s\S]*\n/.test(text)) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  return text;
}

async function phoneRound(url: string): Promise<void> {
  const phone = await loggedInPhone(url, NURSE);
  const pulled = await phone.pull(0);
  await phone.push(pulled.timestamp, {
    patients: { created: [patientRow(crypto.randomUUID(), Date.now())], updated: [], deleted: [] },
  });
}

Deno.test("front: silent connections are dropped at the header deadline; a phone syncs meanwhile", async () => {
  const t = await startHub({
    lan: {
      front: { headerMs: 400, perSource: 1000, total: 1000, exemptLoopback: true },
      handshakeRate: { burst: 60, perSecond: 2, exemptLoopback: true },
    },
  });
  try {
    const port = t.hub.server.port;
    const idle = await Promise.all(Array.from({ length: 200 }, () => connect(port)));
    await phoneRound(t.url);
    const results = await Promise.all(idle.map((c) => closedWithin(c, 3000)));
    assert.equal(results.filter((r) => r === "closed").length, 200);
    for (const c of idle) c.close();
    assert.ok(t.hub.server.frontCounters!.dropped >= 200);
    await phoneRound(t.url);
  } finally {
    await t.close();
  }
});

Deno.test("front: connections beyond the per-address cap are refused at once, then served again", async () => {
  const t = await startHub({ lan: { front: { perSource: 8, headerMs: 500 } } });
  try {
    const port = t.hub.server.port;
    const held = await Promise.all(Array.from({ length: 8 }, () => connect(port)));
    // Wait until the front has counted them, then one more is refused at once.
    await new Promise((r) => setTimeout(r, 100));
    const extra = await connect(port);
    assert.equal(await closedWithin(extra, 1000), "closed");
    extra.close();
    assert.ok(t.hub.server.frontCounters!.refused >= 1);
    // Once the silent ones are dropped, the address is served again.
    await Promise.all(held.map((c) => closedWithin(c, 3000)));
    for (const c of held) c.close();
    const hb = await fetch(`${t.url}/rpc/heartbeat`);
    assert.equal(hb.status, 200);
    await hb.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("front: headers sent a byte at a time are cut off at the header deadline", async () => {
  const t = await startHub({ lan: { front: { headerMs: 500 } } });
  try {
    const conn = await connect(t.hub.server.port);
    const started = Date.now();
    const head = "POST /rpc/query HTTP/1.1\r\nHost: hub\r\nX-Slow: " + "a".repeat(200);
    let closed = false;
    for (const ch of head) {
      try {
        await conn.write(enc.encode(ch));
      } catch {
        closed = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
      if (Date.now() - started > 3000) break;
    }
    if (!closed) closed = (await closedWithin(conn, 1500)) === "closed";
    conn.close();
    assert.ok(closed, "the slow client was not dropped");
    assert.ok(Date.now() - started < 3500);
  } finally {
    await t.close();
  }
});

Deno.test("body: a slow upload under a live session is cut at the minimum rate; budget returns to 0", async () => {
  const t = await startHub({ lan: { bodyPace: { minBytes: 4096, windowMs: 300 } } });
  try {
    const phone = new PhoneClient(t.url);
    await phone.handshake();
    const conn = await connect(t.hub.server.port);
    await conn.write(enc.encode(
      "POST /rpc/command HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n" +
        `Content-Length: 10000000\r\n\r\n{"client_id":${
          JSON.stringify(phone.clientId)
        },"payload":"` +
        "A".repeat(3000),
    ));
    const started = Date.now();
    const trickle = (async () => {
      for (let i = 0; i < 100; i++) {
        await new Promise((r) => setTimeout(r, 50));
        try {
          await conn.write(enc.encode("A"));
        } catch {
          return i;
        }
      }
      return 100;
    })();
    const reply = await readReply(conn, 5000);
    assert.match(reply, /^HTTP\/1.1 408/);
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    // The connection was closed after the reply: the writes stop failing long before 100.
    assert.ok(await trickle < 60, "the slow connection stayed open");
    conn.close();
    assert.equal(t.hub.server.bodyBudget.inFlight, 0);
    // The phone is unaffected.
    assert.equal((await phone.query("ping")).success, true);
  } finally {
    await t.close();
  }
});

Deno.test("body: a large body from a client without a session is refused after its prefix", async () => {
  const t = await startHub();
  try {
    const conn = await connect(t.hub.server.port);
    // 100 MiB announced; only the headers and the first bytes are ever sent.
    await conn.write(enc.encode(
      "POST /rpc/command HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n" +
        `Content-Length: ${100 * 1024 * 1024}\r\n\r\n{"client_id":"nobody","payload":"` +
        "B".repeat(8192),
    ));
    const reply = await readReply(conn, 5000);
    assert.match(reply, /^HTTP\/1.1 400/);
    assert.match(reply, /No session for this client_id/);
    assert.equal(await closedWithin(conn, 2000), "closed");
    conn.close();
    assert.equal(t.hub.server.bodyBudget.inFlight, 0);
    // And a body that does not start with client_id is refused the same way.
    const other = await connect(t.hub.server.port);
    await other.write(enc.encode(
      "POST /rpc/command HTTP/1.1\r\nHost: hub\r\nContent-Length: 5000000\r\n\r\n" +
        `{"payload":"${"C".repeat(8192)}`,
    ));
    assert.match(await readReply(other, 5000), /^HTTP\/1.1 400[\s\S]*must start with "client_id"/);
    other.close();
  } finally {
    await t.close();
  }
});

Deno.test("body budget: one source holds at most its share; released bytes come back", () => {
  const budget = new BodyBudget(1000);
  const a1 = budget.account("10.0.0.1");
  const a2 = budget.account("10.0.0.1");
  assert.equal(a1.charge(400), true);
  assert.equal(a2.charge(100), true);
  assert.equal(a2.charge(1), false, "a source may hold at most half");
  const b = budget.account("10.0.0.2");
  assert.equal(b.charge(500), true);
  assert.equal(budget.account("10.0.0.3").charge(1), false, "the whole budget is spent");
  a1.release();
  a1.release(); // twice is harmless
  assert.equal(budget.heldBy("10.0.0.1"), 100);
  assert.equal(budget.inFlight, 600);
  const c = budget.account("10.0.0.3");
  assert.equal(c.charge(400), true);
  a2.release();
  b.release();
  c.release();
  assert.equal(budget.inFlight, 0);
});

Deno.test("front: accept errors (EMFILE) pause accepting and never end the process", async () => {
  const { Front } = await import("../../server/_front.ts");
  const { LogGate } = await import("../../core/mod.ts");
  const real = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let failures = 0;
  const flaky = {
    addr: real.addr,
    accept: () => {
      if (failures < 5) {
        failures++;
        return Promise.reject(new Error("Too many open files (os error 24)"));
      }
      return real.accept();
    },
    close: () => real.close(),
  } as unknown as Deno.TcpListener;
  const upstream = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("ok"),
  );
  const front = new Front(
    flaky,
    (upstream.addr as Deno.NetAddr).port,
    {
      perSource: 4,
      total: 4,
      headerMs: 1000,
      idleMs: 1000,
      writeMs: 1000,
    },
    new LogGate(),
    testLogger,
  );
  try {
    const res = await fetch(`http://127.0.0.1:${(real.addr as Deno.NetAddr).port}/`);
    assert.equal(await res.text(), "ok");
    assert.equal(failures, 5);
    assert.equal(front.counters.acceptErrors, 5);
  } finally {
    await front.close();
    await upstream.shutdown();
  }
});

Deno.test({
  name: "front: at a low open-files limit, 1,500 connections are refused, the hub lives on",
  sanitizeOps: false,
  sanitizeResources: false,
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "fdlimit-" });
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    await Deno.writeTextFile(`${dir}/passphrase`, PASSPHRASE);
    const cmd = `ulimit -n 300 && exec "${Deno.execPath()}" run -A main.ts --no-open ` +
      `--passphrase-file "${dir}/passphrase" --data-dir "${dir}/data" --host 127.0.0.1 --port ${port}`;
    const proc = new Deno.Command("sh", {
      args: ["-c", cmd],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", HUB_LOG_LEVEL: "warn" },
    }).spawn();
    const out = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let err = "";
    const errDone = (async () => {
      for await (const s of proc.stderr.pipeThrough(new TextDecoderStream())) err += s;
    })();
    try {
      let line = "";
      while (!line.includes("\n")) {
        const { value, done } = await out.read();
        if (done) throw new Error(`hub exited before ready: ${err}`);
        line += value;
      }
      const conns: Deno.Conn[] = [];
      for (let i = 0; i < 1500; i++) {
        try {
          conns.push(await connect(port));
        } catch {
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 1000));
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed by the hub */ }
      }
      // Still alive, still serving.
      const status = await Promise.race([
        proc.status.then(() => "exited"),
        new Promise((r) => setTimeout(() => r("alive"), 500)),
      ]);
      assert.equal(status, "alive", err.slice(-2000));
      const hb = await fetch(`http://127.0.0.1:${port}/rpc/heartbeat`);
      assert.equal(hb.status, 200);
      await hb.body?.cancel();
      assert.ok(!/Too many open files.*uncaught|error: Uncaught/i.test(err), err.slice(-2000));
    } finally {
      proc.kill("SIGKILL");
      await proc.status;
      await out.cancel().catch(() => {});
      await errDone.catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("body: a client that disconnects mid-body is not an unexpected error", async () => {
  const { logLines } = await import("./_fixtures.ts");
  const t = await startHub();
  try {
    const phone = new PhoneClient(t.url);
    await phone.handshake();
    const before = logLines.length;
    const conn = await connect(t.hub.server.port);
    await conn.write(enc.encode(
      "POST /rpc/command HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n" +
        `Content-Length: 1000000\r\n\r\n{"client_id":${
          JSON.stringify(phone.clientId)
        },"payload":"` +
        "A".repeat(5000),
    ));
    await new Promise((r) => setTimeout(r, 200));
    conn.close();
    await new Promise((r) => setTimeout(r, 300));
    const lines = logLines.slice(before);
    assert.equal(lines.filter((l) => l.includes('"lan.unexpected"')).length, 0, lines.join("\n"));
    assert.equal(t.hub.server.bodyBudget.inFlight, 0);
    assert.equal((await phone.query("ping")).success, true);
  } finally {
    await t.close();
  }
});
