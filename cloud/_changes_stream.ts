/**
 * Reads a cloud pull reply — `{"success":…,"changes":{table:{created:[…],
 * updated:[…],deleted:[…]}},"timestamp":…}` — as a stream, handing out one row
 * at a time. A first sync can be hundreds of MB; parsing it whole would hold it
 * several times over (text, objects, our copies) and can exceed V8's string
 * limit. Here only one row's bytes are held at once (plus the caller's batch).
 *
 * The scanner works on UTF-8 bytes: every structural character is ASCII and no
 * multi-byte sequence contains an ASCII byte, so slicing at them is safe.
 */

/** One element of a table's created/updated/deleted array. */
export interface StreamedChange {
  table: string;
  kind: "created" | "updated" | "deleted";
  /** Parsed row object (created/updated) or id / row object (deleted). */
  value: unknown;
}

/** The top-level scalars of the reply, known once the stream ends. */
export interface StreamSummary {
  success: unknown;
  timestamp: unknown;
  /** Other top-level fields (e.g. `error`) when small. */
  extra: Record<string, unknown>;
}

/** Thrown when the reply is not the JSON shape we expect. */
export class ChangesFormatError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ChangesFormatError";
  }
}

const Q = 0x22, BS = 0x5c, LB = 0x7b, RB = 0x7d, LS = 0x5b, RS = 0x5d;
const MAX_CAPTURE = 64 * 1024 * 1024;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function isDelimiter(b: number): boolean {
  return b === 0x2c || b === RB || b === RS || isSpace(b);
}

type Frame = { type: "obj" | "arr"; key: string | null; expectKey: boolean };
type Target = "key" | "change" | "top" | null;
type Mode = "normal" | "string" | "scalar" | "container";

/**
 * Streams the changes of a pull reply. `onChange` is called for each row in
 * order; it may return a promise (used to flush a batch to the database), and
 * the stream is not read further until it settles (back-pressure).
 *
 * @example
 * ```ts
 * import { streamChanges, type StreamedChange } from "./mod.ts";
 *
 * const reply = new Response(
 *   '{"success":true,"changes":{"patients":{"created":[{"id":"p-1","given_name":"Amina"}],' +
 *     '"updated":[],"deleted":["p-2"]}},"timestamp":1764400000000}',
 * );
 * const rows: StreamedChange[] = [];
 * const summary = await streamChanges(reply.body!, (change) => {
 *   rows.push(change);
 * });
 * // rows: [
 * //   { table: "patients", kind: "created", value: { id: "p-1", given_name: "Amina" } },
 * //   { table: "patients", kind: "deleted", value: "p-2" },
 * // ]
 * summary.timestamp; // 1764400000000
 * ```
 */
export async function streamChanges(
  body: ReadableStream<Uint8Array>,
  onChange: (change: StreamedChange) => void | Promise<void>,
): Promise<StreamSummary> {
  const dec = new TextDecoder("utf-8", { fatal: true });
  const stack: Frame[] = [];
  const summary: StreamSummary = { success: undefined, timestamp: undefined, extra: {} };
  let mode: Mode = "normal";
  let escaped = false;
  let depth = 0; // nesting inside a captured container
  let target: Target = null; // what the current string/scalar/container becomes
  let parts: Uint8Array[] = [];
  let size = 0;
  let sawRoot = false;

  function keep(chunk: Uint8Array, from: number, to: number) {
    if (target === null || to <= from) return;
    parts.push(chunk.slice(from, to));
    size += to - from;
    if (size > MAX_CAPTURE) throw new ChangesFormatError("a single row is larger than 64 MiB");
  }

  function text(): string {
    const all = new Uint8Array(size);
    let off = 0;
    for (const c of parts) {
      all.set(c, off);
      off += c.length;
    }
    parts = [];
    size = 0;
    return dec.decode(all);
  }

  function valueDone() {
    const top = stack[stack.length - 1];
    if (top && top.type === "obj") top.expectKey = true;
  }

  async function finish() {
    const t = target;
    target = null;
    if (t === null) {
      valueDone();
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text());
    } catch {
      throw new ChangesFormatError("a value in the reply is not valid JSON");
    }
    if (t === "key") {
      const top = stack[stack.length - 1];
      top.key = value as string;
      top.expectKey = false;
      return;
    }
    if (t === "change") {
      await onChange({
        table: stack[1].key!,
        kind: stack[2].key as StreamedChange["kind"],
        value,
      });
    } else {
      const key = stack[0].key!;
      if (key === "success") summary.success = value;
      else if (key === "timestamp") summary.timestamp = value;
      else summary.extra[key] = value;
    }
    valueDone();
  }

  function targetHere(): Target {
    const d = stack.length;
    if (d === 1) return stack[0].key === "changes" ? null : "top";
    if (
      d === 4 && stack[0].key === "changes" && stack[3].type === "arr" &&
      (stack[2].key === "created" || stack[2].key === "updated" || stack[2].key === "deleted")
    ) return "change";
    return null;
  }

  const reader = body.getReader();
  while (true) {
    const { done, value: chunk } = await reader.read();
    if (done) break;
    const n = chunk.length;
    let from = 0; // start of the part of this chunk that belongs to the capture
    let i = 0;
    while (i < n) {
      const b = chunk[i];
      if (mode === "string") {
        if (escaped) escaped = false;
        else if (b === BS) escaped = true;
        else if (b === Q) {
          if (depth === 0) {
            keep(chunk, from, i + 1);
            mode = "normal";
            i++;
            await finish();
            continue;
          }
          mode = "container";
        }
        i++;
        continue;
      }
      if (mode === "container") {
        if (b === Q) mode = "string";
        else if (b === LB || b === LS) depth++;
        else if (b === RB || b === RS) {
          depth--;
          if (depth === 0) {
            keep(chunk, from, i + 1);
            mode = "normal";
            i++;
            await finish();
            continue;
          }
        }
        i++;
        continue;
      }
      if (mode === "scalar") {
        if (!isDelimiter(b)) {
          i++;
          continue;
        }
        keep(chunk, from, i);
        mode = "normal";
        await finish();
        // fall through: the delimiter is handled below
      }
      if (isSpace(b) || b === 0x3a || b === 0x2c) {
        i++;
        continue;
      }
      const top = stack[stack.length - 1];
      if (b === RB || b === RS) {
        if (!top) throw new ChangesFormatError("unbalanced brackets in the reply");
        stack.pop();
        valueDone();
        i++;
        continue;
      }
      if (top && top.type === "obj" && top.expectKey) {
        if (b !== Q) throw new ChangesFormatError("expected a key in the reply");
        target = "key";
        mode = "string";
        depth = 0;
        from = i;
        i++;
        continue;
      }
      // A value starts here.
      if (stack.length === 0) {
        if (sawRoot || b !== LB) throw new ChangesFormatError("the reply is not a JSON object");
        sawRoot = true;
        stack.push({ type: "obj", key: null, expectKey: true });
        i++;
        continue;
      }
      target = targetHere();
      from = i;
      if (b === Q) {
        mode = "string";
        depth = 0;
      } else if (b === LB || b === LS) {
        if (target === null) {
          stack.push({ type: b === LB ? "obj" : "arr", key: null, expectKey: b === LB });
        } else {
          mode = "container";
          depth = 1;
        }
      } else {
        mode = "scalar";
      }
      i++;
    }
    if (mode !== "normal") keep(chunk, from, n);
  }
  if (mode === "scalar") {
    mode = "normal";
    await finish();
  }
  if (stack.length !== 0 || !sawRoot || mode !== "normal") {
    throw new ChangesFormatError("the reply ended before the JSON was complete");
  }
  return summary;
}
