/**
 * The "bare" pipelines the LAN benchmark compares the hub with: the same work
 * done directly in-process, without HTTP, sessions, tokens or the hub's sync
 * rules. They show how close the hub gets to what SQLCipher, JSON and WebCrypto
 * allow on this machine.
 */
import { PHONE_TABLES, type Store, TABLES } from "../store/mod.ts";
import { b64u } from "../tests/phone_client.ts";
import { storeConnection } from "../store/testing.ts";

/** Everything the benchmark measured (written to bench/out/lan_bench.json and RESULTS.md). */
// deno-lint-ignore no-explicit-any
export type Figures = Record<string, any>;

/** Nearest-rank percentile of `xs` (ms). */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const enc = new TextEncoder();
const MiB = 1024 * 1024;

async function aesKey(): Promise<CryptoKey> {
  return await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
    "encrypt",
    "decrypt",
  ]);
}

async function sealBytes(key: CryptoKey, plain: Uint8Array<ArrayBuffer>, aad: string) {
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: enc.encode(aad) },
      key,
      plain,
    ),
  );
  const out = new Uint8Array(12 + ct.length);
  out.set(nonce);
  out.set(ct, 12);
  return out;
}

/**
 * Bare first sync: every phone-table row, selected as objects (one `iterate()`
 * per table), JSON.stringify'd, joined into the reply shape, encrypted
 * (AES-256-GCM) and base64url-encoded into the envelope. A page ends once its
 * rows' JSON reaches `pageBytes` or it holds `pageRows` rows, the hub's two
 * bounds (store/_pull.ts); unlike the hub it may end inside a transaction. No
 * HTTP, no cursors or stamps, no session or token checks.
 */
export async function barePull(store: Store, pageRows: number, pageBytes: number) {
  const key = await aesKey();
  const db = storeConnection(store);
  const t0 = performance.now();
  let rows = 0;
  let pages = 0;
  let bytes = 0;
  let jsonBytes = 0;
  let largestPageBytes = 0;
  let parts: string[] = [];
  let created: string[] = [];
  let inPage = 0;
  let inPageBytes = 0;
  const finish = async () => {
    const plain = enc.encode(`{"changes":{${parts.join(",")}},"timestamp":1}`);
    const sealed = b64u(await sealBytes(key, plain, "query_response"));
    const reply = `{"payload":"${sealed}","success":true}`;
    bytes += reply.length;
    jsonBytes += plain.length;
    largestPageBytes = Math.max(largestPageBytes, plain.length);
    pages++;
    parts = [];
    inPage = 0;
    inPageBytes = 0;
  };
  const flushTable = (name: string) => {
    if (created.length === 0) return;
    parts.push(`"${name}":{"created":[${created.join(",")}],"updated":[],"deleted":[]}`);
    created = [];
  };
  for (const name of PHONE_TABLES) {
    const t = TABLES.get(name)!;
    const cols = t.columns.filter((c) => !(name === "users" && c.name === "hashed_password"))
      .map((c) => `"${c.name}"`).join(", ");
    for (const r of db.prepare(`SELECT ${cols} FROM "${name}"`).iterate()) {
      const json = JSON.stringify(r);
      created.push(json);
      rows++;
      inPageBytes += json.length + 1;
      if (++inPage >= pageRows || inPageBytes >= pageBytes) {
        flushTable(name);
        await finish();
      }
    }
    flushTable(name);
  }
  if (inPage > 0) await finish();
  const ms = performance.now() - t0;
  return {
    rows,
    pages,
    jsonMB: jsonBytes / 1e6,
    avgPageMiB: jsonBytes / MiB / Math.max(pages, 1),
    largestPageMiB: largestPageBytes / MiB,
    wireMB: bytes / 1e6,
    ms,
    rowsPerSec: rows / (ms / 1000),
  };
}

function withIds(body: unknown, offset: number): unknown {
  const b = structuredClone(body) as {
    changes: Record<string, { created: Record<string, unknown>[] }>;
  };
  let i = 0;
  for (const set of Object.values(b.changes)) {
    for (const r of set.created) r.id = `bare-${offset}-${i++}`;
  }
  return b;
}

async function sealedBodies(bodies: unknown[], offset: number, key: CryptoKey) {
  const out: Uint8Array<ArrayBuffer>[] = [];
  for (const [i, data] of bodies.entries()) {
    const inner = { command: "sync_push", data: withIds(data, offset + i * 100_000), token: "t" };
    out.push(await sealBytes(key, enc.encode(JSON.stringify(inner)), "command"));
  }
  return out;
}

async function open(key: CryptoKey, sealed: Uint8Array<ArrayBuffer>) {
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: sealed.subarray(0, 12), additionalData: enc.encode("command") },
    key,
    sealed.subarray(12),
  );
  return JSON.parse(new TextDecoder().decode(plain));
}

/** Decrypt + parse + the store's own `pushChanges` (one transaction), per body; median. */
export async function barePushStore(store: Store, bodies: unknown[], offset: number) {
  const key = await aesKey();
  const sealed = await sealedBodies(bodies, offset, key);
  const runs: number[] = [];
  let rows = 0;
  for (const s of sealed) {
    const t0 = performance.now();
    const inner = await open(key, s);
    const res = store.phoneSync.push(inner.data.changes, { deviceId: "bare" });
    runs.push(performance.now() - t0);
    rows = res.total.upserted;
  }
  const median = percentile(runs, 50);
  return { rows, runsMs: runs, medianMs: median, rowsPerSec: rows / (median / 1000) };
}

/**
 * Decrypt + parse + one prepared INSERT per row in one transaction: the least
 * work that can store a push (no type coercion, conflict checks or upsert).
 */
export async function barePushDirect(store: Store, bodies: unknown[], offset: number) {
  const key = await aesKey();
  const sealed = await sealedBodies(bodies, offset, key);
  const cols = TABLES.get("patients")!.columns.map((c) => c.name);
  const stmt = storeConnection(store).prepare(
    `INSERT INTO patients (${cols.map((c) => `"${c}"`).join(", ")}, local_server_created_at,
       local_server_last_modified_at, local_server_pending)
     VALUES (${cols.map(() => "?").join(", ")}, ?, ?, 1)`,
  );
  const runs: number[] = [];
  let rows = 0;
  for (const s of sealed) {
    const t0 = performance.now();
    const inner = await open(key, s);
    const created = inner.data.changes.patients.created as Record<string, unknown>[];
    const stamp = store.clock.current() + 1;
    storeConnection(store).transaction(() => {
      for (const r of created) stmt.run(...cols.map((c) => r[c] ?? null), stamp, stamp);
    }).immediate();
    runs.push(performance.now() - t0);
    rows = created.length;
  }
  const median = percentile(runs, 50);
  return { rows, runsMs: runs, medianMs: median, rowsPerSec: rows / (median / 1000) };
}

/** X25519 + HKDF + AES key import, as the hub does per handshake, on one core. */
export async function bareHandshakes(seconds: number) {
  const hub = await crypto.subtle.generateKey({ name: "X25519" }, true, [
    "deriveBits",
  ]) as CryptoKeyPair;
  const hubPub = new Uint8Array(await crypto.subtle.exportKey("raw", hub.publicKey));
  const clients: Uint8Array<ArrayBuffer>[] = [];
  for (let i = 0; i < 500; i++) {
    const k = await crypto.subtle.generateKey({ name: "X25519" }, true, [
      "deriveBits",
    ]) as CryptoKeyPair;
    clients.push(new Uint8Array(await crypto.subtle.exportKey("raw", k.publicKey)));
  }
  const salt = enc.encode("hikma-health-pairing-v1");
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    const pub = clients[n % clients.length];
    const peer = await crypto.subtle.importKey("raw", pub, { name: "X25519" }, true, []);
    const shared = await crypto.subtle.deriveBits(
      { name: "X25519", public: peer },
      hub.privateKey,
      256,
    );
    const ikm = await crypto.subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
    const info = new Uint8Array(64);
    info.set(hubPub, 0);
    info.set(pub, 32);
    await crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt, info },
      ikm,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"],
    );
    n++;
  }
  const ms = performance.now() - t0;
  return { count: n, perSec: n / (ms / 1000) };
}
