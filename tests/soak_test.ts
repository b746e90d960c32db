/**
 * The quick version of the soak in `deno task proof` (bench/_soak.ts): the real
 * hub linked to a flaky cloud double, 5 phones each on its own loopback address
 * syncing for 20 s while the cloud fails every 3 s. No phone round may fail, and
 * once the cloud heals every row the hub acknowledged must be in it.
 */
import assert from "node:assert/strict";
import { soak } from "../bench/_soak.ts";

Deno.test({
  name:
    "soak (quick): phones keep syncing through a flaky cloud; every acknowledged row reaches it",
  ignore: Deno.build.os !== "linux", // phones bind 127.0.x.y source addresses
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const r = await soak({ phones: 5, minutes: 1 / 3, thinkMs: 500, faultEveryMs: 3000 }, () => {});
    assert.equal(r.failedRounds, 0, JSON.stringify(r.firstErrors));
    assert.ok(r.rounds >= 20, `only ${r.rounds} rounds`);
    assert.ok(r.faultsInjected >= 3);
    assert.equal(r.finalSyncOk, true);
    assert.ok(r.acknowledgedRows > 0);
    assert.equal(r.missingInCloud, 0);
  },
});
