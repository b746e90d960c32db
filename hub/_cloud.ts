/**
 * The unlocked hub's link to its cloud: the cloud peer of the vault's link and
 * the relay that runs cycles through it. The `Hub` owns one and tells it when
 * the hub unlocks, locks, links to a cloud or clears its data.
 */
import { type EventBus, HubError, lockedError, type Logger } from "../core/mod.ts";
import { CLOUD_WATERMARK_KEY, type Store, type WallClock } from "../store/mod.ts";
import type { OpenVault } from "../vault/mod.ts";
import {
  type CloudPeer,
  cloudPeerFor,
  type CloudTimeouts,
  type CycleResult,
  Relay,
  type RelaySchedule,
  type SyncHealth,
  verifyRegistration,
} from "../cloud/mod.ts";

/** What the link needs from the hub. */
export interface HubCloudDeps {
  events: EventBus;
  logger: Logger;
  relay?: Partial<RelaySchedule>;
  cloudTimeouts?: CloudTimeouts;
  now?: WallClock;
}

/** What a registration answers. */
export interface Registered {
  hubId: string;
  hubName: string;
  clinicIds: string[];
}

/** The cloud peer and the relay of one unlocked hub (none while locked). */
export class HubCloud {
  #d: HubCloudDeps;
  #relay: Relay | null = null;
  /** The cloud peer of the vault's link, built once per registration (and on unlock). */
  #peer: CloudPeer | undefined;

  /** A link with no relay (the hub is locked). */
  constructor(deps: HubCloudDeps) {
    this.#d = deps;
  }

  /** True while a relay exists (the hub is unlocked). */
  get active(): boolean {
    return this.#relay !== null;
  }

  /** On unlock: the peer of the vault's link and a relay on `store`, started when linked. */
  open(vault: OpenVault, store: Store): void {
    const link = vault.secrets.cloud;
    this.#peer = link ? cloudPeerFor(link, this.#d.cloudTimeouts) : undefined;
    const events = this.#d.events;
    this.#relay = new Relay({
      store,
      peer: () => this.#peer,
      schedule: this.#d.relay,
      now: this.#d.now,
      logger: this.#d.logger,
      onCycle: (outcome) => {
        events.publish("relay", outcome);
        if (outcome.conflicts > 0 && !store.closed) {
          events.publish("conflict", {
            action: "logged",
            id: null,
            count: outcome.conflicts,
            open: store.openConflicts(),
          });
        }
      },
    });
    if (vault.secrets.cloud) this.#relay.start();
  }

  /** Stops the relay and drops it (lock, reset, shutdown). */
  async close(): Promise<void> {
    const relay = this.#relay;
    this.#relay = null;
    await relay?.stop();
  }

  /** Forgets the peer: it holds the API key. */
  forget(): void {
    this.#peer = undefined;
  }

  /**
   * Runs `fn` with the relay paused, then starts it again if the hub is linked:
   * a cycle finishing across `fn` (a clear) would undo what it did.
   */
  async paused<T>(linked: () => boolean, fn: () => T): Promise<T> {
    const relay = this.#relay;
    await relay?.stop();
    try {
      return fn();
    } finally {
      if (relay && linked()) relay.start();
    }
  }

  /**
   * Links to a cloud: verifies the API key, then stores URL, key, hub id, name
   * and clinics in the vault (never a plain file) and starts the relay;
   * `refreshed` rebuilds what the LAN server sees (the hub id and name changed).
   */
  async register(
    vault: OpenVault,
    store: Store,
    request: { url: unknown; apiKey: unknown; allowInsecure: boolean },
    refreshed: () => Promise<void>,
  ): Promise<Registered> {
    const reg = await verifyRegistration(request.url, request.apiKey, {
      allowInsecure: request.allowInsecure,
      timeouts: this.#d.cloudTimeouts,
      logger: this.#d.logger,
    });
    const previous = vault.secrets.cloud;
    // No cycle may run across the switch: it would push pending changes to the
    // old cloud (and mark them relayed) or write the old cloud's watermark.
    await this.#relay?.stop();
    await vault.update((v) => {
      v.cloud = reg.link;
      v.hubId = reg.hubId;
      v.hubName = reg.hubName;
    });
    this.#peer = cloudPeerFor(reg.link, this.#d.cloudTimeouts);
    if (previous?.url !== reg.link.url || previous?.apiKey !== reg.link.apiKey) {
      // Another cloud (or key): start its watermark from the beginning.
      store.setMeta(CLOUD_WATERMARK_KEY, "0");
    }
    await refreshed();
    this.#relay?.start();
    this.#d.events.publish("cloud", { registered: true });
    return { hubId: reg.hubId, hubName: reg.hubName, clinicIds: reg.link.clinicIds };
  }

  /** Runs a relay cycle now and returns the counts pulled and pushed per table. */
  async syncNow(linked: () => boolean): Promise<CycleResult> {
    const relay = this.#relay;
    if (!relay) throw lockedError();
    if (!linked()) throw new HubError("not_registered", 409, "Link the hub to the cloud first.");
    return await relay.syncNow();
  }

  /** The relay's health line, or null while locked. */
  health(): SyncHealth | null {
    return this.#relay?.health() ?? null;
  }
}
