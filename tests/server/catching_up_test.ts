/**
 * A new phone on a big hub (SPEC §5: the app pulls one page per sync and never
 * loops): pages are bounded by the bytes a phone must decrypt and parse, and the
 * hub keeps, per device, how much is still waiting for it.
 */
import assert from "node:assert/strict";
import { adminClient, loggedInPhone, patientRow, startHub } from "./_fixtures.ts";
import { storeConnection } from "../../store/testing.ts";

const T0 = 1_750_000_000_000;

function bigPatient(i: number): Record<string, unknown> {
  return patientRow(`big-${i}`, T0, {
    additional_data: JSON.stringify({ notes: "x".repeat(900), i }),
  });
}

Deno.test("pull pages: bounded by JSON bytes, whole stamps, everything arrives once", async () => {
  const t = await startHub({ seed: false });
  try {
    t.store.transaction(() => {
      // 600 rows of ~1.2 KB in stamps of 50 rows.
      for (let s = 0; s < 12; s++) {
        const stamp = t.store.clock.next();
        for (let i = s * 50; i < s * 50 + 50; i++) {
          const row = bigPatient(i);
          storeConnection(t.store).prepare(
            `INSERT INTO patients (id, given_name, additional_data, metadata, updated_at,
               local_server_created_at, local_server_last_modified_at) VALUES (?, ?, ?, '{}', ?, ?, ?)`,
          ).run(row.id, row.given_name, row.additional_data, T0, stamp, stamp);
        }
      }
    });
    const budget = 100 * 1024;
    const seen = new Set<string>();
    let cursor = 0;
    let pages = 0;
    for (; pages < 100; pages++) {
      const page = t.store.phoneSync.pull(cursor, {
        maxBytes: budget,
        maxRows: 10_000,
        deviceId: "dev-1",
      });
      const rows = JSON.parse(page.json).changes.patients?.created ?? [];
      for (const r of rows) {
        assert.ok(!seen.has(r.id), `${r.id} sent once`);
        seen.add(r.id);
      }
      // Within the budget plus the rest of the last stamp (50 rows).
      assert.ok(page.json.length <= budget + 50 * 1300, `page of ${page.json.length} bytes`);
      const device = t.store.devices.get("dev-1")!;
      assert.equal(device.waitingRows, page.waiting);
      if (!page.more) {
        assert.equal(page.waiting, 0);
        break;
      }
      assert.equal(page.waiting, 600 - seen.size, "what is left is counted");
      cursor = page.timestamp;
    }
    assert.equal(seen.size, 600);
    assert.ok(pages + 1 >= 6, `${pages + 1} pages of ~100 KB for ~750 KB`);
  } finally {
    await t.close();
  }
});

Deno.test("devices: the admin API shows a catching-up phone's remaining records, then 0", async () => {
  const t = await startHub({ lan: { pullPageRows: 40 } });
  const admin = await adminClient(t.hub);
  try {
    const writer = await loggedInPhone(t.url);
    // Three pushes of 40 (a page ends on whole stamps; a push is one stamp per 500 rows).
    for (let s = 0; s < 3; s++) {
      const w = await writer.pull(0);
      await writer.push(w.timestamp, {
        patients: {
          created: Array.from({ length: 40 }, (_, i) => patientRow(`p${s}-${i}`, T0)),
          updated: [],
          deleted: [],
        },
      });
    }
    const tablet = await loggedInPhone(t.url, undefined, { deviceName: "Nurse's tablet" });
    const waiting = async () =>
      ((await admin.get("/api/devices")).body.devices as Record<string, unknown>[])
        .find((d) => d.clientId === tablet.clientId)!.waitingRows as number;
    let cursor = 0;
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) {
      const page = await tablet.pull(cursor);
      seen.push(await waiting());
      if (page.timestamp === cursor || Object.keys(page.changes).length === 0) break;
      cursor = page.timestamp;
    }
    assert.ok(
      seen[0] >= 80 && seen[0] < 120,
      `after the first page most is still waiting (${seen[0]})`,
    );
    assert.ok(seen.every((n, i) => i === 0 || n <= seen[i - 1]), `decreasing: ${seen}`);
    assert.equal(seen.at(-1), 0, "caught up");
  } finally {
    await admin.server.close();
    await t.close();
  }
});

Deno.test("pull pages: rows that grow after the first ones still keep a page near its budget", async () => {
  const t = await startHub({ seed: false });
  try {
    // 40 small events, then 300 events of ~20 KB, 10 rows a stamp.
    t.store.transaction(() => {
      for (let i = 0; i < 340; i++) {
        if (i % 10 === 0) t.store.clock.next();
        const stamp = t.store.clock.handOut();
        const formData = JSON.stringify([{ value: "y".repeat(i < 40 ? 10 : 20_000) }]);
        storeConnection(t.store).prepare(
          `INSERT INTO events (id, patient_id, form_data, metadata, updated_at,
             local_server_created_at, local_server_last_modified_at) VALUES (?, 'p', ?, '{}', ?, ?, ?)`,
        ).run(`e${i}`, formData, T0, stamp, stamp);
      }
    });
    const budget = 256 * 1024;
    let cursor = 0;
    let got = 0;
    for (let pages = 0; pages < 200; pages++) {
      const page = t.store.phoneSync.pull(cursor, { maxBytes: budget });
      // The budget plus at most one stamp (10 rows of ~20 KB).
      assert.ok(page.json.length <= budget + 10 * 21_000, `page of ${page.json.length} bytes`);
      got += JSON.parse(page.json).changes.events?.created.length ?? 0;
      if (!page.more) break;
      cursor = page.timestamp;
    }
    assert.equal(got, 340);
  } finally {
    await t.close();
  }
});
