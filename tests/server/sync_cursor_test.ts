/**
 * Cursors (SPEC §5): a wall clock stepping back never hides a change from an
 * incremental pull (also across restarts and rolled-back pushes), and paged
 * pulls deliver every row exactly once as created, never as an update to a row
 * the phone does not have.
 */
import assert from "node:assert/strict";
import type { PhoneClient } from "../phone_client.ts";
import {
  loggedInPhone,
  patientRow,
  startHub,
  storedRow,
  type TableChanges,
  TestClock,
} from "./_fixtures.ts";

const HOUR = 3_600_000;

/** Pulls from `cursor` until an empty page, like the phone does across syncs. */
async function pullAll(phone: PhoneClient, cursor: number) {
  const pages: { changes: Record<string, TableChanges>; timestamp: number }[] = [];
  for (let i = 0; i < 100; i++) {
    const page = await phone.pull(cursor);
    pages.push(page);
    assert.ok(page.timestamp >= cursor, "the cursor never goes back");
    cursor = page.timestamp;
    if (Object.keys(page.changes).length === 0) return { pages, cursor };
  }
  throw new Error("pull did not converge");
}

/**
 * Applies pages the way WatermelonDB's applyRemoteChanges does: created rows are
 * created (or merged), updated rows are merged only if present (else skipped),
 * deleted ids removed. Records what a phone would have got wrong.
 */
class PhoneDb {
  rows = new Map<string, Record<string, unknown>>();
  createdCount = new Map<string, number>();
  skippedUpdates: string[] = [];

  apply(changes: Record<string, TableChanges>, table: string): void {
    const set = changes[table];
    if (!set) return;
    for (const r of set.created) {
      const id = r.id as string;
      this.createdCount.set(id, (this.createdCount.get(id) ?? 0) + 1);
      this.rows.set(id, { ...this.rows.get(id), ...r });
    }
    for (const r of set.updated) {
      const id = r.id as string;
      if (!this.rows.has(id)) this.skippedUpdates.push(id);
      else this.rows.set(id, { ...this.rows.get(id), ...r });
    }
    for (const { id } of set.deleted) this.rows.delete(id);
  }
}

Deno.test("clock: stepping the wall clock back during a run loses nothing", async () => {
  const clock = new TestClock();
  let t = await startHub({ now: clock.now });
  try {
    let a = await loggedInPhone(t.url);
    let b = await loggedInPhone(t.url);
    let cursor = (await b.pull(0)).timestamp;
    const phoneB = new PhoneDb();
    const pushed: string[] = [];
    const steps = [-HOUR, 5, -24 * HOUR, -1, 0, -7 * 24 * HOUR, 1000, -30_000];
    for (const [i, step] of steps.entries()) {
      const ids = Array.from({ length: 4 }, (_, j) => `clk-${i}-${j}`);
      await a.push(cursor, {
        patients: {
          created: ids.map((id) => patientRow(id, clock.value)),
          updated: [],
          deleted: [],
        },
      });
      pushed.push(...ids);
      clock.step(step);
      if (i === 4) {
        // A restart in the middle, with the clock still behind.
        await t.close();
        t = await startHub({ dataDir: t.dataDir, now: clock.now });
        a = await loggedInPhone(t.url);
        b = await loggedInPhone(t.url);
      }
      const page = await b.pull(cursor);
      assert.ok(page.timestamp > cursor, `step ${i}: the cursor moves forward`);
      phoneB.apply(page.changes, "patients");
      cursor = page.timestamp;
      // A second pull straight away brings nothing new.
      const empty = await b.pull(cursor);
      assert.deepEqual(empty.changes, {}, `step ${i}`);
    }
    for (const id of pushed) assert.equal(phoneB.createdCount.get(id), 1, id);
    assert.equal(phoneB.rows.size, pushed.length);
    assert.deepEqual(phoneB.skippedUpdates, []);
    // Stamps strictly increase in push order even though the wall clock went back.
    const stamps = pushed.filter((id) => id.endsWith("-0")).map((id) =>
      storedRow(t.store, "patients", id)!.local_server_last_modified_at as number
    );
    for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i] > stamps[i - 1], `push ${i}`);
  } finally {
    await t.close();
  }
});

Deno.test("clock: a cursor handed out after a rolled-back push stays valid across a restart", async () => {
  const clock = new TestClock();
  const first = await startHub({ now: clock.now });
  const a = await loggedInPhone(first.url);
  const b = await loggedInPhone(first.url);
  const start = await a.pull(0);
  await a.push(start.timestamp, {
    patients: { created: [patientRow("rb-1", clock.value)], updated: [], deleted: [] },
  });
  clock.step(-24 * HOUR);
  const bad = await a.command("sync_push", {
    lastPulledAt: start.timestamp,
    changes: {
      patients: {
        created: [patientRow("rb-bad", clock.value, { image_timestamp: "abc" })],
        updated: [],
        deleted: [],
      },
    },
  });
  assert.equal(bad.success, false);
  const seen = await b.pull(0);
  assert.ok(seen.changes.patients.created.some((r) => r.id === "rb-1"));
  await first.close();

  const second = await startHub({ dataDir: first.dataDir, now: clock.now });
  try {
    const a2 = await loggedInPhone(second.url);
    const b2 = await loggedInPhone(second.url);
    await a2.push(seen.timestamp, {
      patients: { created: [patientRow("rb-2", clock.value)], updated: [], deleted: [] },
    });
    const stamp = storedRow(second.store, "patients", "rb-2")!.local_server_last_modified_at;
    assert.ok(
      (stamp as number) > seen.timestamp,
      `the new write (${stamp}) is stamped above the cursor a phone holds (${seen.timestamp})`,
    );
    const next = await b2.pull(seen.timestamp);
    assert.deepEqual(next.changes.patients?.created.map((r) => r.id), ["rb-2"]);
  } finally {
    await second.close();
  }
});

Deno.test("paging: every row arrives exactly once as created, never as an unknown update", async () => {
  const PAGE = 50;
  const t = await startHub({ lan: { pullPageRows: PAGE } });
  try {
    const a = await loggedInPhone(t.url);
    const b = await loggedInPhone(t.url);
    const start = await a.pull(0);
    // 180 patients in pushes of uneven sizes, so page boundaries fall inside runs of pushes.
    const sizes = [25, 45, 20, 35, 55];
    const ids: string[] = [];
    let n = 0;
    for (const size of sizes) {
      const rows = Array.from(
        { length: size },
        () => patientRow(`pg-${n++}`, 1_700_000_000_000 + n),
      );
      await a.push(start.timestamp, { patients: { created: rows, updated: [], deleted: [] } });
      ids.push(...rows.map((r) => r.id as string));
    }
    assert.equal(ids.length, 180);
    // Rows created in the first push (inside the first page), changed after that page ends.
    await a.push(start.timestamp, {
      patients: {
        created: [],
        updated: [
          patientRow("pg-3", 1_800_000_000_000, { given_name: "Updated late", _status: "updated" }),
        ],
        deleted: ["pg-7"],
      },
    });
    // And one updated in between pages' pushes with the same data twice.
    await a.push(start.timestamp, {
      patients: {
        created: [],
        updated: [
          patientRow("pg-100", 1_800_000_000_001, { given_name: "Mid", _status: "updated" }),
        ],
        deleted: [],
      },
    });

    const { pages } = await pullAll(b, 0);
    assert.ok(pages.length >= 4, `paged into ${pages.length} replies`);
    for (let i = 1; i < pages.length; i++) {
      assert.ok(pages[i].timestamp > pages[i - 1].timestamp || i === pages.length - 1);
    }
    const phone = new PhoneDb();
    for (const p of pages) {
      const rows = (p.changes.patients?.created.length ?? 0) +
        (p.changes.patients?.updated.length ?? 0);
      assert.ok(rows <= PAGE + 60, `a page holds ${rows} rows`);
      phone.apply(p.changes, "patients");
    }
    for (const id of ids) {
      // pg-7 was deleted before this phone ever got it: it need not arrive at all.
      const times = phone.createdCount.get(id) ?? 0;
      if (id === "pg-7") assert.ok(times <= 1, `${id} arrived ${times} times`);
      else assert.equal(times, 1, `${id} arrived ${times} times`);
    }
    assert.deepEqual(phone.skippedUpdates, []);
    // The phone ends with the hub's state.
    assert.equal(phone.rows.has("pg-7"), false);
    assert.equal(phone.rows.get("pg-3")!.given_name, "Updated late");
    assert.equal(phone.rows.get("pg-100")!.given_name, "Mid");
    assert.equal(phone.rows.size, 179);
    for (const [id, row] of phone.rows) {
      assert.equal(row.given_name, storedRow(t.store, "patients", id)!.given_name, id);
    }
    // Following the cursor further brings nothing.
    assert.deepEqual((await b.pull(pages.at(-1)!.timestamp)).changes, {});
  } finally {
    await t.close();
  }
});

Deno.test("paging: a phone that syncs between pushes also gets every row once", async () => {
  const PAGE = 50;
  const t = await startHub({ lan: { pullPageRows: PAGE } });
  try {
    const a = await loggedInPhone(t.url);
    const b = await loggedInPhone(t.url);
    const phone = new PhoneDb();
    let cursor = 0;
    let n = 0;
    for (let round = 0; round < 6; round++) {
      const rows = Array.from({ length: 30 }, () => patientRow(`r-${n++}`, 1_700_000_000_000 + n));
      await a.push(0, {
        patients: {
          created: rows,
          updated: round > 0
            ? [patientRow(`r-${round * 30 - 1}`, 1_800_000_000_000 + round, {
              given_name: `Round ${round}`,
            })]
            : [],
          deleted: [],
        },
      });
      // B pulls only one page per sync (as if the phone stopped there), so it lags behind.
      const page = await b.pull(cursor);
      phone.apply(page.changes, "patients");
      cursor = page.timestamp;
    }
    const rest = await pullAll(b, cursor);
    for (const p of rest.pages) phone.apply(p.changes, "patients");
    assert.equal(phone.rows.size, 180);
    for (let i = 0; i < 180; i++) assert.equal(phone.createdCount.get(`r-${i}`), 1, `r-${i}`);
    assert.deepEqual(phone.skippedUpdates, []);
    for (let round = 1; round < 6; round++) {
      assert.equal(phone.rows.get(`r-${round * 30 - 1}`)!.given_name, `Round ${round}`);
    }
  } finally {
    await t.close();
  }
});

Deno.test("paging: one large push is still delivered in bounded pages", async () => {
  const PAGE = 50;
  const t = await startHub({ lan: { pullPageRows: PAGE } });
  try {
    const a = await loggedInPhone(t.url);
    const b = await loggedInPhone(t.url);
    const start = await b.pull(0);
    const rows = Array.from({ length: 1_600 }, (_, i) => patientRow(`big-${i}`, 1_700_000_000_000));
    await a.push(0, { patients: { created: rows, updated: [], deleted: [] } });
    const { pages } = await pullAll(b, start.timestamp);
    const phone = new PhoneDb();
    for (const p of pages) {
      const n = p.changes.patients?.created.length ?? 0;
      assert.ok(n <= 500, `a page of ${n} rows from one 1,600-row push`);
      phone.apply(p.changes, "patients");
    }
    assert.ok(pages.length >= 4, `${pages.length} pages`);
    assert.equal(phone.rows.size, 1_600);
    for (const r of rows) assert.equal(phone.createdCount.get(r.id as string), 1);
  } finally {
    await t.close();
  }
});
