/** Writing one benchmark's section of bench/RESULTS.md, leaving the others alone. */
import { formatMarkdown } from "../scripts/_markdown.ts";

/**
 * Replaces (or appends) the section that starts with `heading` (e.g.
 * `## Store (issue 2)`), re-reading the file just before so that benchmarks run
 * one after another keep each other's sections.
 */
export async function writeResultsSection(heading: string, raw: string): Promise<void> {
  const section = (await formatMarkdown(raw)).trimEnd() + "\n";
  const path = new URL("./RESULTS.md", import.meta.url);
  let text = await Deno.readTextFile(path).catch(() => "# Benchmark results\n");
  const start = text.indexOf(heading);
  if (start >= 0) {
    const next = text.indexOf("\n## ", start + 1);
    text = text.slice(0, start) + section + (next >= 0 ? "\n" + text.slice(next + 1) : "");
  } else {
    text = text.trimEnd() + "\n\n" + section;
  }
  await Deno.writeTextFile(path, text.trimEnd() + "\n");
}
