/**
 * The operator's walk through the page in a real browser (Debian Chromium via
 * playwright-core): first run → link to a cloud double → sync → stop and start
 * the phone server → the pairing QR decodes to the SPEC §8 JSON → a simulated
 * phone syncs and shows up in the device list and the chart → the cloud goes
 * offline → lock → unlock with a wrong, then the right passphrase → rotate the
 * key → clearing is refused while changes wait → revoke the phone. Each screen
 * is photographed into tests/screenshots/ (ignored by git).
 */
import assert from "node:assert/strict";
import jsQRModule from "jsqr";
import { PNG } from "pngjs";
import type { Page } from "playwright-core";
import { CloudDouble } from "../cloud_double.ts";
import { PhoneClient } from "../phone_client.ts";
import {
  browserTest,
  launchBrowser,
  openAdmin,
  phonePatient,
  screenshot,
  seedCloud,
  startUiHub,
  until,
  VIEWPORT,
} from "./_browser.ts";
import { storeConnection } from "../../store/testing.ts";

const PASSPHRASE = "correct horse battery staple";
const WRONG = "not the passphrase at all";
const CLINIC = "6f1f1c2e-3b8a-4c55-9d7e-0a1b2c3d4e5f";
const NURSE = {
  id: "0d9c7a51-64f0-4e37-8d0a-3f1e2b4c5d6e",
  email: "nurse@clinic.test",
  password: "s3cret-Passw0rd",
};

/** The page fits 1024 pixels across (no sideways scrolling). */
async function assertFitsWidth(page: Page): Promise<void> {
  const width = await page.evaluate("document.documentElement.scrollWidth") as number;
  assert(width <= VIEWPORT.width, `page is ${width}px wide at ${VIEWPORT.width}px`);
}

// jsqr is a CommonJS module whose typings declare an ES default export.
const jsQR = (jsQRModule as unknown as { default: typeof jsQRModule.default }).default;

/** Decodes the QR code the page shows, from a screenshot of it (what a phone camera sees). */
async function decodeQr(page: Page): Promise<string> {
  const png = PNG.sync.read(await page.getByTestId("pair-qr").screenshot());
  const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  assert(code, "the QR code on the page could not be decoded");
  return code.data;
}

/** Problems the page reported, minus the browser's own log line for each non-2xx fetch. */
function realErrors(errors: string[]): string[] {
  return errors.filter((e) => !e.includes("Failed to load resource"));
}

Deno.test({
  ...browserTest(
    "operator walk: first run, cloud, pairing, phone sync, lock/unlock, rotate, clear",
  ),
  async fn(t) {
    await using cloud = await CloudDouble.start({
      clinicIds: [CLINIC],
      hubName: "Al Amal Hub",
    });
    seedCloud(cloud, {
      clinic: CLINIC,
      nurse: NURSE,
      permissionId: "2c4e6a80-1b3d-4f5a-8c9e-0d1f2a3b4c5d",
    });
    await using h = await startUiHub();
    await using browser = await launchBrowser();
    const { page } = browser;
    const { hub } = h;

    await t.step("first run: passphrase twice, strength, no-backdoor warning", async () => {
      await openAdmin(page, h.admin);
      await page.getByRole("heading", { name: "Set up this hub" }).waitFor();
      assert.match(
        await page.getByTestId("setup-warning").innerText(),
        /cannot be recovered.*no backdoor/s,
      );
      await screenshot(page, "01-first-run");
      await page.getByLabel("Passphrase", { exact: true }).fill("short");
      assert.deepEqual(await page.getByTestId("strength").getAttribute("data-score"), "0");
      await page.getByLabel("Passphrase", { exact: true }).fill(PASSPHRASE);
      assert(Number(await page.getByTestId("strength").getAttribute("data-score")) >= 3);
      await page.getByLabel("Passphrase again").fill(PASSPHRASE);
      // The unticked box: the error says what to do, without repeating the box's label.
      await page.getByRole("button", { name: "Set up the hub" }).click();
      const unticked = await page.getByTestId("setup-problem").innerText();
      assert.match(unticked, /Tick the box/);
      assert.doesNotMatch(unticked, /I understand/);
      assert.equal(await page.getByLabel(/I understand/).getAttribute("aria-invalid"), "true");
      await page.getByLabel("Passphrase again").fill(PASSPHRASE + "x");
      await page.getByLabel(/I understand/).check();
      await page.getByRole("button", { name: "Set up the hub" }).click();
      assert.match(await page.getByTestId("setup-problem").innerText(), /different/);
      assert.deepEqual(hub.state, "new");
      await page.getByLabel("Passphrase again").fill(PASSPHRASE);
      await screenshot(page, "02-first-run-filled");
      await page.getByRole("button", { name: "Set up the hub" }).click();
      await page.getByRole("heading", { name: "Link to the cloud" }).waitFor();
      assert.deepEqual(hub.state, "unlocked");
      await assertFitsWidth(page);
    });

    await t.step("first run: link to the cloud double", async () => {
      await screenshot(page, "03-link-cloud");
      await page.getByLabel("Cloud server address").fill(cloud.url);
      await page.getByLabel("Hub API key").fill("hh_wrong");
      await page.getByRole("button", { name: "Link" }).click();
      // The hint and the error describe the key in the same words.
      const keyWords = "hh_ followed by 64 characters, each a digit 0–9 or a letter a–f";
      assert.ok((await page.locator("#main").innerText()).includes(keyWords), "hint wording");
      assert.ok((await page.getByTestId("cloud-error").innerText()).includes(keyWords));
      await page.getByLabel("Hub API key").fill(cloud.apiKey);
      await page.getByRole("button", { name: "Link" }).click();
      assert.match(await page.getByTestId("cloud-linked").innerText(), /Al Amal Hub.*1 clinic/);
      await screenshot(page, "04-link-cloud-done");
      await page.getByTestId("cloud-continue").click();
    });

    await t.step("first run: pair devices, then the dashboard", async () => {
      await page.getByTestId("pair-qr").waitFor();
      await screenshot(page, "05-first-run-pair");
      await assertFitsWidth(page);
      await page.getByTestId("firstrun-done").click();
      await page.getByTestId("dashboard").waitFor();
    });

    await t.step("dashboard: sync with the cloud now, with progress and outcome", async () => {
      await page.getByTestId("sync-now").click();
      assert.match(await page.getByTestId("sync-result").innerText(), /Done in .* received/);
      // The cloud's nurse and clinic arrived; the page shows them without a reload.
      await page.locator('[data-testid="counts"] tr[data-table="users"]').waitFor();
      await page.getByTestId("clinics").getByText("Al Amal Clinic").waitFor();
      await page.getByTestId("health-last").getByText(/Last good sync/).waitFor();
      await screenshot(page, "06-dashboard-synced");
      await assertFitsWidth(page);
    });

    await t.step("dashboard: stop and start the phone server", async () => {
      await page.getByTestId("server-toggle").click();
      // Stopping cuts the phones off, so the page asks first; Cancel keeps it running.
      const ask = page.getByRole("alertdialog");
      assert.match(await ask.innerText(), /Phones cannot sync until it is started again/);
      await ask.getByRole("button", { name: "Cancel" }).click();
      assert.deepEqual(hub.server.running, true);
      await page.getByTestId("server-toggle").click();
      await page.getByRole("alertdialog").getByRole("button", { name: "Stop server" }).click();
      await page.locator('[data-testid="server-state"][data-running="false"]').waitFor();
      assert.deepEqual(hub.server.running, false);
      await page.getByTestId("nav-pair").click();
      await page.getByTestId("pair-stopped").waitFor();
      await screenshot(page, "07-pair-server-stopped");
      await page.getByRole("button", { name: "Start server" }).click();
      await page.getByTestId("pair-qr").waitFor();
      assert.deepEqual(hub.server.running, true);
    });

    await t.step("pairing: the QR code decodes to the SPEC §8 JSON", async () => {
      const status = await hub.status();
      const expected = {
        type: "sync_hub",
        url: `http://127.0.0.1:${hub.server.port}`,
        id: status.hub!.id,
        pk: status.hub!.publicKey,
      };
      const shown = JSON.parse(await page.getByTestId("pair-payload").textContent() ?? "");
      assert.deepEqual(shown, expected);
      assert.deepEqual(JSON.parse(await decodeQr(page)), expected);
      assert.deepEqual(await page.getByTestId("pair-hub-id").innerText(), status.hub!.id);
      assert.deepEqual(
        await page.getByTestId("pair-fingerprint").innerText(),
        status.hub!.fingerprint,
      );
      assert.match(status.hub!.fingerprint, /^[0-9A-F]{4}(-[0-9A-F]{4}){3}$/);
      await screenshot(page, "08-pair");
      await assertFitsWidth(page);
    });

    const lanUrl = `http://127.0.0.1:${hub.server.port}`;
    const phone = new PhoneClient(lanUrl, { deviceName: "Nurse tablet" });

    await t.step("a simulated phone syncs and appears in the devices and the chart", async () => {
      await page.getByTestId("nav-dashboard").click();
      await phone.handshake();
      await phone.login(NURSE.email, NURSE.password);
      const first = await phone.pull(null);
      assert(first.changes.users?.created.some((u) => u.id === NURSE.id));
      const patient = phonePatient(CLINIC, Date.now());
      await phone.push(first.timestamp, {
        patients: { created: [patient], updated: [], deleted: [] },
      });
      const second = await phone.pull(first.timestamp);
      // An edit made earlier on another phone arrives late: the newer version stays,
      // the older one goes to the conflict log.
      const stale = {
        ...patient,
        given_name: "Leila",
        updated_at: (patient.updated_at as number) - 60_000,
        _status: "updated",
      };
      await phone.push(second.timestamp, {
        patients: { created: [], updated: [stale], deleted: [] },
      });
      const row = page.locator(`[data-testid="devices"] tr[data-client-id="${phone.clientId}"]`);
      await row.getByText("Nurse tablet").waitFor();
      // The row can appear (handshake) before the event carrying its last sync arrives.
      await until(
        async () => (await row.getByTestId("device-last-sync").innerText()) === "just now",
        "the device's last sync to show",
      );
      await until(
        async () =>
          Number(await page.getByTestId("activity-chart").getAttribute("data-total")) >= 3,
        "the chart to count the phone's pulls and pushes",
      );
      assert(await page.locator('[data-testid="activity-chart"] rect.bar-push').count() >= 1);
      await page.getByTestId("health-waiting").getByText("1 change waiting").waitFor();
      await page.locator('[data-testid="counts"] tr[data-table="patients"]').waitFor();
      await page.getByTestId("health-conflicts").getByText("⚠ 1 conflict").waitFor();
      await page.getByTestId("conflicts").getByRole("heading", { name: "Patient: Layla Haddad" })
        .waitFor();
      const kept = storeConnection(hub.store).prepare("SELECT given_name FROM patients").get() as {
        given_name: string;
      };
      assert.equal(kept.given_name, "Layla");
      await screenshot(page, "09-dashboard-phone-synced");
    });

    await t.step("the cloud goes offline: sync fails and the health line says so", async () => {
      await cloud.down();
      await page.getByTestId("sync-now").click();
      assert.match(await page.getByTestId("sync-error").innerText(), /could not be reached/);
      await page.getByTestId("health-offline").waitFor();
      await screenshot(page, "10-dashboard-offline");
    });

    await t.step("lock", async () => {
      await page.getByTestId("lock").click();
      await page.getByRole("heading", { name: "Unlock the hub" }).waitFor();
      assert.deepEqual(hub.state, "locked");
      await screenshot(page, "11-locked");
    });

    await t.step("forgot passphrase explains, and needs RESET typed", async () => {
      await page.getByRole("button", { name: "Forgot the passphrase?" }).click();
      await page.getByRole("heading", { name: "Forgot the passphrase" }).waitFor();
      assert.match(await page.getByTestId("reset").innerText(), /not reached the cloud yet.*lost/s);
      const erase = page.getByRole("button", { name: "Erase this hub" });
      await page.getByLabel(/type RESET/).fill("reset");
      assert(await erase.isDisabled());
      await page.getByLabel(/type RESET/).fill("RESET");
      assert(await erase.isEnabled());
      await screenshot(page, "12-forgot-passphrase");
      await page.getByRole("button", { name: "Back" }).click();
      assert.deepEqual(hub.state, "locked");
    });

    await t.step(
      "unlock: a wrong passphrase says so and shows the wait; the right one works",
      async () => {
        const button = page.getByTestId("unlock-button");
        // Two wrong tries: the hub slows each next one down (1 s, then 2 s).
        for (const seconds of [1, 2]) {
          await page.getByLabel("Passphrase", { exact: true }).fill(WRONG);
          await button.click();
          await page.getByTestId("unlock-error").getByText("Wrong passphrase.").waitFor();
          assert.match(await page.getByTestId("unlock-wait").innerText(), /wait [12] s/);
          assert(await button.isDisabled(), "the button waits out the delay");
          if (seconds === 2) await screenshot(page, "13-unlock-wrong");
          await button.and(page.locator(":enabled")).waitFor();
        }
        assert.deepEqual((await hub.status()).unlockFailures, 2);
        await page.getByLabel("Passphrase", { exact: true }).fill(PASSPHRASE);
        await page.getByTestId("unlock-button").click();
        await page.getByTestId("dashboard").waitFor();
        assert.deepEqual(hub.state, "unlocked");
        // The phone's change is still waiting: the cloud is down.
        await page.getByTestId("health-waiting").waitFor();
      },
    );

    await t.step("maintenance: rotate the database key with progress", async () => {
      await page.getByTestId("nav-maintenance").click();
      await screenshot(page, "14-maintenance");
      await page.getByTestId("rotate-button").click();
      await page.getByTestId("confirm-yes").click();
      assert.match(await page.getByTestId("rotate-done").innerText(), /new key/);
      await screenshot(page, "15-rotated");
      // Phones keep syncing under the new key.
      await phone.handshake();
      const after = await phone.pull(0);
      assert(after.changes.patients?.created.length === 1);
    });

    await t.step("maintenance: clearing is refused while changes wait for the cloud", async () => {
      await page.getByTestId("clear-pending").waitFor();
      await page.locator("#clear-pass").fill(PASSPHRASE);
      await page.getByTestId("clear-button").click();
      assert.match(
        await page.getByTestId("clear-refused").innerText(),
        /1 change is still waiting for the cloud/,
      );
      await page.getByTestId("clear-force").waitFor();
      assert.deepEqual(hub.store.counts().patients.rows, 1);
      await screenshot(page, "16-clear-refused");
      await assertFitsWidth(page);
    });

    await t.step("dashboard: revoke the phone", async () => {
      await page.getByTestId("nav-dashboard").click();
      const row = page.locator(`[data-testid="devices"] tr[data-client-id="${phone.clientId}"]`);
      // The button names the device for screen readers; the question says it is for good.
      await row.getByRole("button", { name: "Revoke Nurse tablet" }).click();
      assert.match(await page.getByRole("alertdialog").innerText(), /permanent/);
      await screenshot(page, "17-revoke-confirm");
      await page.getByTestId("confirm-yes").click();
      await row.getByTestId("device-status").getByText("Revoked for good").waitFor();
      let refused = false;
      try {
        await phone.handshake();
      } catch {
        refused = true;
      }
      assert(refused, "a revoked phone must not handshake");
      // A revoked phone can leave the list, and stays refused.
      await row.getByRole("button", { name: "Remove Nurse tablet from the list" }).click();
      await row.waitFor({ state: "detached" });
      await assert.rejects(() => phone.handshake());
    });

    assert.deepEqual(realErrors(browser.pageErrors), []);
  },
});
