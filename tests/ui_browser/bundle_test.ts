/**
 * The committed bundle (ui/dist/app_bundle.ts) must match the page's sources in
 * ui/app/: it is what `deno task start`, the tests and `deno compile` serve.
 * After changing anything in ui/app/, run `deno task bundle:ui`.
 */
import assert from "node:assert/strict";
import { pageHtml, sourceHash } from "../../scripts/bundle_ui.ts";
import { APP_CSS, APP_HTML, APP_JS, SOURCE_HASH } from "../../ui/dist/app_bundle.ts";

Deno.test("ui bundle: made from the current ui/app sources (else run `deno task bundle:ui`)", async () => {
  assert.equal(
    SOURCE_HASH,
    await sourceHash(),
    "ui/dist/app_bundle.ts is stale: run `deno task bundle:ui`",
  );
  assert.equal(APP_HTML, pageHtml(), "the HTML shell is stale: run `deno task bundle:ui`");
  assert.equal(
    APP_CSS,
    await Deno.readTextFile(new URL("../../ui/app/styles.css", import.meta.url)),
  );
  assert.ok(APP_JS.length > 10_000);
  // The bundle holds no server code and writes nothing to the console.
  assert.doesNotMatch(APP_JS, /better-sqlite3|Deno\.serve/);
  assert.doesNotMatch(APP_JS, /console\.(log|debug|info)\(/);
});
