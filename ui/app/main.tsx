/// <reference lib="dom" />
/**
 * The operator's page: a Preact app served by the admin server. It talks to the
 * hub only through the documented admin API (docs/admin-api.md) and stays
 * current through its event stream. Bundled by scripts/bundle_ui.ts.
 */
import { render } from "preact";
import { S } from "./strings.ts";
import { start } from "./state.ts";
import { App } from "./components/App.tsx";

document.title = S.appName;
document.documentElement.lang = S.lang;
render(<App />, document.getElementById("app")!);
void start();
