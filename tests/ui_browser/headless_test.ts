/**
 * The real program, headless, without a passphrase file: the launch address it
 * prints opens the first-run page in a browser, and after a restart the same
 * address, reloaded, offers to unlock.
 */
import assert from "node:assert/strict";
import { freePort, ROOT } from "../_helpers.ts";
import { browserTest, completeFirstRun, launchBrowser, screenshot } from "./_browser.ts";

const PASSPHRASE = "correct horse battery staple";
const LAUNCH = /Admin page: (http:\/\/127\.0\.0\.1:\d+\/launch\?code=[A-Za-z0-9_-]+)/;

/** Starts main.ts and resolves once it printed the launch address. */
async function startMain(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}main.ts`, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let err = "";
  const done = (async () => {
    for await (const s of child.stderr.pipeThrough(new TextDecoderStream())) err += s;
  })();
  const end = Date.now() + 60_000;
  while (!LAUNCH.test(err)) {
    if (Date.now() > end) throw new Error(`no launch address:\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    launch: LAUNCH.exec(err)![1],
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await done;
    },
  };
}

Deno.test({
  ...browserTest(
    "headless: the printed launch address opens the first run; after a restart a reload offers to unlock",
  ),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "hub-headless-" });
    const args = [
      "--no-open",
      "--data-dir",
      `${dir}/data`,
      "--host",
      "127.0.0.1",
      "--port",
      String(freePort()),
      "--admin-port",
      String(freePort()),
    ];
    let hub = await startMain(args);
    try {
      await using browser = await launchBrowser();
      const { page } = browser;
      await page.goto(hub.launch);
      await page.getByRole("heading", { name: "Set up this hub" }).waitFor();
      await completeFirstRun(page, PASSPHRASE);
      const address = new URL(page.url()).origin;

      await hub.stop();
      hub = await startMain(args);
      assert.equal(new URL(hub.launch).origin, address, "the admin address changed");
      await page.reload();
      await page.getByTestId("sign-in").waitFor();
      await page.getByRole("heading", { name: "Unlock the hub" }).waitFor();
      await screenshot(page, "32-headless-restart-unlock");
      await page.getByLabel("Passphrase", { exact: true }).fill(PASSPHRASE);
      await page.getByTestId("unlock-button").click();
      await page.getByTestId("dashboard").waitFor();
      await page.locator('[data-testid="server-state"][data-running="true"]').waitFor();
    } finally {
      await hub.stop().catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
