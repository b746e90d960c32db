/** The probe that skips tests needing minisign or Chromium where they are missing. */
import assert from "node:assert/strict";
import { probeProgram } from "./_programs.ts";

Deno.test("program probe: a missing program skips its tests and the name says why", () => {
  const p = probeProgram("no-such-program-13", ["-v"], "apt-get install -y x", {
    PATH: "/nonexistent",
  });
  assert.equal(p.path, null);
  assert.equal(p.ignore, true);
  assert.match(p.reason ?? "", /no-such-program-13 is not installed \(apt-get install -y x\)/);
  assert.equal(p.name("checks x"), `checks x [SKIPPED: ${p.reason}]`);
});

Deno.test("program probe: under CI a missing program is not skipped (the test fails instead)", () => {
  const p = probeProgram("no-such-program-13", ["-v"], "x", { PATH: "/nonexistent", CI: "1" });
  assert.equal(p.ignore, false);
  assert.equal(p.name("checks x"), "checks x");
});

Deno.test("program probe: a program on PATH that starts is used, nothing skipped", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hub-probe-" });
  try {
    const exe = Deno.execPath();
    await Deno.symlink(exe, `${dir}/fake-tool`);
    const p = probeProgram("fake-tool", ["--version"], "x", { PATH: `/nonexistent:${dir}` });
    assert.equal(p.reason, null);
    assert.equal(p.path, `${dir}/fake-tool`);
    assert.equal(p.ignore, false);
    assert.equal(p.name("checks x"), "checks x");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("program probe: a file on PATH that cannot start is reported, not thrown", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hub-probe-" });
  try {
    await Deno.writeTextFile(`${dir}/broken-tool`, "#!/nonexistent/interpreter\n", { mode: 0o755 });
    await Deno.chmod(`${dir}/broken-tool`, 0o755);
    const p = probeProgram("broken-tool", [], "x", { PATH: dir });
    assert.equal(p.path, null);
    assert.match(p.reason ?? "", /does not start/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
