/**
 * The logger never writes a secret the hub holds, under the names the hub
 * gives them, at any depth, in maps and arrays, nor raw bytes; what is not a
 * secret is still written.
 */
import assert from "node:assert/strict";
import { isSecretField, log, setLogSink } from "../../core/mod.ts";

/** Every secret the hub holds, under the field names the code uses for them. */
const SECRETS: Record<string, string> = {
  passphrase: "correct horse battery staple",
  password: "s3cret-Passw0rd",
  hashed_password: "$2b$10$abcdefghijklmnopqrstuv",
  dbKey: "a".repeat(64),
  pendingDbKey: "b".repeat(64),
  hubPrivateKey: "hub-private-key-material",
  jwtKey: "jwt-signing-key-material",
  apiKey: "hh_" + "c".repeat(64),
  api_key: "hh_" + "d".repeat(64),
  token: "eyJhbGciOiJIUzI1NiJ9.payload.sig",
  sessionToken: "session-token-value",
  adminToken: "admin-bearer-token",
  csrf: "csrf-token-value",
  cookie: "hub_session=cookie-value",
  authorization: "Bearer admin-bearer-token-2",
  payload: "BwcHBwcHBwcHBwcHsealed",
  client_public_key: "ST6C_HRGSlkmiBdiPSBTxeuOLMSpiLT-4XnsawENUx0",
  signature: "minisign-signature-line",
  "x-api-key": "header-api-key",
};

function capture(fn: () => void): string {
  const lines: string[] = [];
  const prev = setLogSink((l) => lines.push(l));
  try {
    fn();
  } finally {
    setLogSink(prev);
  }
  return lines.join("\n");
}

function nest(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = { level: i, inner: v };
  return v;
}

Deno.test("log: every secret the hub holds is redacted at any depth", () => {
  const named = SECRETS;
  const out = capture(() => {
    log("info", "test.flat", { ...named });
    log("info", "test.deep", { deep: nest(10, { ...named }) });
    log("info", "test.deeper", { deep: nest(40, { ...named }) });
    log("info", "test.array", { list: [{ ...named }, [{ ...named }]] });
    log("info", "test.map", { map: new Map(Object.entries(named)) });
    log("info", "test.bytes", { material: new TextEncoder().encode(SECRETS.dbKey) });
  });
  for (const [name, value] of Object.entries(named)) {
    assert.ok(!out.includes(value), `${name}'s value is never written`);
  }
  assert.ok(out.includes('"[redacted]"'));
  assert.ok(out.includes("[too deep]"), "a value nested too deep is dropped, not written");
  assert.ok(out.includes("[64 bytes]"), "raw bytes are told by size only");
});

Deno.test("log: plain fields are written, a cycle does not hang it", () => {
  const loop: Record<string, unknown> = { device: "phone-1" };
  loop.self = loop;
  const out = capture(() =>
    log("info", "sync.pull", { device: "phone-1", rows: 20, more: true, loop })
  );
  const line = JSON.parse(out);
  assert.equal(line.event, "sync.pull");
  assert.equal(line.device, "phone-1");
  assert.equal(line.rows, 20);
  assert.equal(line.loop.self, "[circular]");
});

Deno.test("log: field names are matched by part, whatever their case or separators", () => {
  for (
    const name of [
      "apiKey",
      "API_KEY",
      "x-api-key",
      "hubPrivateKey",
      "pending_db_key",
      "sessionToken",
      "csrfToken",
      "Authorization",
      "Set-Cookie",
      "newPassphrase",
    ]
  ) {
    assert.ok(isSecretField(name), name);
  }
  for (const name of ["device", "rows", "table", "clientId", "event", "bytes", "more"]) {
    assert.ok(!isSecretField(name), name);
  }
});
