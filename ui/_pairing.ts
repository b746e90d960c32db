/** The pairing QR (SPEC §8): the JSON a phone scans, and its SVG. */
import QRCode from "qrcode";

/** The SPEC §8 payload as a JSON string. */
export function pairingPayload(url: string, hubId: string, publicKey: string): string {
  return JSON.stringify({ type: "sync_hub", url, id: hubId, pk: publicKey });
}

/** The QR code of `payload` as an SVG document (error correction M, quiet zone 4). */
export async function pairingSvg(payload: string): Promise<string> {
  return await QRCode.toString(payload, { type: "svg", errorCorrectionLevel: "M", margin: 4 });
}

/** The QR code for a terminal (`--no-open` prints it). */
export async function pairingTerminal(payload: string): Promise<string> {
  return await QRCode.toString(payload, {
    type: "terminal",
    small: true,
    errorCorrectionLevel: "M",
  });
}
