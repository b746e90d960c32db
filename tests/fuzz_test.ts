/**
 * Quick fuzzing of every LAN route and part of the admin API (bench/_fuzz.ts),
 * plus the corpus of cases that once failed (tests/fixtures/fuzz/). The long
 * run is part of `deno task proof`.
 */
import assert from "node:assert/strict";
import { type FuzzCase, generator, prng, runCase } from "../bench/_fuzz.ts";
import { Logger } from "../core/mod.ts";
import { ADMIN_TOKEN, adminClient, loggedInPhone, NURSE, startHub } from "./server/_fixtures.ts";

// Every log line since the last case (the fixtures' own buffer is trimmed now and then).
let pending: string[] = [];
const logger = new Logger({
  sink: (line) => {
    pending.push(line);
    if (pending.length > 10_000) pending = pending.slice(-5_000);
  },
});

async function target() {
  const t = await startHub({
    lan: { handshakeRate: { burst: 1000, perSecond: 100 } },
    logger,
  });
  const admin = await adminClient(t.hub);
  const phone = await loggedInPhone(t.url, NURSE);
  return {
    t,
    admin,
    target: {
      lanUrl: t.url,
      adminUrl: admin.server.url,
      adminToken: ADMIN_TOKEN,
      phone,
      newLogLines: () => {
        const out = pending;
        pending = [];
        return out;
      },
    },
  };
}

Deno.test("fuzz: 300 random cases against the LAN routes and the admin API", async () => {
  const seed = Number(Deno.env.get("FUZZ_SEED") ?? Date.now() % 1_000_000);
  const { t, admin, target: tg } = await target();
  try {
    const gen = generator(prng(seed), t.hub.server.registry.list());
    const failures: string[] = [];
    const n = Number(Deno.env.get("FUZZ_CASES") ?? 300);
    for (let i = 0; i < n; i++) {
      const c = gen.next();
      const r = await runCase(tg, c);
      if (!r.ok) failures.push(`${r.why}\n  case: ${JSON.stringify(c).slice(0, 500)}`);
    }
    assert.deepEqual(failures, [], `seed ${seed}`);
  } finally {
    await admin.server.close();
    await t.close();
  }
});

Deno.test("fuzz: every case in the corpus (tests/fixtures/fuzz) is handled", async () => {
  const dir = new URL("./fixtures/fuzz/", import.meta.url);
  const cases: [string, FuzzCase][] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (e.name.endsWith(".json")) {
      cases.push([e.name, JSON.parse(Deno.readTextFileSync(new URL(e.name, dir)))]);
    }
  }
  const { t, admin, target: tg } = await target();
  try {
    for (const [name, c] of cases) {
      const r = await runCase(tg, c);
      assert.ok(r.ok, `${name}: ${r.why}`);
    }
  } finally {
    await admin.server.close();
    await t.close();
  }
});
