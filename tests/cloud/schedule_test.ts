/**
 * When the relay runs, on a fake clock with an in-memory cloud peer: backoff
 * doubling to its cap with jitter, Retry-After, a refused key, the probe while
 * offline, and the interval once all is well.
 */
import assert from "node:assert/strict";
import { CloudError } from "../../cloud/mod.ts";
import { rig, RIG_SCHEDULE } from "./_fake_peer.ts";

Deno.test("schedule: failures back off 1, 2, 4, 8, 8 s (× jitter); a success returns to the interval", async () => {
  await using r = await rig({ random: 0.5 }); // jitter factor 0.5 + 0.5 · 0.5 = 0.75
  const { peer, relay, clock } = r;
  peer.pullError = new CloudError("server", "The cloud had an internal error (HTTP 500).");
  relay.start();
  await clock.advance(0);
  assert.equal(peer.pulls.length, 1, "a cycle right away on start");
  const firstAttempt = clock.now;

  const waits: number[] = [];
  for (let failures = 1; failures <= 5; failures++) {
    const h = relay.health();
    assert.equal(h.consecutiveFailures, failures);
    assert.equal(h.failingSince, firstAttempt, "the outage began at the first failure");
    const wait = h.nextAttemptAt! - clock.now;
    waits.push(wait);
    await clock.advance(wait - 1);
    assert.equal(peer.pulls.length, failures, "no attempt before the delay");
    await clock.advance(1);
    assert.equal(peer.pulls.length, failures + 1, "the attempt when the delay is up");
  }
  assert.deepEqual(waits, [750, 1500, 3000, 6000, 6000]);

  peer.pullError = null;
  await clock.advance(relay.health().nextAttemptAt! - clock.now);
  const ok = relay.health();
  assert.equal(ok.consecutiveFailures, 0);
  assert.equal(ok.failingSince, null);
  assert.equal(ok.lastErrorKind, null);
  assert.equal(ok.nextAttemptAt, clock.now + RIG_SCHEDULE.intervalMs);
  const pulls = peer.pulls.length;
  await clock.advance(RIG_SCHEDULE.intervalMs);
  assert.equal(peer.pulls.length, pulls + 1, "the next cycle comes after the interval");
});

Deno.test("schedule: jitter spreads the delay between half and all of the backoff", async () => {
  for (const [random, expected] of [[0, 500], [0.999, 1000]] as const) {
    await using r = await rig({ random });
    r.peer.pullError = new CloudError("server", "HTTP 500");
    r.relay.start();
    await r.clock.advance(0);
    assert.equal(r.relay.health().nextAttemptAt! - r.clock.now, expected);
  }
});

Deno.test("schedule: a 429 waits at least its Retry-After and shows it", async () => {
  await using r = await rig();
  const { peer, relay, clock } = r;
  peer.pullError = new CloudError("rate_limited", "The cloud asked us to slow down for 30 s.", {
    retryAfterSeconds: 30,
    status: 429,
  });
  relay.start();
  await clock.advance(0);
  const h = relay.health();
  assert.equal(h.lastErrorKind, "rate_limited");
  assert.equal(h.rateLimitedUntil, clock.now + 30_000);
  assert.equal(h.nextAttemptAt, clock.now + 30_000, "longer than the backoff");
  peer.pullError = null;
  await clock.advance(29_999);
  assert.equal(peer.pulls.length, 1, "no request before Retry-After");
  await clock.advance(1);
  assert.equal(peer.pulls.length, 2);
  assert.equal(relay.health().rateLimitedUntil, null, "cleared by the success");
});

Deno.test("schedule: a refused key waits the longest delay", async () => {
  await using r = await rig();
  const { peer, relay, clock } = r;
  peer.pullError = new CloudError("auth", "The cloud refused the hub's API key.", {
    status: 401,
  });
  relay.start();
  await clock.advance(0);
  const h = relay.health();
  assert.equal(h.authFailed, true);
  assert.equal(h.nextAttemptAt, clock.now + RIG_SCHEDULE.backoffMaxMs);
});

Deno.test("schedule: while offline a probe runs; when the cloud answers, a cycle runs at once", async () => {
  await using r = await rig();
  const { peer, relay, clock } = r;
  peer.pullError = new CloudError("unreachable", "The cloud could not be reached.");
  peer.isReachable = false;
  relay.start();
  await clock.advance(0);
  assert.equal(relay.health().offline, true);
  const retryAt = relay.health().nextAttemptAt!;
  await clock.advance(RIG_SCHEDULE.probeMs - 1);
  peer.pullError = null;
  peer.isReachable = true;
  assert.equal(peer.pulls.length, 1);
  await clock.advance(1); // the probe's turn, well before the backoff's retry
  assert.ok(clock.now < retryAt);
  assert.equal(peer.pulls.length, 2, "synced as soon as the probe got through");
  const h = relay.health();
  assert.equal(h.offline, false);
  assert.equal(h.consecutiveFailures, 0);
  await clock.advance(RIG_SCHEDULE.probeMs * 4);
  assert.equal(peer.pulls.length, 2, "the probe stopped and no retry was left behind");
});

Deno.test("schedule: while the cloud stays unreachable the probe does not start cycles", async () => {
  await using r = await rig();
  const { peer, relay, clock } = r;
  peer.pullError = new CloudError("unreachable", "The cloud could not be reached.");
  peer.isReachable = false;
  relay.start();
  await clock.advance(0);
  const retryAt = relay.health().nextAttemptAt!;
  await clock.advance(retryAt - clock.now - 1);
  assert.equal(peer.pulls.length, 1, "only the backoff's retry may try again");
  await clock.advance(1);
  assert.equal(peer.pulls.length, 2);
});

Deno.test("schedule: stop clears every timer", async () => {
  await using r = await rig();
  const { peer, relay, clock } = r;
  peer.pullError = new CloudError("unreachable", "The cloud could not be reached.");
  relay.start();
  await clock.advance(0);
  assert.ok(clock.pending >= 2, "a retry and a probe are set");
  await relay.stop();
  assert.equal(clock.pending, 0);
  assert.equal(relay.health().nextAttemptAt, null);
});
