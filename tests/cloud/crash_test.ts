/**
 * A hub process killed with SIGKILL in the middle of relay cycles, again and
 * again, converges (issue 5). The hub runs as the real program (`main.ts`) in a
 * child process against a cloud double holding tens of thousands of rows; a
 * phone writes to it between kills and the cloud changes too. Kills land at
 * random points: part-way through the pull stream (so part-way through the
 * merge), when a push arrives, after the cloud wrote a push but before the hub
 * heard back, just after a push reply (while the hub marks rows relayed), or at a
 * random moment. After a final clean cycle the double and the hub must hold the
 * same rows, with no duplicate and nothing lost, and phones must have received
 * every row once.
 */
import assert from "node:assert/strict";
import { Hub } from "../../hub/mod.ts";
import type { CloudDouble, DoubleEvent } from "../cloud_double.ts";
import { isUuid } from "../cloud_double.ts";
import { PhoneClient } from "../phone_client.ts";
import {
  assertSameRows,
  cloudPatient,
  cloudVisit,
  newView,
  PASSPHRASE,
  phonePatient,
  phonePush,
  type PhoneView,
  pullAll,
  startCloud,
  TEST_LOGGER,
  USER,
  uuidFor,
} from "./_fixtures.ts";
import { freePort, type HubProcess, spawnHeadlessHub } from "../hub_process.ts";

/** Kills; `deno task proof` raises it (HUB_CLOUD_CRASH_RUNS). */
const RUNS = Number(Deno.env.get("HUB_CLOUD_CRASH_RUNS") ?? 10);
const CLOUD_PATIENTS = 30_000;
const CLOUD_VISITS = 5_000;

type KillPoint = "pull" | "merge" | "push-received" | "push-applied" | "after-push" | "time";
const POINTS: KillPoint[] = [
  "pull",
  "pull",
  "merge",
  "push-received",
  "push-applied",
  "after-push",
  "time",
];

type Child = HubProcess;

async function api(c: Child, method: string, path: string, body?: unknown) {
  const res = await fetch(c.admin + path, {
    method,
    headers: { authorization: `Bearer ${c.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

function rand(n: number): number {
  return Math.floor(Math.random() * n);
}

/** Arms the double to kill the child at a random point of its cycle; resolves with what fired. */
function armKill(
  cloud: CloudDouble,
  child: Child,
  points: KillPoint[],
): { point: KillPoint; fired: Promise<string> } {
  const point = points[rand(points.length)];
  const fraction = 0.05 + Math.random() * 0.9;
  let done = false;
  let resolve!: (how: string) => void;
  const fired = new Promise<string>((r) => resolve = r);
  const kill = (how: string) => {
    if (done) return;
    done = true;
    cloud.onEvent = null;
    try {
      child.proc.kill("SIGKILL");
    } catch {
      // already gone
    }
    resolve(how);
  };
  const fallback = setTimeout(() => kill("fallback"), 6_000);
  fired.then(() => clearTimeout(fallback));
  if (point === "time") {
    const pulls = cloud.count("pull");
    setTimeout(() => {
      // Mid-cycle only if a pull started that has not yet been logged as a finished cycle.
      const started = cloud.count("pull") - pulls;
      const ended = child.log().split("\n").filter((l) => l.includes('"cloud.cycle"')).length;
      kill(started > ended ? "time" : "time (idle)");
    }, rand(2500));
    return { point, fired };
  }
  cloud.onEvent = (e: DoubleEvent) => {
    if (point === "pull" && e.type === "pull-progress" && e.rowsSent >= fraction * e.rowsTotal) {
      kill(`pull ${Math.round(100 * e.rowsSent / e.rowsTotal)}%`);
    } else if (point === "merge" && e.type === "pull-done") {
      // The last batches are being merged (and, on a first sync, swept).
      setTimeout(() => kill("merging the end of the pull"), rand(40));
    } else if (point === "push-received" && e.type === "push-received") {
      kill("push received");
    } else if (point === "push-applied" && e.type === "push-applied") {
      kill("push applied, reply not sent");
    } else if (point === "after-push" && e.type === "push-applied") {
      setTimeout(() => kill("just after a push reply"), rand(30));
    }
  };
  return { point, fired };
}

/** Work of the phone in one run: new patients, edits of cloud rows, deletions. */
async function phoneWork(
  phone: PhoneClient,
  view: PhoneView,
  run: number,
  edits: string[],
  deletes: string[],
): Promise<string[]> {
  // Users arrive with the first merged batch; until then login fails.
  for (let i = 0;; i++) {
    try {
      await phone.handshake();
      await phone.login(USER.email, USER.password);
      break;
    } catch (err) {
      if (i >= 20) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await pullAll(phone, view);
  const now = Date.now();
  const rows = Array.from({ length: 300 }, (_, i) => phonePatient(i, 100 + run, now));
  await phonePush(phone, view, {
    patients: {
      created: rows,
      // A phone edits rows it holds, as it holds them (what it pulled).
      updated: edits.flatMap((id) => {
        const held = view.rows.get("patients")?.get(id);
        return held
          ? [{ ...held, given_name: `Edited in run ${run}`, updated_at: now, _status: "updated" }]
          : [];
      }),
      deleted: deletes,
    },
  });
  return rows.map((r) => String(r.id));
}

Deno.test({
  name: `a hub killed with SIGKILL mid-cycle, ${RUNS} times at random points, converges`,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using cloud = await startCloud({ rowsPerChunk: 250 });
    const alive = new Set<string>();
    for (let i = 0; i < CLOUD_PATIENTS; i++) alive.add(cloud.insert("patients", cloudPatient(i)));
    for (let i = 0; i < CLOUD_VISITS; i++) cloud.insert("visits", cloudVisit(i, uuidFor(1, i)));
    const cloudIds = new Set(alive);
    const dir = await Deno.makeTempDir({ prefix: "relay-crash-" });
    await Deno.writeTextFile(`${dir}/passphrase`, PASSPHRASE + "\n");
    const lanPort = freePort();
    const view = newView();
    const phoneSent = new Set<string>(); // pushes the hub confirmed
    const phoneTried = new Set<string>(); // pushes that may or may not have landed
    const outcomes: string[] = [];
    const phoneErrors: string[] = [];
    let next = CLOUD_PATIENTS;

    try {
      for (let run = 0; run < RUNS; run++) {
        // The cloud changes between runs: new rows, edits, deletions.
        if (run > 0) {
          for (let i = 0; i < 400; i++) {
            const id = cloud.insert("patients", cloudPatient(next++));
            alive.add(id);
            cloudIds.add(id);
          }
          const ids = [...alive];
          for (let i = 0; i < 40; i++) {
            const id = ids[rand(ids.length)];
            if (alive.has(id)) cloud.update("patients", id, { hometown: `Moved ${run}.${i}` });
          }
          for (let i = 0; i < 8; i++) {
            const id = ids[rand(ids.length)];
            if (alive.delete(id)) cloud.remove("patients", id);
          }
        }
        const pushesBefore = cloud.count("push");
        const child = await spawnHeadlessHub(dir, lanPort);
        // The first run has nothing to push yet.
        const { point, fired } = armKill(cloud, child, run === 0 ? ["pull", "merge"] : POINTS);
        if (run === 0) {
          const r = await api(child, "POST", "/api/cloud/register", {
            url: cloud.url,
            apiKey: cloud.apiKey,
          });
          assert.equal(r.status, 200, JSON.stringify(r.body));
        } else {
          const ids = [...alive];
          const edits = Array.from({ length: 20 }, () => ids[rand(ids.length)]);
          const deletes = Array.from({ length: 5 }, () => ids[rand(ids.length)]);
          const phone = new PhoneClient(`http://127.0.0.1:${lanPort}`, { clientId: "crash-phone" });
          const planned = Array.from({ length: 300 }, (_, i) => uuidFor(100 + run, i));
          for (const id of planned) phoneTried.add(id);
          try {
            const sent = await phoneWork(phone, view, run, edits, deletes);
            for (const id of sent) phoneSent.add(id);
            for (const id of deletes) alive.delete(id);
            // The operator asks for a sync now (the unlock cycle may be over): its
            // push carries the phone's rows.
            api(child, "POST", "/api/cloud/sync").catch(() => {});
          } catch (err) {
            // Killed before or during the phone's work: whatever landed must still converge.
            phoneErrors.push(`run ${run}: ${(err as Error).message.slice(0, 120)}`);
          }
        }
        const how = await fired;
        const status = await child.proc.status;
        assert.equal(
          status.signal,
          "SIGKILL",
          `run ${run} ended on its own:\n${child.log().slice(-3000)}`,
        );
        const cycles = child.log().split("\n").filter((l) => l.includes('"cloud.cycle"'));
        outcomes.push(
          `${point}/${how}/${cycles.filter((l) => l.includes('"ok"')).length} ok/${
            cloud.count("push") - pushesBefore
          } pushes/${cycles.map((l) => JSON.parse(l).pushed).join("+")}`,
        );
      }

      // Final run: a clean cycle, then one that must find nothing left to do.
      const child = await spawnHeadlessHub(dir, lanPort);
      try {
        const first = await api(child, "POST", "/api/cloud/sync");
        assert.equal(first.status, 200, JSON.stringify(first.body));
        const second = await api(child, "POST", "/api/cloud/sync");
        assert.equal(second.status, 200, JSON.stringify(second.body));
        assert.deepEqual(second.body.pushed, {}, "nothing left to push");
        assert.equal(second.body.merged.upserted, 0, "the echo changed nothing");
        const h = await api(child, "GET", "/api/cloud/health");
        assert.equal(h.body.pendingChanges, 0);

        // The long-lived phone and a brand-new one each got every row exactly once.
        const phone = new PhoneClient(`http://127.0.0.1:${lanPort}`, { clientId: "crash-phone" });
        await phone.handshake();
        await phone.login(USER.email, USER.password);
        await pullAll(phone, view);
        const fresh = new PhoneClient(`http://127.0.0.1:${lanPort}`);
        await fresh.handshake();
        await fresh.login(USER.email, USER.password);
        const freshView = newView();
        await pullAll(fresh, freshView);
        for (const v of [view, freshView]) {
          const created = v.created.get("patients")!;
          assert.equal(
            new Set(created).size,
            created.length,
            "no patient arrived twice as created",
          );
        }
        const phoneRows = freshView.rows.get("patients")!;
        assert.deepEqual(
          [...view.rows.get("patients")!.keys()].sort(),
          [...phoneRows.keys()].sort(),
          "the phone that lived through the kills holds what a new phone gets",
        );
        // Cloud bookkeeping refreshed by an echo is not sent to phones (nothing they
        // need changed), so compare the data columns. The phone's own pushes are
        // never sent back to it: it holds them as it pushed them (the columns it
        // sent; the hub fills the ones it left out for everyone else).
        const data = (r: Record<string, unknown> | undefined, only?: Record<string, unknown>) => {
          const { last_modified: _l, server_created_at: _s, ...rest } = r ?? {};
          return only ? Object.fromEntries(Object.keys(only).map((k) => [k, rest[k]])) : rest;
        };
        for (const [id, row] of view.rows.get("patients")!) {
          const mine = data(row);
          assert.deepEqual(mine, data(phoneRows.get(id), mine), `the long-lived phone's ${id}`);
        }
      } finally {
        child.proc.kill("SIGTERM");
        await child.proc.status;
      }

      // Now compare the hub's database with the double, row by row.
      const hub = new Hub({
        logger: TEST_LOGGER,
        dataDir: `${dir}/data`,
        version: "test",
        lan: { host: "127.0.0.1", port: 0 },
      });
      await hub.init();
      await hub.unlock(PASSPHRASE);
      try {
        assertSameRows(hub, cloud, "patients");
        assertSameRows(hub, cloud, "visits");
        assertSameRows(hub, cloud, "users");
        assertSameRows(hub, cloud, "user_clinic_permissions");
        assertSameRows(hub, cloud, "clinics");
        for (const id of phoneSent) {
          assert.equal(cloud.get("patients", id)?.is_deleted, false, `phone row ${id} lost`);
        }
        for (const r of cloud.rows("patients", { includeDeleted: true })) {
          const id = String(r.id);
          assert.ok(isUuid(id) && (cloudIds.has(id) || phoneTried.has(id)), `unexpected row ${id}`);
        }
        assert.equal(hub.cloudHealth()?.pendingChanges ?? 0, 0);
      } finally {
        await hub.shutdown();
      }
      const midCycle = outcomes.filter((o) => !/fallback|idle/.test(o)).length;
      assert.ok(
        midCycle >= RUNS / 2,
        `too few kills landed mid-cycle: ${outcomes.join(", ")}; phone: ${phoneErrors.join(", ")}`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
