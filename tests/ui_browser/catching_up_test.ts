/**
 * A phone catching up on a big hub: the app pulls one page per sync, so the
 * dashboard says how much is still waiting for it and what to do ("press Sync
 * on it again"), and the line goes away once it has everything.
 */
import assert from "node:assert/strict";
import { browserTest, launchBrowser, openAdmin, screenshot, startUiHub } from "./_browser.ts";
import { storeConnection } from "../../store/testing.ts";

const PASSPHRASE = "correct horse battery staple";

Deno.test({
  ...browserTest("dashboard: a catching-up device shows its remaining records until it is done"),
  async fn() {
    await using h = await startUiHub();
    await h.hub.setup(PASSPHRASE);
    const store = h.hub.store;
    // 3 transactions of 40 patients; a device that pulled one 40-row page.
    store.transaction(() => {
      for (let s = 0; s < 3; s++) {
        const stamp = store.clock.next();
        for (let i = 0; i < 40; i++) {
          storeConnection(store).prepare(
            `INSERT INTO patients (id, given_name, additional_data, metadata,
               local_server_created_at, local_server_last_modified_at) VALUES (?, 'P', '{}', '{}', ?, ?)`,
          ).run(`p${s}-${i}`, stamp, stamp);
        }
      }
    });
    store.devices.touch("tablet-1", "Nurse's tablet", Date.now());
    const first = store.phoneSync.pull(0, { maxRows: 40, deviceId: "tablet-1" });
    assert.ok(first.more);

    await using browser = await launchBrowser();
    const { page } = browser;
    await openAdmin(page, h.admin);
    await page.getByTestId("dashboard").waitFor();
    const line = page.getByTestId("device-catching-up");
    await line.waitFor();
    assert.equal(
      await line.innerText(),
      `Nurse's tablet: ${first.waiting} records still to download — press Sync on it again`,
    );
    assert.equal(first.waiting, 80);
    assert.match(await page.getByTestId("health-downloading").innerText(), /1 device still/);
    assert.match(await page.getByTestId("device-waiting").innerText(), /80 still to download/);
    // The health line's link leads to the devices card.
    assert.ok(await page.getByTestId("health-fix-downloading").count());
    await screenshot(page, "30-device-catching-up");

    // The tablet syncs twice more and has everything: the lines go (live, no reload).
    let cursor = first.timestamp;
    for (let i = 0; i < 2; i++) {
      cursor = store.phoneSync.pull(cursor, { maxRows: 40, deviceId: "tablet-1" })
        .timestamp;
    }
    // This test pulls on the store directly; tell the hub what sync_pull would publish.
    h.hub.events.publish("sync", {
      device: "tablet-1",
      kind: "pull",
      rows: 80,
      conflicts: 0,
      refused: 0,
    });
    await line.waitFor({ state: "detached" });
    assert.equal(await page.getByTestId("health-downloading").count(), 0);
    // (The update API answers 404 in a build without an updater: not a page error.)
    assert.deepEqual(browser.pageErrors.filter((e) => !e.includes("Failed to load resource")), []);
  },
});
