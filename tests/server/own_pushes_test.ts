/**
 * SPEC §5 as the real app needs it: deletions reach every phone (as `{id}`
 * objects, also of rows created after the cursor), and a device never gets its
 * own latest pushes back, while everything it does not hold still reaches it.
 *
 * The app's sync: pull from its cursor C → timestamp T, apply, push (its rows),
 * and only then store T. So a push happens between the pull that returned T and
 * the next pull from T.
 */
import assert from "node:assert/strict";
import { loggedInPhone, NURSE, patientRow, startHub, storedRow } from "./_fixtures.ts";
import type { PhoneClient } from "../phone_client.ts";

const T0 = 1_750_000_000_000;

/** One sync as the app makes it: pull from `cursor`, push `changes`, return the new cursor. */
async function appSync(phone: PhoneClient, cursor: number, changes: unknown = {}) {
  const pulled = await phone.pull(cursor);
  await phone.push(cursor, changes);
  return { pulled, cursor: pulled.timestamp };
}

function ids(list: { id?: unknown }[] | undefined): string[] {
  return (list ?? []).map((r) => String(r.id)).sort();
}

Deno.test("deletions: a row pushed by A and deleted by B reaches A as {id}, though created after A's cursor", async () => {
  const t = await startHub();
  try {
    const a = await loggedInPhone(t.url);
    const b = await loggedInPhone(t.url);
    let ca = (await appSync(a, 0)).cursor;
    // A pushes P in the same sync (after its pull, with the older cursor kept).
    const s1 = await appSync(a, ca, {
      patients: { created: [patientRow("P", T0)], updated: [], deleted: [] },
    });
    ca = s1.cursor;
    // B gets P and deletes it.
    const b0 = await b.pull(0);
    assert.deepEqual(ids(b0.changes.patients.created).includes("P"), true);
    await b.push(b0.timestamp, { patients: { created: [], updated: [], deleted: [{ id: "P" }] } });
    // A's next pull starts before P was first received: P was created after the
    // cursor and deleted since; A holds it, so the deletion must reach it.
    const a2 = await a.pull(ca);
    assert.deepEqual(a2.changes.patients.deleted, [{ id: "P" }]);
    assert.deepEqual(a2.changes.patients.created, []);
    // A fresh phone gets P only as a deletion (it ignores deletions of rows it lacks).
    const c = await loggedInPhone(t.url);
    const c0 = await c.pull(0);
    assert.ok(!ids(c0.changes.patients.created).includes("P"));
    assert.ok(c0.changes.patients.deleted.some((d) => d.id === "P"));
  } finally {
    await t.close();
  }
});

Deno.test("own pushes: register, sync, delete, sync — the device never gets its row back", async () => {
  const t = await startHub();
  try {
    const a = await loggedInPhone(t.url);
    let cursor = (await appSync(a, 0)).cursor;
    // Sync 1 pushes the new patient (and an event and a deletion of a row it had).
    const s1 = await appSync(a, cursor, {
      patients: { created: [patientRow("R1", T0)], updated: [], deleted: [] },
      events: { created: [], updated: [], deleted: ["E-gone"] },
    });
    assert.deepEqual(s1.pulled.changes, {});
    cursor = s1.cursor;
    assert.equal(storedRow(t.store, "patients", "R1")!.local_server_pushed_by, a.clientId);
    // The user deletes R1 locally; the app cannot push that (its own defect), so
    // sync 2 pushes nothing. Its pull must not bring R1 back as `created`.
    const s2 = await appSync(a, cursor);
    assert.deepEqual(s2.pulled.changes, {}, "neither R1 nor the tombstone comes back");
    // An update pushed later is the device's own too.
    const s3 = await appSync(a, s2.cursor, {
      patients: {
        created: [],
        updated: [patientRow("R1", T0 + 10, { given_name: "Edited" })],
        deleted: [],
      },
    });
    const s4 = await appSync(a, s3.cursor);
    assert.deepEqual(s4.pulled.changes, {});
    // Another phone gets all of it.
    const b = await loggedInPhone(t.url);
    const b0 = await b.pull(0);
    assert.equal(b0.changes.patients.created.find((r) => r.id === "R1")!.given_name, "Edited");
    assert.ok(b0.changes.events.deleted.some((d) => d.id === "E-gone"));
  } finally {
    await t.close();
  }
});

Deno.test("own pushes: what the device does not hold still reaches it", async (ctx) => {
  const t = await startHub();
  try {
    const a = await loggedInPhone(t.url);
    const b = await loggedInPhone(t.url);
    let ca = (await appSync(a, 0)).cursor;
    const s1 = await appSync(a, ca, {
      patients: {
        created: [
          patientRow("O1", T0),
          patientRow("O2", T0),
          patientRow("O3", T0),
          patientRow("O4", T0), // stays A's own to the end
        ],
        updated: [],
        deleted: [],
      },
    });
    ca = s1.cursor;

    await ctx.step("a row it wrote through an online procedure", async () => {
      const r = await a.command("register_patient", {
        patient: { id: "ONLINE", given_name: "Nour", surname: "Saleh", sex: "female" },
        additional_attributes: [],
      });
      assert.ok(r.success, r.error);
      const s = await appSync(a, ca);
      assert.deepEqual(ids(s.pulled.changes.patients.created), ["ONLINE"]);
      ca = s.cursor;
    });

    await ctx.step("another device's later change to its row", async () => {
      const b0 = await b.pull(0);
      await b.push(b0.timestamp, {
        patients: {
          created: [],
          updated: [patientRow("O1", T0 + 1000, { given_name: "By B" })],
          deleted: [],
        },
      });
      const s = await appSync(a, ca);
      assert.deepEqual(s.pulled.changes.patients.updated.map((r) => r.given_name), ["By B"]);
      assert.deepEqual(s.pulled.changes.patients.created, []);
      ca = s.cursor;
    });

    await ctx.step("its pushed version that lost a conflict", async () => {
      // B's newer edit of O2 lands first; A pushes an older edit, which loses.
      const bNow = await b.pull(0);
      await b.push(bNow.timestamp, {
        patients: {
          created: [],
          updated: [patientRow("O2", T0 + 5000, { given_name: "Newer by B" })],
          deleted: [],
        },
      });
      const s = await appSync(a, ca, {
        patients: {
          created: [],
          updated: [patientRow("O2", T0 + 2000, { given_name: "Older by A" })],
          deleted: [],
        },
      });
      ca = s.cursor;
      const next = await appSync(a, ca);
      const o2 = [...next.pulled.changes.patients?.updated ?? []].find((r) => r.id === "O2");
      assert.equal(o2?.given_name, "Newer by B", "A gets the version that won");
      ca = next.cursor;
    });

    await ctx.step("a row it pushed and that was deleted here before its push landed", async () => {
      const bNow = await b.pull(0);
      await b.push(bNow.timestamp, {
        patients: { created: [], updated: [], deleted: [{ id: "O3" }] },
      });
      const s = await appSync(a, ca, {
        patients: {
          created: [],
          updated: [patientRow("O3", T0 + 9000, { given_name: "Edit of a deleted row" })],
          deleted: [],
        },
      });
      const next = await a.pull(s.cursor);
      assert.deepEqual(next.changes.patients.deleted, [{ id: "O3" }]);
      ca = next.timestamp;
    });

    await ctx.step("a wiped device (same client id) pulling from 0 gets everything", async () => {
      assert.equal(storedRow(t.store, "patients", "O4")!.local_server_pushed_by, a.clientId);
      const wiped = await loggedInPhone(t.url, NURSE, { clientId: a.clientId });
      const all = await wiped.pull(0);
      const live = ids(all.changes.patients.created);
      for (const id of ["O1", "O2", "O4", "ONLINE"]) assert.ok(live.includes(id), id);
      assert.ok(all.changes.patients.deleted.some((d) => d.id === "O3"));
    });
  } finally {
    await t.close();
  }
});

Deno.test("own pushes: a device starting over gets its old pushes on every page, then they stop again", async () => {
  const t = await startHub({ lan: { pullPageRows: 10 } });
  try {
    const a = await loggedInPhone(t.url);
    const other = await loggedInPhone(t.url);
    // Someone else's 25 rows, then A's 15.
    const o0 = await other.pull(0);
    await other.push(o0.timestamp, {
      patients: {
        created: Array.from({ length: 25 }, (_, i) => patientRow(`X${i}`, T0)),
        updated: [],
        deleted: [],
      },
    });
    let cursor = 0;
    for (let i = 0; i < 10; i++) {
      const p = await a.pull(cursor);
      if (p.timestamp === cursor || Object.keys(p.changes).length === 0) break;
      cursor = p.timestamp;
    }
    const s = await appSync(a, cursor, {
      patients: {
        created: Array.from({ length: 15 }, (_, i) => patientRow(`A${i}`, T0)),
        updated: [],
        deleted: [],
      },
    });
    assert.deepEqual((await a.pull(s.cursor)).changes, {}, "its own rows stay away");
    // The phone is wiped and starts over from 0; its rows arrive on later pages,
    // where the page cursor is already past the pull before its push.
    const got = new Set<string>();
    cursor = 0;
    for (let i = 0; i < 20; i++) {
      const p = await a.pull(cursor);
      for (const r of p.changes.patients?.created ?? []) got.add(String(r.id));
      if (p.timestamp === cursor || Object.keys(p.changes).length === 0) break;
      cursor = p.timestamp;
    }
    assert.equal(got.size, 40, "all 25 + 15 rows reach the wiped device");
    // After it pushes anew, its new rows stay away again.
    const s2 = await appSync(a, cursor, {
      patients: { created: [patientRow("A-new", T0)], updated: [], deleted: [] },
    });
    assert.deepEqual((await a.pull(s2.cursor)).changes, {});
  } finally {
    await t.close();
  }
});

Deno.test("own pushes: a lost push reply, then a pull from the older cursor, brings back nothing it deleted", async () => {
  const t = await startHub();
  try {
    const a = await loggedInPhone(t.url);
    let cursor = (await appSync(a, 0)).cursor;
    // Sync k pushes P; the user then deletes P on the phone (not pushable).
    cursor = (await appSync(a, cursor, {
      patients: { created: [patientRow("P", T0)], updated: [], deleted: [] },
    })).cursor;
    // Sync k+1: the pull and the push of Q happen, but the reply to the push is
    // lost, so the phone keeps its cursor.
    await appSync(a, cursor, {
      patients: { created: [patientRow("Q", T0)], updated: [], deleted: [] },
    });
    // Sync k+2 from the older cursor: P must not come back (the phone deleted
    // it); Q may (the phone holds it: it merges).
    for (let i = 0; i < 2; i++) {
      const again = await a.pull(cursor);
      const created = ids(again.changes.patients?.created);
      assert.ok(!created.includes("P"), `P is not sent back (try ${i + 1})`);
      assert.ok(!ids(again.changes.patients?.updated).includes("P"));
    }
  } finally {
    await t.close();
  }
});

Deno.test("own pushes: a row it created and someone else changed comes as `updated`, never `created`", async () => {
  const t = await startHub();
  try {
    const a = await loggedInPhone(t.url);
    const b = await loggedInPhone(t.url);
    let ca = (await appSync(a, 0)).cursor;
    ca = (await appSync(a, ca, {
      patients: { created: [patientRow("P", T0)], updated: [], deleted: [] },
    })).cursor;
    // B changes P before A syncs again; A has deleted P locally meanwhile.
    const b0 = await b.pull(0);
    await b.push(b0.timestamp, {
      patients: {
        created: [],
        updated: [patientRow("P", T0 + 1000, { given_name: "By B" })],
        deleted: [],
      },
    });
    const next = await a.pull(ca);
    assert.deepEqual(ids(next.changes.patients.created), [], "never `created` to its creator");
    assert.deepEqual(next.changes.patients.updated.map((r) => r.given_name), ["By B"]);
    // Another phone, and the creator after starting over, get it as `created`.
    const c = await loggedInPhone(t.url);
    assert.ok(ids((await c.pull(0)).changes.patients.created).includes("P"));
    const wiped = await loggedInPhone(t.url, NURSE, { clientId: a.clientId });
    assert.ok(ids((await wiped.pull(0)).changes.patients.created).includes("P"));
  } finally {
    await t.close();
  }
});

Deno.test("own pushes: a device's own rows do not fill its pages", async () => {
  const t = await startHub({ lan: { pullPageRows: 50 } });
  try {
    const a = await loggedInPhone(t.url);
    const b = await loggedInPhone(t.url);
    let ca = (await appSync(a, 0)).cursor;
    // A pushes 1,000 rows (two stamps of 500), then B one row.
    ca = (await appSync(a, ca, {
      patients: {
        created: Array.from({ length: 1000 }, (_, i) => patientRow(`A${i}`, T0)),
        updated: [],
        deleted: [],
      },
    })).cursor;
    const b0 = await b.pull(0);
    await b.push(b0.timestamp, {
      patients: { created: [patientRow("from-B", T0)], updated: [], deleted: [] },
    });
    const next = await a.pull(ca);
    assert.deepEqual(ids(next.changes.patients?.created), ["from-B"], "B's row on the first page");
    assert.deepEqual((await a.pull(next.timestamp)).changes, {});
  } finally {
    await t.close();
  }
});

Deno.test("made-up cursors: after a force upload's own-clock cursor, the changes in between still reach the device", async () => {
  const t = await startHub();
  try {
    const a = await loggedInPhone(t.url);
    const b = await loggedInPhone(t.url);
    const ca = (await appSync(a, 0)).cursor;
    // B registers X after A's last pull.
    const b0 = await b.pull(0);
    await b.push(b0.timestamp, {
      patients: { created: [patientRow("X", T0)], updated: [], deleted: [] },
    });
    // A's force upload: push with lastPulledAt = "since", then keep its own clock as
    // the cursor, without a pull. Its clock runs two hours ahead of the hub's.
    await a.push(T0, { patients: { created: [patientRow("F", T0)], updated: [], deleted: [] } });
    const ahead = Date.now() + 2 * 3_600_000;
    const a1 = await a.pull(ahead);
    assert.ok(ids(a1.changes.patients?.created).includes("X"), JSON.stringify(a1.changes));
    assert.ok(a1.timestamp < ahead, "it is handed the hub's own clock back");
    // From the cursor it was then handed, it is in step again: nothing is sent twice.
    const a2 = await a.pull(a1.timestamp);
    assert.deepEqual(a2.changes, {});
    // A cursor it was handed is taken as sent, even an older one.
    const a3 = await a.pull(ca);
    assert.ok(ids(a3.changes.patients?.created).includes("X"));
  } finally {
    await t.close();
  }
});

Deno.test("made-up cursors: a force upload's cursor from a phone clock in step with the hub still gets the changes in between", async () => {
  const t = await startHub();
  try {
    const a = await loggedInPhone(t.url);
    const b = await loggedInPhone(t.url);
    await appSync(a, 0);
    const b0 = await b.pull(0);
    await b.push(b0.timestamp, {
      patients: { created: [patientRow("Y", T0)], updated: [], deleted: [] },
    });
    // The phone keeps its clock's now (which is past Y's stamp) as its cursor.
    const own = Math.max(Date.now(), t.store.clock.current() + 1);
    const a1 = await a.pull(own);
    assert.ok(ids(a1.changes.patients?.created).includes("Y"), JSON.stringify(a1.changes));
  } finally {
    await t.close();
  }
});
