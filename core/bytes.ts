/** Encoding helpers shared by the vault, the LAN envelope and the cloud client. */

const B64U = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** base64url without padding, as the phone's protocol uses. */
export function toB64u(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/**
 * Decodes strict base64url without padding. Throws on padding, on characters of
 * the other alphabet, and on non-canonical trailing bits.
 */
export function fromB64u(text: string): Uint8Array<ArrayBuffer> {
  const rest = text.length % 4;
  if (!/^[A-Za-z0-9_-]*$/.test(text) || rest === 1) {
    throw new TypeError("not base64url without padding");
  }
  // Canonical form: the unused low bits of the last character must be zero
  // (checked on that character alone; re-encoding a large payload costs too much).
  if (rest !== 0) {
    const v = B64U.indexOf(text[text.length - 1]);
    if ((rest === 2 && (v & 0x0f) !== 0) || (rest === 3 && (v & 0x03) !== 0)) {
      throw new TypeError("not canonical base64url");
    }
  }
  return Uint8Array.fromBase64(text, { alphabet: "base64url" });
}

/** Standard base64 with padding. */
export function toB64(bytes: Uint8Array): string {
  return bytes.toBase64();
}

/** Decodes standard base64 (padding required). */
export function fromB64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.fromBase64(text, { lastChunkHandling: "strict" });
}

/** Lower-case hex. */
export function toHex(bytes: Uint8Array): string {
  return bytes.toHex();
}

/** Decodes hex. */
export function fromHex(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.fromHex(text);
}

/** Compares two byte arrays in time independent of where they differ. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Overwrites a buffer that held key material. */
export function wipe(bytes: Uint8Array | undefined): void {
  bytes?.fill(0);
}

/** SHA-256 of bytes, as hex. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes))).toHex();
}
