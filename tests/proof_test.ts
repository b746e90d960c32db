/**
 * The quick version of `deno task proof` (bench/proof.ts): a seeded hub in its
 * own process, one phone, and every LAN attack of issue 11 from other loopback
 * addresses for a few seconds. The phone must lose no round and the hub must
 * stay up; nothing is written to bench/RESULTS.md.
 */
import assert from "node:assert/strict";
import { ROOT } from "./_helpers.ts";

Deno.test({
  name: "proof (quick): under every LAN attack a phone loses no round and the hub stays up",
  ignore: Deno.build.os !== "linux", // attackers bind 127.0.0.x source addresses
  fn: async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "bench/proof.ts", "--quick", "--no-write"],
      cwd: ROOT,
      env: { NO_COLOR: "1", PROOF_SECONDS: "4" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr.slice(-3000));
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
    const f = JSON.parse(lines.at(-1)!);
    assert.equal(f.alive, true);
    assert.equal(f.alone.failed, 0, JSON.stringify(f.alone));
    assert.equal(f.attacked.failed, 0, JSON.stringify(f.attacked));
    assert.ok(f.attacked.rounds >= 4, JSON.stringify(f.attacked));
    // The attacks really ran, and the hub refused them.
    assert.ok(f.attackers.idleRefusedOrDropped > 0);
    assert.ok(f.attackers.rehandshakes > 0);
    assert.ok((f.attackers.badHostStatuses["400"] ?? 0) > 0);
    assert.equal(f.hubLog.unexpected, 0);
  },
});
