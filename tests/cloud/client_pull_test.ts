/**
 * The HTTP cloud peer's pull: rows in order, the reply's timestamp, and which
 * failure is whose (a broken reply is the cloud's; the caller's merge error
 * stays the caller's, never "the connection broke").
 */
import assert from "node:assert/strict";
import { CloudClient, CloudError, type StreamedChange } from "../../cloud/mod.ts";

async function withReply(
  body: string,
  fn: (client: CloudClient) => Promise<void>,
): Promise<void> {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(body, { headers: { "content-type": "application/json" } }),
  );
  try {
    await fn(
      new CloudClient(`http://127.0.0.1:${server.addr.port}`, "hh_" + "b".repeat(64), {
        connectMs: 2_000,
        transferMs: 5_000,
      }),
    );
  } finally {
    await server.shutdown();
  }
}

const REPLY = JSON.stringify({
  success: true,
  changes: {
    patients: { created: [{ id: "a" }, { id: "b" }], updated: [{ id: "c" }], deleted: ["d"] },
  },
  timestamp: 1234,
});

Deno.test("peer pull: hands over each row in order and ends with the cloud's timestamp", async () => {
  await withReply(REPLY, async (client) => {
    const seen: string[] = [];
    const end = await client.pull(0, (c: StreamedChange) => {
      const v = c.value as { id?: string } | string;
      seen.push(`${c.kind}:${typeof v === "string" ? v : v.id}`);
    }, new AbortController().signal);
    assert.deepEqual(seen, ["created:a", "created:b", "updated:c", "deleted:d"]);
    assert.deepEqual(end, { timestamp: 1234 });
  });
});

Deno.test("peer pull: an error of the caller's merge passes through unchanged", async () => {
  await withReply(REPLY, async (client) => {
    const mine = new Error("disk full");
    const err = await client.pull(0, () => {
      throw mine;
    }, new AbortController().signal).then(() => null, (e) => e);
    assert.equal(err, mine, "not wrapped as a broken connection");
  });
});

Deno.test("peer pull: a reply without success or timestamp is a protocol failure", async () => {
  await withReply(JSON.stringify({ changes: {}, timestamp: "soon" }), async (client) => {
    const err = await client.pull(0, () => {}, new AbortController().signal).then(
      () => null,
      (e) => e,
    );
    assert.ok(err instanceof CloudError);
    assert.equal(err.kind, "protocol");
  });
});

Deno.test("peer pull: a reply that is not JSON is a protocol failure", async () => {
  await withReply('{"success": true, "changes": {"patients": {"created": [nope', async (client) => {
    const err = await client.pull(0, () => {}, new AbortController().signal).then(
      () => null,
      (e) => e,
    );
    assert.ok(err instanceof CloudError);
    assert.equal(err.kind, "protocol");
    assert.match(err.message, /malformed/);
  });
});
