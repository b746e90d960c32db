/**
 * In a real browser: "Back up now" on the dashboard writes a verified backup and
 * the card shows it (live, from the event stream); the first-run screen of a new
 * hub restores that file and shows what may be missing.
 */
import assert from "node:assert/strict";
import { join } from "../../core/mod.ts";
import {
  browserTest,
  launchBrowser,
  openAdmin,
  screenshot,
  startUiHub,
  until,
} from "./_browser.ts";

const PASSPHRASE = "correct horse battery staple";

Deno.test({
  ...browserTest(
    "backups: back up now from the dashboard, restore it on a new hub's first-run screen",
  ),
  async fn() {
    await using h = await startUiHub();
    const backupDir = join(h.dataDir, "..", `${h.dataDir.split("/").pop()}-B`);
    await h.hub.setup(PASSPHRASE);
    await h.hub.backups.updateSettings({ dir: backupDir });
    await using browser = await launchBrowser();
    const { page } = browser;
    try {
      await openAdmin(page, h.admin);
      await page.locator("#backups").waitFor();
      assert.match(await page.locator("[data-testid=backup-last]").innerText(), /No good backup/);
      await page.click("[data-testid=backup-now]");
      await page.locator("[data-testid=backup-done]").waitFor();
      const file = await until(
        () => page.locator("[data-testid=backup-last]").getAttribute("data-file"),
        "the card to show the last good backup",
      );
      assert.match(await page.locator("[data-testid=backup-last]").innerText(), /Last good backup/);
      const names = [...Deno.readDirSync(backupDir)].map((e) => e.name);
      assert.deepEqual(names, [file]);
      await screenshot(page, "backups-card");

      // A new hub restores it from its first-run screen.
      await using fresh = await startUiHub();
      await openAdmin(page, fresh.admin);
      await page.click("[data-testid=restore-open]");
      await page.setInputFiles("#restore-file", join(backupDir, file));
      await page.fill("#restore-pass", "a wrong passphrase here");
      await page.click("[data-testid=restore-form] button[type=submit]");
      assert.match(
        await page.locator("[data-testid=restore-error]").innerText(),
        /passphrase the hub had/,
      );
      await page.fill("#restore-pass", PASSPHRASE);
      await page.click("[data-testid=restore-form] button[type=submit]");
      await page.locator("[data-testid=backup-restored]").waitFor({ timeout: 20_000 });
      assert.match(
        await page.locator("[data-testid=backup-restored]").innerText(),
        /may be missing/,
      );
      assert.equal(fresh.hub.state, "unlocked");
      // The health line warns until the operator says it was read.
      assert.match(await page.locator("body").innerText(), /may be missing/);
      await screenshot(page, "backups-restored");
      await page.click("[data-testid=backup-restored-ack]");
      await page.locator("[data-testid=backup-restored-ack]").waitFor({ state: "detached" });
      await screenshot(page, "backups-restored");
      // Failed requests (the 401 of the wrong passphrase, /api/update 404 without an updater) aside.
      assert.deepEqual(browser.pageErrors.filter((e) => !/status of (401|404|423)/.test(e)), []);
    } finally {
      await Deno.remove(backupDir, { recursive: true }).catch(() => {});
    }
  },
});
