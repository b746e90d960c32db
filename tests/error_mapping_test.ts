/**
 * Errors are mapped once per surface (ENGINEERING.md): handlers throw
 * `HubError`, and only the LAN's `server/_reply.ts` and the admin API's
 * `ui/_reply.ts` build a `Response`; inside them, only the error mapper builds
 * one with an error status. The CLI's exit code comes from `cliFailure` alone.
 */
import assert from "node:assert/strict";
import { HubError } from "../core/mod.ts";
import { cliFailure } from "../hub/cli.ts";

/** The one file per surface that builds replies, and its error mapper. */
const REPLY_FILES: Record<string, string> = {
  "server/_reply.ts": "lanErrorReply",
  "ui/_reply.ts": "adminErrorReply",
};

/** Program source: everything but tests, benches, scripts and the browser app. */
function isProgramSource(path: string): boolean {
  if (!/\.tsx?$/.test(path)) return false;
  return !/^(tests|bench|scripts|docs|data|ui\/app|ui\/dist)\//.test(path);
}

/** The functions of a file, as `name -> [start, end)` by top-level `function` lines. */
function functionSpans(text: string): [string, number, number][] {
  const starts = [...text.matchAll(/^(?:export )?(?:async )?function (\w+)/gm)];
  return starts.map((m, i) => [
    m[1],
    m.index!,
    i + 1 < starts.length ? starts[i + 1].index! : text.length,
  ]);
}

/** Where an error reply is built outside its surface's mapper (empty: none). */
export function errorReplyViolations(files: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [path, text] of Object.entries(files)) {
    if (!isProgramSource(path)) continue;
    const code = text.replaceAll(/^\s*(\/\/|\*|\/\*\*).*$/gm, "");
    const mapper = REPLY_FILES[path];
    for (const m of code.matchAll(/new Response\(/g)) {
      const line = code.slice(0, m.index).split("\n").length;
      if (!mapper) {
        out.push(`${path}:${line}: builds a Response outside the surface's reply file`);
        continue;
      }
      const fn = functionSpans(code).find(([, s, e]) => m.index! >= s && m.index! < e);
      if (!fn || fn[0] === mapper) continue;
      // A success helper may set 2xx/3xx; any other status belongs to the mapper.
      const call = code.slice(m.index, fn[2]);
      for (const st of call.matchAll(/status:\s*([^,}\s]+)/g)) {
        if (!/^[23]\d\d$/.test(st[1])) {
          out.push(`${path}:${line}: ${fn[0]} sets status ${st[1]}; only ${mapper} may`);
        }
      }
    }
  }
  return out;
}

async function programFiles(): Promise<Record<string, string>> {
  const root = new URL("../", import.meta.url);
  const files: Record<string, string> = {};
  async function walk(rel: string): Promise<void> {
    for await (const e of Deno.readDir(new URL(rel || ".", root))) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) {
        if (!e.name.startsWith(".") && e.name !== "node_modules") await walk(path);
      } else if (isProgramSource(path)) {
        files[path] = await Deno.readTextFile(new URL(path, root));
      }
    }
  }
  await walk("");
  return files;
}

Deno.test("errors: only each surface's reply file builds a Response, only its mapper an error one", async () => {
  const files = await programFiles();
  for (const f of Object.keys(REPLY_FILES)) assert.ok(files[f], `${f} is missing`);
  assert.ok(Object.keys(files).length > 50, "the walk found the program's files");
  assert.deepEqual(errorReplyViolations(files), []);
});

Deno.test("errors: the guard fails on a hand-built error reply (it can fail)", async () => {
  const files = await programFiles();
  const planted = {
    ...files,
    "server/_rpc.ts": files["server/_rpc.ts"] +
      '\nexport function x(): Response {\n  return new Response("no", { status: 400 });\n}\n',
    "ui/_reply.ts": files["ui/_reply.ts"] +
      '\nexport function y(): Response {\n  return new Response("{}", { status: 404 });\n}\n',
    "server/_reply.ts": files["server/_reply.ts"] +
      "\nexport function z(s: number): Response {\n  return new Response(null, { status: s });\n}\n",
    "cloud/relay.ts": files["cloud/relay.ts"] + '\nconst r = new Response("x");\n',
  };
  const found = errorReplyViolations(planted);
  assert.equal(found.length, 4, found.join("\n"));
  assert.match(found.join("\n"), /server\/_rpc\.ts:\d+: builds a Response outside/);
  assert.match(found.join("\n"), /cloud\/relay\.ts:\d+: builds a Response outside/);
  assert.match(found.join("\n"), /ui\/_reply\.ts:\d+: y sets status 404; only adminErrorReply/);
  assert.match(found.join("\n"), /server\/_reply\.ts:\d+: z sets status s; only lanErrorReply/);
});

Deno.test("errors: the CLI's exit code comes from the error's code, not its HTTP status", () => {
  assert.deepEqual(cliFailure(new HubError("bad_flag", 400, "--port needs a value")), {
    message: "--port needs a value",
    exitCode: 2,
  });
  assert.equal(cliFailure(new HubError("data_dir_unusable", 400, "x")).exitCode, 2);
  // A 400 status does not make a usage error, nor a 500 hide one.
  assert.equal(cliFailure(new HubError("address_in_use", 400, "x")).exitCode, 1);
  assert.equal(cliFailure(new HubError("bad_flag", 500, "x")).exitCode, 2);
  assert.deepEqual(cliFailure(new Error("boom")), { message: "boom", exitCode: 1 });
  assert.deepEqual(cliFailure("odd"), { message: "odd", exitCode: 1 });
});

Deno.test("errors: no program file outside main.ts ends the process", async () => {
  const files = await programFiles();
  const exits = Object.entries(files)
    .filter(([path, text]) =>
      path !== "main.ts" &&
      // Code only: doc comments may show a caller exiting.
      text.split("\n").some((line) => !/^\s*(\*|\/\/)/.test(line) && /Deno\.exit\(/.test(line))
    )
    .map(([path]) => path);
  assert.deepEqual(exits, []);
});
