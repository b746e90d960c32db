/** The update manifest (Tauri's static `latest.json` form, SPEC §9) and version comparison. */
import { HubError } from "../core/mod.ts";

/** One platform's entry. */
export interface PlatformEntry {
  /** base64 of a whole minisign `.sig` file. */
  signature: string;
  url: string;
}

/** A parsed manifest. */
export interface Manifest {
  version: string;
  notes?: string;
  pub_date?: string;
  platforms: Record<string, PlatformEntry>;
}

/**
 * This machine's platform key, e.g. `linux-x86_64`, `darwin-aarch64`, `windows-x86_64`.
 *
 * @example
 * ```ts
 * import { platformKey } from "./mod.ts";
 *
 * platformKey(); // this machine's, e.g. "linux-x86_64"
 * platformKey("darwin", "aarch64"); // "darwin-aarch64"
 * ```
 */
export function platformKey(os: string = Deno.build.os, arch: string = Deno.build.arch): string {
  return `${os}-${arch}`;
}

const SEMVER = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/**
 * Compares two semantic versions; throws on a malformed one.
 *
 * @example
 * ```ts
 * import { compareVersions } from "./mod.ts";
 *
 * compareVersions("1.10.0", "1.9.3"); // 1
 * compareVersions("2.0.0-beta.2", "2.0.0"); // -1: a pre-release comes first
 * compareVersions("v1.2.3", "1.2.3"); // 0
 * compareVersions("1.2", "1.2.0"); // throws HubError `bad_manifest`
 * ```
 */
export function compareVersions(a: string, b: string): number {
  const pa = SEMVER.exec(a);
  const pb = SEMVER.exec(b);
  if (!pa || !pb) throw new HubError("bad_manifest", 502, `Not a version: ${pa ? b : a}`);
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return Math.sign(d);
  }
  const ra = pa[4];
  const rb = pb[4];
  if (ra === rb) return 0;
  if (ra === undefined) return 1; // a release is newer than its pre-releases
  if (rb === undefined) return -1;
  const xa = ra.split(".");
  const xb = rb.split(".");
  for (let i = 0; i < Math.max(xa.length, xb.length); i++) {
    if (xa[i] === undefined) return -1;
    if (xb[i] === undefined) return 1;
    const na = /^\d+$/.test(xa[i]);
    const nb = /^\d+$/.test(xb[i]);
    if (na && nb) {
      const d = Number(xa[i]) - Number(xb[i]);
      if (d !== 0) return Math.sign(d);
    } else if (na !== nb) return na ? -1 : 1;
    else if (xa[i] !== xb[i]) return xa[i] < xb[i] ? -1 : 1;
  }
  return 0;
}

/**
 * Validates a manifest document.
 *
 * @example
 * ```ts
 * import { parseManifest } from "./mod.ts";
 *
 * const manifest = parseManifest({
 *   version: "v1.5.0",
 *   notes: "Faster first sync.",
 *   pub_date: "2026-11-20T09:00:00Z",
 *   platforms: {
 *     "linux-x86_64": {
 *       signature: "dW50cnVzdGVkIGNvbW1lbnQ6IC4uLg==", // base64 of the .sig file (shortened)
 *       url: "https://updates.example.org/hub/local-sync-hub-linux-x86_64",
 *     },
 *   },
 * });
 * manifest.version; // "1.5.0"
 * ```
 */
export function parseManifest(doc: unknown): Manifest {
  const bad = (why: string) =>
    new HubError("bad_manifest", 502, `The update manifest is not valid: ${why}.`);
  if (!doc || typeof doc !== "object") throw bad("not a JSON object");
  const m = doc as Record<string, unknown>;
  if (typeof m.version !== "string" || !SEMVER.test(m.version)) throw bad("no valid version");
  if (!m.platforms || typeof m.platforms !== "object") throw bad("no platforms");
  const platforms: Record<string, PlatformEntry> = {};
  for (const [k, v] of Object.entries(m.platforms as Record<string, unknown>)) {
    const e = v as Record<string, unknown>;
    if (!e || typeof e.signature !== "string" || typeof e.url !== "string") {
      throw bad(`platform ${k} lacks signature or url`);
    }
    platforms[k] = { signature: e.signature, url: e.url };
  }
  return {
    version: m.version.replace(/^v/, ""),
    notes: typeof m.notes === "string" ? m.notes : undefined,
    pub_date: typeof m.pub_date === "string" ? m.pub_date : undefined,
    platforms,
  };
}
