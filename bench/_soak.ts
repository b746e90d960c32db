/**
 * The soak of `deno task proof`: the real hub (main.ts, headless, every default
 * limit) linked to a flaky cloud double, and N phones, each from its own
 * loopback address (as phones on a clinic LAN are), syncing with think time for
 * M minutes: handshake → pull → push of new patients. Faults are injected into
 * the cloud every 15 s (500s, 429 with Retry-After, a cut pull, 503 on push; a
 * stalled cloud waits for the 15-minute transfer timeout, so it is left to
 * tests/cloud/failures_test.ts, which shortens it).
 * Afterwards the cloud is healthy again and every push a phone got an answer
 * for must be in the cloud, once.
 */
import http from "node:http";
import { openJson, sealJson, sessionKey, unb64u } from "../tests/phone_client.ts";
import { b64u } from "../tests/phone_client.ts";
import { phonePatient, startCloud, USER } from "../tests/cloud/_fixtures.ts";
import type { Fault } from "../tests/cloud_double.ts";
import { freePort, spawnHeadlessHub } from "../tests/hub_process.ts";
import { memoryOf } from "./_lan_proc.ts";

/** A phone speaking HTTP from its own loopback address (node:http can pick it). */
export class SoakPhone {
  readonly clientId = `soak-${crypto.randomUUID()}`;
  #agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  #key: CryptoKey | null = null;
  #token: string | null = null;
  constructor(readonly port: number, readonly local: string) {}

  #post(path: string, body: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: "127.0.0.1",
        port: this.port,
        path,
        method: "POST",
        localAddress: this.local,
        agent: this.#agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        timeout: 60_000,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on(
          "end",
          () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
        );
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", reject);
      req.end(body);
    });
  }

  async handshake(): Promise<void> {
    const pair = await crypto.subtle.generateKey({ name: "X25519" }, true, [
      "deriveBits",
    ]) as CryptoKeyPair;
    const pub = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    const r = await this.#post(
      "/rpc/handshake",
      JSON.stringify({ client_id: this.clientId, client_public_key: b64u(pub) }),
    );
    if (r.status !== 200) throw new Error(`handshake ${r.status}: ${r.text.slice(0, 100)}`);
    const hubPub = unb64u(JSON.parse(r.text).hub_public_key);
    this.#key = await sessionKey(pair.privateKey, hubPub, hubPub, pub);
  }

  async call<T>(kind: "command" | "query", name: string, params: unknown): Promise<T> {
    const inner = kind === "command"
      ? { command: name, data: params, token: this.#token }
      : { query: name, params, token: this.#token };
    const payload = await sealJson(this.#key!, inner, kind);
    const r = await this.#post(
      `/rpc/${kind}`,
      JSON.stringify({ client_id: this.clientId, payload }),
    );
    if (r.status !== 200) throw new Error(`${name} ${r.status}: ${r.text.slice(0, 100)}`);
    const reply = JSON.parse(r.text);
    if (!reply.success) throw new Error(`${name}: ${reply.error}`);
    return await openJson<T>(this.#key!, reply.payload, `${kind}_response`);
  }

  async login(): Promise<void> {
    const r = await this.call<{ token: string }>("command", "login", {
      email: USER.email,
      password: USER.password,
    });
    this.#token = r.token;
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** Calls a running hub's admin API with its token (`{status, body}`; two minutes at most). */
export function adminCaller(
  hub: { admin: string; token: string },
): (
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; body: Record<string, unknown> }> {
  return async (method, path, body) => {
    const res = await fetch(hub.admin + path, {
      method,
      headers: { authorization: `Bearer ${hub.token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(120_000),
    });
    return { status: res.status, body: await res.json() };
  };
}

/**
 * Registers the hub with the cloud double and waits (up to a minute) for its
 * first good cycle: the phones' users come from the cloud.
 */
export async function linkToCloud(
  api: ReturnType<typeof adminCaller>,
  cloud: { url: string; apiKey: string },
): Promise<void> {
  const reg = await api("POST", "/api/cloud/register", {
    url: cloud.url,
    apiKey: cloud.apiKey,
    allowInsecure: true,
  });
  if (reg.status !== 200) throw new Error(`register: ${JSON.stringify(reg.body)}`);
  for (let i = 0; i < 120; i++) {
    if ((await api("GET", "/api/cloud/health")).body.lastSuccessAt) break;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** One round of {@link phoneRounds}: whether it went through, how long it took, the ids pushed. */
export interface SoakRound {
  ok: boolean;
  ms: number;
  ids: string[];
  error?: string;
}

/**
 * A soak phone's work: it catches up (pages until a pull brings nothing), then
 * until `end`, after 0–2× `thinkMs`, does what the app does in a sync (handshake,
 * pull, push of `rows` new patients from the pull's cursor) and keeps the pull's
 * timestamp. `series` numbers the patients across phones.
 */
export async function phoneRounds(
  p: SoakPhone,
  pi: number,
  o: {
    end: number;
    thinkMs: number;
    rows: number;
    series: { next: number };
    onRound: (r: SoakRound) => void;
  },
): Promise<void> {
  let cursor = 0;
  for (let i = 0; i < 50; i++) {
    const r = await p.call<{ timestamp: number; changes: object }>("query", "sync_pull", {
      lastPulledAt: cursor,
    });
    if (r.timestamp === cursor || Object.keys(r.changes).length === 0) break;
    cursor = r.timestamp;
  }
  while (Date.now() < o.end) {
    await new Promise((r) => setTimeout(r, Math.random() * 2 * o.thinkMs));
    if (Date.now() >= o.end) break;
    const t0 = performance.now();
    const rows = Array.from({ length: o.rows }, () => phonePatient(o.series.next++, 70 + pi));
    const ids = rows.map((r) => r.id as string);
    try {
      await p.handshake();
      const page = await p.call<{ timestamp: number }>("query", "sync_pull", {
        lastPulledAt: cursor,
      });
      await p.call("command", "sync_push", {
        lastPulledAt: cursor,
        changes: { patients: { created: rows, updated: [], deleted: [] } },
      });
      cursor = page.timestamp;
      o.onRound({ ok: true, ms: performance.now() - t0, ids });
    } catch (err) {
      o.onRound({ ok: false, ms: performance.now() - t0, ids, error: (err as Error).message });
    }
  }
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** What the soak measured. */
export interface SoakResult {
  phones: number;
  minutes: number;
  rounds: number;
  failedRounds: number;
  firstErrors: string[];
  perMinute: {
    minute: number;
    rounds: number;
    failed: number;
    p50: number;
    p99: number;
    rssMiB: number;
  }[];
  p50: number;
  p99: number;
  faultsInjected: number;
  acknowledgedRows: number;
  missingInCloud: number;
  finalSyncOk: boolean;
  peakRssMiB: number;
}

/** Runs the soak; `say` reports progress. */
export async function soak(
  opts: { phones: number; minutes: number; thinkMs: number; faultEveryMs?: number },
  say: (s: string) => void,
): Promise<SoakResult> {
  const cloud = await startCloud({ rowsPerChunk: 500 });
  const dir = await Deno.makeTempDir({ prefix: "soak-" });
  await Deno.writeTextFile(`${dir}/passphrase`, "soak passphrase long enough");
  const lanPort = freePort();
  const hub = await spawnHeadlessHub(dir, lanPort, "warn");
  const api = adminCaller(hub);
  const phones: SoakPhone[] = [];
  let stopFaults = false;
  let faultsInjected = 0;
  const samples: { at: number; ms: number; ok: boolean }[] = [];
  const rss: { at: number; rss: number }[] = [];
  const acknowledged = new Set<string>();
  const errors: string[] = [];
  try {
    await linkToCloud(api, cloud);
    for (let i = 0; i < opts.phones; i++) {
      const p = new SoakPhone(lanPort, `127.0.${4 + Math.floor(i / 200)}.${(i % 200) + 1}`);
      await p.handshake();
      await p.login();
      phones.push(p);
    }
    say(`soak: ${opts.phones} phones logged in; ${opts.minutes} min with a flaky cloud`);
    const started = Date.now();
    const end = started + opts.minutes * 60_000;
    const sampler = setInterval(() => {
      try {
        rss.push({ at: Date.now(), rss: memoryOf(hub.proc.pid).rss });
      } catch { /* exited */ }
    }, 2000);
    const faults: [Fault, "pull" | "push" | "any"][] = [
      [{ kind: "status", status: 500 }, "any"],
      [{ kind: "status", status: 429, retryAfterSeconds: 5 }, "any"],
      [{ kind: "cut", afterRows: 1 }, "pull"],
      [{ kind: "status", status: 503 }, "push"],
    ];
    const faulter = (async () => {
      let i = 0;
      while (!stopFaults) {
        await new Promise((r) => setTimeout(r, opts.faultEveryMs ?? 15_000));
        if (stopFaults) break;
        const [fault, on] = faults[i++ % faults.length];
        cloud.failNext(2, fault, on);
        faultsInjected++;
        api("POST", "/api/cloud/sync").catch(() => {});
      }
    })();
    const series = { next: 0 };
    await Promise.all(phones.map((p, pi) =>
      phoneRounds(p, pi, {
        end,
        thinkMs: opts.thinkMs,
        rows: 1 + (pi % 3),
        series,
        onRound: (r) => {
          if (r.ok) { for (const id of r.ids) acknowledged.add(id); }
          samples.push({ at: Date.now(), ms: r.ms, ok: r.ok });
          if (r.error && errors.length < 5) errors.push(r.error.slice(0, 160));
        },
      })
    ));
    stopFaults = true;
    say("soak: phones done; waiting for the cloud to heal");
    await faulter;
    clearInterval(sampler);
    // The cloud heals: sync until two clean cycles in a row.
    let clean = 0;
    for (let i = 0; i < 30 && clean < 2; i++) {
      const r = await api("POST", "/api/cloud/sync").catch(() => ({ status: 0, body: {} }));
      clean = r.status === 200 ? clean + 1 : 0;
      say(`soak: final sync ${r.status}`);
      if (r.status !== 200) await new Promise((r) => setTimeout(r, 2000));
    }
    let missing = 0;
    for (const id of acknowledged) if (!cloud.get("patients", id)) missing++;
    const perMinute = [];
    for (let m = 0; m < Math.ceil(opts.minutes); m++) {
      const from = started + m * 60_000;
      const inMin = samples.filter((s) => s.at >= from && s.at < from + 60_000);
      const ok = inMin.filter((s) => s.ok).map((s) => s.ms);
      const mem = rss.filter((r) => r.at >= from && r.at < from + 60_000).map((r) => r.rss);
      perMinute.push({
        minute: m + 1,
        rounds: inMin.length,
        failed: inMin.filter((s) => !s.ok).length,
        p50: percentile(ok, 50),
        p99: percentile(ok, 99),
        rssMiB: Math.round(Math.max(0, ...mem) / 1048576),
      });
    }
    const okAll = samples.filter((s) => s.ok).map((s) => s.ms);
    return {
      phones: opts.phones,
      minutes: opts.minutes,
      rounds: samples.length,
      failedRounds: samples.filter((s) => !s.ok).length,
      firstErrors: errors,
      perMinute,
      p50: percentile(okAll, 50),
      p99: percentile(okAll, 99),
      faultsInjected,
      acknowledgedRows: acknowledged.size,
      missingInCloud: missing,
      finalSyncOk: clean >= 2,
      peakRssMiB: Math.round(Math.max(0, ...rss.map((r) => r.rss)) / 1048576),
    };
  } finally {
    stopFaults = true;
    for (const p of phones) p.close();
    hub.proc.kill("SIGTERM");
    await hub.proc.status;
    await cloud.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
