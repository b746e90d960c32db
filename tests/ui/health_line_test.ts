/** The health line's items (ui/app/health.ts): every state, each problem with its fix. */
import assert from "node:assert/strict";
import { healthItems } from "../../ui/app/health.ts";
import type { HubStatus, SyncHealth } from "../../ui/app/types.ts";

const NOW = Date.UTC(2026, 10, 29, 12, 0);

function status(cloud: Partial<SyncHealth> | null, server: Partial<HubStatus["server"]> = {}) {
  const h: SyncHealth = {
    registered: true,
    cloudUrl: "https://cloud.example.org",
    cycleRunning: false,
    lastAttemptAt: NOW - 60_000,
    lastSuccessAt: NOW - 60_000,
    lastError: null,
    lastErrorKind: null,
    authFailed: false,
    offline: false,
    rateLimitedUntil: null,
    nextAttemptAt: null,
    consecutiveFailures: 0,
    failingSince: null,
    pendingChanges: 0,
    oldestPendingAgeMs: null,
    openConflicts: 0,
    lastCycle: null,
    ...cloud,
  } as SyncHealth;
  return {
    state: "unlocked",
    version: "t",
    hub: null,
    server: {
      running: true,
      host: "0.0.0.0",
      port: 4001,
      urls: [],
      sessions: 0,
      error: null,
      ...server,
    },
    counts: null,
    pendingCloud: { count: h.pendingChanges, oldestStamp: null },
    cloud: cloud === null ? null : h,
    unlockFailures: 0,
  } as HubStatus;
}

const keys = (s: HubStatus) => healthItems(s, NOW).map((i) => i.key);
const item = (s: HubStatus, key: string) => healthItems(s, NOW).find((i) => i.key === key)!;

Deno.test("health line: all well is one quiet item", () => {
  assert.deepEqual(keys(status({})), ["last"]);
  assert.equal(item(status({}), "last").warn, false);
});

Deno.test("health line: a stopped or failed server comes first, with Start it", () => {
  const s = status({}, { running: false });
  assert.equal(keys(s)[0], "server");
  assert.match(item(s, "server").text, /Phone server stopped: phones cannot sync/);
  assert.deepEqual(item(s, "server").fix?.target, "server");
  const failed = status({}, { running: false, error: "address already in use" });
  assert.match(item(failed, "server").text, /could not start/);
});

Deno.test("health line: a refused key replaces the last good sync and links to the new-key form", () => {
  const s = status({ authFailed: true, lastErrorKind: "auth", failingSince: NOW - 5000 });
  assert.deepEqual(keys(s), ["auth"]);
  assert.equal(item(s, "auth").fix?.view, "maintenance");
  assert.equal(item(s, "auth").fix?.target, "relink");
});

Deno.test("health line: unreachable since when; waiting changes with the age of the oldest", () => {
  const s = status({
    offline: true,
    lastErrorKind: "unreachable",
    failingSince: NOW - 3 * 3_600_000,
    pendingChanges: 4,
    oldestPendingAgeMs: 5 * 3_600_000,
  });
  assert.deepEqual(keys(s), ["offline", "waiting"]);
  assert.match(item(s, "offline").text, /Cloud unreachable since .+ \(3 hours ago\)/);
  assert.equal(
    item(s, "waiting").text,
    "4 changes waiting for the cloud, the oldest since 5 hours ago",
  );
  assert.equal(item(s, "waiting").warn, true);
  // A fresh change is not a problem.
  const fresh = status({ pendingChanges: 1, oldestPendingAgeMs: 2000 });
  assert.equal(item(fresh, "waiting").text, "1 change waiting for the cloud");
  assert.equal(item(fresh, "waiting").warn, false);
});

Deno.test("health line: rate limit, other errors, conflicts and no cloud each say so", () => {
  assert.deepEqual(
    keys(status({ rateLimitedUntil: NOW + 30_000, lastErrorKind: "rate_limited" })),
    ["rate"],
  );
  const err = status({ lastErrorKind: "server", lastError: "The cloud had an internal error" });
  assert.deepEqual(keys(err), ["error"]);
  assert.equal(item(err, "error").fix?.target, "cloud");
  const c = status({ openConflicts: 2 });
  assert.equal(item(c, "conflicts").text, "⚠ 2 conflicts to decide");
  assert.equal(item(c, "conflicts").fix?.target, "conflicts");
  const none = status({ registered: false, lastSuccessAt: null, pendingChanges: 3 });
  assert.deepEqual(keys(none), ["linked", "waiting"]);
  assert.equal(item(none, "waiting").warn, true, "changes with no cloud to go to");
  assert.equal(item(none, "linked").fix?.target, "cloud");
});

Deno.test("health line: a full or almost full disk says so first among the problems", () => {
  const base = status({});
  const full = healthItems({
    ...base,
    disk: {
      freeBytes: 0,
      totalBytes: 1,
      full: true,
      fullSince: 1,
      warning: "The hub's disk is full: free some space.",
    },
  }, NOW);
  const item = full.find((i) => i.key === "disk");
  assert.ok(item?.warn);
  assert.match(item!.text, /disk is full/);
  const fine = healthItems({
    ...base,
    disk: { freeBytes: 9e9, totalBytes: 1e10, full: false, fullSince: null, warning: null },
  }, NOW);
  assert.equal(fine.find((i) => i.key === "disk"), undefined);
});

Deno.test("health line: a missing backup folder, an old backup and a restored hub are warnings with a link", () => {
  const base = {
    dir: "/media/stick",
    everyMinutes: 5,
    keepLast: 10,
    folder: "ok",
    running: false,
    lastGood: null,
    lastError: null,
    stale: false,
    warning: null,
    restored: null,
  } as NonNullable<HubStatus["backups"]>;
  assert.deepEqual(keys({ ...status({}), backups: base }), ["last"]);
  const missing = {
    ...status({}),
    backups: { ...base, folder: "missing", warning: "The backup folder /media/stick is not there" },
  } as HubStatus;
  assert.equal(item(missing, "backup").warn, true);
  assert.match(item(missing, "backup").text, /not there/);
  assert.deepEqual(item(missing, "backup").fix, {
    label: "Backups",
    view: "dashboard",
    target: "backups",
  });
  const restored = {
    ...status({}),
    backups: {
      ...base,
      restored: {
        backupTakenAt: NOW - 3_600_000,
        backupClock: 1,
        cloudWatermark: null,
        restoredAt: NOW,
        clockFrom: NOW + 3_600_000,
        devicesAfterBackup: [],
        message: "This hub was restored from a backup taken at T: changes made after that time " +
          "that were not relayed to the cloud may be missing.",
      },
    },
  } as HubStatus;
  assert.match(item(restored, "restored").text, /may be missing/);
  assert.equal(item(restored, "restored").warn, true);
});
