/** The pairing QR (SPEC §8): the JSON a phone scans, and its SVG. */
import QRCode from "qrcode";

/**
 * The SPEC §8 payload as a JSON string.
 *
 * @example
 * ```ts
 * import { pairingPayload } from "./mod.ts";
 *
 * const hubId = "00000000-0000-4000-8000-000000000001";
 * const publicKey = "A".repeat(43); // the hub's X25519 public key, base64url
 * pairingPayload("http://192.168.1.20:4001", hubId, publicKey);
 * // '{"type":"sync_hub","url":"http://192.168.1.20:4001","id":"00000000-...-000000000001","pk":"AAA...A"}'
 * ```
 */
export function pairingPayload(url: string, hubId: string, publicKey: string): string {
  return JSON.stringify({ type: "sync_hub", url, id: hubId, pk: publicKey });
}

/**
 * The QR code of `payload` as an SVG document (error correction M, quiet zone 4).
 *
 * @example
 * ```ts
 * import { pairingPayload, pairingSvg } from "./mod.ts";
 *
 * const payload = pairingPayload(
 *   "http://192.168.1.20:4001",
 *   "00000000-0000-4000-8000-000000000001",
 *   "A".repeat(43),
 * );
 * const svg = await pairingSvg(payload); // GET /api/pairing answers it as `svg`
 * svg.startsWith("<svg"); // true
 * ```
 */
export async function pairingSvg(payload: string): Promise<string> {
  return await QRCode.toString(payload, { type: "svg", errorCorrectionLevel: "M", margin: 4 });
}

/**
 * The QR code for a terminal (`--no-open` prints it).
 *
 * @example
 * ```ts
 * import { pairingPayload, pairingTerminal } from "./mod.ts";
 *
 * const payload = pairingPayload(
 *   "http://192.168.1.20:4001",
 *   "00000000-0000-4000-8000-000000000001",
 *   "A".repeat(43),
 * );
 * const qr = await pairingTerminal(payload); // lines of block characters
 * Deno.stderr.writeSync(new TextEncoder().encode(qr + "\n"));
 * ```
 */
export async function pairingTerminal(payload: string): Promise<string> {
  return await QRCode.toString(payload, {
    type: "terminal",
    small: true,
    errorCorrectionLevel: "M",
  });
}
