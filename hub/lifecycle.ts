/**
 * The Hub: the one object that owns the lifecycle (new → unlocked ⇄ locked, LAN
 * server stopped/running) and hands each part what it needs. No other module
 * keeps global state.
 */
import {
  EventBus,
  type EventBusOptions,
  exists,
  fromB64u,
  HubError,
  join,
  lockedError,
  log,
  sha256Hex,
} from "../core/mod.ts";
import { Store, type WallClock } from "../store/mod.ts";
import {
  createVault,
  type CreateVaultOptions,
  generateSecrets,
  OpenVault,
  openVault,
} from "../vault/mod.ts";
import { type HubAccess, LanServer, type LanServerOptions } from "../server/mod.ts";
import { PassphraseThrottle } from "./_throttle.ts";
import { describeDisk, type DiskStatus, DiskWatch } from "./_disk.ts";
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
import { CLOUD_WATERMARK_KEY } from "../store/mod.ts";
import { type BackupFlags, BackupService, type BackupStatus } from "./_backups.ts";

/** Lifecycle states. */
export type HubState = "new" | "locked" | "unlocked";

/** Options for {@link Hub}. */
export interface HubOptions {
  dataDir: string;
  version: string;
  lan: LanServerOptions;
  /** Vault KDF options (tests lower the cost; the CLI never does). */
  vault?: CreateVaultOptions;
  /** Wall clock for the change clock and throttles (tests). */
  now?: WallClock;
  /** Relay timing (tests shorten it). */
  relay?: Partial<RelaySchedule>;
  /** Cloud call timeouts (tests shorten them). */
  cloudTimeouts?: CloudTimeouts;
  /** The event ring's size, launch id and clock (tests). */
  events?: EventBusOptions;
  /** Caps hub.db at this many pages (tests: a full disk without filling one). */
  storeMaxPageCount?: number;
  /** Backup folder and interval from the flags (hub/_backups.ts). */
  backups?: BackupFlags;
}

/** What the admin API reports as status. */
export interface HubStatus {
  state: HubState;
  version: string;
  hub: { id: string; name: string; publicKey: string; fingerprint: string } | null;
  server: ReturnType<LanServer["status"]>;
  counts: Record<string, { rows: number; deleted: number }> | null;
  pendingCloud: { count: number; oldestStamp: number | null } | null;
  cloud: HubHealth | null;
  /** Free space and whether writes find the disk full (with a warning before it runs out). */
  disk: DiskStatus;
  unlockFailures: number;
  /** Backups: folder, last good one, warning, and the restore this hub came from (null: locked). */
  backups: BackupStatus | null;
}

/** The sync health line, with the disk's state (a full disk stops phones and the relay alike). */
export type HubHealth = SyncHealth & { disk: DiskStatus };

/** The hub's lifecycle owner. */
export class Hub {
  readonly dataDir: string;
  readonly version: string;
  readonly vaultPath: string;
  readonly dbPath: string;
  readonly server: LanServer;
  /** What happened, with increasing ids of this launch (core/events.ts; the admin stream). */
  readonly events: EventBus;
  /** Backups: settings, schedule, status (hub/_backups.ts). */
  readonly backups: BackupService;
  #options: HubOptions;
  #vault: OpenVault | null = null;
  #store: Store | null = null;
  #access: HubAccess | null = null;
  #relay: Relay | null = null;
  /** The cloud peer of the vault's link, built once per registration (and on unlock). */
  #cloudPeer: CloudPeer | undefined;
  #throttle: PassphraseThrottle;
  #busy: Promise<unknown> = Promise.resolve();
  #vaultExists = false;
  #disk: DiskWatch;
  #diskFullLogged = false;

  /** Creates the owner; call {@link init} before use. */
  constructor(options: HubOptions) {
    this.#options = options;
    this.dataDir = options.dataDir;
    this.version = options.version;
    this.vaultPath = join(options.dataDir, "hub.vault");
    this.dbPath = join(options.dataDir, "hub.db");
    this.#throttle = new PassphraseThrottle(options.now ?? Date.now);
    this.#disk = new DiskWatch(options.dataDir);
    this.server = new LanServer(options.lan, () => this.#access);
    this.events = new EventBus(options.events);
    this.backups = new BackupService({
      dataDir: this.dataDir,
      dbPath: this.dbPath,
      vaultPath: this.vaultPath,
      version: this.version,
      events: this.events,
      now: options.now,
      open: () =>
        this.#store && this.#vault ? { store: this.#store, secrets: this.#vault.secrets } : null,
    }, options.backups);
  }

  #publishState(): void {
    this.events.publish("state", { state: this.state });
  }

  #publishServer(): void {
    const s = this.server.status();
    this.events.publish("server", { running: s.running, error: s.error });
  }

  /** Reads what is on disk (whether a vault exists). */
  async init(): Promise<void> {
    this.#vaultExists = await exists(this.vaultPath);
  }

  /** Current lifecycle state. */
  get state(): HubState {
    if (this.#store) return "unlocked";
    return this.#vaultExists ? "locked" : "new";
  }

  /** The open store; throws the locked error when locked. */
  get store(): Store {
    if (!this.#store) throw lockedError();
    return this.#store;
  }

  /** The open vault; throws the locked error when locked. */
  get vault(): OpenVault {
    if (!this.#vault) throw lockedError();
    return this.#vault;
  }

  /** Runs lifecycle operations one at a time (no unlock racing a rotate). */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(fn, fn);
    this.#busy = run.catch(() => {});
    return run;
  }

  /** First run: creates the database and the vault sealed with `passphrase`. */
  setup(passphrase: string): Promise<void> {
    return this.#serial(async () => {
      if (this.state !== "new") {
        throw new HubError("already_set_up", 409, "This hub is already set up. Unlock it instead.");
      }
      await Deno.mkdir(this.dataDir, { recursive: true, mode: 0o700 });
      // A database without a vault can never be opened again (its key was in the
      // vault); move it aside rather than delete it, then start clean.
      for (const suffix of ["", "-wal", "-shm", "-journal"]) {
        const p = this.dbPath + suffix;
        if (await exists(p)) await Deno.rename(p, `${p}.orphaned-${Date.now()}`);
      }
      const secrets = await generateSecrets();
      // Database first, vault last: a crash in between leaves state "new".
      const store = Store.open(this.dbPath, secrets.dbKey, {
        now: this.#options.now,
        maxPageCount: this.#options.storeMaxPageCount,
      });
      let vault: OpenVault;
      try {
        vault = await createVault(this.vaultPath, passphrase, secrets, this.#options.vault);
      } catch (err) {
        store.close();
        for (const suffix of ["", "-wal", "-shm"]) {
          await Deno.remove(this.dbPath + suffix).catch(() => {});
        }
        throw err;
      }
      this.#vaultExists = true;
      await this.#opened(vault, store);
      log("info", "hub.setup", { hubId: secrets.hubId });
      this.#publishState();
    });
  }

  /** Opens the vault and the database. Wrong passphrases are slowed down. */
  unlock(passphrase: string): Promise<void> {
    return this.#serial(async () => {
      if (this.state === "new") {
        throw new HubError("not_set_up", 409, "This hub is not set up yet.");
      }
      if (this.state === "unlocked") return;
      const vault = await this.#checkPassphrase(passphrase);
      if (!(await exists(this.dbPath))) {
        vault.close();
        throw new HubError(
          "db_missing",
          500,
          "hub.db is missing next to hub.vault. Restore it from a backup, or reset the hub.",
        );
      }
      const store = await this.#openStore(vault);
      await this.#opened(vault, store);
      log("info", "hub.unlocked", {});
      this.#publishState();
    });
  }

  /**
   * Checks a passphrase without changing the state (a browser signing in to an
   * unlocked hub); wrong ones are slowed down like unlocks.
   */
  verifyPassphrase(passphrase: string): Promise<void> {
    return this.#serial(async () => {
      if (this.state === "new") {
        throw new HubError("not_set_up", 409, "This hub is not set up yet.");
      }
      (await this.#checkPassphrase(passphrase)).close();
    });
  }

  /** Verifies a passphrase against the vault file, with the growing delay. */
  async #checkPassphrase(passphrase: string): Promise<OpenVault> {
    this.#throttle.check();
    if (typeof passphrase !== "string" || passphrase.length === 0) {
      throw new HubError("bad_request", 400, "Enter the passphrase.");
    }
    try {
      const vault = await openVault(this.vaultPath, passphrase);
      this.#throttle.succeed();
      return vault;
    } catch (err) {
      if (err instanceof HubError && err.code === "wrong_passphrase") {
        const delay = this.#throttle.fail();
        log("warn", "hub.wrong_passphrase", { failures: this.#throttle.failures });
        throw new HubError(
          "wrong_passphrase",
          401,
          `Wrong passphrase. Next attempt allowed in ${Math.ceil(delay / 1000)} s.`,
          {
            details: {
              retryAfterSeconds: Math.ceil(delay / 1000),
              failures: this.#throttle.failures,
            },
          },
        );
      }
      throw err;
    }
  }

  /**
   * Opens the database with the vault's key. If a key rotation was cut short,
   * the database may be under the pending key: try it, then finish the rotation.
   */
  async #openStore(vault: OpenVault): Promise<Store> {
    const s = vault.secrets;
    try {
      const store = Store.open(this.dbPath, s.dbKey, {
        now: this.#options.now,
        maxPageCount: this.#options.storeMaxPageCount,
      });
      if (s.pendingDbKey) {
        await vault.update((v) => {
          delete v.pendingDbKey;
        });
      }
      return store;
    } catch (err) {
      if (!(err instanceof HubError && err.code === "wrong_db_key" && s.pendingDbKey)) {
        vault.close();
        throw err;
      }
    }
    const store = Store.open(this.dbPath, s.pendingDbKey, {
      now: this.#options.now,
      maxPageCount: this.#options.storeMaxPageCount,
    });
    await vault.update((v) => {
      v.dbKey = v.pendingDbKey!;
      delete v.pendingDbKey;
    });
    log("info", "hub.rotation_completed_on_unlock", {});
    return store;
  }

  async #opened(vault: OpenVault, store: Store): Promise<void> {
    this.#vault = vault;
    this.#store = store;
    try {
      store.prune((this.#options.now ?? Date.now)());
    } catch (err) {
      // A full disk must not keep the hub locked: reads (pulls) still work.
      if (!(err instanceof HubError && err.code === "disk_full")) throw err;
    }
    // Say at once, not at the first phone's push, when nothing can be saved.
    if (!store.probeWrite()) {
      log("error", "hub.disk_full", {
        hint: "The hub's disk is full: it opened, but cannot save anything until space is freed.",
      });
      this.#diskFullLogged = true;
    }
    await this.#refreshAccess();
    const link = vault.secrets.cloud;
    this.#cloudPeer = link ? cloudPeerFor(link, this.#options.cloudTimeouts) : undefined;
    this.#relay = new Relay({
      store,
      peer: () => this.#cloudPeer,
      schedule: this.#options.relay,
      now: this.#options.now,
      onCycle: (outcome) => {
        this.events.publish("relay", outcome);
        if (outcome.conflicts > 0 && !store.closed) {
          this.events.publish("conflict", {
            action: "logged",
            id: null,
            count: outcome.conflicts,
            open: store.openConflicts(),
          });
        }
      },
    });
    if (vault.secrets.cloud) this.#relay.start();
    await this.backups.unlocked();
  }

  /** Rebuilds what the LAN server sees from the vault (after the hub id or name changed). */
  async #refreshAccess(): Promise<void> {
    const vault = this.#vault!;
    const store = this.#store!;
    const s = vault.secrets;
    const hubPrivateKey = await importX25519Private(s.hubPrivateKey, s.hubPublicKey);
    this.#access = {
      store,
      hubId: s.hubId,
      hubName: s.hubName,
      hubPublicKey: fromB64u(s.hubPublicKey),
      hubPrivateKey,
      jwtKey: fromB64u(s.jwtKey),
      publish: (type, data) => void this.events.publish(type, data),
    };
  }

  /** Closes the database and forgets every key. The LAN server keeps answering heartbeats. */
  lock(): Promise<void> {
    return this.#serial(async () => {
      await this.#stopRelay();
      this.#lockNow();
      this.#publishState();
    });
  }

  async #stopRelay(): Promise<void> {
    const relay = this.#relay;
    this.#relay = null;
    await relay?.stop();
  }

  #lockNow(): void {
    this.backups.stop();
    this.#cloudPeer = undefined; // it holds the API key
    if (this.#access) this.#access.jwtKey.fill(0);
    this.#access = null;
    this.#store?.close();
    this.#store = null;
    this.#vault?.close();
    this.#vault = null;
    log("info", "hub.locked", {});
  }

  /** Re-seals the vault under a new passphrase (the database is untouched). */
  changePassphrase(current: string, next: string): Promise<void> {
    return this.#serial(async () => {
      const vault = this.vault;
      const check = await this.#checkPassphrase(current);
      check.close();
      await this.backups.before("passphrase");
      await vault.changePassphrase(next, this.#options.vault);
      log("info", "hub.passphrase_changed", {});
    });
  }

  /**
   * Re-encrypts the database under a new random key. Crash-safe in three durable
   * steps: (1) the vault records the new key as pending, (2) the database is
   * rekeyed in one journaled transaction, (3) the vault makes the new key current.
   * An unlock after a crash at any point tries the current key, then the pending one.
   */
  rotateKey(): Promise<{ durationMs: number }> {
    return this.#serial(async () => {
      const vault = this.vault;
      const store = this.store;
      await this.backups.before("rotate-key");
      const started = performance.now();
      const next = crypto.getRandomValues(new Uint8Array(32)).toHex();
      await vault.update((v) => {
        v.pendingDbKey = next;
      });
      store.rekey(next);
      await vault.update((v) => {
        v.dbKey = next;
        delete v.pendingDbKey;
      });
      const durationMs = Math.round(performance.now() - started);
      log("info", "hub.key_rotated", { durationMs });
      return { durationMs };
    });
  }

  /**
   * Deletes the clinical data on this hub (it comes back from the cloud on the next
   * relay). Needs the passphrase; refuses while changes wait for the cloud unless forced.
   */
  clear(passphrase: string, force = false): Promise<{ deleted: Record<string, number> }> {
    return this.#serial(async () => {
      const store = this.store;
      const check = await this.#checkPassphrase(passphrase);
      check.close();
      const pending = store.pendingCloud();
      if (pending.count > 0 && !force) {
        throw new HubError(
          "changes_pending",
          409,
          `${pending.count} changes have not reached the cloud yet; clearing would lose them. ` +
            "Sync with the cloud first, or clear with force.",
          { details: { pending: pending.count } },
        );
      }
      await this.backups.before("clear");
      // Pause the relay: a cycle finishing after the clear would set the
      // watermark again and the cleared rows would never be pulled back.
      const relay = this.#relay;
      await relay?.stop();
      let deleted: Record<string, number>;
      try {
        deleted = store.clearData();
      } finally {
        if (relay && this.vault.secrets.cloud) relay.start();
      }
      log("warn", "hub.data_cleared", { forced: force, pendingLost: pending.count });
      this.events.publish("data", { action: "cleared" });
      return { deleted };
    });
  }

  /** Wipes vault and database (forgotten passphrase). Needs `confirm === "RESET"`. */
  reset(confirm: string): Promise<void> {
    return this.#serial(async () => {
      if (confirm !== "RESET") {
        throw new HubError("confirm_required", 400, "Type RESET to confirm wiping this hub.");
      }
      await this.server.stop();
      await this.#stopRelay();
      this.#lockNow();
      // Vault first: without it the database is unreadable, so a crash part-way
      // leaves a hub that is simply "new".
      await Deno.remove(this.vaultPath).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
      this.#vaultExists = false;
      for (const suffix of ["", "-wal", "-shm", "-journal"]) {
        await Deno.remove(this.dbPath + suffix).catch(() => {});
      }
      this.#throttle.succeed();
      log("warn", "hub.reset", {});
      this.#publishServer();
      this.#publishState();
    });
  }

  /** Starts the LAN server (needs an unlocked hub the first time it is set up). */
  async startServer(): Promise<void> {
    if (this.state === "new") {
      throw new HubError("not_set_up", 409, "Set the hub up before starting the server.");
    }
    try {
      await this.server.start();
    } finally {
      this.#publishServer();
    }
  }

  /** Stops the LAN server. */
  async stopServer(): Promise<void> {
    await this.server.stop();
    this.#publishServer();
  }

  /** A snapshot for the admin API. */
  async status(): Promise<HubStatus> {
    const access = this.#access;
    const store = this.#store;
    return {
      state: this.state,
      version: this.version,
      hub: access
        ? {
          id: access.hubId,
          name: access.hubName,
          publicKey: this.#vault!.secrets.hubPublicKey,
          fingerprint: await keyFingerprint(access.hubPublicKey),
        }
        : null,
      server: this.server.status(),
      counts: store ? store.counts() : null,
      pendingCloud: store ? store.pendingCloud() : null,
      cloud: this.cloudHealth(),
      disk: await this.diskStatus(),
      unlockFailures: this.#throttle.failures,
      backups: await this.backups.status(),
    };
  }

  /**
   * The disk's state: free space (with a warning before it runs out), and
   * whether writes find it full (until a write succeeds again).
   */
  async diskStatus(): Promise<DiskStatus> {
    const space = await this.#disk.read();
    const store = this.#store;
    const status = describeDisk(space, store?.diskFullSince ?? null);
    if (status.full && !this.#diskFullLogged) {
      log("error", "hub.disk_full", { freeBytes: status.freeBytes });
    } else if (!status.full && this.#diskFullLogged) {
      log("info", "hub.disk_ok", { freeBytes: status.freeBytes });
    }
    this.#diskFullLogged = status.full;
    return status;
  }

  /** Stops everything (process exit). */
  async shutdown(): Promise<void> {
    await this.server.stop();
    await this.#stopRelay();
    this.#lockNow();
  }

  /**
   * Links the hub to a cloud: verifies the API key, then stores URL, key, hub id,
   * name and clinics in the vault (never a plain file) and starts the relay.
   */
  registerCloud(
    url: unknown,
    apiKey: unknown,
    allowInsecure = false,
  ): Promise<{ hubId: string; hubName: string; clinicIds: string[] }> {
    return this.#serial(async () => {
      const vault = this.vault;
      const store = this.store;
      const reg = await verifyRegistration(url, apiKey, {
        allowInsecure,
        timeouts: this.#options.cloudTimeouts,
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
      this.#cloudPeer = cloudPeerFor(reg.link, this.#options.cloudTimeouts);
      if (previous?.url !== reg.link.url || previous?.apiKey !== reg.link.apiKey) {
        // Another cloud (or key): start its watermark from the beginning.
        store.setMeta(CLOUD_WATERMARK_KEY, "0");
      }
      await this.#refreshAccess();
      this.#relay?.start();
      this.events.publish("cloud", { registered: true });
      return { hubId: reg.hubId, hubName: reg.hubName, clinicIds: reg.link.clinicIds };
    });
  }

  /** Runs a relay cycle now and returns the counts pulled and pushed per table. */
  async syncCloud(): Promise<CycleResult> {
    const relay = this.#relay;
    if (!relay) throw lockedError();
    if (!this.vault.secrets.cloud) {
      throw new HubError("not_registered", 409, "Link the hub to the cloud first.");
    }
    return await relay.syncNow();
  }

  /** The sync health line with the disk's state, or null while locked. */
  cloudHealth(): HubHealth | null {
    const health = this.#relay?.health();
    if (!health) return null;
    return {
      ...health,
      disk: describeDisk(this.#disk.last, this.#store?.diskFullSince ?? null),
    };
  }
}

/** Short fingerprint of the hub's public key for people to compare (`AB12-CD34-EF56-7890`). */
export async function keyFingerprint(publicKey: Uint8Array): Promise<string> {
  const hex = (await sha256Hex(publicKey)).slice(0, 16).toUpperCase();
  return hex.match(/.{4}/g)!.join("-");
}

/** Imports the hub's raw X25519 private key (as a JWK, which WebCrypto accepts). */
export async function importX25519Private(d: string, x: string): Promise<CryptoKey> {
  return await crypto.subtle.importKey(
    "jwk",
    { kty: "OKP", crv: "X25519", d, x },
    { name: "X25519" },
    false,
    ["deriveBits"],
  );
}
