/**
 * Runs every benchmark in turn: `deno task bench [--quick] [name...]`.
 * Each writes its own section of bench/RESULTS.md.
 */
const ALL = [
  "store_bench.ts",
  "lan_bench.ts",
  "procedures_bench.ts",
  "relay_bench.ts",
  "phone_pipeline_bench.ts",
];
const quick = Deno.args.includes("--quick");
const only = Deno.args.filter((a) => !a.startsWith("--"));
const here = new URL(".", import.meta.url).pathname;
let failed = 0;
for (const file of ALL) {
  if (only.length && !only.some((o) => file.startsWith(o))) continue;
  const args = ["run", "-A", here + file, ...(quick ? ["--quick"] : [])];
  const { code } = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "inherit",
    stderr: "inherit",
  })
    .spawn().status;
  if (code !== 0) failed++;
}
Deno.exit(failed ? 1 : 0);
