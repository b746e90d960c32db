/**
 * Builds one self-contained executable per target with `deno compile`, or the
 * webview app with `deno desktop` (`--desktop`).
 *
 *   deno task build [--version X.Y.Z] [--target T ...] [--out dist]
 *   deno task desktop [--version X.Y.Z] [--target T ...] [--out dist]
 *
 * Each executable embeds only its own platform's SQLCipher library (the other
 * prebuilt binaries and the C sources of the npm package are excluded). The
 * version, update manifest URL (HUB_UPDATE_URL) and update public key
 * (HUB_UPDATE_PUBKEY: key text or a path to a .pub file) are stamped into
 * version.ts for the build and the file is restored afterwards.
 *
 * Deno downloads its runtime (denort; for desktop also libdenort and the laufey
 * webview backend) the first time. Where that host cannot be reached, provide it:
 * DENORT_BIN (one target), DENORT_DESKTOP_BIN, LAUFEY_DEV_DIR, or a DENO_DIR
 * pre-seeded on a connected machine; otherwise the build stops with one sentence
 * saying so.
 */

/** The five release targets and the npm prebuild each needs. */
export const TARGETS: Record<string, { prebuild: string; exe: string }> = {
  "x86_64-unknown-linux-gnu": { prebuild: "linux-x64", exe: "" },
  "aarch64-unknown-linux-gnu": { prebuild: "linux-arm64", exe: "" },
  "x86_64-apple-darwin": { prebuild: "darwin-x64", exe: "" },
  "aarch64-apple-darwin": { prebuild: "darwin-arm64", exe: "" },
  "x86_64-pc-windows-msvc": { prebuild: "win32-x64", exe: ".exe" },
};

const PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-ffi",
  "--allow-sys",
  "--allow-run",
];

const SQLCIPHER_PKG = "better-sqlite3-multiple-ciphers";

/** A build failure: one sentence for the person running the build. */
class BuildError extends Error {}

function fail(message: string): never {
  // Thrown, not Deno.exit: the `finally` that restores version.ts must run.
  throw new BuildError(message);
}

function root(): string {
  return new URL("..", import.meta.url).pathname.replace(/\/$/, "");
}

async function run(
  args: string[],
  env?: Record<string, string>,
): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root(),
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

/** Where the npm package lives in the Deno cache (to exclude other platforms' files). */
async function packageDir(): Promise<string | null> {
  const r = await run(["info", "--json"]);
  try {
    const npmCache = JSON.parse(r.out.slice(r.out.indexOf("{"))).npmCache as string;
    const base = `${npmCache}/registry.npmjs.org/${SQLCIPHER_PKG}`;
    for await (const e of Deno.readDir(base)) if (e.isDirectory) return `${base}/${e.name}`;
  } catch {
    // not cached yet: nothing to exclude
  }
  return null;
}

function runtimeMissing(out: string): boolean {
  return /dl\.deno\.land|error sending request|dns error|Could not find denort|failed to download|laufey|libdenort/i
    .test(out);
}

/** The sentence printed when Deno's runtime cannot be had. */
export function missingRuntimeSentence(target: string, desktop: boolean): string {
  return desktop
    ? `Deno's desktop runtime for ${target} could not be obtained (no access to dl.deno.land): set DENORT_DESKTOP_BIN and LAUFEY_DEV_DIR to a downloaded libdenort and laufey backend, or use a DENO_DIR pre-seeded on a connected machine.`
    : `Deno's runtime (denort) for ${target} could not be obtained (no access to dl.deno.land): set DENORT_BIN to a downloaded denort for this target, or use a DENO_DIR pre-seeded on a connected machine.`;
}

async function stampVersion(version: string): Promise<() => Promise<void>> {
  const path = `${root()}/version.ts`;
  const original = await Deno.readTextFile(path);
  let key = Deno.env.get("HUB_UPDATE_PUBKEY") ?? null;
  if (key && !key.includes("\n") && !/^RW[A-Za-z0-9+/=]{50,}$/.test(key.trim())) {
    key = await Deno.readTextFile(key);
  }
  const url = Deno.env.get("HUB_UPDATE_URL") ?? null;
  await Deno.writeTextFile(
    path,
    original
      .replace(
        /export const VERSION: string = ".*";/,
        `export const VERSION: string = ${JSON.stringify(version)};`,
      )
      .replace(
        /export const UPDATE_MANIFEST_URL: string \| null = .*;/,
        `export const UPDATE_MANIFEST_URL: string | null = ${JSON.stringify(url)};`,
      )
      .replace(
        /export const UPDATE_PUBLIC_KEY: string \| null = .*;/,
        `export const UPDATE_PUBLIC_KEY: string | null = ${JSON.stringify(key)};`,
      ),
  );
  return () => Deno.writeTextFile(path, original);
}

async function main() {
  const args = [...Deno.args];
  const desktop = args.includes("--desktop");
  const targets: string[] = [];
  let version = JSON.parse(await Deno.readTextFile(`${root()}/deno.json`)).version ?? "0.0.0";
  let out = "dist";
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--target") targets.push(args[++i]);
    else if (args[i] === "--version") version = args[++i];
    else if (args[i] === "--out") out = args[++i];
    else if (args[i] !== "--desktop") fail(`unknown argument ${args[i]}`);
  }
  for (const t of targets) {
    if (!TARGETS[t]) fail(`unknown target ${t}; known: ${Object.keys(TARGETS).join(", ")}`);
  }
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) fail(`not a version: ${version}`);
  const chosen = targets.length ? targets : Object.keys(TARGETS);
  if (Deno.env.get("DENORT_BIN") && chosen.length > 1) {
    fail(
      "DENORT_BIN is one target's runtime: pass the matching --target (or use a pre-seeded DENO_DIR for all five).",
    );
  }
  await Deno.mkdir(`${root()}/${out}`, { recursive: true });
  const bundle = `${root()}/scripts/bundle_ui.ts`;
  try {
    await Deno.lstat(bundle);
    const b = await run(["run", "-A", bundle]);
    if (b.code !== 0) fail(`the UI bundle failed:\n${b.out}`);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const pkg = await packageDir();
  const restore = await stampVersion(version);
  try {
    for (const target of chosen) {
      const t = TARGETS[target];
      const output = `${out}/local-sync-hub-${version}-${target}${
        desktop ? "-desktop" : ""
      }${t.exe}`;
      const excludes: string[] = [];
      if (pkg) {
        excludes.push(`${pkg}/deps`, `${pkg}/src`, `${pkg}/binding.gyp`);
        for (const other of Object.values(TARGETS)) {
          if (other.prebuild !== t.prebuild) {
            excludes.push(`${pkg}/prebuilds/${other.prebuild}.node`);
          }
        }
        for (const musl of ["linuxmusl-x64", "linuxmusl-arm64", "win32-arm64"]) {
          excludes.push(`${pkg}/prebuilds/${musl}.node`);
        }
      }
      const cmd = [
        desktop ? "desktop" : "compile",
        ...PERMISSIONS,
        "--exclude-unused-npm",
        // Workers are not followed by compile: the backup's worker must be named.
        "--include",
        "store/_backup_worker.ts",
        ...excludes.flatMap((e) => ["--exclude", e]),
        "--target",
        target,
        "--output",
        output,
        "main.ts",
      ];
      const r = await run(cmd);
      if (r.code !== 0) {
        if (runtimeMissing(r.out)) fail(missingRuntimeSentence(target, desktop));
        fail(`deno ${cmd[0]} failed for ${target}:\n${r.out}`);
      }
      Deno.stdout.writeSync(new TextEncoder().encode(`built ${output}\n`));
    }
  } finally {
    await restore();
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (err) {
    if (!(err instanceof BuildError)) throw err;
    Deno.stderr.writeSync(new TextEncoder().encode(`build: ${err.message}\n`));
    Deno.exit(1);
  }
}
