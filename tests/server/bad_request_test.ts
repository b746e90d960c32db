/**
 * Malformed requests sent over raw TCP (as an attacker on the LAN would): a bad
 * Host header, request line or header answers 400 on both ports, logs at most
 * one line per source a minute, and the servers keep answering.
 */
import assert from "node:assert/strict";
import { logLines, startHub } from "./_fixtures.ts";
import { startAdminServer } from "../../ui/mod.ts";

/** Sends raw bytes and returns the status line and the body of the reply. */
export async function rawRequest(
  port: number,
  raw: string,
): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(raw));
    let text = "";
    const buf = new Uint8Array(8192);
    const dec = new TextDecoder();
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += dec.decode(buf.subarray(0, n), { stream: true });
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) continue;
      const len = /content-length: *(\d+)/i.exec(text.slice(0, end));
      if (len && text.length >= end + 4 + Number(len[1])) break;
    }
    const status = Number(text.split(" ")[1]);
    return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
  } finally {
    conn.close();
  }
}

const ESC = String.fromCharCode(27);
const BAD_HOSTS = ["a:b", "[zz]", "127.0.0.1:99999", "x y"];

function badHostRequest(host: string, path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
}

Deno.test("LAN: a malformed Host, request line or header gets 400 plain text, logged once a minute", async () => {
  const t = await startHub();
  try {
    const before = logLines.length;
    for (let round = 0; round < 5; round++) {
      for (const host of BAD_HOSTS) {
        const r = await rawRequest(t.hub.server.port, badHostRequest(host, "/rpc/heartbeat"));
        assert.equal(r.status, 400, `Host: ${host} → ${r.status} ${r.body}`);
        assert.match(r.body, /Bad request: malformed Host header/);
      }
      for (
        const raw of [
          "GARBAGE\r\n\r\n",
          "GET /rpc/heartbeat HTTP/1.1\r\nNoColonHeader\r\n\r\n",
          "POST /rpc/query HTTP/1.1\r\nHost: a\r\nContent Length: 5\r\n\r\n",
        ]
      ) {
        const r = await rawRequest(t.hub.server.port, raw);
        assert.equal(r.status, 400, JSON.stringify(raw));
        assert.match(r.body, /^Bad request: malformed (request line|header)/, JSON.stringify(raw));
      }
    }
    const lines = logLines.slice(before);
    const bad = lines.filter((l) => l.includes('"lan.bad_request"'));
    assert.equal(bad.length, 1, lines.join("\n"));
    assert.equal(lines.filter((l) => l.includes('"lan.unexpected"')).length, 0);
    // Still serving.
    const ok = await fetch(`${t.url}/rpc/heartbeat`);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("admin: a malformed Host gets 400 plain text, one log line, no stack trace", async () => {
  const t = await startHub();
  const admin = await startAdminServer(t.hub, { port: 0, token: "tok-0123456789abcdef" });
  try {
    const before = logLines.length;
    for (let round = 0; round < 5; round++) {
      for (const host of BAD_HOSTS) {
        const r = await rawRequest(admin.port, badHostRequest(host, "/api/status"));
        assert.equal(r.status, 400, `Host: ${host} → ${r.status} ${r.body}`);
        assert.match(r.body, /Bad request: malformed Host header/);
      }
    }
    const lines = logLines.slice(before);
    assert.equal(lines.filter((l) => l.includes('"admin.bad_request"')).length, 1);
    assert.equal(lines.filter((l) => l.includes('"admin.unexpected"')).length, 0);
  } finally {
    await admin.close();
    await t.close();
  }
});

Deno.test({
  name: "admin and LAN in a real process: malformed requests write nothing to stderr but JSON",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { spawnHeadlessHub, freePort } = await import("../hub_process.ts");
    const dir = await Deno.makeTempDir({ prefix: "badreq-" });
    try {
      await Deno.writeTextFile(`${dir}/passphrase`, "correct horse battery staple");
      const child = await spawnHeadlessHub(dir, freePort(), "info");
      try {
        const adminPort = Number(new URL(child.admin).port);
        const lanPort = Number(new URL(child.lan).port);
        for (const host of BAD_HOSTS) {
          assert.equal((await rawRequest(adminPort, badHostRequest(host, "/"))).status, 400);
          assert.equal(
            (await rawRequest(lanPort, badHostRequest(host, "/rpc/heartbeat"))).status,
            400,
          );
        }
        await new Promise((r) => setTimeout(r, 200));
        const out = child.log();
        // Headless mode prints the admin page's launch address and the pairing QR
        // (text, for the person at the terminal) on stderr; every other line is JSON.
        const lines = out.split("\n").filter((l) =>
          l.trim() !== "" && !l.startsWith("Pair a phone") && !l.startsWith("Admin page: ") &&
          !l.startsWith("  Open it in a browser") &&
          !/^[\s\u2580-\u259f]*$/.test(l.replaceAll(ESC, "").replace(/\[[0-9;]*m/g, ""))
        );
        assert.ok(lines.some((l) => l.includes('"lan.bad_request"')));
        for (const line of lines) {
          assert.doesNotThrow(() => JSON.parse(line), `not a log line: ${line}`);
        }
        assert.ok(!/TypeError|Invalid URL/.test(out), out.slice(-2000));
      } finally {
        child.proc.kill("SIGKILL");
        await child.proc.status;
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
