/**
 * External programs some tests need (Debian's `minisign`, `chromium`). A test
 * that needs one is skipped, with the reason in its name, on a machine without
 * it, so `deno task test` passes where only Deno is installed. Under CI (`CI`
 * set) nothing is skipped: CI installs them, and a missing one must fail loudly.
 */

/** What a probe found. */
export interface Program {
  /** Absolute path of the program, or null when it is not usable here. */
  path: string | null;
  /** Why tests needing it are skipped (null when it is usable). */
  reason: string | null;
  /** `ignore` for `Deno.test`: true when the program is missing and this is not CI. */
  ignore: boolean;
  /** The test name with the skip reason appended when the test is skipped. */
  name(testName: string): string;
}

function onPath(name: string, pathEnv: string): string | null {
  const dirs = pathEnv.split(Deno.build.os === "windows" ? ";" : ":");
  for (const dir of dirs) {
    if (!dir) continue;
    const p = `${dir}/${name}`;
    try {
      const st = Deno.statSync(p);
      if (st.isFile && (st.mode === null || (st.mode & 0o111) !== 0)) return p;
    } catch {
      // Not in this folder.
    }
  }
  return null;
}

/**
 * Looks for `name` on PATH and runs it once with `probeArgs`. `new
 * Deno.Command(x).outputSync()` throws (rather than failing) when `x` cannot be
 * started, hence the `try`.
 */
export function probeProgram(
  name: string,
  probeArgs: string[],
  install: string,
  env: { PATH?: string; CI?: string } = { PATH: Deno.env.get("PATH"), CI: Deno.env.get("CI") },
): Program {
  const path = onPath(name, env.PATH ?? "");
  let reason: string | null = null;
  if (path === null) {
    reason = `${name} is not installed (${install})`;
  } else {
    try {
      new Deno.Command(path, { args: probeArgs, stdin: "null", stdout: "null", stderr: "null" })
        .outputSync();
    } catch (err) {
      reason = `${name} at ${path} does not start (${(err as Error).message}; ${install})`;
    }
  }
  const ignore = reason !== null && !env.CI;
  return {
    path: reason === null ? path : null,
    reason,
    ignore,
    name: (testName) => ignore ? `${testName} [SKIPPED: ${reason}]` : testName,
  };
}

function once(make: () => Program): () => Program {
  let p: Program | undefined;
  return () => p ??= make();
}

/** Debian's minisign (tests/update/minisign_test.ts); probed on first use. */
export const minisign: () => Program = once(() =>
  probeProgram("minisign", ["-v"], "apt-get install -y minisign")
);

/** Debian's Chromium (tests/ui_browser/); probed on first use. */
export const chromium: () => Program = once(() =>
  probeProgram("chromium", ["--version"], "apt-get install -y chromium")
);
