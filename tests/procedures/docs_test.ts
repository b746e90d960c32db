/** docs/procedures.md is generated from the registry; this fails when it is stale. */
import assert from "node:assert/strict";
import { buildRegistry } from "../../server/mod.ts";
import { DOC_PATH, renderProceduresDoc } from "../../scripts/procedures_doc.ts";

Deno.test("docs/procedures.md lists every procedure as the registry has it", async () => {
  const procs = buildRegistry().list();
  const doc = await Deno.readTextFile(DOC_PATH);
  assert.equal(
    doc,
    await renderProceduresDoc(procs),
    "docs/procedures.md is out of date: run `deno run -A scripts/procedures_doc.ts`",
  );
  for (const p of procs) {
    assert.match(doc, new RegExp(`\\| \`${p.name.replace(".", "\\.")}\` +\\| ${p.kind} +\\|`));
  }
});
