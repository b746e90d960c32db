/**
 * Imports point one way (docs/architecture.md, "Which way imports point"):
 * this reads every program file and fails on an import against the arrows,
 * and on a value import of server code into the admin page's bundle.
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Folder → the folders its files may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  "main.ts": ["ui", "hub", "update", "core", "version.ts"],
  ui: ["hub", "update", "core"],
  hub: ["server", "cloud", "store", "vault", "core", "version.ts"],
  server: ["store", "core"],
  cloud: ["store", "vault", "core"],
  store: ["core"],
  vault: ["core"],
  update: ["core", "version.ts"],
  core: [],
};

/** Only types may come from these into the page (`ui/app/`): `import type` is erased. */
const PAGE_TYPES_FROM = ["hub", "store", "cloud", "update", "server", "core", "ui"];

const IMPORT = /^\s*(import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gm;

/** A program file's imports: the top folder each resolves to, and whether it is type-only. */
export function importsOf(
  file: string,
  text: string,
): { path: string; target: string; typeOnly: boolean }[] {
  const out: { path: string; target: string; typeOnly: boolean }[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[3];
    if (!spec.startsWith(".")) continue;
    const path = relative(ROOT, resolve(dirname(join(ROOT, file)), spec));
    out.push({ path, target: path.split("/")[0], typeOnly: m[2] !== undefined });
  }
  return out;
}

/** The violations in one file (empty when it keeps to the arrows). */
export function violations(file: string, text: string): string[] {
  const top = file.split("/")[0];
  const allowed = ALLOWED[top];
  if (allowed === undefined) return [];
  const page = file.startsWith("ui/app/");
  const bad: string[] = [];
  for (const { path, target, typeOnly } of importsOf(file, text)) {
    if (page) {
      if (!typeOnly && !path.startsWith("ui/app/") && PAGE_TYPES_FROM.includes(target)) {
        bad.push(`${file}: the page imports ${target}/ code (use import type)`);
      }
      continue;
    }
    if (target === top) continue;
    if (!allowed.includes(target)) bad.push(`${file}: ${top} must not import ${target}`);
  }
  return bad;
}

async function programFiles(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  async function walk(dir: string): Promise<void> {
    for await (const e of Deno.readDir(join(ROOT, dir))) {
      const path = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDirectory) {
        if (path === "ui/dist") continue;
        if (ALLOWED[path.split("/")[0]] !== undefined) await walk(path);
      } else if (/\.tsx?$/.test(e.name) && ALLOWED[path.split("/")[0]] !== undefined) {
        files[path] = await Deno.readTextFile(join(ROOT, path));
      }
    }
  }
  await walk("");
  return files;
}

Deno.test("layering: every program file imports only along the arrows", async () => {
  const files = await programFiles();
  assert.ok(Object.keys(files).length > 50, "the walk found the program files");
  const bad = Object.entries(files).flatMap(([f, t]) => violations(f, t));
  assert.deepEqual(bad, []);
});

Deno.test("layering: the check can fail (imports against the arrows are named)", () => {
  assert.deepEqual(violations("store/_x.ts", 'import { Hub } from "../hub/mod.ts";'), [
    "store/_x.ts: store must not import hub",
  ]);
  assert.deepEqual(violations("core/x.ts", 'import type { Store } from "../store/mod.ts";'), [
    "core/x.ts: core must not import store",
  ]);
  assert.deepEqual(
    violations("ui/app/x.ts", 'import { Hub } from "../../hub/mod.ts";'),
    ["ui/app/x.ts: the page imports hub/ code (use import type)"],
  );
  assert.deepEqual(violations("ui/app/x.ts", 'import type { Hub } from "../../hub/mod.ts";'), []);
  assert.deepEqual(violations("ui/app/x.ts", 'import { AutoLock } from "../_autolock.ts";'), [
    "ui/app/x.ts: the page imports ui/ code (use import type)",
  ]);
  assert.deepEqual(violations("ui/app/x.ts", 'import { api } from "./api.ts";'), []);
  assert.deepEqual(violations("server/x.ts", 'import { Store } from "../store/mod.ts";'), []);
});
