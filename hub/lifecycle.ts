/**
 * The Hub: the one object that owns the lifecycle (new → unlocked ⇄ locked, LAN
 * server stopped/running) and hands each part what it needs. No other module
 * keeps global state.
 */
import { EventBus, exists, HubError, join, lockedError, Logger } from "../core/mod.ts";
import type { Store, StoreOptions } from "../store/mod.ts";
import type { OpenVault } from "../vault/mod.ts";
import { type HubAccess, LanServer } from "../server/mod.ts";
import { openVaultThrottled, PassphraseThrottle } from "./_throttle.ts";
import { type DiskStatus, DiskWatch } from "./_disk.ts";
import type { CycleResult } from "../cloud/mod.ts";
import type { HubHealth, HubOptions, HubState, HubStatus } from "./_types.ts";
import { HubCloud, type Registered } from "./_cloud.ts";
import { createHubFiles, removeHubFiles } from "./_files.ts";
import { BackupService } from "./_backups.ts";
import { accessFromVault, keyFingerprint, openStoreWithVaultKey, rotateDbKey } from "./_keys.ts";

/**
 * The hub's lifecycle owner.
 *
 * @example
 * ```ts
 * import { Hub } from "./mod.ts";
 *
 * const hub = new Hub({
 *   dataDir: "/srv/hub/data",
 *   version: "1.4.0",
 *   lan: { host: "0.0.0.0", port: 4001 },
 * });
 * await hub.init();
 * hub.state; // "new" (no hub.vault yet); "locked" once set up
 * await hub.setup("example passphrase 1"); // creates hub.vault and hub.db
 * hub.state; // "unlocked"
 * await hub.startServer();
 * hub.server.status().urls; // ["http://192.168.1.20:4001"]
 * await hub.lock(); // closes hub.db and forgets the keys; heartbeats still answer
 * await hub.shutdown(); // at exit
 * ```
 */
export class Hub {
  readonly dataDir: string;
  readonly version: string;
  readonly vaultPath: string;
  readonly dbPath: string;
  readonly server: LanServer;
  /** What happened, with increasing ids of this launch (core/events.ts; the admin stream). */
  readonly events: EventBus;
  /** The logger every part of this hub writes to. */
  readonly logger: Logger;
  /** Backups: settings, schedule, status (hub/_backups.ts). */
  readonly backups: BackupService;
  #options: HubOptions;
  #vault: OpenVault | null = null;
  #store: Store | null = null;
  #access: HubAccess | null = null;
  /** The cloud peer and the relay while unlocked (hub/_cloud.ts). */
  #cloud: HubCloud;
  #throttle: PassphraseThrottle;
  #busy: Promise<unknown> = Promise.resolve();
  #vaultExists = false;
  #disk: DiskWatch;
  #closers: (() => void | Promise<void>)[] = [];

  /** Creates the owner; call {@link init} before use. */
  constructor(options: HubOptions) {
    this.#options = options;
    this.dataDir = options.dataDir;
    this.version = options.version;
    this.vaultPath = join(options.dataDir, "hub.vault");
    this.dbPath = join(options.dataDir, "hub.db");
    this.#throttle = new PassphraseThrottle(options.now ?? Date.now);
    this.logger = options.logger ?? new Logger();
    this.#disk = new DiskWatch(options.dataDir, this.logger);
    this.server = new LanServer({ logger: this.logger, ...options.lan }, () => this.#access);
    this.events = new EventBus(options.events);
    this.#cloud = new HubCloud({
      events: this.events,
      logger: this.logger,
      relay: options.relay,
      cloudTimeouts: options.cloudTimeouts,
      now: options.now,
    });
    this.backups = new BackupService({
      dataDir: this.dataDir,
      dbPath: this.dbPath,
      vaultPath: this.vaultPath,
      version: this.version,
      events: this.events,
      logger: this.logger,
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
      const { store, vault, secrets } = await createHubFiles(this, passphrase, {
        store: this.#storeOptions(),
        vault: this.#options.vault,
      });
      this.#vaultExists = true;
      await this.#opened(vault, store);
      this.logger.log("info", "hub.setup", { hubId: secrets.hubId });
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
      this.logger.log("info", "hub.unlocked", {});
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
  #checkPassphrase(passphrase: string): Promise<OpenVault> {
    return openVaultThrottled(this.vaultPath, passphrase, this.#throttle, this.logger);
  }

  /** Opens the database with the vault's key (or a cut-short rotation's pending one). */
  #openStore(vault: OpenVault): Promise<Store> {
    return openStoreWithVaultKey(this.dbPath, vault, this.#storeOptions(), this.logger);
  }

  #storeOptions(): StoreOptions {
    return { now: this.#options.now, maxPageCount: this.#options.storeMaxPageCount };
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
    if (!store.probeWrite()) this.#disk.tellUnwritable();
    await this.#refreshAccess();
    this.#cloud.open(vault, store);
    await this.backups.unlocked();
  }

  /** Rebuilds what the LAN server sees from the vault (after the hub id or name changed). */
  async #refreshAccess(): Promise<void> {
    this.#access = await accessFromVault(
      this.#vault!,
      this.#store!,
      (type, data) => void this.events.publish(type, data),
    );
  }

  /** Closes the database and forgets every key. The LAN server keeps answering heartbeats. */
  lock(): Promise<void> {
    return this.#serial(async () => {
      await this.#stopRelay();
      this.#lockNow();
      this.#publishState();
    });
  }

  #stopRelay(): Promise<void> {
    return this.#cloud.close();
  }

  #lockNow(): void {
    this.backups.stop();
    this.#cloud.forget(); // the peer holds the API key
    if (this.#access) this.#access.jwtKey.fill(0);
    this.#access = null;
    this.#store?.close();
    this.#store = null;
    this.#vault?.close();
    this.#vault = null;
    this.logger.log("info", "hub.locked", {});
  }

  /** Re-seals the vault under a new passphrase (the database is untouched). */
  changePassphrase(current: string, next: string): Promise<void> {
    return this.#serial(async () => {
      const vault = this.vault;
      const check = await this.#checkPassphrase(current);
      check.close();
      await this.backups.before("passphrase");
      await vault.changePassphrase(next, this.#options.vault);
      this.logger.log("info", "hub.passphrase_changed", {});
    });
  }

  /** Re-encrypts the database under a new random key, crash-safely (see `_keys.ts`). */
  rotateKey(): Promise<{ durationMs: number }> {
    return this.#serial(async () => {
      const vault = this.vault;
      const store = this.store;
      await this.backups.before("rotate-key");
      const started = performance.now();
      await rotateDbKey(vault, store);
      const durationMs = Math.round(performance.now() - started);
      this.logger.log("info", "hub.key_rotated", { durationMs });
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
      const deleted = await this.#cloud.paused(
        () => this.vault.secrets.cloud !== undefined,
        () => store.clearData(),
      );
      this.logger.log("warn", "hub.data_cleared", { forced: force, pendingLost: pending.count });
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
      await removeHubFiles(this);
      this.#vaultExists = false;
      this.#throttle.succeed();
      this.logger.log("warn", "hub.reset", {});
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

  /** The disk's state, with a warning before it runs out (see `_disk.ts`). */
  diskStatus(): Promise<DiskStatus> {
    return this.#disk.status(this.#store?.diskFullSince ?? null);
  }

  /**
   * Adds something the hub's {@link shutdown} closes after its own parts, in the
   * order added (`main.ts`: the admin server, then the data folder's lock).
   */
  closeOnShutdown(close: () => void | Promise<void>): void {
    this.#closers.push(close);
  }

  /**
   * Stops everything (process exit, or handing over to an updated executable):
   * the LAN server (requests in flight get up to 5 s), the relay, then the
   * database and the keys, then what {@link closeOnShutdown} added.
   */
  async shutdown(): Promise<void> {
    await this.server.stop();
    await this.#stopRelay();
    this.#lockNow();
    for (const close of this.#closers.splice(0)) await close();
  }

  /**
   * Links the hub to a cloud: verifies the API key, then stores URL, key, hub id,
   * name and clinics in the vault (never a plain file) and starts the relay.
   */
  registerCloud(url: unknown, apiKey: unknown, allowInsecure = false): Promise<Registered> {
    return this.#serial(() =>
      this.#cloud.register(
        this.vault,
        this.store,
        { url, apiKey, allowInsecure },
        () => this.#refreshAccess(),
      )
    );
  }

  /** Runs a relay cycle now and returns the counts pulled and pushed per table. */
  syncCloud(): Promise<CycleResult> {
    return this.#cloud.syncNow(() => this.vault.secrets.cloud !== undefined);
  }

  /** The sync health line with the disk's state, or null while locked. */
  cloudHealth(): HubHealth | null {
    const health = this.#cloud.health();
    if (!health) return null;
    return {
      ...health,
      disk: this.#disk.lastStatus(this.#store?.diskFullSince ?? null),
    };
  }
}
