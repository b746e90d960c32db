/**
 * The shapes the admin API answers (docs/admin-api.md), as the page reads them.
 * Declared here rather than imported from the server so the page's bundle holds
 * no server code.
 */

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
}

/** The sync health line (`cloud` in the status). */
export interface SyncHealth {
  registered: boolean;
  cloudUrl: string | null;
  cycleRunning: boolean;
  lastAttemptAt: number | null;
  lastSuccessAt: number | null;
  lastError: string | null;
  lastErrorKind: string | null;
  authFailed: boolean;
  offline: boolean;
  rateLimitedUntil: number | null;
  nextAttemptAt: number | null;
  consecutiveFailures: number;
  failingSince: number | null;
  pendingChanges: number;
  oldestPendingAgeMs: number | null;
  openConflicts: number;
}

/** One paired device. */
export interface Device {
  clientId: string;
  name: string | null;
  firstSeen: number;
  lastSeen: number;
  lastSync: number | null;
  lastUserId: string | null;
  rowsPulled: number;
  rowsPushed: number;
  handshakes: number;
  revokedAt: number | null;
  /** Changes still waiting for it after its last pull (it needs more syncs when > 0). */
  waitingRows: number;
  waitingCheckedAt: number | null;
}

/** Who made a version of a conflicting record. */
export interface VersionAuthor {
  via: "phone" | "cloud" | "hub" | "unknown";
  device: string | null;
  user: string | null;
}

/** One field that differs between the kept and the older version. */
export interface FieldDifference {
  name: string;
  kind: "datetime" | "date" | "bool" | "json" | "number" | "text";
  kept: unknown;
  older: unknown;
}

/** One logged conflict, as `GET /api/conflicts` describes it. */
export interface Conflict {
  id: number;
  table: string;
  rowId: string;
  source: string;
  deviceId: string | null;
  keptUpdatedAt: number | null;
  lostUpdatedAt: number | null;
  lostRow: unknown;
  /** Why a pushed version was refused (`refused: ...`); null when it lost to a newer one. */
  reason: string | null;
  detectedAt: number;
  resolvedAt: number | null;
  label: { patient: string | null; title: string | null; date: number | null };
  present: boolean;
  keptBy: VersionAuthor;
  olderBy: VersionAuthor;
  differences: FieldDifference[];
  restorable: boolean;
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
