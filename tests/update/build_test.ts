import assert from "node:assert/strict";
import { missingRuntimeSentence, TARGETS } from "../../scripts/build.ts";

async function build(args: string[], env: Record<string, string> = {}) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/build.ts", ...args],
    env,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout), err: d.decode(r.stderr) };
}

async function dlReachable(): Promise<boolean> {
  try {
    await Deno.resolveDns("dl.deno.land", "A");
    return true;
  } catch {
    return false;
  }
}

Deno.test("the build knows the five release targets", () => {
  assert.deepEqual(Object.keys(TARGETS).sort(), [
    "aarch64-apple-darwin",
    "aarch64-unknown-linux-gnu",
    "x86_64-apple-darwin",
    "x86_64-pc-windows-msvc",
    "x86_64-unknown-linux-gnu",
  ]);
});

Deno.test("without Deno's runtime the build stops with one clear sentence and restores version.ts", async () => {
  const before = await Deno.readTextFile("version.ts");
  const target = "x86_64-unknown-linux-gnu";
  const r = await build([
    "--target",
    target,
    "--version",
    "9.9.9",
    "--out",
    await Deno.makeTempDir(),
  ], {
    DENORT_BIN: "/nonexistent/denort",
  });
  assert.notEqual(r.code, 0);
  assert.equal(r.err.trim(), `build: ${missingRuntimeSentence(target, false)}`);
  assert.equal(await Deno.readTextFile("version.ts"), before);
});

Deno.test({
  name: "here (no access to dl.deno.land) a plain build fails with the same sentence",
  ignore: await dlReachable(),
  fn: async () => {
    const target = "aarch64-apple-darwin";
    const r = await build(["--target", target, "--out", await Deno.makeTempDir()]);
    assert.notEqual(r.code, 0);
    assert.equal(r.err.trim(), `build: ${missingRuntimeSentence(target, false)}`);
  },
});

Deno.test("bad build arguments are refused", async () => {
  const r = await build(["--target", "sparc-sun-solaris"]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /unknown target sparc-sun-solaris/);
  const v = await build(["--version", "one"]);
  assert.match(v.err, /not a version: one/);
});
