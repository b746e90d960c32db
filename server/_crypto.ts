/**
 * The phone protocol's cryptography (SPEC §2–3): X25519 key agreement, HKDF-SHA256
 * session keys, and the AES-256-GCM envelope `nonce(12) ‖ ciphertext ‖ tag(16)`
 * in base64url without padding. All through WebCrypto.
 */
import { fromB64u, HubError, toB64u } from "../core/mod.ts";

/**
 * HKDF salt fixed by the protocol.
 *
 * @example
 * ```ts
 * import { PAIRING_SALT } from "./mod.ts";
 *
 * new TextDecoder().decode(PAIRING_SALT); // "hikma-health-pairing-v1"
 * PAIRING_SALT.length; // 23
 * ```
 */
export const PAIRING_SALT = new TextEncoder().encode("hikma-health-pairing-v1");
/** AAD labels of the envelope. */
export type EnvelopeLabel = "command" | "query" | "command_response" | "query_response";

const LABELS: Record<EnvelopeLabel, Uint8Array<ArrayBuffer>> = {
  command: new TextEncoder().encode("command"),
  query: new TextEncoder().encode("query"),
  command_response: new TextEncoder().encode("command_response"),
  query_response: new TextEncoder().encode("query_response"),
};

/** A key or payload the protocol refuses: a plain-text 400 on the LAN (`_reply.ts`). */
function refused(message: string): HubError {
  return new HubError("bad_request", 400, message);
}

/** Decodes a raw X25519 public key: exactly 43 base64url characters, no padding. */
export function decodePublicKey(text: unknown): Uint8Array<ArrayBuffer> {
  if (typeof text !== "string" || text.length !== 43) {
    throw refused("client_public_key must be 32 bytes in base64url without padding");
  }
  try {
    return fromB64u(text);
  } catch {
    throw refused("client_public_key must be 32 bytes in base64url without padding");
  }
}

/** Imports a raw X25519 public key. */
export async function importPublicKey(raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return await crypto.subtle.importKey("raw", raw, { name: "X25519" }, true, []);
}

/**
 * Derives the session key: HKDF-SHA256(ikm = X25519(own, peer), salt = pairing
 * salt, info = hub_public ‖ client_public, 32 bytes). Refuses an all-zero secret
 * (a low-order peer key).
 *
 * @example
 * ```ts
 * import { deriveSessionKey } from "./mod.ts";
 *
 * const x25519 = { name: "X25519" };
 * const hub = await crypto.subtle.generateKey(x25519, false, ["deriveBits"]) as CryptoKeyPair;
 * const phone = await crypto.subtle.generateKey(x25519, false, ["deriveBits"]) as CryptoKeyPair;
 * const hubPub = new Uint8Array(await crypto.subtle.exportKey("raw", hub.publicKey));
 * const phonePub = new Uint8Array(await crypto.subtle.exportKey("raw", phone.publicKey));
 * // The hub's side; the phone derives the same AES-256-GCM key from its own private key:
 * const key = await deriveSessionKey(hub.privateKey, phonePub, hubPub, phonePub);
 * const same = await deriveSessionKey(phone.privateKey, hubPub, hubPub, phonePub);
 * await deriveSessionKey(hub.privateKey, new Uint8Array(32), hubPub, phonePub);
 * // throws HubError `bad_request` (400): not a usable X25519 point
 * ```
 */
export async function deriveSessionKey(
  ownPrivate: CryptoKey,
  peerPublic: Uint8Array<ArrayBuffer>,
  hubPublic: Uint8Array,
  clientPublic: Uint8Array,
  extractable = false,
): Promise<CryptoKey> {
  let shared: Uint8Array<ArrayBuffer>;
  try {
    shared = new Uint8Array(
      await crypto.subtle.deriveBits(
        { name: "X25519", public: await importPublicKey(peerPublic) },
        ownPrivate,
        256,
      ),
    );
  } catch {
    throw refused("the public key is not a usable X25519 point");
  }
  if (shared.every((b) => b === 0)) {
    throw refused("the public key gives an all-zero shared secret");
  }
  const ikm = await crypto.subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  shared.fill(0);
  const info = new Uint8Array(64);
  info.set(hubPublic, 0);
  info.set(clientPublic, 32);
  return await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: PAIRING_SALT, info },
    ikm,
    { name: "AES-GCM", length: 256 },
    extractable,
    ["encrypt", "decrypt"],
  );
}

/**
 * Seals bytes under a session key with a fresh (or given) 12-byte nonce.
 *
 * @example
 * ```ts
 * import { seal } from "./mod.ts";
 *
 * declare const key: CryptoKey; // the session key from deriveSessionKey
 * const request = new TextEncoder().encode('{"command":"ping","data":{},"token":null}');
 * const payload = await seal(key, request, "command");
 * payload.length; // 92: base64url of nonce(12) ‖ ciphertext(41) ‖ tag(16), no padding
 * await seal(key, request, "command", new Uint8Array(12).fill(7)); // a fixed nonce (test vectors)
 * ```
 */
export async function seal(
  key: CryptoKey,
  plaintext: Uint8Array<ArrayBuffer>,
  label: EnvelopeLabel,
  nonce: Uint8Array<ArrayBuffer> = crypto.getRandomValues(new Uint8Array(12)),
): Promise<string> {
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: LABELS[label] },
      key,
      plaintext,
    ),
  );
  const out = new Uint8Array(12 + ct.length);
  out.set(nonce, 0);
  out.set(ct, 12);
  return toB64u(out);
}

/** Splits and decodes a payload; throws a 400 `HubError` when it is not well formed. */
export function splitPayload(
  payload: unknown,
): { nonce: Uint8Array<ArrayBuffer>; ct: Uint8Array<ArrayBuffer> } {
  if (typeof payload !== "string" || payload.length === 0) {
    throw refused("payload must be a non-empty base64url string");
  }
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = fromB64u(payload);
  } catch {
    throw refused("payload is not base64url without padding");
  }
  if (bytes.length < 12 + 16) throw refused("payload is too short");
  return { nonce: bytes.slice(0, 12), ct: bytes.subarray(12) };
}

/** Opens a sealed payload; throws a 400 `HubError` when the seal does not verify. */
export async function open(
  key: CryptoKey,
  nonce: Uint8Array<ArrayBuffer>,
  ct: Uint8Array<ArrayBuffer>,
  label: EnvelopeLabel,
): Promise<Uint8Array<ArrayBuffer>> {
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: nonce, additionalData: LABELS[label] },
        key,
        ct,
      ),
    );
  } catch {
    throw refused("payload could not be decrypted with this client's session key");
  }
}
