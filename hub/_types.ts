/**
 * What the `Hub` is given (its options) and what it reports: its state, the
 * status the admin API serves, and the sync health line with the disk's state.
 */
import type { EventBusOptions, Logger } from "../core/mod.ts";
import type { WallClock } from "../store/mod.ts";
import type { CreateVaultOptions } from "../vault/mod.ts";
import type { LanServerOptions, LanServerStatus } from "../server/mod.ts";
import type { CloudTimeouts, RelaySchedule, SyncHealth } from "../cloud/mod.ts";
import type { DiskStatus } from "./_disk.ts";
import type { BackupFlags } from "./_backups.ts";
import type { BackupStatus } from "./_backup_status.ts";

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
  /**
   * The hub's logger, handed to every part (LAN server, relay, registration, and
   * through `hub.logger` the admin API); `main.ts` makes it. Default: stderr.
   */
  logger?: Logger;
  /** Backup folder and interval from the flags (hub/_backups.ts). */
  backups?: BackupFlags;
}

/** What the admin API reports as status. */
export interface HubStatus {
  state: HubState;
  version: string;
  hub: { id: string; name: string; publicKey: string; fingerprint: string } | null;
  server: LanServerStatus;
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
