/**
 * The logger never writes a secret the hub holds, under the names the hub
 * gives them, at any depth, in maps and arrays, nor raw bytes; what is not a
 * secret is still written.
 */
import assert from "node:assert/strict";
import { isSecretField, Logger, memoryLogger } from "../../core/mod.ts";

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

/** Runs `fn` with a fresh logger writing to memory; returns what it wrote. */
function capture(fn: (log: Logger["log"]) => void): string {
  const { logger, lines } = memoryLogger({ level: "debug" });
  fn((level, event, fields) => logger.log(level, event, fields));
  return lines.join("\n");
}

function nest(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = { level: i, inner: v };
  return v;
}

Deno.test("log: every secret the hub holds is redacted at any depth", () => {
  const named = SECRETS;
  const out = capture((log) => {
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
  const out = capture((log) =>
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

/**
 * The secrets the hub holds, in the shapes it holds them: the vault's secrets
 * (with the cloud link), the unlocked hub's access, a phone's session, the admin
 * session, and the requests that carry them.
 */
function hubSecretShapes(): Record<string, unknown> {
  const vaultSecrets = {
    dbKey: "1".repeat(64),
    pendingDbKey: "2".repeat(64),
    hubPrivateKey: "hub-private-pkcs8-3333",
    hubPublicKey: "hub-public-is-fine",
    jwtKey: "jwt-hmac-key-4444",
    hubId: "hub-1",
    hubName: "Clinic hub",
    cloud: { url: "https://cloud.test", apiKey: "hh_" + "5".repeat(64), clinicIds: ["c1"] },
  };
  return {
    passphrase: "passphrase-6666-long",
    vault: vaultSecrets,
    change: { current: "current-pass-7777", next: "next-pass-8888" },
    access: { jwtKey: "jwt-hmac-key-4444", hubPrivateKey: "hub-private-pkcs8-3333" },
    session: { sessionKey: "phone-session-key-9999", token: "eyJ.phone-jwt.aaaa" },
    admin: { adminToken: "admin-bearer-bbbb", csrf: "csrf-cccc", sessionId: "sid-dddd" },
    headers: {
      authorization: "Bearer admin-bearer-bbbb",
      cookie: "hub_session=sid-dddd",
      "x-csrf-token": "csrf-cccc",
      "x-api-key": "hh_" + "5".repeat(64),
    },
    cloudToken: "cloud-access-token-eeee",
    login: { email: "nurse@clinic.test", password: "s3cret-ffff" },
    user: { hashed_password: "$2b$10$gggggggggggggggggggggg" },
  };
}

/** Every string value under a secret-named key of `v` (what must never be written). */
function secretValues(v: unknown, under = false): string[] {
  if (typeof v === "string") return under ? [v] : [];
  if (v === null || typeof v !== "object") return [];
  return Object.entries(v).flatMap(([k, x]) => secretValues(x, under || isSecretField(k)));
}

Deno.test("log: every secret the hub holds, nested at several depths, is never written", () => {
  const shapes = hubSecretShapes();
  const values = secretValues(shapes);
  assert.ok(values.length >= 20, `the feed holds the hub's secrets (${values.length})`);
  const out = capture((log) => {
    for (const level of ["debug", "info", "warn", "error"] as const) {
      log(level, "test.flat", shapes);
      for (const depth of [1, 2, 3, 4, 5, 8, 11]) {
        log(level, "test.nested", { at: nest(depth, shapes) });
        log(level, "test.listed", { at: nest(depth, [shapes, [shapes]]) });
        log(level, "test.mapped", { at: nest(depth, new Map(Object.entries(shapes))) });
      }
      log(level, "test.error", { error: new Error("unlock failed"), cause: { ...shapes } });
    }
  });
  for (const v of values) assert.ok(!out.includes(v), `a secret value was written: ${v}`);
  // What is not a secret still gets through (the test would pass on an empty log otherwise).
  assert.ok(out.includes("Clinic hub"));
  assert.ok(out.includes("nurse@clinic.test"));
  assert.ok(out.includes("https://cloud.test"));
  assert.equal(out.split("\n").length, 4 * (2 + 7 * 3));
});

Deno.test("log: each logger has its own level and sink (no global to swap)", () => {
  const a = memoryLogger({ level: "warn" });
  const b = memoryLogger({ level: "debug" });
  a.logger.log("info", "quiet", {});
  a.logger.log("error", "loud", {});
  b.logger.log("debug", "chatty", { dbKey: "k" });
  assert.deepEqual(a.lines.map((l) => JSON.parse(l).event), ["loud"]);
  assert.equal(JSON.parse(b.lines[0]).dbKey, "[redacted]");
  assert.equal(new Logger({ level: "error", sink: () => {} }).level, "error");
  // A sink that throws (stderr closed) never takes the caller down.
  new Logger({
    sink: () => {
      throw new Error("closed");
    },
  }).log("error", "x", {});
});
