/**
 * Registration with the cloud through the admin API (issue 5): clear errors for
 * a wrong key, an unreachable cloud, plain http to another computer and a
 * malformed key; the URL and key live only in the vault; and nothing talks to
 * the cloud while the hub is locked.
 */
import assert from "node:assert/strict";
import { join } from "../../core/mod.ts";
import { randomApiKey } from "../cloud_double.ts";
import {
  cloudPatient,
  health,
  LOG_LINES,
  register,
  settled,
  startCloud,
  startHub,
  waitFor,
} from "./_fixtures.ts";
import { storeConnection } from "../../store/testing.ts";

Deno.test("registration: a wrong key is refused with 401 and a clear message; nothing is stored", async () => {
  await using cloud = await startCloud();
  await using t = await startHub();
  const r = await t.api("POST", "/api/cloud/register", { url: cloud.url, apiKey: randomApiKey() });
  assert.equal(r.status, 401);
  assert.match(r.body.error, /refused this API key/);
  assert.equal(cloud.count("verify"), 1);
  assert.equal(t.hub.vault.secrets.cloud, undefined);
  const h = await health(t);
  assert.equal(h.registered, false);
  const sync = await t.api("POST", "/api/cloud/sync");
  assert.equal(sync.status, 409, "no sync before registration");
  assert.equal(cloud.count("pull"), 0);
});

Deno.test("registration: an unreachable cloud gives a clear error", async () => {
  await using cloud = await startCloud();
  const url = cloud.url;
  await cloud.down();
  await using t = await startHub();
  const r = await t.api("POST", "/api/cloud/register", { url, apiKey: cloud.apiKey });
  assert.equal(r.status, 502);
  assert.match(r.body.error, /could not be reached/);
  assert.equal(t.hub.vault.secrets.cloud, undefined);
});

Deno.test("registration: plain http is refused for another computer, and bad URLs and keys too", async () => {
  await using cloud = await startCloud();
  await using t = await startHub();
  const key = cloud.apiKey;
  const cases: [unknown, unknown, number, RegExp][] = [
    ["http://192.0.2.10:8080", key, 400, /https/],
    ["http://clinic-cloud.example.org", key, 400, /https/],
    ["ftp://127.0.0.1/", key, 400, /https/],
    ["not a url", key, 400, /not a valid URL/],
    ["", key, 400, /address/],
    [`http://user:pw@127.0.0.1:${cloud.port}`, key, 400, /user name or password/],
    // The same words as the form's hint ("a digit 0–9 or a letter a–f"), and what is off.
    [
      cloud.url,
      "hh_123",
      400,
      /hh_ followed by 64 characters, each a digit 0–9 or a letter a–f.*has 3 after hh_/,
    ],
    [cloud.url, key.slice(0, -1), 400, /hh_ followed by 64.*has 63 after hh_/],
    [cloud.url, key.replace("hh_", "xx_"), 400, /hh_ followed by 64.*does not start with hh_/],
    [cloud.url, key.slice(0, -1) + "g", 400, /hh_ followed by 64.*other characters/],
    [cloud.url, undefined, 400, /hh_ followed by 64/],
  ];
  for (const [url, apiKey, status, message] of cases) {
    const r = await t.api("POST", "/api/cloud/register", { url, apiKey });
    assert.equal(r.status, status, `${url} ${apiKey}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error, message);
  }
  assert.equal(cloud.requests.length, 0, "none of these reached any cloud");
  assert.equal(t.hub.vault.secrets.cloud, undefined);

  // `localhost` counts as this computer; the opt-in allows another one.
  const local = await t.api("POST", "/api/cloud/register", {
    url: `http://localhost:${cloud.port}`,
    apiKey: key,
  });
  assert.equal(local.status, 200, JSON.stringify(local.body));
  const optIn = await t.api("POST", "/api/cloud/register", {
    url: "http://192.0.2.10:9",
    apiKey: key,
    allowInsecure: true,
  });
  assert.equal(optIn.status, 502, "allowed, then unreachable (TEST-NET address)");
});

Deno.test("registration: hub id, name and clinics come from the cloud; URL and key only in the vault", async () => {
  await using cloud = await startCloud({ hubName: "Zaatari hub" });
  for (let i = 0; i < 5; i++) cloud.insert("patients", cloudPatient(i));
  await using t = await startHub();
  const r = await t.api("POST", "/api/cloud/register", {
    url: cloud.url + "/",
    apiKey: cloud.apiKey,
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, {
    hubId: cloud.hubId,
    hubName: "Zaatari hub",
    clinicIds: cloud.clinicIds,
  });
  await settled(t);
  const status = await t.api("GET", "/api/status");
  assert.equal(status.body.hub.id, cloud.hubId);
  assert.equal(status.body.hub.name, "Zaatari hub");
  assert.equal(status.body.cloud.registered, true);
  assert.equal(status.body.cloud.cloudUrl, cloud.url);
  const link = t.hub.vault.secrets.cloud!;
  assert.equal(link.url, cloud.url);
  assert.equal(link.apiKey, cloud.apiKey);
  assert.deepEqual(link.clinicIds, cloud.clinicIds);

  // Neither the admin API nor the logs show the key.
  const hex = cloud.apiKey.slice(3);
  assert.ok(!JSON.stringify(status.body).includes(hex));
  assert.ok(!JSON.stringify((await t.api("GET", "/api/cloud/health")).body).includes(hex));
  assert.ok(LOG_LINES.length > 0 && LOG_LINES.every((l) => !l.includes(hex)), "key not logged");

  // No file in the data folder holds the URL or the key in the clear, locked or not.
  const port = `127.0.0.1:${cloud.port}`;
  const scan = async () => {
    for await (const e of Deno.readDir(t.dir)) {
      if (!e.isFile) continue;
      const bytes = await Deno.readFile(join(t.dir, e.name));
      const text = new TextDecoder("latin1").decode(bytes);
      assert.ok(!text.includes(hex), `${e.name} holds the API key`);
      assert.ok(!text.includes(port), `${e.name} holds the cloud URL`);
      const utf16 = new TextDecoder("utf-16le").decode(bytes);
      assert.ok(!utf16.includes(hex), `${e.name} holds the API key (UTF-16)`);
    }
  };
  await scan();
  assert.equal((await t.api("POST", "/api/lock")).status, 200);
  await scan();
  assert.equal(
    (await t.api("POST", "/api/unlock", { passphrase: "correct horse battery staple" })).status,
    200,
  );
  const h = await health(t);
  assert.equal(h.registered, true, "the link survives lock/unlock (it is in the vault)");
  assert.equal(h.cloudUrl, cloud.url);
  const env = Object.values(Deno.env.toObject());
  assert.ok(!env.some((v) => v.includes(hex)), "not in the environment either");
});

Deno.test("nothing runs while locked: no request reaches the cloud; unlock syncs at once", async () => {
  await using cloud = await startCloud();
  await using t = await startHub({ relay: { intervalMs: 150, probeMs: 50 } });
  await register(t, cloud);
  await settled(t);
  // The schedule runs by itself while unlocked...
  const seen = cloud.count("pull");
  await waitFor(() => cloud.count("pull") >= seen + 2, "two timer-driven cycles");

  assert.equal((await t.api("POST", "/api/lock")).status, 200);
  const requests = cloud.requests.length;
  for (let i = 0; i < 20; i++) cloud.insert("patients", cloudPatient(i));
  // ...and not at all while locked: wait well past the interval, the backoff and the probe.
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal(cloud.requests.length, requests, "the double saw no request while locked");
  assert.equal((await t.api("POST", "/api/cloud/sync")).status, 423);
  assert.equal((await t.api("GET", "/api/cloud/health")).status, 423);
  const s = await t.api("GET", "/api/status");
  assert.equal(s.body.state, "locked");
  assert.equal(s.body.cloud, null);

  // A cloud outage while locked starts no probe either.
  await cloud.down();
  await new Promise((r) => setTimeout(r, 300));
  await cloud.up();
  assert.equal(cloud.requests.length, requests);

  assert.equal(
    (await t.api("POST", "/api/unlock", { passphrase: "correct horse battery staple" })).status,
    200,
  );
  await waitFor(
    () =>
      t.hub.state === "unlocked" &&
      (storeConnection(t.hub.store).prepare("SELECT count(*) AS n FROM patients").get() as {
          n: number;
        }).n ===
        20,
    "the rows added while locked, right after unlock",
  );
});
