/**
 * Every clinical procedure of SPEC §6, table-driven, through a simulated phone
 * against a real hub: its documented result shape, a bad-params reply naming
 * the field, and a permission-denied reply (a user without a permission row at
 * the clinic; and, for procedures that need a flag, a user without that flag).
 */
import assert from "node:assert/strict";
import { buildRegistry } from "../../server/mod.ts";
import { phoneAs, startHub } from "./_fixtures.ts";
import { assertPhoneShapes, type Case } from "./_cases.ts";
import { COMMAND_CASES } from "./_command_cases.ts";
import { QUERY_CASES } from "./_query_cases.ts";

/** Reads first, then writes; destructive writes last. */
const CASES: Case[] = [...QUERY_CASES, ...COMMAND_CASES];

/** Whether the clerk (a permission row with every flag off) is refused: the flagged procedures. */
function clerkDenied(kind: string, name: string): boolean {
  const proc = buildRegistry().get(kind as "command" | "query", name)!;
  return proc.permission !== undefined || ["register_patient", "get_patient"].includes(name);
}

Deno.test("every SPEC §6 procedure has a case here", () => {
  const covered = new Set(CASES.map((c) => `${c.kind}:${c.name}`));
  const core = ["ping", "heartbeat", "login", "sync_pull", "sync_push"];
  const missing = buildRegistry().list()
    .filter((p) => !core.includes(p.name))
    .map((p) => `${p.kind}:${p.name}`)
    .filter((k) => !covered.has(k));
  assert.deepStrictEqual(missing, []);
  assert.equal(covered.size, CASES.length, "no case is listed twice");
});

Deno.test("procedures: documented shape, bad params, permission denied", async (t) => {
  const env = await startHub();
  try {
    const admin = await phoneAs(env.url, "admin");
    const clerk = await phoneAs(env.url, "clerk");
    const stranger = await phoneAs(env.url, "stranger");
    let checked = 0;
    for (const c of CASES) {
      await t.step(`${c.kind} ${c.name}`, async () => {
        const call = (phone: typeof admin, params: unknown) =>
          c.kind === "command" ? phone.command(c.name, params) : phone.query(c.name, params);
        const s = await call(stranger, c.params);
        assert.equal(s.success, false, "a user without a permission row is refused");
        assert.match(s.error!, /^Forbidden/);
        if (clerkDenied(c.kind, c.name)) {
          const k = await call(clerk, c.params);
          assert.equal(k.success, false, `the clerk lacks the flag ${c.name} needs`);
          assert.match(k.error!, /^Forbidden: this user lacks the permission can_/);
        }
        if (c.bad) {
          const [badParams, field] = c.bad;
          const b = await call(admin, badParams);
          assert.equal(b.success, false);
          assert.match(b.error!, new RegExp(`^Invalid params for ${c.name.replace(".", "\\.")}: `));
          assert(b.error!.includes(`${field}: `), `error names ${field}: ${b.error}`);
        } else {
          // Procedures without fields still need params to be an object.
          const raw = await call(admin, []);
          assert.equal(raw.status, 400);
        }
        const ok = await call(admin, c.params);
        assert(ok.success, `${c.name} failed: ${ok.error ?? ok.text}`);
        c.shape(ok.result);
        // One shape per column in every answer: flags as booleans, JSON parsed.
        checked += assertPhoneShapes(ok.result);
      });
    }
    assert.ok(checked > 100, `flag and JSON columns were checked (${checked})`);
  } finally {
    await env.close();
  }
});
