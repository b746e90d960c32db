/**
 * In a real browser: the conflict screen (a record named for people, kept vs
 * older field by field, who made each; restore the older one and see it reach a
 * second phone's pull and the cloud; keep the newer one; a refused push shown
 * with why, and accepted), and each state of the
 * health line with its link to the fix (not linked, server stopped, conflicts,
 * cloud unreachable since when with the age of the oldest waiting change, key
 * refused). Every screen is photographed at 1280×800 and 1024×640.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { CloudDouble, randomApiKey } from "../cloud_double.ts";
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
} from "./_browser.ts";
import { storeConnection } from "../../store/testing.ts";

const PASSPHRASE = "correct horse battery staple";
const CLINIC = "7a2b3c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d";
const NURSE = {
  id: "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
  email: "nurse@clinic.test",
  password: "s3cret-Passw0rd",
};

async function loggedIn(lan: string, name: string): Promise<PhoneClient> {
  const phone = new PhoneClient(lan, { deviceName: name });
  await phone.handshake();
  await phone.login(NURSE.email, NURSE.password);
  return phone;
}

/** The id of the element that has the focus. */
function focusedId(page: Page): Promise<string> {
  return page.evaluate(
    "(document.activeElement && (document.activeElement.id || document.activeElement.dataset.testid)) || ''",
  ) as Promise<string>;
}

Deno.test({
  ...browserTest(
    "conflicts and health line: restore an older version (it reaches another phone and the cloud), keep a newer one, and every health state links to its fix",
  ),
  async fn(t) {
    await using cloud = await CloudDouble.start({ clinicIds: [CLINIC], hubName: "Al Amal Hub" });
    seedCloud(cloud, {
      clinic: CLINIC,
      nurse: NURSE,
      permissionId: "3d5f7a91-2c4e-4f6a-9b8d-1e2f3a4b5c6d",
    });
    const clock = { t: Date.now() };
    await using h = await startUiHub({ hub: { now: () => clock.t } });
    const { hub } = h;
    await hub.setup(PASSPHRASE);
    await hub.startServer();
    await using browser = await launchBrowser();
    const { page } = browser;
    await page.setViewportSize({ width: 1280, height: 800 });
    await openAdmin(page, h.admin);
    await page.getByTestId("dashboard").waitFor();

    await t.step("health: not linked to a cloud, with a link to the form", async () => {
      const item = page.getByTestId("health-linked");
      await item.getByText("Not linked to a cloud").waitFor();
      await screenshot(page, "40-health-not-linked");
      await page.getByTestId("health-fix-linked").click();
      await until(
        async () =>
          (await page.evaluate("document.activeElement.closest('section')?.id ?? ''")) ===
            "cloud",
        "focus in the cloud card",
      );
    });

    await t.step("health: linked and synced says when, and nothing else", async () => {
      await hub.registerCloud(cloud.url, cloud.apiKey);
      await hub.syncCloud();
      await page.getByTestId("health-last").getByText(/Last good sync with the cloud/).waitFor();
      assert.equal(await page.locator('[data-testid="health"] .warn').count(), 0);
      await screenshot(page, "41-health-good");
    });

    await t.step("health: the phone server stopped; Start it leads to the button", async () => {
      await hub.stopServer();
      const item = page.getByTestId("health-server");
      await item.getByText("⚠ Phone server stopped: phones cannot sync").waitFor();
      await screenshot(page, "42-health-server-stopped");
      await page.getByTestId("health-fix-server").click();
      await until(async () => (await focusedId(page)) === "server-toggle", "focus on Start");
      await page.keyboard.press("Enter");
      await item.waitFor({ state: "detached" });
      assert.equal(hub.server.running, true);
    });

    const lan = `http://127.0.0.1:${hub.server.port}`;
    const reception = await loggedIn(lan, "Reception tablet");
    const nurse = await loggedIn(lan, "Nurse phone");
    let receptionCursor = 0;
    let id = "";

    await t.step("conflict: named for people, compared field by field, who made each", async () => {
      const first = await reception.pull(null);
      const p = phonePatient(CLINIC, Date.now(), { last_modified_by: NURSE.id });
      id = String(p.id);
      await reception.push(first.timestamp, {
        patients: { created: [p], updated: [], deleted: [] },
      });
      receptionCursor = (await reception.pull(first.timestamp)).timestamp;
      const n = await nurse.pull(null);
      // The nurse's phone edited the record earlier, offline; its push arrives late.
      await nurse.push(n.timestamp, {
        patients: {
          created: [],
          updated: [{
            ...p,
            given_name: "Leila",
            hometown: "Zarqa",
            updated_at: (p.updated_at as number) - 3_600_000,
            _status: "updated",
          }],
          deleted: [],
        },
      });
      await page.getByTestId("health-conflicts").getByText("⚠ 1 conflict to decide").waitFor();
      const card = page.getByTestId("conflict");
      await card.getByRole("heading", { name: "Patient: Layla Haddad" }).waitFor();
      const given = card.locator('tr[data-field="given_name"]');
      assert.deepEqual(
        (await given.locator("th, td").allInnerTexts()).map((s) => s.trim()),
        ["Given name", "Layla", "Leila"],
      );
      assert.equal(await card.locator('tr[data-field="hometown"] td').nth(1).innerText(), "Zarqa");
      assert.match(
        await card.getByTestId("conflict-older-by").innerText(),
        /phone “Nurse phone”, by Nurse Amina/,
      );
      // Dates in local time with their year (the UUID and raw JSON are gone).
      const changed = await card.locator("tbody tr").first().innerText();
      assert.match(changed, new RegExp(String(new Date().getFullYear())));
      assert.doesNotMatch(await card.innerText(), new RegExp(id));
      await screenshot(page, "43-conflict");
      // "Decide" in the health line leads to the conflict's first button.
      await page.getByTestId("health-fix-conflicts").click();
      await until(async () => (await focusedId(page)) === "conflict-keep", "focus on Keep");
    });

    await t.step(
      "conflict: restore the older one reaches another phone's pull and the cloud",
      async () => {
        const card = page.getByTestId("conflict");
        await card.getByTestId("conflict-restore").click();
        assert.match(await page.getByRole("alertdialog").innerText(), /Layla Haddad/);
        await screenshot(page, "44-conflict-restore-confirm");
        await page.getByTestId("confirm-yes").click();
        await page.getByTestId("conflicts-none").waitFor();
        await page.getByTestId("health-conflicts").waitFor({ state: "detached" });
        // The reception tablet, which still has the newer version, gets the older one back.
        const pulled = await reception.pull(receptionCursor);
        const rows = [
          ...(pulled.changes.patients?.created ?? []),
          ...(pulled.changes.patients?.updated ?? []),
        ] as Record<string, unknown>[];
        const row = rows.find((r) => r.id === id);
        assert.ok(row, "the restored version did not reach the other phone");
        assert.equal(row.given_name, "Leila");
        assert.equal(row.hometown, "Zarqa");
        receptionCursor = pulled.timestamp;
        // And the cloud, with the next relay cycle.
        await hub.syncCloud();
        assert.equal(cloud.get("patients", id)?.given_name, "Leila");
        await screenshot(page, "45-conflicts-none");
      },
    );

    await t.step("conflict: keep the newer one changes nothing and clears it", async () => {
      const n = await nurse.pull(null);
      const stale = n.changes.patients!.updated.concat(n.changes.patients!.created)
        .find((r) => r.id === id) as Record<string, unknown>;
      await nurse.push(n.timestamp, {
        patients: {
          created: [],
          updated: [{ ...stale, hometown: "Mafraq", updated_at: 1_000, _status: "updated" }],
          deleted: [],
        },
      });
      const card = page.getByTestId("conflict");
      await card.locator('tr[data-field="hometown"]').waitFor();
      await card.getByTestId("conflict-keep").click();
      await page.getByTestId("conflicts-none").waitFor();
      const kept = storeConnection(hub.store).prepare("SELECT hometown FROM patients WHERE id = ?")
        .get(id) as {
          hometown: string;
        };
      assert.equal(kept.hometown, "Zarqa");
    });

    await t.step(
      "conflict: a push the user had no right to make is shown with why, and can be accepted",
      async () => {
        // The nurse holds no permission row at this other clinic: the hub refuses the row,
        // keeps it for the operator and answers the push with success.
        const n = await nurse.pull(null);
        const p: Record<string, unknown> = {
          ...phonePatient(CLINIC, Date.now(), { last_modified_by: NURSE.id }),
          primary_clinic_id: "other-clinic",
          given_name: "Rana",
        };
        const pid = String(p.id);
        await nurse.push(n.timestamp, { patients: { created: [p], updated: [], deleted: [] } });
        const card = page.getByTestId("conflict");
        const why = card.getByTestId("conflict-refused");
        await why.waitFor();
        assert.match(
          await why.innerText(),
          /may not create patients at clinic 'other-clinic' \(needs can_register_patients\)/,
        );
        await screenshot(page, "45b-conflict-refused");
        const stored = () =>
          storeConnection(hub.store).prepare("SELECT given_name FROM patients WHERE id = ?").get(
            pid,
          ) as
            | { given_name: string }
            | undefined;
        assert.equal(stored(), undefined, "the refused record was not written");
        await card.getByTestId("conflict-restore").click();
        await page.getByTestId("confirm-yes").click();
        await page.getByTestId("conflicts-none").waitFor();
        assert.equal(stored()?.given_name, "Rana", "restoring accepted the refused record");
        // It is an ordinary change: the next relay cycle sends it (none is left waiting).
        await hub.syncCloud();
        assert.equal(hub.store.pendingCloud().count, 0);
      },
    );

    await t.step(
      "health: cloud unreachable since when, and how long changes have waited",
      async () => {
        await cloud.down();
        const p = phonePatient(CLINIC, Date.now(), { last_modified_by: NURSE.id });
        await reception.push(receptionCursor, {
          patients: { created: [p], updated: [], deleted: [] },
        });
        // Two hours pass with the change waiting and the cloud away.
        clock.t += 2 * 3_600_000;
        await hub.syncCloud().catch(() => {});
        const offline = page.getByTestId("health-offline");
        await offline.getByText(/⚠ Cloud unreachable since .+ \(just now\)/).waitFor();
        const waiting = page.getByTestId("health-waiting");
        await waiting.getByText("1 change waiting for the cloud, the oldest since 2 hours ago")
          .waitFor();
        assert.equal(await waiting.getAttribute("class"), "warn");
        // "Last good sync" does not sit beside the warning.
        assert.equal(await page.getByTestId("health-last").count(), 0);
        await screenshot(page, "46-health-offline");
        await page.getByTestId("health-fix-offline").click();
        await until(async () => (await focusedId(page)) === "sync-now", "focus on Sync now");
        await page.getByText(/Check this computer's internet connection/).first().waitFor();
      },
    );

    await t.step(
      "health: the cloud refused the key; the link leads to the form for a new one",
      async () => {
        await cloud.up();
        cloud.apiKey = randomApiKey();
        await hub.syncCloud().catch(() => {});
        await page.getByTestId("health-auth").getByText(/refused the hub's key/).waitFor();
        assert.equal(await page.getByTestId("health-last").count(), 0);
        assert.equal(await page.getByTestId("health-offline").count(), 0);
        await screenshot(page, "47-health-key-refused");
        await page.getByTestId("health-fix-auth").click();
        await page.getByTestId("maintenance").waitFor();
        await until(
          async () =>
            (await page.evaluate("document.activeElement.closest('section')?.id ?? ''")) ===
              "relink",
          "focus in the new-key form",
        );
        await screenshot(page, "48-relink-form");
      },
    );

    assert.deepEqual(
      browser.pageErrors.filter((e) => !e.includes("Failed to load resource")),
      [],
    );
  },
});
