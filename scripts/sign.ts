/**
 * Signs release files and writes the update manifest (SPEC §9).
 *
 *   deno run -A scripts/sign.ts keygen --out release-key
 *       writes release-key.pub and release-key.key (unencrypted minisign format;
 *       keep the .key offline). `minisign -G -W` makes compatible keys too.
 *   deno run -A scripts/sign.ts sign --key release-key.key --version 1.2.3 \
 *       --base-url https://updates.example.org/1.2.3 [--notes "..."] \
 *       --file linux-x86_64=dist/local-sync-hub-linux-x64 [--file ...] --manifest dist/latest.json
 *       writes <file>.sig next to each file (minisign prehashed, version in the
 *       trusted comment) and the manifest with base64 of each whole .sig file.
 *
 * `minisign -Vm <file> -x <file>.sig -p release-key.pub` verifies the result.
 */
import { generateKeyPair, parseSecretKey, signFile } from "../update/mod.ts";

function fail(message: string): never {
  Deno.stderr.writeSync(new TextEncoder().encode(`error: ${message}\n`));
  Deno.exit(2);
}

function flags(args: string[]): { one: Map<string, string>; files: [string, string][] } {
  const one = new Map<string, string>();
  const files: [string, string][] = [];
  for (let i = 0; i < args.length; i++) {
    const k = args[i];
    const v = args[i + 1];
    if (!k.startsWith("--") || v === undefined) fail(`unexpected argument ${k}`);
    i++;
    if (k === "--file") {
      const eq = v.indexOf("=");
      if (eq <= 0) fail("--file needs PLATFORM=PATH, e.g. linux-x86_64=dist/hub");
      files.push([v.slice(0, eq), v.slice(eq + 1)]);
    } else one.set(k.slice(2), v);
  }
  return { one, files };
}

/** Signs every file and returns the manifest object. */
export async function signRelease(options: {
  secretKeyText: string;
  version: string;
  baseUrl: string;
  notes?: string;
  files: [string, string][];
}): Promise<Record<string, unknown>> {
  const key = parseSecretKey(options.secretKeyText);
  const platforms: Record<string, { signature: string; url: string }> = {};
  const now = Math.floor(Date.now() / 1000);
  for (const [platform, path] of options.files) {
    const name = path.split(/[\\/]/).pop()!;
    const sig = await signFile(
      path,
      key,
      `timestamp:${now}\tfile:${name}\tversion:${options.version}`,
    );
    await Deno.writeTextFile(`${path}.sig`, sig);
    platforms[platform] = {
      signature: new TextEncoder().encode(sig).toBase64(),
      url: `${options.baseUrl.replace(/\/$/, "")}/${encodeURIComponent(name)}`,
    };
  }
  return {
    version: options.version,
    ...(options.notes ? { notes: options.notes } : {}),
    pub_date: new Date().toISOString(),
    platforms,
  };
}

if (import.meta.main) {
  const [command, ...rest] = Deno.args;
  if (command === "keygen") {
    const { one } = flags(rest);
    const out = one.get("out") ?? fail("keygen needs --out PREFIX");
    const pair = await generateKeyPair();
    await Deno.writeTextFile(`${out}.pub`, pair.publicFile);
    await Deno.writeTextFile(`${out}.key`, pair.secretFile, { mode: 0o600 });
  } else if (command === "sign") {
    const { one, files } = flags(rest);
    const keyPath = one.get("key") ?? fail("sign needs --key FILE");
    const version = one.get("version") ?? fail("sign needs --version X.Y.Z");
    const baseUrl = one.get("base-url") ?? fail("sign needs --base-url URL");
    const manifestPath = one.get("manifest") ?? fail("sign needs --manifest FILE");
    if (files.length === 0) fail("sign needs at least one --file PLATFORM=PATH");
    const manifest = await signRelease({
      secretKeyText: await Deno.readTextFile(keyPath),
      version,
      baseUrl,
      notes: one.get("notes"),
      files,
    });
    await Deno.writeTextFile(manifestPath, JSON.stringify(manifest, null, 2) + "\n");
  } else {
    fail(
      "usage: sign.ts keygen --out PREFIX | sign --key K --version V --base-url U --file P=PATH --manifest M",
    );
  }
}
