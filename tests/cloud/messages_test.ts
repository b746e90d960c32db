/** Cloud errors tell the operator what to do, not what the HTTP stack said. */
import assert from "node:assert/strict";
import { CloudClient, CloudError, DEFAULT_TIMEOUTS } from "../../cloud/mod.ts";

async function failureOf(status: number, body = ""): Promise<CloudError> {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(body, { status, headers: { "content-type": "application/json" } }),
  );
  try {
    const client = new CloudClient(
      `http://127.0.0.1:${server.addr.port}`,
      "hh_" + "a".repeat(64),
      DEFAULT_TIMEOUTS,
    );
    try {
      await client.verifyKey();
    } catch (err) {
      assert.ok(err instanceof CloudError, String(err));
      return err;
    }
    throw new Error("verifyKey did not fail");
  } finally {
    await server.shutdown();
  }
}

Deno.test("cloud messages: 404 says to check the address, not just 'answered 404'", async () => {
  const e = await failureOf(404);
  assert.match(e.message, /Check the cloud's address/);
  assert.doesNotMatch(e.message, /answered 404/);
});

Deno.test("cloud messages: 5xx says the hub retries and whom to tell", async () => {
  const e = await failureOf(500, JSON.stringify({ error: "boom" }));
  assert.match(e.message, /tries again by itself/);
  assert.match(e.message, /administrator/);
});

Deno.test("cloud messages: a refused key says how to re-register", async () => {
  const e = await failureOf(401, JSON.stringify({ error: "Invalid API key" }));
  assert.equal(e.kind, "auth");
  assert.match(e.message, /Link to another cloud or key/);
});

Deno.test("cloud messages: an unreachable cloud says what to check, without the raw fetch error", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const client = new CloudClient(
    `http://127.0.0.1:${port}`,
    "hh_" + "a".repeat(64),
    DEFAULT_TIMEOUTS,
  );
  const e = await client.verifyKey().then(() => null, (err) => err);
  assert.ok(e instanceof CloudError);
  assert.equal(e.kind, "unreachable");
  assert.match(e.message, /could not be reached\. Check this computer's internet connection/);
  assert.doesNotMatch(e.message, /error sending request|fetch failed|Connection refused/i);
});
