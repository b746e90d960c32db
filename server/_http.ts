/** HTTP helpers of the LAN server: plain-text errors, bounded body reads. */
import { HubError } from "../core/mod.ts";

/** A plain-text reply (the SPEC's shape for transport-level errors). */
export function text(status: number, body: string): Response {
  return new Response(body + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}

/** A JSON reply from already-serialised text. */
export function jsonText(body: string, status = 200): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

/**
 * Reads a request body of at most `maxBytes` within `timeoutMs`. Throws 413 when
 * larger (checked on Content-Length first, then while reading, so a lying header
 * cannot get more in) and 408 when the client sends too slowly.
 */
export async function readBody(
  req: Request,
  maxBytes: number,
  timeoutMs: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    throw new HubError("too_large", 413, `Request body is larger than ${maxBytes} bytes.`);
  }
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HubError("timeout", 408, "The request body took too long to arrive.")),
      timeoutMs,
    );
  });
  try {
    while (true) {
      const { done, value } = await Promise.race([reader.read(), deadline]);
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        throw new HubError("too_large", 413, `Request body is larger than ${maxBytes} bytes.`);
      }
      chunks.push(value);
    }
  } catch (err) {
    reader.cancel().catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Parses a JSON object body; throws 400 with a plain reason. */
export function parseJsonObject(bytes: Uint8Array): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new HubError("bad_request", 400, "Body is not valid JSON.");
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new HubError("bad_request", 400, "Body must be a JSON object.");
  }
  return v as Record<string, unknown>;
}
