/**
 * Fuzzing of the LAN routes and the admin API (issue 11), deterministic from a
 * seed: random and truncated JSON, wrong types, deep nesting, huge numbers,
 * low-order points, wrong AADs, reused nonces, and well-sealed requests whose
 * inner JSON is random (so every procedure's params are fuzzed too).
 *
 * A case fails when the hub answers 5xx, logs an unexpected error, or a
 * procedure reports an internal error. Failing cases are kept as JSON in
 * `tests/fixtures/fuzz/` and replayed by `tests/fuzz_test.ts` for good.
 */
import { b64u, PhoneClient, sealJson } from "../tests/phone_client.ts";

/** One fuzz case, replayable from its JSON. */
export interface FuzzCase {
  kind: "lan-raw" | "lan-sealed" | "lan-aad" | "lan-replay" | "admin";
  route: string;
  /** Raw body for `lan-raw` and `admin`. */
  body?: string;
  /** Inner request for the sealed kinds. */
  inner?: unknown;
  method?: string;
}

/** What a case did. */
export interface FuzzOutcome {
  ok: boolean;
  status: number;
  why?: string;
}

/** The benches' small deterministic PRNG (mulberry32), seeded per fuzz run. */
export { rng as prng } from "./_lan_rows.ts";

const LOW_ORDER = [
  "00".repeat(32),
  "01" + "00".repeat(31),
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
  "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
  "ec" + "ff".repeat(30) + "7f",
];

const ADMIN_ROUTES: [string, string][] = [
  ["POST", "/api/unlock"],
  ["POST", "/api/devices/x/revoke"],
  ["POST", "/api/auto-lock"],
  ["GET", "/api/conflicts?limit=%s"],
  ["GET", "/api/pairing?host=%s"],
  ["POST", "/api/touch"],
];

/** Builds the fuzz generators around a PRNG and the procedure names. */
export function generator(rand: () => number, procedures: { kind: string; name: string }[]) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const int = (n: number) => Math.floor(rand() * n);
  const scalar = (): unknown =>
    pick([
      () => null,
      () => true,
      () => int(1000),
      () => -int(1e9),
      () => 1e308 * 10, // Infinity → null in JSON
      () => 2 ** 53 + 1,
      () => -0,
      () => 1e-320,
      () => "x".repeat(int(300)),
      () => "\u0000\ud800 ünïcode 🩺",
      () => "' OR 1=1 --",
      () => String(int(1e6)),
      () => new Date(int(2e12)).toISOString(),
    ])();
  const value = (depth: number): unknown => {
    if (depth > 3 || rand() < 0.5) return scalar();
    if (rand() < 0.5) return Array.from({ length: int(4) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = 0; i < int(5); i++) {
      o[pick(["id", "patient_id", "lastPulledAt", "changes", "email", "limit", "x", "__proto__"])] =
        value(depth + 1);
    }
    return o;
  };
  const deep = (n: number, open: string, close: string) => open.repeat(n) + close.repeat(n);
  const rawBody = (): string =>
    pick([
      () => JSON.stringify(value(0)),
      () => JSON.stringify({ client_id: value(1), payload: value(1) }),
      () => JSON.stringify({ client_id: "c", client_public_key: value(1), device_name: value(1) }),
      () =>
        JSON.stringify({
          client_id: "c",
          client_public_key: b64u(Uint8Array.fromHex(pick(LOW_ORDER))),
        }),
      () => JSON.stringify({ client_id: "x".repeat(int(500)), payload: "A".repeat(int(100)) }),
      () => deep(int(20_000), "[", "]"),
      () => `{"client_id":${deep(int(5_000), "[", "]")}}`,
      () => `{"client_id":"a","payload":${"9".repeat(int(400))}}`,
      () => JSON.stringify(value(0)).slice(0, int(40)),
      () => new TextDecoder().decode(crypto.getRandomValues(new Uint8Array(int(200)))),
      () => "",
    ])();
  const object = (depth: number): Record<string, unknown> => {
    const o: Record<string, unknown> = {};
    const keys = [
      "id",
      "patient_id",
      "patientId",
      "visit_id",
      "lastPulledAt",
      "last_pulled_at",
      "changes",
      "email",
      "password",
      "limit",
      "offset",
      "query",
      "filters",
      "clinic_id",
      "event_type",
      "form_data",
      "items",
      "quantity",
    ];
    for (let i = 0; i < int(6); i++) o[pick(keys)] = value(depth + 1);
    return o;
  };
  const inner = (): unknown => {
    const p = pick(procedures);
    const shape = int(8);
    if (shape === 0) return value(0);
    // "$TOKEN" is replaced by the logged-in phone's token when the case runs.
    const token = pick([null, "$TOKEN", "$TOKEN", "$TOKEN", scalar()]);
    if (shape === 1) return { [p.kind]: p.name, data: value(1), params: value(1), token };
    const field = p.kind === "command" ? "data" : "params";
    return { [p.kind]: p.name, [field]: object(0), token };
  };
  return {
    /** The next case. */
    next(): FuzzCase {
      const r = rand();
      if (r < 0.35) {
        return {
          kind: "lan-raw",
          route: pick(["/rpc/handshake", "/rpc/command", "/rpc/query"]),
          body: rawBody(),
        };
      }
      if (r < 0.75) {
        const i = inner() as Record<string, unknown> | null;
        // The route its procedure belongs to, mostly (the other one now and then).
        const own = i && typeof i === "object" && "command" in i ? "/rpc/command" : "/rpc/query";
        const other = own === "/rpc/command" ? "/rpc/query" : "/rpc/command";
        return { kind: "lan-sealed", route: rand() < 0.9 ? own : other, inner: i };
      }
      if (r < 0.82) {
        return { kind: "lan-aad", route: pick(["/rpc/command", "/rpc/query"]), inner: inner() };
      }
      if (r < 0.9) {
        return {
          kind: "lan-replay",
          route: "/rpc/query",
          inner: { query: "ping", params: {}, token: null },
        };
      }
      const [method, path] = pick(ADMIN_ROUTES);
      return {
        kind: "admin",
        method,
        route: path.replace("%s", encodeURIComponent(String(scalar()).toWellFormed())),
        body: method === "POST" ? rawBody() : undefined,
      };
    },
  };
}

/** Where a case is sent: a hub with a logged-in phone and an admin API. */
export interface FuzzTarget {
  lanUrl: string;
  adminUrl: string;
  adminToken: string;
  phone: PhoneClient;
  /** Log lines written since the last call (the hub's structured log). */
  newLogLines: () => string[];
}

/** Runs one case; `ok` false means the hub misbehaved. */
export async function runCase(t: FuzzTarget, c: FuzzCase): Promise<FuzzOutcome> {
  let res: Response;
  if (c.kind === "admin") {
    res = await fetch(`${t.adminUrl}${c.route}`, {
      method: c.method,
      headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "application/json" },
      body: c.body,
    });
  } else if (c.kind === "lan-raw") {
    res = await fetch(`${t.lanUrl}${c.route}`, { method: "POST", body: c.body });
  } else {
    const label = c.route === "/rpc/command" ? "command" : "query";
    const aad = c.kind === "lan-aad" ? (label === "command" ? "query" : "command_response") : label;
    const inner = JSON.parse(
      JSON.stringify(c.inner ?? null).replaceAll('"$TOKEN"', JSON.stringify(t.phone.token)),
    );
    const payload = await sealJson(t.phone.key!, inner, aad);
    const body = JSON.stringify({ client_id: t.phone.clientId, payload });
    res = await fetch(`${t.lanUrl}${c.route}`, { method: "POST", body });
    if (c.kind === "lan-replay") {
      await res.body?.cancel();
      res = await fetch(`${t.lanUrl}${c.route}`, { method: "POST", body });
      if (res.status !== 400) {
        await res.body?.cancel();
        return { ok: false, status: res.status, why: "a replayed request was accepted" };
      }
    }
    if (c.kind === "lan-aad" && res.status === 200) {
      await res.body?.cancel();
      return { ok: false, status: 200, why: "a request sealed with the wrong AAD was accepted" };
    }
  }
  const text = await res.text();
  const logs = t.newLogLines();
  if (res.status >= 500 && res.status !== 503 && res.status !== 507) {
    return { ok: false, status: res.status, why: `status ${res.status}: ${text.slice(0, 200)}` };
  }
  const bad = logs.find((l) => /"(lan|admin)\.unexpected"|"rpc\.handler_failed"/.test(l));
  if (bad) return { ok: false, status: res.status, why: `logged: ${bad.slice(0, 300)}` };
  if (/"error":"Internal error/.test(text)) {
    return { ok: false, status: res.status, why: `internal error: ${text.slice(0, 200)}` };
  }
  return { ok: true, status: res.status };
}
