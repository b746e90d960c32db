/** Linking the hub to a cloud: verify the API key, then keep the link in the vault. */
import { HubError, Logger } from "../core/mod.ts";
import type { CloudLink } from "../vault/mod.ts";
import { checkCloudUrl, CloudClient, CloudError, type CloudTimeouts } from "./_client.ts";
import type { CloudPeer } from "./_peer.ts";

/** What registration returns to the operator. */
export interface Registration {
  link: CloudLink;
  hubId: string;
  hubName: string;
}

/**
 * The shape of a hub API key.
 *
 * @example
 * ```ts
 * import { API_KEY_PATTERN } from "./mod.ts";
 *
 * API_KEY_PATTERN.test("hh_" + "0".repeat(64)); // true
 * API_KEY_PATTERN.test("hh_1234"); // false: too short
 * ```
 */
export const API_KEY_PATTERN = /^hh_[0-9a-f]{64}$/i;

/**
 * Verifies `apiKey` against the cloud's verify-key endpoint. Wrong key,
 * unreachable cloud and non-HTTPS URLs give clear errors; nothing is stored here.
 *
 * @example
 * ```ts
 * import { verifyRegistration } from "./mod.ts";
 * import type { OpenVault } from "../vault/mod.ts";
 *
 * declare const vault: OpenVault;
 * const reg = await verifyRegistration("https://cloud.example.org", "hh_" + "0".repeat(64));
 * reg.link.clinicIds; // the clinics the cloud gave this hub, e.g. ["clinic-north"]
 * await vault.update((s) => {
 *   s.cloud = reg.link;
 *   s.hubId = reg.hubId;
 *   s.hubName = reg.hubName;
 * });
 * ```
 */
export async function verifyRegistration(
  rawUrl: unknown,
  apiKey: unknown,
  options: { allowInsecure?: boolean; timeouts?: CloudTimeouts; now?: number; logger?: Logger } =
    {},
): Promise<Registration> {
  if (typeof rawUrl !== "string" || rawUrl.trim() === "") {
    throw new HubError("bad_request", 400, "Enter the cloud server's address.");
  }
  if (typeof apiKey !== "string" || !API_KEY_PATTERN.test(apiKey.trim())) {
    // Same words as the form's hint (ui/app/strings.ts cloudApiKeyHint), plus what is off.
    const key = typeof apiKey === "string" ? apiKey.trim() : "";
    const rest = key.startsWith("hh_") ? key.slice(3) : null;
    const what = rest === null
      ? "This one does not start with hh_."
      : rest.length !== 64
      ? `This one has ${rest.length} after hh_; copy the whole key.`
      : "This one has other characters after hh_.";
    throw new HubError(
      "bad_api_key",
      400,
      `The API key is hh_ followed by 64 characters, each a digit 0–9 or a letter a–f. ${what}`,
    );
  }
  const url = checkCloudUrl(rawUrl, options.allowInsecure === true);
  const client = new CloudClient(url, apiKey.trim(), options.timeouts);
  let device;
  try {
    device = await client.verifyKey();
  } catch (err) {
    if (err instanceof CloudError && err.kind === "auth") {
      throw new HubError(
        "cloud_auth",
        401,
        "The cloud refused this API key. Check it and try again.",
      );
    }
    throw err;
  }
  (options.logger ?? new Logger()).log("info", "cloud.registered", {
    hubId: device.id,
    clinics: device.clinic_ids.length,
  });
  return {
    hubId: device.id,
    hubName: device.name,
    link: {
      url,
      apiKey: apiKey.trim(),
      clinicIds: device.clinic_ids,
      registeredAt: options.now ?? Date.now(),
      ...(options.allowInsecure ? { allowInsecure: true } : {}),
    },
  };
}

/**
 * The cloud peer of a stored link: the hub builds it once per registration (and
 * on unlock) and hands it to the relay; cycles never build their own.
 *
 * @example
 * ```ts
 * import { cloudPeerFor, Relay } from "./mod.ts";
 * import type { CloudLink } from "../vault/mod.ts";
 * import type { Store } from "../store/mod.ts";
 *
 * declare const link: CloudLink;
 * declare const store: Store;
 * const peer = cloudPeerFor(link);
 * const relay = new Relay({ store, peer: () => peer });
 * ```
 */
export function cloudPeerFor(link: CloudLink, timeouts?: CloudTimeouts): CloudPeer {
  return new CloudClient(link.url, link.apiKey, timeouts);
}
