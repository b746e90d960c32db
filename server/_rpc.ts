/**
 * The LAN routes' handlers: handshake (SPEC §2) and the encrypted envelope
 * (SPEC §3). Handlers throw `HubError`: transport faults (no session, bad
 * seal, malformed inner JSON, replay) as they are (a plain-text 400), procedure
 * failures marked `reply: "envelope"` by the registry; `_reply.ts` sends both.
 */
import { HubError, type Logger, sha256Hex, toB64u } from "../core/mod.ts";
import type { AccessProvider } from "./_access.ts";
import {
  decodePublicKey,
  deriveSessionKey,
  type EnvelopeLabel,
  open,
  seal,
  splitPayload,
} from "./_crypto.ts";
import { type BodyBudget, BodyReader, parseJsonObject } from "./_http.ts";
import { jsonReply } from "./_reply.ts";
import type { Session, SessionTable } from "./_sessions.ts";
import type { ProcedureServices, Registry } from "./procedures/mod.ts";

/** Everything the route handlers share. */
export interface RpcDeps {
  access: AccessProvider;
  sessions: SessionTable;
  registry: Registry;
  services: ProcedureServices;
  maxBodyBytes: number;
  bodyTimeoutMs: number;
  /** Minimum body rate: `minBytes` per `windowMs` until the body is complete. */
  bodyPace: { minBytes: number; windowMs: number };
  /** Bytes of request bodies held now, in all and per source, and the most allowed. */
  bodyBudget: BodyBudget;
  now: () => number;
  logger: Logger;
}

/** What a route learns about the request's connection. */
export interface RequestContext {
  /** The client's address. */
  source: string;
  /** Closes the connection after the reply (a body was left unread). */
  closeAfterReply: () => void;
}

/** The context of a request with no connection behind it (in-process calls). */
export function detachedContext(source = "unknown"): RequestContext {
  return { source, closeAfterReply: () => {} };
}

const MAX_ID = 200;
/** Largest /rpc/query body (query params are small). */
export const MAX_QUERY_BYTES = 1024 * 1024;
/** Largest body sent without Content-Length. */
export const MAX_UNDECLARED_BYTES = 1024 * 1024;

/**
 * POST /rpc/handshake. A bare handshake proves nothing (anyone can send one under
 * any `client_id`), so it adds a session key and writes only the used-key digest;
 * the device row is created or renamed by the first logged-in call under that key.
 */
export async function handshake(
  req: Request,
  deps: RpcDeps,
  ctx: RequestContext = detachedContext(),
): Promise<Response> {
  const source = ctx.source;
  const account = deps.bodyBudget.account(source);
  let raw: Uint8Array;
  try {
    raw = await new BodyReader(
      req,
      { maxBytes: 64 * 1024, timeoutMs: deps.bodyTimeoutMs, ...deps.bodyPace },
      account.charge,
    ).readAll();
  } catch (err) {
    ctx.closeAfterReply();
    throw err;
  } finally {
    account.release();
  }
  const body = parseJsonObject(raw);
  const clientId = body.client_id;
  if (typeof clientId !== "string" || clientId.length === 0 || clientId.length > MAX_ID) {
    throw badRequest("client_id must be a non-empty string");
  }
  const deviceName = body.device_name;
  if (
    deviceName !== undefined && deviceName !== null &&
    (typeof deviceName !== "string" || deviceName.length > MAX_ID)
  ) {
    throw badRequest("device_name must be a string of at most 200 characters");
  }
  const clientPublic = decodePublicKey(body.client_public_key);
  const hub = deps.access();
  if (!hub) {
    throw new HubError("locked", 503, "The hub is locked. Ask the clinic operator to unlock it.");
  }
  const store = hub.store;
  const existing = store.devices.get(clientId);
  if (existing?.revokedAt) {
    deps.logger.log("warn", "handshake.revoked", { device: clientId });
    throw new HubError(
      "revoked",
      403,
      "This device has been revoked on this hub and cannot sync with it. Ask the clinic's operator.",
    );
  }
  const key = await deriveSessionKey(
    hub.hubPrivateKey,
    clientPublic,
    hub.hubPublicKey,
    clientPublic,
  );
  const now = deps.now();
  const digest = await sha256Hex(clientPublic);
  if (!store.devices.rememberClientKey(digest, now)) {
    deps.logger.log("warn", "handshake.replayed_key", { device: clientId });
    throw badRequest("This client public key was already used; make a fresh key pair and retry.");
  }
  deps.sessions.set(clientId, key, source, typeof deviceName === "string" ? deviceName : null);
  deps.logger.log("info", "handshake.ok", { device: clientId });
  hub.publish?.("device", { device: clientId, action: "seen" });
  return jsonReply(JSON.stringify({
    hub_public_key: toB64u(hub.hubPublicKey),
    hub_id: hub.hubId,
    hub_name: hub.hubName,
    success: true,
  }));
}

/** How much of a body is read before its `client_id` must have been seen. */
const PREFIX_BYTES = 2048;

/**
 * The `client_id` at the very start of an envelope (`{"client_id":"...",`), read
 * from a prefix so a body is read whole only for a live session. Null when the
 * prefix does not start that way.
 */
export function leadingClientId(prefix: Uint8Array): string | null {
  const head = new TextDecoder().decode(prefix.subarray(0, PREFIX_BYTES));
  const m = /^\s*\{\s*"client_id"\s*:\s*("(?:[^"\\]|\\.)*")/.exec(head);
  if (!m) return null;
  try {
    const v = JSON.parse(m[1]);
    return typeof v === "string" ? v : null;
  } catch {
    return null;
  }
}

/**
 * POST /rpc/command and /rpc/query. The body is read in two steps: a prefix,
 * whose leading `client_id` must name a live session, then the rest. Every byte
 * held is charged to a budget shared by all requests, with a cap per source
 * address, so neither bodies from clients without a session nor one host's
 * uploads can take the memory phones need. Any limit passed stops the read.
 */
export async function envelope(
  req: Request,
  deps: RpcDeps,
  kind: "command" | "query",
  ctx: RequestContext = detachedContext(),
): Promise<Response> {
  // Queries carry small params; only commands (sync_push) need the large limit.
  let limit = kind === "query" ? Math.min(deps.maxBodyBytes, MAX_QUERY_BYTES) : deps.maxBodyBytes;
  const declared = Number(req.headers.get("content-length") ?? NaN);
  // Without Content-Length the size is unknown until read: keep such bodies small.
  if (!Number.isFinite(declared)) limit = Math.min(limit, MAX_UNDECLARED_BYTES);
  else if (declared > limit) {
    ctx.closeAfterReply();
    throw new HubError("too_large", 413, `Request body is larger than ${limit} bytes.`);
  }
  const account = deps.bodyBudget.account(ctx.source);
  let raw: Uint8Array;
  try {
    const reader = new BodyReader(
      req,
      { maxBytes: limit, timeoutMs: deps.bodyTimeoutMs, ...deps.bodyPace },
      account.charge,
    );
    const prefix = await reader.readAtLeast(PREFIX_BYTES);
    if (!reader.done) {
      const early = leadingClientId(prefix);
      // Refused before the rest is read: the catch below closes the connection.
      if (early === null) {
        reader.cancel();
        throw badRequest('The envelope must start with "client_id".');
      }
      if (deps.sessions.candidates(early).length === 0) {
        reader.cancel();
        throw badRequest("No session for this client_id; handshake first.");
      }
    }
    raw = await reader.readAll();
  } catch (err) {
    account.release();
    ctx.closeAfterReply();
    throw err;
  }
  // The body stays charged while it is decrypted and applied (it is in memory).
  try {
    return await envelopeWithin(raw, deps, kind);
  } finally {
    account.release();
  }
}

async function envelopeWithin(
  raw: Uint8Array,
  deps: RpcDeps,
  kind: "command" | "query",
): Promise<Response> {
  const body = parseJsonObject(raw);
  const clientId = body.client_id;
  if (typeof clientId !== "string" || clientId.length === 0 || clientId.length > MAX_ID) {
    throw badRequest("client_id must be a non-empty string");
  }
  const candidates = deps.sessions.candidates(clientId);
  if (candidates.length === 0) throw badRequest("No session for this client_id; handshake first.");
  const parts = splitPayload(body.payload);
  const nonceHex = parts.nonce.toHex();
  if (candidates.some((s) => deps.sessions.seen(s, nonceHex))) {
    deps.logger.log("warn", "rpc.replay", { device: clientId });
    throw badRequest("Replayed request refused.");
  }
  // Several recent keys may belong to this client id (someone else may have
  // handshaken under it): the one whose GCM tag verifies is the request's.
  let session: Session | undefined;
  let plain: Uint8Array | undefined;
  let failure: unknown;
  for (const s of candidates) {
    try {
      plain = await open(s.key, parts.nonce, parts.ct, kind);
      session = s;
      break;
    } catch (err) {
      failure = err;
    }
  }
  if (!session || !plain) throw failure;
  // Check again after the await: a copy sent at the same moment may have been
  // opened meanwhile. Check and mark run with no await between them.
  if (deps.sessions.seen(session, nonceHex)) {
    deps.logger.log("warn", "rpc.replay", { device: clientId });
    throw badRequest("Replayed request refused.");
  }
  // Only an authentic request burns its nonce, so a forger cannot block one.
  if (!deps.sessions.use(session, nonceHex)) {
    throw badRequest("This session has been used too often; handshake again.");
  }
  let inner: Record<string, unknown>;
  try {
    inner = parseJsonObject(plain);
  } catch {
    throw badRequest("The decrypted request is not a JSON object.");
  }
  const name = inner[kind];
  const params = kind === "command" ? inner.data : inner.params;
  const paramsField = kind === "command" ? "data" : "params";
  if (typeof name !== "string" || name.length === 0 || name.length > 100) {
    throw badRequest(`The decrypted request has no "${kind}" name.`);
  }
  if (params === null || typeof params !== "object" || Array.isArray(params)) {
    throw badRequest(`The decrypted request needs "${paramsField}" as an object.`);
  }
  if (inner.token !== undefined && inner.token !== null && typeof inner.token !== "string") {
    throw badRequest("token must be a string or null.");
  }
  const hub = deps.access();
  const now = deps.now();
  // A failed procedure throws an envelope error (registry.ts); only success goes on.
  const json = await deps.registry.call(kind, name, params, inner.token, {
    hub,
    clientId,
    now,
    services: deps.services,
  });
  if (!session.recorded && hub && provedItself(deps.registry, kind, name)) {
    // A successful login or token call proved who is behind this key: only now
    // is the device listed (or renamed) on the hub.
    try {
      hub.store.devices.touch(clientId, session.deviceName, now);
      session.recorded = true;
    } catch (err) {
      // The listing can wait (a full disk): the call itself succeeded.
      deps.logger.log("warn", "device.not_recorded", { device: clientId, error: err });
    }
  }
  // A large push leaves a large WAL: fold it back now (bounded WAL, see store/_db.ts).
  if (kind === "command" && hub) hub.store.checkpointIfLarge();
  const label: EnvelopeLabel = kind === "command" ? "command_response" : "query_response";
  const sealed = await seal(session.key, new TextEncoder().encode(json), label);
  return jsonReply(`{"payload":"${sealed}","success":true}`);
}

/** True for the calls that prove the caller: `login`, and every call that needs a token. */
function provedItself(registry: Registry, kind: "command" | "query", name: string): boolean {
  if (kind === "command" && name === "login") return true;
  return registry.get(kind, name)?.auth === "token";
}

/** A transport fault: the SPEC's plain-text 400. */
function badRequest(message: string): HubError {
  return new HubError("bad_request", 400, message);
}
