/**
 * The shapes the admin API answers (docs/admin-api.md), as the page reads them.
 * The server's own types where they are the wire shape (`import type`: erased
 * by the bundler, so the page's bundle holds no server code); the rest declared
 * here, narrowed to what the page reads.
 */
import type { SyncHealth } from "../../cloud/mod.ts";
import type { BackupEntry, BackupSettings, BackupStatus } from "../../hub/mod.ts";
import type {
  ConflictView as Conflict,
  DeviceRecord as Device,
  FieldDifference,
  VersionAuthor,
} from "../../store/mod.ts";

export type {
  BackupEntry,
  BackupSettings,
  BackupStatus,
  Conflict,
  Device,
  FieldDifference,
  SyncHealth,
  VersionAuthor,
};

/** `GET /api/status`. */
export interface HubStatus {
  state: "new" | "locked" | "unlocked";
  version: string;
  hub: { id: string; name: string; publicKey: string; fingerprint: string } | null;
  server: {
    running: boolean;
    host: string;
    port: number;
    urls: string[];
    sessions: number;
    error: string | null;
  };
  counts: Record<string, { rows: number; deleted: number }> | null;
  pendingCloud: { count: number; oldestStamp: number | null } | null;
  cloud: SyncHealth | null;
  /** The data folder's disk (hub/_disk.ts). */
  disk?: {
    freeBytes: number | null;
    totalBytes: number | null;
    full: boolean;
    fullSince: number | null;
    warning: string | null;
  };
  unlockFailures: number;
  /** Backups (hub/_backups.ts); null while locked. */
  backups?: BackupStatus | null;
}

/** One hour of sync activity. */
export interface ActivityBucket {
  hour: number;
  kind: string;
  events: number;
  rowsIn: number;
  rowsOut: number;
}

/** An authorised clinic. */
export interface Clinic {
  id: string;
  name: string | null;
}

/** `GET /api/auto-lock`. */
export interface AutoLockState {
  minutes: number | null;
  lastActivityAt: number;
  locksAt: number | null;
}

/** `GET /api/update` (present only in builds with an updater). */
export interface UpdateStatus {
  state:
    | "disabled"
    | "idle"
    | "checking"
    | "up-to-date"
    | "available"
    | "downloading"
    | "verifying"
    | "installing"
    | "failed";
  current: string;
  latest: string | null;
  notes: string | null;
  progress: { received: number; total: number | null } | null;
  error: string | null;
  retryable: boolean;
  canInstall: boolean;
}
