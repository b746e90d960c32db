/**
 * The operator's page: the Preact app in ui/app/, bundled by
 * `deno task bundle:ui` (scripts/bundle_ui.ts) into the generated module
 * ui/dist/app_bundle.ts, which is committed so that `deno task start`, `deno
 * task test` and `deno compile` need no build step. tests/ui_browser/bundle_test.ts
 * fails when the sources changed without re-bundling.
 * The page answers without a session (the desktop runtime polls `/`).
 */
import { APP_CSS, APP_HTML, APP_JS } from "./dist/app_bundle.ts";

/** A file the admin server serves as is. */
export interface StaticFile {
  type: string;
  body: string;
}

/** The page and its code, by path. */
export const STATIC_FILES: Readonly<Record<string, StaticFile>> = {
  "/": { type: "text/html; charset=utf-8", body: APP_HTML },
  "/app.js": { type: "text/javascript; charset=utf-8", body: APP_JS },
  "/app.css": { type: "text/css; charset=utf-8", body: APP_CSS },
};
