/**
 * A restarted hub is reached again from the same address: the tab left open
 * (and a reload of it) lands on the passphrase screen, not on "open this page
 * from the hub", and the passphrase brings the dashboard back.
 */
import assert from "node:assert/strict";
import { Hub } from "../../hub/mod.ts";
import { type AdminServer, startAdminServer } from "../../ui/mod.ts";
import {
  browserTest,
  launchBrowser,
  openAdmin,
  screenshotSizes,
  startUiHub,
  testLogger,
} from "./_browser.ts";

const PASSPHRASE = "correct horse battery staple";

async function restart(dataDir: string, port: number): Promise<{ hub: Hub; admin: AdminServer }> {
  const hub = new Hub({
    logger: testLogger,
    dataDir,
    version: "test",
    lan: { host: "127.0.0.1", port: 0 },
    vault: { iterations: 1000, allowWeakKdfForTests: true },
  });
  await hub.init();
  const admin = await startAdminServer(hub, { port });
  return { hub, admin };
}

Deno.test({
  ...browserTest("restart: the open tab and a reload reach the hub again and offer to unlock"),
  async fn() {
    const h = await startUiHub();
    const port = h.admin.port;
    await h.hub.setup(PASSPHRASE);
    await using browser = await launchBrowser();
    const { page } = browser;
    let current: { hub: Hub; admin: AdminServer } = { hub: h.hub, admin: h.admin };
    try {
      await openAdmin(page, h.admin);
      await page.getByTestId("dashboard").waitFor();
      // The hub stops (process exit locks it) and starts again on the same port.
      await h.admin.close();
      await h.hub.shutdown();
      current = await restart(h.dataDir, port);
      // The tab left open finds it and asks for the passphrase.
      await page.getByTestId("sign-in").waitFor({ timeout: 20_000 });
      await page.getByRole("heading", { name: "Unlock the hub" }).waitFor();
      assert.equal(await page.getByTestId("no-session").count(), 0);
      await screenshotSizes(page, "30-after-restart-unlock");
      await page.getByLabel("Passphrase", { exact: true }).fill("a wrong passphrase here");
      await page.getByTestId("unlock-button").click();
      await page.getByTestId("unlock-error").waitFor();
      assert.equal(current.hub.state, "locked");
      await page.waitForTimeout(1100); // the throttle's first delay
      await page.getByLabel("Passphrase", { exact: true }).fill(PASSPHRASE);
      await page.getByTestId("unlock-button").click();
      await page.getByTestId("dashboard").waitFor();
      assert.equal(current.hub.state, "unlocked");

      // Restart again; this time the operator reloads. The hub was unlocked
      // headless meanwhile, so the page only asks for the passphrase to sign in.
      await current.admin.close();
      await current.hub.shutdown();
      current = await restart(h.dataDir, port);
      await current.hub.unlock(PASSPHRASE);
      await page.reload();
      await page.getByTestId("sign-in").waitFor();
      await page.getByRole("heading", { name: "Enter the passphrase" }).waitFor();
      await screenshotSizes(page, "31-after-restart-sign-in");
      await page.getByLabel("Passphrase", { exact: true }).fill(PASSPHRASE);
      await page.getByTestId("unlock-button").click();
      await page.getByTestId("dashboard").waitFor();
      assert.deepEqual(browser.pageErrors.filter((e) => !/401|Failed to load/.test(e)), []);
    } finally {
      await current.admin.close().catch(() => {});
      await current.hub.shutdown().catch(() => {});
      await Deno.remove(h.dataDir, { recursive: true }).catch(() => {});
    }
  },
});
