/** What the LAN server needs from an unlocked hub; `null` while locked. */
import type { Publish } from "../core/mod.ts";
import type { Store } from "../store/mod.ts";

/** The unlocked hub's parts the LAN server may use. */
export interface HubAccess {
  store: Store;
  hubId: string;
  hubName: string;
  /** Raw 32-byte X25519 public key. */
  hubPublicKey: Uint8Array;
  /** The hub's X25519 private key (non-extractable). */
  hubPrivateKey: CryptoKey;
  /** HS256 key for phone session tokens. */
  jwtKey: Uint8Array;
  /** Publishes the hub's events (device seen, syncs, conflicts); absent in bare tests. */
  publish?: Publish;
}

/** Returns the unlocked hub, or null while locked. */
export type AccessProvider = () => HubAccess | null;
