/**
 * A test phone written from SPEC §2–3 (not from the mobile app's code): it makes
 * a fresh X25519 key pair per handshake, derives the session key with HKDF, and
 * seals requests / opens replies in the AES-256-GCM envelope. Tests and benches
 * use it as a phone; it also exposes the raw pieces for replay and forgery tests.
 */

const enc = new TextEncoder();
const dec = new TextDecoder();
const SALT = enc.encode("hikma-health-pairing-v1");

/** base64url without padding. */
export function b64u(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/** Decodes base64url without padding. */
export function unb64u(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.fromBase64(text, { alphabet: "base64url" });
}

/** The reply of a command or query, decrypted when it succeeded. */
export interface RpcReply<T = unknown> {
  status: number;
  /** Decrypted result when `success` is true. */
  result?: T;
  success?: boolean;
  error?: string;
  /** Plain-text body of a non-2xx reply. */
  text?: string;
}

/** Derives the protocol's session key from our private key and the peer's public key. */
export async function sessionKey(
  ownPrivate: CryptoKey,
  peerPublicRaw: Uint8Array<ArrayBuffer>,
  hubPublicRaw: Uint8Array,
  clientPublicRaw: Uint8Array,
): Promise<CryptoKey> {
  const peer = await crypto.subtle.importKey("raw", peerPublicRaw, { name: "X25519" }, true, []);
  const shared = await crypto.subtle.deriveBits({ name: "X25519", public: peer }, ownPrivate, 256);
  const ikm = await crypto.subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  const info = new Uint8Array(64);
  info.set(hubPublicRaw, 0);
  info.set(clientPublicRaw, 32);
  return await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: SALT, info },
    ikm,
    { name: "AES-GCM", length: 256 },
    true,
    ["encrypt", "decrypt"],
  );
}

/** Seals a JSON value: base64url(nonce ‖ ciphertext ‖ tag) with the AAD label. */
export async function sealJson(
  key: CryptoKey,
  value: unknown,
  aad: string,
  nonce: Uint8Array<ArrayBuffer> = crypto.getRandomValues(new Uint8Array(12)),
): Promise<string> {
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: enc.encode(aad) },
      key,
      enc.encode(JSON.stringify(value)),
    ),
  );
  const out = new Uint8Array(12 + ct.length);
  out.set(nonce);
  out.set(ct, 12);
  return b64u(out);
}

/** Opens a sealed payload and parses its JSON. */
export async function openJson<T>(key: CryptoKey, payload: string, aad: string): Promise<T> {
  const bytes = unb64u(payload);
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.slice(0, 12), additionalData: enc.encode(aad) },
    key,
    bytes.slice(12),
  );
  return JSON.parse(dec.decode(plain)) as T;
}

/** A simulated phone talking to a hub at `baseUrl`. */
export class PhoneClient {
  readonly baseUrl: string;
  readonly clientId: string;
  readonly deviceName: string | undefined;
  key: CryptoKey | null = null;
  token: string | null = null;
  hubId: string | null = null;
  /** The last raw request body sent (for replay tests). */
  lastRequestBody: string | null = null;
  /** The last handshake body sent (for replay tests). */
  lastHandshakeBody: string | null = null;

  /** Creates a phone with a random client id unless given. */
  constructor(baseUrl: string, options: { clientId?: string; deviceName?: string } = {}) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.clientId = options.clientId ?? `phone-${crypto.randomUUID()}`;
    this.deviceName = options.deviceName;
  }

  /** Handshakes with a fresh key pair; throws with the status and text on failure. */
  async handshake(): Promise<{ hub_public_key: string; hub_id: string; hub_name: string }> {
    const pair = await crypto.subtle.generateKey({ name: "X25519" }, true, [
      "deriveBits",
    ]) as CryptoKeyPair;
    const clientPublic = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    const body = JSON.stringify({
      client_id: this.clientId,
      client_public_key: b64u(clientPublic),
      ...(this.deviceName ? { device_name: this.deviceName } : {}),
    });
    this.lastHandshakeBody = body;
    const res = await fetch(`${this.baseUrl}/rpc/handshake`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    if (res.status !== 200) {
      throw new Error(`handshake ${res.status}: ${await res.text()}`);
    }
    const reply = await res.json();
    const hubPublic = unb64u(reply.hub_public_key);
    this.key = await sessionKey(pair.privateKey, hubPublic, hubPublic, clientPublic);
    this.hubId = reply.hub_id;
    return reply;
  }

  /** Sends a raw envelope body to a route and returns the raw response. */
  async sendRaw(route: "command" | "query", body: string): Promise<Response> {
    return await fetch(`${this.baseUrl}/rpc/${route}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
  }

  async #call<T>(route: "command" | "query", inner: unknown): Promise<RpcReply<T>> {
    if (!this.key) await this.handshake();
    const payload = await sealJson(this.key!, inner, route);
    const body = JSON.stringify({ client_id: this.clientId, payload });
    this.lastRequestBody = body;
    const res = await this.sendRaw(route, body);
    if (res.status !== 200) return { status: res.status, text: await res.text() };
    const reply = await res.json();
    if (!reply.success) return { status: 200, success: false, error: reply.error };
    const result = await openJson<T>(this.key!, reply.payload, `${route}_response`);
    return { status: 200, success: true, result };
  }

  /** Sends a command with the current token. */
  command<T = unknown>(name: string, data: unknown = {}): Promise<RpcReply<T>> {
    return this.#call<T>("command", { command: name, data, token: this.token });
  }

  /** Sends a query with the current token. */
  query<T = unknown>(name: string, params: unknown = {}): Promise<RpcReply<T>> {
    return this.#call<T>("query", { query: name, params, token: this.token });
  }

  /** Logs in and keeps the token; throws when the hub refuses. */
  async login(email: string, password: string): Promise<Record<string, unknown>> {
    const r = await this.command<Record<string, unknown>>("login", { email, password });
    if (!r.success) throw new Error(`login failed: ${r.error ?? r.text}`);
    this.token = r.result!.token as string;
    return r.result!;
  }

  /** One WatermelonDB pull (`deleted` entries are `{id}` objects, SPEC §5). */
  async pull(lastPulledAt: number | null): Promise<{
    changes: Record<
      string,
      {
        created: Record<string, unknown>[];
        updated: Record<string, unknown>[];
        deleted: DeletedEntry[];
      }
    >;
    timestamp: number;
  }> {
    const r = await this.query<{
      changes: Record<
        string,
        {
          created: Record<string, unknown>[];
          updated: Record<string, unknown>[];
          deleted: DeletedEntry[];
        }
      >;
      timestamp: number;
    }>("sync_pull", { lastPulledAt });
    if (!r.success) throw new Error(`pull failed: ${r.error ?? r.text}`);
    return r.result!;
  }

  /** One WatermelonDB push. */
  async push(lastPulledAt: number | null, changes: unknown): Promise<void> {
    const r = await this.command("sync_push", { lastPulledAt, changes });
    if (!r.success) throw new Error(`push failed: ${r.error ?? r.text}`);
  }
}

/** One entry of a pull's `deleted` list (the app reads `.id` of each). */
export interface DeletedEntry {
  id: string;
}
