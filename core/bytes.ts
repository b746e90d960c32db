/** Encoding helpers shared by the vault, the LAN envelope and the cloud client. */

const B64U = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * base64url without padding, as the phone's protocol uses.
 *
 * @example
 * ```ts
 * import { toB64u } from "./mod.ts";
 *
 * toB64u(new Uint8Array([251, 255])); // "-_8"
 * ```
 */
export function toB64u(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/**
 * Decodes strict base64url without padding. Throws on padding, on characters of
 * the other alphabet, and on non-canonical trailing bits.
 *
 * @example
 * ```ts
 * import { fromB64u } from "./mod.ts";
 *
 * fromB64u("-_8"); // Uint8Array [251, 255]
 * fromB64u("-_8="); // throws TypeError: padding is refused
 * fromB64u("-_9"); // throws TypeError: not canonical
 * ```
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

/**
 * Standard base64 with padding.
 *
 * @example
 * ```ts
 * import { toB64 } from "./mod.ts";
 *
 * toB64(new TextEncoder().encode("hu")); // "aHU="
 * ```
 */
export function toB64(bytes: Uint8Array): string {
  return bytes.toBase64();
}

/**
 * Decodes standard base64 (padding required).
 *
 * @example
 * ```ts
 * import { fromB64 } from "./mod.ts";
 *
 * new TextDecoder().decode(fromB64("aHU=")); // "hu"
 * fromB64("aHU"); // throws SyntaxError: the padding is missing
 * ```
 */
export function fromB64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.fromBase64(text, { lastChunkHandling: "strict" });
}

/**
 * Lower-case hex.
 *
 * @example
 * ```ts
 * import { toHex } from "./mod.ts";
 *
 * toHex(new Uint8Array([0, 15, 255])); // "000fff"
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  return bytes.toHex();
}

/**
 * Decodes hex.
 *
 * @example
 * ```ts
 * import { fromHex } from "./mod.ts";
 *
 * fromHex("000fff"); // Uint8Array [0, 15, 255]
 * ```
 */
export function fromHex(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.fromHex(text);
}

/**
 * Compares two byte arrays in time independent of where they differ.
 *
 * @example
 * ```ts
 * import { timingSafeEqual } from "./mod.ts";
 *
 * const enc = new TextEncoder();
 * timingSafeEqual(enc.encode("example-csrf-1"), enc.encode("example-csrf-1")); // true
 * timingSafeEqual(enc.encode("example-csrf-1"), enc.encode("example-csrf-2")); // false
 * ```
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * Overwrites a buffer that held key material.
 *
 * @example
 * ```ts
 * import { wipe } from "./mod.ts";
 *
 * const key = crypto.getRandomValues(new Uint8Array(32));
 * // ... import or use the key ...
 * wipe(key);
 * key.every((b) => b === 0); // true
 * ```
 */
export function wipe(bytes: Uint8Array | undefined): void {
  bytes?.fill(0);
}

/**
 * SHA-256 of bytes, as hex.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./mod.ts";
 *
 * await sha256Hex(new TextEncoder().encode("abc"));
 * // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
 * ```
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes))).toHex();
}
