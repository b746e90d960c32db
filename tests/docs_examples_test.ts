/**
 * Every export of a checked folder's `mod.ts` is documented as Deno's standard
 * library documents its exports: functions, classes and constants carry an
 * `@example`, types and interfaces at least a doc line. Read from `deno doc
 * --json`, so the JSDoc counts where the symbol is declared, not in `mod.ts`.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

/**
 * Folders whose `mod.ts` is checked; add a folder once its exports are documented.
 * `server/procedures` has a `mod.ts` of its own (it exports more than `server/mod.ts` passes on).
 */
const CHECKED = [
  "vault",
  "update",
  "cloud",
  "core",
  "store",
  "hub",
  "server",
  "server/procedures",
  "ui",
];

/** Files whose exports are not checked yet, by folder (none at present). */
const PENDING: Record<string, string[]> = {};

/** Declaration kinds that need an `@example`; every other kind needs a doc line. */
const NEEDS_EXAMPLE = new Set(["function", "class", "variable"]);

const ROOT = fileURLToPath(new URL("../", import.meta.url));

interface DocTag {
  kind: string;
  doc?: string;
}

interface DocDeclaration {
  kind: string;
  location: { filename: string; line: number };
  jsDoc?: { doc?: string; tags?: DocTag[] };
}

interface DocJson {
  nodes: Record<string, { symbols: { name: string; declarations: DocDeclaration[] }[] }>;
}

async function docJson(modPath: string): Promise<DocJson> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", modPath],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `deno doc --json ${modPath} failed:\n${stderr}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** The path of a declaration's file relative to the repository, with `/` separators. */
function relative(fileUrl: string): string {
  return fileURLToPath(fileUrl).slice(ROOT.length).replaceAll("\\", "/");
}

/** What is missing for one folder's exports, one line each, plus how many were checked. */
async function missingDocs(folder: string): Promise<{ missing: string[]; checked: number }> {
  const doc = await docJson(`${folder}/mod.ts`);
  const pending = PENDING[folder] ?? [];
  const missing: string[] = [];
  let checked = 0;
  for (const node of Object.values(doc.nodes)) {
    for (const symbol of node.symbols) {
      for (const d of symbol.declarations) {
        const file = relative(d.location.filename);
        if (pending.includes(file)) continue;
        checked++;
        const where = `${file}:${d.location.line}`;
        if (NEEDS_EXAMPLE.has(d.kind)) {
          const example = d.jsDoc?.tags?.find((t) => t.kind === "example" && t.doc?.trim());
          if (!example) missing.push(`${symbol.name} (${d.kind}, ${where}): no @example`);
        } else if (!d.jsDoc?.doc?.trim()) {
          missing.push(`${symbol.name} (${d.kind}, ${where}): no doc line`);
        }
      }
    }
  }
  return { missing, checked };
}

for (const folder of CHECKED) {
  Deno.test(`docs: every export of ${folder}/mod.ts has its JSDoc and @example`, async () => {
    const { missing, checked } = await missingDocs(folder);
    // An empty reading (deno doc's JSON changed shape) must not pass as "all documented".
    assert.ok(checked > 0, `deno doc found no exports in ${folder}/mod.ts`);
    assert.deepEqual(
      missing,
      [],
      `${folder}/mod.ts exports lacking docs (put the JSDoc on the declaration):\n  ` +
        missing.join("\n  "),
    );
  });
}
