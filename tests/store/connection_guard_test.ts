/**
 * The store's connection is private to `store/`: this test reads every `.ts`
 * file of the repository and fails when a file outside `store/`
 * - uses a Store's connection (`store.db`, `hub.store.db`, `storeOf(ctx).db`, `store["db"]`),
 * - imports a file of `store/` other than `mod.ts` (and `testing.ts`, below), or
 * - outside `tests/` and `bench/`, imports `store/testing.ts` (the door for tests and benches).
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "../_helpers.ts";

/** Folders never read (build output, data, bench output, scratch), and this file (its samples). */
const SKIP = new Set([
  "ui/dist",
  "data",
  "bench/out",
  "tmp",
  ".git",
  "node_modules",
  "tests/store/connection_guard_test.ts",
]);

/** A Store's connection reached from outside: `<something>store<...>.db` or `["db"]`. */
const CONNECTION_USE = [
  /\b(?:store|Store|storeOf\([^)]*\))\s*[!?]?\s*\.\s*db\b/,
  /\b(?:store|Store|storeOf\([^)]*\))\s*[!?]?\s*(?:\?\.)?\s*\[\s*["'`]db["'`]\s*\]/,
];

/** Module specifiers of static imports, re-exports and dynamic imports. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']/g;

function* tsFiles(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const path = join(dir, e.name);
    const rel = relative(ROOT, path);
    if (SKIP.has(rel)) continue;
    if (e.isDirectory) yield* tsFiles(path);
    else if (e.isFile && (e.name.endsWith(".ts") || e.name.endsWith(".tsx"))) yield rel;
  }
}

/** What is wrong with file `rel` (relative to the root) whose text is `text`; empty when nothing. */
export function violations(rel: string, text: string): string[] {
  if (rel.startsWith("store/")) return [];
  const out: string[] = [];
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    for (const re of CONNECTION_USE) {
      if (re.test(line)) out.push(`${rel}:${i + 1} uses a store connection: ${line.trim()}`);
    }
  });
  const mayUseDoor = rel.startsWith("tests/") || rel.startsWith("bench/");
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[1];
    if (!spec.startsWith(".")) continue;
    const target = relative(ROOT, resolve(ROOT, dirname(rel), spec));
    if (!target.startsWith("store/")) continue;
    if (target === "store/mod.ts") continue;
    if (target === "store/testing.ts") {
      if (!mayUseDoor) out.push(`${rel} imports the test door ${spec} outside tests/ and bench/`);
      continue;
    }
    out.push(`${rel} imports ${spec}, private to store/ (use store/mod.ts)`);
  }
  return out;
}

Deno.test("nothing outside store/ touches the store's connection or its private files", () => {
  const found: string[] = [];
  let files = 0;
  for (const rel of tsFiles(ROOT)) {
    files++;
    found.push(...violations(rel, Deno.readTextFileSync(join(ROOT, rel))));
  }
  assert.ok(files > 100, `read ${files} files: is ROOT right?`);
  assert.deepEqual(found, []);
});

Deno.test("the guard catches each kind of violation", () => {
  const bad: [string, string][] = [
    ["ui/admin.ts", "const d = listDevices(hub.store.db);"],
    ["server/_rpc.ts", "getDevice(store.db, id);"],
    ["server/procedures/forms.ts", "registrationForm(storeOf(ctx).db);"],
    ["cloud/_cycle.ts", 'const c = store["db"];'],
    ["tests/x_test.ts", "t.hub.store!.db.prepare('SELECT 1');"],
    ["ui/x.ts", "hub.store?.db.close();"],
    ["server/x.ts", 'import { upsertRow } from "../store/_apply.ts";'],
    ["server/x.ts", 'export { Store } from "../store/store.ts";'],
    ["tests/x_test.ts", 'import { ident } from "../store/_schema.ts";'],
    ["ui/x.ts", 'const m = await import("../store/_db.ts");'],
    ["hub/x.ts", 'import { storeConnection } from "../store/testing.ts";'],
    ["main.ts", 'import "./store/testing.ts";'],
  ];
  for (const [rel, text] of bad) {
    assert.equal(violations(rel, text).length, 1, `${rel}: ${text}`);
  }
  const good: [string, string][] = [
    ["ui/admin.ts", "const d = hub.store.devices.list();"],
    ["server/x.ts", 'import { Store } from "../store/mod.ts";'],
    ["tests/x_test.ts", 'import { storeConnection } from "../store/testing.ts";'],
    ["bench/x.ts", 'import { upsertRow } from "../store/testing.ts";'],
    ["hub/lifecycle.ts", 'this.dbPath = join(dir, "hub.db");'],
    ["store/_pull.ts", "pullChanges(store.db, store.clock, 0);"],
  ];
  for (const [rel, text] of good) assert.deepEqual(violations(rel, text), [], `${rel}: ${text}`);
});
