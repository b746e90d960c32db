/**
 * The dashboard updates from the hub's events, not by polling: a phone that
 * pairs and a conflict it causes show on the open page within a second, while
 * the page sends no `/api/status` or `/api/devices` request, and an idle page
 * sends no request at all (nor does the hub read its status for it).
 */
import assert from "node:assert/strict";
import { loggedInPhone, NURSE, patientRow, seedPeople } from "../server/_fixtures.ts";
import { browserTest, launchBrowser, openAdmin, startUiHub } from "./_browser.ts";

const PASSPHRASE = "correct horse battery staple";

Deno.test({
  ...browserTest("live: a new device and a conflict show within a second, without polling"),
  async fn() {
    await using h = await startUiHub();
    await h.hub.setup(PASSPHRASE);
    seedPeople(h.hub.store, Date.now());
    await h.hub.startServer();
    const lan = `http://127.0.0.1:${h.hub.server.port}`;

    await using browser = await launchBrowser();
    const { page } = browser;
    const requests: string[] = [];
    page.on("request", (r) => requests.push(new URL(r.url()).pathname));
    await openAdmin(page, h.admin);
    await page.getByTestId("dashboard").waitFor();
    await page.getByTestId("conflicts-none").waitFor();
    // Let the first reads and the event stream's start settle, then watch.
    await page.waitForTimeout(500);
    assert.ok(requests.includes("/api/events"), "the page listens to the event stream");
    requests.length = 0;

    // A phone pairs: its row appears on the page.
    const phone = await loggedInPhone(lan, NURSE, { deviceName: "Live ward tablet" });
    const paired = Date.now();
    await page.getByTestId("devices").getByText("Live ward tablet").waitFor({ timeout: 1000 });
    const deviceMs = Date.now() - paired;

    // The phone pushes a row, then an older version of it: a conflict appears.
    const at = Date.now();
    await phone.push(null, { patients: { created: [patientRow("live-p1", at)], updated: [] } });
    await phone.push(null, {
      patients: {
        created: [],
        updated: [patientRow("live-p1", at - 60_000, { _status: "updated" })],
      },
    });
    const pushed = Date.now();
    await page.getByTestId("conflict").first().waitFor({ timeout: 1000 });
    const conflictMs = Date.now() - pushed;
    assert.ok(deviceMs < 1000 && conflictMs < 1000, `${deviceMs} ms, ${conflictMs} ms`);

    // The device's row counts came in the events too (one row pushed).
    await page.getByTestId("device-from-phone").filter({ hasText: "1" }).waitFor({ timeout: 1000 });

    // None of it was read by polling: no status or device list was asked for.
    assert.deepEqual(requests.filter((p) => p === "/api/status" || p === "/api/devices"), []);
    // The conflict list is read once, because the `conflicts` event said it changed.
    assert.ok(requests.includes("/api/conflicts"));

    // An idle page asks for nothing (the stream stays open; no timer reads), and
    // the hub does not read its status behind the stream either.
    let statusReads = 0;
    const status = h.hub.status.bind(h.hub);
    h.hub.status = () => (statusReads++, status());
    requests.length = 0;
    await page.waitForTimeout(2500);
    assert.deepEqual(requests, []);
    assert.equal(statusReads, 0, "no status read while nothing happened");
    assert.deepEqual(browser.pageErrors.filter((e) => !e.includes("Failed to load resource")), []);
  },
});
