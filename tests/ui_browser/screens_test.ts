/**
 * The page's other paths in a real browser: a first run by keyboard alone, the
 * "address already in use" explanation, the forgotten-passphrase reset, the
 * idle auto-lock, the updates banner (hidden without an update API), a foreign
 * web page that tries to drive the admin API, and the notice when the hub goes
 * away. Screenshots go to tests/screenshots/.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import type { Updater, UpdateStatus } from "../../update/mod.ts";
import {
  browserTest,
  completeFirstRun,
  launchBrowser,
  openAdmin,
  screenshot,
  startUiHub,
  type UiHub,
  until,
} from "./_browser.ts";

const PASSPHRASE = "correct horse battery staple";

/** Sets the hub up through the page (mouse), skipping the cloud, ending on the dashboard. */
async function setUpThroughPage(page: Page, h: UiHub): Promise<void> {
  await openAdmin(page, h.admin);
  await completeFirstRun(page, PASSPHRASE);
}

Deno.test({
  ...browserTest("keyboard only: the first run and the dashboard's tabs work without a mouse"),
  async fn() {
    await using h = await startUiHub();
    await using browser = await launchBrowser();
    const { page } = browser;
    await openAdmin(page, h.admin);
    await page.getByRole("heading", { name: "Set up this hub" }).waitFor();
    const focused = () => page.evaluate("document.activeElement && document.activeElement.id");
    // The first field has the focus when the screen appears.
    assert.equal(await focused(), "setup-pass");
    await page.keyboard.type(PASSPHRASE);
    await page.keyboard.press("Tab"); // "Show"
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "setup-pass2");
    await page.keyboard.type(PASSPHRASE);
    await page.keyboard.press("Tab"); // "Show"
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "setup-understood");
    await page.keyboard.press("Space");
    await page.keyboard.press("Enter"); // submits the form
    await page.getByRole("heading", { name: "Link to the cloud" }).waitFor();
    assert.equal(h.hub.state, "unlocked");
    // Tab to "Skip for now" and press it.
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press("Tab");
      const text = await page.evaluate("document.activeElement.textContent");
      if (text === "Skip for now") break;
    }
    await page.keyboard.press("Enter");
    await page.getByTestId("pair-qr").waitFor();
    await page.getByTestId("firstrun-done").focus();
    await page.keyboard.press("Enter");
    await page.getByTestId("dashboard").waitFor();
    await page.getByTestId("nav-maintenance").focus();
    await page.keyboard.press("Enter");
    await page.getByTestId("maintenance").waitFor();
    // The new screen's heading took the focus; the next Tab lands on its first
    // control, drawn with a visible focus ring.
    // (The heading takes it in an effect after the screen appears: wait for it, up to 10 s.)
    await until(
      async () => (await page.evaluate("document.activeElement.tagName")) === "H1",
      "the maintenance heading to take the focus",
    );
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate("document.activeElement.textContent"), "Lock now");
    const outline = await page.evaluate(
      "getComputedStyle(document.activeElement).outlineStyle",
    );
    assert.notEqual(outline, "none");
    await screenshot(page, "20-keyboard-focus");
  },
});

Deno.test({
  ...browserTest("dashboard: a taken LAN port is explained, and the server starts once it is free"),
  async fn() {
    const blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (blocker.addr as Deno.NetAddr).port;
    await using h = await startUiHub({ hub: { lan: { host: "127.0.0.1", port } } });
    await using browser = await launchBrowser();
    const { page } = browser;
    await openAdmin(page, h.admin);
    await page.getByLabel("Passphrase", { exact: true }).fill(PASSPHRASE);
    await page.getByLabel("Passphrase again").fill(PASSPHRASE);
    await page.getByLabel(/I understand/).check();
    await page.getByRole("button", { name: "Set up the hub" }).click();
    await page.getByRole("button", { name: "Skip for now" }).click();
    // The pairing step needs the server, which could not start.
    await page.getByTestId("pair-stopped").waitFor();
    await page.getByTestId("firstrun-done").click();
    await page.getByRole("button", { name: "Start server" }).click();
    const notice = await page.getByTestId("server-in-use").innerText();
    assert.match(notice, /already in use/);
    assert.match(notice, /Close the other program/);
    await screenshot(page, "21-port-in-use");
    blocker.close();
    await page.getByRole("button", { name: "Start server" }).click();
    await page.locator('[data-testid="server-state"][data-running="true"]').waitFor();
    assert.equal(await page.getByTestId("server-in-use").count(), 0);
    assert.equal(h.hub.server.port, port);
  },
});

Deno.test({
  ...browserTest("forgot passphrase: typing RESET erases the hub and the first run starts again"),
  async fn() {
    await using h = await startUiHub();
    await using browser = await launchBrowser();
    const { page } = browser;
    await setUpThroughPage(page, h);
    await page.getByTestId("lock").click();
    await page.getByRole("button", { name: "Forgot the passphrase?" }).click();
    await page.getByLabel(/type RESET/).fill("RESET");
    await page.getByRole("button", { name: "Erase this hub" }).click();
    await page.getByRole("heading", { name: "Set up this hub" }).waitFor();
    assert.equal(h.hub.state, "new");
  },
});

Deno.test({
  ...browserTest(
    "auto-lock: chosen in maintenance; after the idle time the page shows why it is locked",
  ),
  async fn() {
    const clock = { t: Date.now() };
    await using h = await startUiHub({
      admin: { now: () => clock.t, autoLockCheckMs: 3_600_000 },
    });
    await using browser = await launchBrowser();
    const { page } = browser;
    await setUpThroughPage(page, h);
    await page.getByTestId("nav-maintenance").click();
    await page.getByLabel("Lock after").selectOption("15");
    await page.getByText("Saved.").waitFor();
    clock.t += 16 * 60_000;
    assert.equal(await h.admin.autoLock.check(), true);
    await page.getByTestId("autolocked").getByText(/15 minutes without activity/).waitFor();
    await screenshot(page, "22-auto-locked");
    assert.equal(h.hub.state, "locked");
  },
});

/** A stand-in for the updater with a fixed status (the admin API only calls these). */
function fakeUpdater(status: UpdateStatus): Updater & { installs: number } {
  const watchers = new Set<(s: UpdateStatus) => void>();
  const fake = {
    installs: 0,
    status: () => ({ ...status }),
    check: () => Promise.resolve({ ...status }),
    // Like the real updater, it tells its watchers (the admin stream) of each change.
    watch: (fn: (s: UpdateStatus) => void) => {
      watchers.add(fn);
      return () => watchers.delete(fn);
    },
    install: () => {
      fake.installs++;
      status.state = "downloading";
      status.progress = { received: 512, total: 1024 };
      for (const fn of watchers) fn({ ...status });
      return Promise.resolve({ ...status });
    },
  };
  return fake as unknown as Updater & { installs: number };
}

Deno.test({
  ...browserTest(
    "updates banner: hidden without an update API; shows a new version and installs on click",
  ),
  async fn() {
    await using plain = await startUiHub();
    await using browser = await launchBrowser();
    await setUpThroughPage(browser.page, plain);
    await browser.page.waitForTimeout(300);
    assert.equal(await browser.page.getByTestId("update-banner").count(), 0);

    const updater = fakeUpdater({
      state: "available",
      current: "test",
      latest: "9.9.9",
      notes: "Faster sync.",
      pubDate: null,
      progress: null,
      error: null,
      retryable: false,
      checkedAt: Date.now(),
      canInstall: true,
    });
    await using h = await startUiHub({ admin: { updater } });
    const page = await browser.context.newPage();
    await setUpThroughPage(page, h);
    const banner = page.getByTestId("update-banner");
    await banner.getByText("Version 9.9.9 of the hub is available.").waitFor();
    await screenshot(page, "23-update-available");
    assert.equal(updater.installs, 0, "never installs without a click");
    await page.getByTestId("update-install").click();
    await banner.getByText(/Downloading the update… 50 %/).waitFor();
    assert.equal(updater.installs, 1);
  },
});

Deno.test({
  ...browserTest(
    "a page from another origin cannot drive the admin API, even with the session cookie",
  ),
  async fn() {
    await using h = await startUiHub();
    await using browser = await launchBrowser();
    const { page } = browser;
    await setUpThroughPage(page, h);
    // The operator's browser (holding the session cookie) visits a hostile page.
    const evil = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
      new Response(
        "<!doctype html><title>evil</title><p>hi</p>",
        { headers: { "content-type": "text/html" } },
      ));
    try {
      const evilPage = await browser.context.newPage();
      await evilPage.goto(`http://127.0.0.1:${evil.addr.port}/`);
      const results = await evilPage.evaluate(`(async () => {
        const out = [];
        for (const init of [
          { method: "POST", mode: "no-cors", credentials: "include" },
          { method: "POST", mode: "no-cors", credentials: "include",
            headers: { "content-type": "text/plain" }, body: "{}" },
        ]) {
          try { await fetch(${JSON.stringify(h.admin.url)} + "/api/lock", init); out.push("sent"); }
          catch (e) { out.push("blocked"); }
        }
        let read = "unreadable";
        try {
          const r = await fetch(${
        JSON.stringify(h.admin.url)
      } + "/api/status", { credentials: "include" });
          read = String(r.status);
        } catch { /* CORS */ }
        out.push(read);
        return out;
      })()`) as string[];
      assert.equal(results[2], "unreadable", "the status cannot be read cross-origin");
      assert.equal(h.hub.state, "unlocked", "the hostile page could not lock the hub");
      await evilPage.close();
    } finally {
      await evil.shutdown();
    }
  },
});

Deno.test({
  ...browserTest("the page says so when the hub goes away"),
  async fn() {
    const h = await startUiHub();
    try {
      await using browser = await launchBrowser();
      const { page } = browser;
      await setUpThroughPage(page, h);
      await h.admin.close();
      await page.getByTestId("offline").waitFor();
      await until(async () => (await page.getByTestId("offline").innerText()).length > 0, "notice");
      await screenshot(page, "24-connection-lost");
    } finally {
      await h.close();
    }
  },
});

Deno.test({
  ...browserTest(
    "session: without the launch link the page says how to open it; the desktop binding logs in",
  ),
  async fn() {
    await using h = await startUiHub();
    await using browser = await launchBrowser();
    const { page } = browser;
    await page.goto(`${h.admin.url}/`);
    await page.getByTestId("no-session").waitFor();
    await screenshot(page, "25-no-session");
    // deno desktop: the window's page asks for a launch code through a binding.
    const desktop = await browser.context.newPage();
    const code = h.admin.guard.newLaunchCode();
    await desktop.addInitScript(
      `window.bindings = { hubLaunchCode: async () => ${JSON.stringify(code)} };`,
    );
    await desktop.goto(`${h.admin.url}/`);
    await desktop.getByRole("heading", { name: "Set up this hub" }).waitFor();
  },
});
