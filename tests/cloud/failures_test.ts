/**
 * The relay when the cloud misbehaves (issue 5): 401, 429, 500, a 500 part-way
 * through a push, a cloud that never answers or stalls mid-reply, a connection
 * cut mid-response, and a cloud that is down for a while. Each must end in the
 * health state an operator can act on, keep the watermark where it was, and,
 * once the cloud is back, end in a complete sync: the double's rows equal the
 * hub's, nothing is lost or duplicated, and the phone sees every change once.
 */
import assert from "node:assert/strict";
import type { SyncHealth } from "../../cloud/mod.ts";
import { CLOUD_WATERMARK_KEY } from "../../store/mod.ts";
import { type CloudDouble, isUuid, randomApiKey } from "../cloud_double.ts";
import type { PhoneClient } from "../phone_client.ts";
import {
  assertSameRows,
  cloudPatient,
  health,
  loggedInPhone,
  newView,
  PASSPHRASE,
  phonePatient,
  phonePush,
  type PhoneView,
  pullAll,
  register,
  settled,
  startCloud,
  startHub,
  type TestHub,
  uuidFor,
  waitFor,
} from "./_fixtures.ts";
import { storeConnection } from "../../store/testing.ts";

/** A registered, synced hub with a logged-in phone that has pulled everything. */
interface World extends AsyncDisposable {
  cloud: CloudDouble;
  t: TestHub;
  phone: PhoneClient;
  view: PhoneView;
  /** Ids of patients the phone created. */
  phoneIds: string[];
  /** Ids of patients created in the cloud. */
  cloudIds: string[];
}

async function world(): Promise<World> {
  const cloud = await startCloud();
  const cloudIds: string[] = [];
  for (let i = 0; i < 40; i++) cloudIds.push(cloud.insert("patients", cloudPatient(i)));
  const t = await startHub();
  await register(t, cloud);
  await settled(t);
  const phone = await loggedInPhone(t.lanUrl);
  const view = newView();
  await pullAll(phone, view);
  return {
    cloud,
    t,
    phone,
    view,
    phoneIds: [],
    cloudIds,
    [Symbol.asyncDispose]: async () => {
      await t.close();
      await cloud.close();
    },
  };
}

let series = 20;

/** New work on both sides: the phone records `phoneRows` patients, the cloud gets `cloudRows`. */
async function work(w: World, phoneRows = 5, cloudRows = 60): Promise<void> {
  const s = series++;
  const rows = Array.from({ length: phoneRows }, (_, i) => phonePatient(i, s));
  await phonePush(w.phone, w.view, { patients: { created: rows, updated: [], deleted: [] } });
  w.phoneIds.push(...rows.map((r) => String(r.id)));
  const c = series++;
  for (let i = 0; i < cloudRows; i++) {
    w.cloudIds.push(w.cloud.insert("patients", cloudPatient(i, c)));
  }
  w.cloud.update("patients", w.cloudIds[3], { hometown: `Hometown ${c}` });
}

function watermark(w: World): string | undefined {
  return w.t.hub.store.getMeta(CLOUD_WATERMARK_KEY);
}

/** POST /api/cloud/sync, failing the test (not hanging it) if it does not answer in time. */
async function syncAttempt(w: World, limitMs = 15_000) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`POST /api/cloud/sync did not answer in ${limitMs} ms`)),
      limitMs,
    );
  });
  try {
    return await Promise.race([w.t.api("POST", "/api/cloud/sync"), limit]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Once the cloud is back: the relay recovers on its own, and then the double
 * and the hub hold the same rows, nothing is lost or duplicated, and the phone
 * received each row once.
 */
async function converged(w: World): Promise<SyncHealth> {
  const h = await settled(w.t, 20_000);
  assert.equal(h.pendingChanges, 0, "every local change reached the cloud");
  assert.equal(h.authFailed, false);
  assert.equal(h.offline, false);
  assert.equal(h.rateLimitedUntil, null);
  const n = assertSameRows(w.t.hub, w.cloud, "patients");
  assert.equal(n, w.cloudIds.length + w.phoneIds.length, "no row lost, none duplicated");
  for (const id of [...w.cloudIds, ...w.phoneIds]) {
    assert.ok(w.cloud.get("patients", id), `${id} is in the cloud`);
  }
  for (const r of w.cloud.rows("patients")) assert.ok(isUuid(r.id));
  await pullAll(w.phone, w.view);
  const created = w.view.created.get("patients")!;
  assert.equal(new Set(created).size, created.length, "the phone got no row twice as created");
  const phoneHas = new Set(w.view.rows.get("patients")!.keys());
  for (const id of w.cloudIds) assert.ok(phoneHas.has(id), `the phone has ${id}`);
  return h;
}

Deno.test("401: the health says the key is refused; a working key again brings a full sync", async () => {
  await using w = await world();
  await work(w);
  const mark = watermark(w);
  w.cloud.failNext(1000, { kind: "status", status: 401 }, "pull");
  const r = await syncAttempt(w);
  assert.equal(r.status, 401);
  assert.match(r.body.error, /re-register/);
  const h = await health(w.t);
  assert.equal(h.authFailed, true);
  assert.equal(h.lastErrorKind, "auth");
  assert.equal(h.offline, false);
  assert.match(h.lastError!, /API key/);
  assert.equal(h.pendingChanges, 5);
  assert.ok(h.oldestPendingAgeMs! >= 0);
  assert.equal(watermark(w), mark, "the watermark did not move");

  w.cloud.clearFaults();
  await converged(w);
});

Deno.test("401 for good (key revoked): stays authFailed until re-registered with a new key", async () => {
  await using w = await world();
  await work(w);
  w.cloud.apiKey = randomApiKey();
  assert.equal((await syncAttempt(w)).status, 401);
  // Retries keep failing the same way (every backoffMaxMs); the state stays visible.
  const failures = w.cloud.count("pull");
  await waitFor(() => w.cloud.count("pull") > failures + 1, "the relay to retry");
  const h = await health(w.t);
  assert.equal(h.authFailed, true);
  assert.ok(h.consecutiveFailures >= 2);

  const re = await w.t.api("POST", "/api/cloud/register", {
    url: w.cloud.url,
    apiKey: w.cloud.apiKey,
  });
  assert.equal(re.status, 200, JSON.stringify(re.body));
  await converged(w);
});

Deno.test("429: Retry-After is honoured (no request before it) and shown as rateLimitedUntil", async () => {
  await using w = await world();
  await work(w);
  const mark = watermark(w);
  w.cloud.failNext(1, { kind: "status", status: 429, retryAfterSeconds: 2 }, "pull");
  const r = await syncAttempt(w);
  assert.equal(r.status, 429);
  const h = await health(w.t);
  assert.equal(h.lastErrorKind, "rate_limited");
  assert.ok(h.rateLimitedUntil !== null && h.rateLimitedUntil > Date.now() + 500);
  assert.ok(h.nextAttemptAt! >= h.rateLimitedUntil! - 5, "the next attempt waits for it");
  assert.equal(watermark(w), mark);

  await converged(w);
  const i = w.cloud.requests.findIndex((q) => q.status === 429);
  const next = w.cloud.requests[i + 1];
  assert.ok(next, "the relay came back by itself");
  assert.ok(
    next.at - w.cloud.requests[i].at >= 2000 - 10,
    `next request ${next.at - w.cloud.requests[i].at} ms after the 429 (Retry-After 2 s)`,
  );
});

Deno.test("429 on the push after a good pull: merged rows reach phones, the watermark stays", async () => {
  await using w = await world();
  await work(w);
  const mark = watermark(w);
  w.cloud.failNext(1, { kind: "status", status: 429, retryAfterSeconds: 1 }, "push");
  assert.equal((await syncAttempt(w)).status, 429);
  assert.equal(watermark(w), mark, "a cycle that failed at the push does not move the watermark");
  assert.equal((await health(w.t)).pendingChanges, 5);
  await pullAll(w.phone, w.view); // the merged cloud rows are already on the hub
  assert.equal(w.view.rows.get("patients")!.size, 40 + 60 + 5);
  await converged(w);
});

Deno.test("500: lastError shows it and the relay backs off until the cloud recovers", async () => {
  await using w = await world();
  await work(w);
  const mark = watermark(w);
  w.cloud.failNext(1000, { kind: "status", status: 500 }, "pull");
  const r = await syncAttempt(w);
  assert.equal(r.status, 502);
  await waitFor(async () => (await health(w.t)).consecutiveFailures >= 3, "three failed cycles");
  const h = await health(w.t);
  assert.equal(h.lastErrorKind, "server");
  assert.match(h.lastError!, /500/);
  assert.equal(h.offline, false);
  assert.equal(h.authFailed, false);
  assert.equal(h.pendingChanges, 5);
  assert.ok(h.lastSuccessAt! < h.lastAttemptAt!);
  assert.equal(watermark(w), mark);

  w.cloud.clearFaults();
  await converged(w);
});

Deno.test("500 part-way through a push (the cloud is not atomic): the repeat loses and duplicates nothing", async () => {
  await using w = await world();
  await work(w, 100, 10);
  w.cloud.failNext(1, { kind: "status", status: 500, afterRows: 25 }, "push");
  assert.equal((await syncAttempt(w)).status, 502);
  assert.equal((await health(w.t)).pendingChanges, 100, "nothing marked relayed");
  const written = w.phoneIds.filter((id) => w.cloud.get("patients", id)).length;
  assert.equal(written, 25, "the cloud kept the rows before its failure");
  await converged(w);
});

Deno.test("a cloud that never answers: the connect timeout ends the cycle; offline until it answers", async () => {
  await using w = await world();
  await work(w);
  const mark = watermark(w);
  w.cloud.failNext(1000, { kind: "hang" }, "pull");
  const r = await syncAttempt(w);
  assert.equal(r.status, 502);
  assert.match(r.body.error, /timeout|timed out/i);
  const h = await health(w.t);
  assert.equal(h.offline, true);
  assert.equal(h.lastErrorKind, "unreachable");
  assert.equal(h.pendingChanges, 5);
  assert.equal(watermark(w), mark);
  w.cloud.clearFaults();
  await converged(w);
});

Deno.test("a reply that stalls mid-body: the transfer timeout ends the cycle, then a full sync", async () => {
  await using w = await world();
  await work(w);
  const mark = watermark(w);
  w.cloud.failNext(1000, { kind: "stall", afterRows: 30 }, "pull");
  const r = await syncAttempt(w);
  assert.equal(r.status, 502);
  const h = await health(w.t);
  assert.equal(h.lastErrorKind, "unreachable");
  assert.equal(h.offline, true);
  assert.equal(watermark(w), mark);
  w.cloud.clearFaults();
  await converged(w);
});

Deno.test("a push that is never answered: timed out, the rows stay pending and go next time", async () => {
  await using w = await world();
  await work(w);
  w.cloud.failNext(1000, { kind: "hang" }, "push");
  const r = await syncAttempt(w);
  assert.equal(r.status, 502);
  const h = await health(w.t);
  assert.equal(h.offline, true);
  assert.equal(h.pendingChanges, 5);
  w.cloud.clearFaults();
  await converged(w);
});

Deno.test("a connection cut mid-response: what was merged reaches phones once, the rest follows", async () => {
  await using w = await world();
  await work(w, 5, 200);
  const mark = watermark(w);
  // The phone holds its own 5 already; the cloud's 200 are what it waits for.
  const before = w.view.rows.get("patients")!.size;
  // Batches of 50 are merged as they stream in: each cut lands after two of them.
  w.cloud.failNext(1000, { kind: "cut", afterRows: 120 }, "pull");
  const r = await syncAttempt(w);
  assert.equal(r.status, 502);
  assert.match(r.body.error, /broke|connection/i);
  await waitFor(async () => (await health(w.t)).consecutiveFailures >= 3, "cut again on retries");
  const h = await health(w.t);
  assert.equal(h.lastErrorKind, "unreachable");
  assert.equal(h.offline, true);
  assert.equal(watermark(w), mark);
  // The batches merged before the cut are on the hub; phones get them now, once.
  await pullAll(w.phone, w.view);
  const partly = w.view.rows.get("patients")!.size;
  assert.ok(partly >= before + 100 && partly < before + 200, `phone has ${partly - before} new`);

  w.cloud.clearFaults();
  await converged(w);
  assert.equal(w.view.rows.get("patients")!.size, before + 200);
});

Deno.test("a cloud down for a while: offline with the waiting changes and their age; back → syncs at once", async () => {
  await using w = await world();
  await w.cloud.down();
  await work(w);
  const mark = watermark(w);
  const r = await syncAttempt(w);
  assert.equal(r.status, 502);
  assert.match(r.body.error, /could not be reached/);
  assert.doesNotMatch(r.body.error, /fetch failed|error sending request/i, "a raw fetch error");
  assert.match(r.body.error, /Check this computer's internet connection/);
  const h1 = await health(w.t);
  assert.equal(h1.offline, true);
  assert.ok(h1.failingSince !== null, "offline since when");
  assert.equal(h1.pendingChanges, 5);
  assert.ok(h1.oldestPendingAgeMs !== null && h1.oldestPendingAgeMs >= 0);
  await waitFor(async () => (await health(w.t)).consecutiveFailures >= 3, "retries while down");
  // More work while the cloud is away.
  await work(w, 3, 0);
  const h2 = await health(w.t);
  assert.equal(h2.offline, true);
  assert.equal(h2.pendingChanges, 8);
  assert.ok(h2.oldestPendingAgeMs! > h1.oldestPendingAgeMs!, "the oldest change gets older");
  assert.equal(h2.failingSince, h1.failingSince, "retries do not move the start of the outage");
  assert.equal(watermark(w), mark);

  await w.cloud.up();
  await converged(w);
  assert.equal((await health(w.t)).failingSince, null);
});

Deno.test("a first sync cut part-way: rows the cloud deletes before it completes go from the hub too", async () => {
  await using cloud = await startCloud();
  for (let i = 0; i < 200; i++) cloud.insert("patients", cloudPatient(i));
  await using t = await startHub();
  cloud.failNext(1000, { kind: "cut", afterRows: 120 }, "pull");
  await register(t, cloud);
  await waitFor(async () => (await health(t)).consecutiveFailures >= 2, "cut first syncs");
  const merged = () =>
    (storeConnection(t.hub.store).prepare("SELECT count(*) AS n FROM patients").get() as {
      n: number;
    }).n;
  assert.ok(merged() >= 90 && merged() < 200, `${merged()} rows merged before the cut`);
  // A phone already received the partial first sync.
  const phone = await loggedInPhone(t.lanUrl);
  const view = newView();
  await pullAll(phone, view);
  assert.ok(view.rows.get("patients")!.has(uuidFor(1, 3)));

  // The cloud deletes some of those rows; at watermark 0 it will never list the deletions.
  const gone = [1, 3, 5, 7, 9].map((i) => uuidFor(1, i));
  for (const id of gone) cloud.remove("patients", id);
  cloud.clearFaults();
  await settled(t);
  assertSameRows(t.hub, cloud, "patients");
  await pullAll(phone, view);
  for (const id of gone) assert.equal(view.rows.get("patients")!.has(id), false, `${id} on phone`);
  assert.deepEqual(view.deleted.get("patients")!.sort(), gone.sort());
  assert.equal((await health(t)).pendingChanges, 0, "the sweep sends nothing to the cloud");
  assert.equal(cloud.count("push"), 0);
});

Deno.test("locking while the cloud stalls mid-reply ends the cycle at once (no wait for timeouts)", async () => {
  await using cloud = await startCloud();
  for (let i = 0; i < 200; i++) cloud.insert("patients", cloudPatient(i));
  // Timeouts far longer than the test: only the lock can end the stalled cycle.
  await using t = await startHub({ timeouts: { connectMs: 120_000, transferMs: 120_000 } });
  cloud.failNext(1, { kind: "stall", afterRows: 60 }, "pull");
  await register(t, cloud);
  await waitFor(
    () => cloud.count("pull") === 1 && t.hub.cloudHealth()?.cycleRunning,
    "a stalled cycle",
  );
  const locked = t.api("POST", "/api/lock");
  const r = await Promise.race([
    locked,
    new Promise<null>((resolve) => setTimeout(() => resolve(null), 10_000)),
  ]);
  assert.ok(r !== null, "the lock waited for the stalled cycle");
  assert.equal(r.status, 200);
  assert.equal(t.hub.state, "locked");
  // Unlocked again, the relay starts over and completes.
  assert.equal((await t.api("POST", "/api/unlock", { passphrase: PASSPHRASE })).status, 200);
  await settled(t);
  assertSameRows(t.hub, cloud, "patients");
});
