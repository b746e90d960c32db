/**
 * What the health line says: one item per fact, problems first-class, each
 * problem with the place where it is fixed. A pure function of the status, so
 * tests and the component agree.
 */
import { S } from "./strings.ts";
import { ago, dateTime, fullDateTime } from "./format.ts";
import type { Device, HubStatus } from "./types.ts";

/** Where a problem is fixed: a screen, and the card on it to bring into view. */
export interface HealthFix {
  label: string;
  view: "dashboard" | "pair" | "maintenance";
  target: string;
}

/** One item of the health line. */
export interface HealthItem {
  key: string;
  text: string;
  warn?: boolean;
  fix?: HealthFix;
}

const ONE_HOUR = 3_600_000;

/** What a restored hub says, with the backup's time in the operator's own time zone. */
export function restoredText(takenAt: number): string {
  return `This hub was restored from a backup taken at ${fullDateTime(takenAt)}: changes made ` +
    "after that time that were not relayed to the cloud may be missing.";
}

/** The items of the health line for a status (and the devices list) at time `now`. */
export function healthItems(s: HubStatus, now: number, devices: Device[] = []): HealthItem[] {
  const items: HealthItem[] = [];
  // Phones first: nothing syncs while the server is stopped.
  if (!s.server.running) {
    items.push({
      key: "server",
      text: s.server.error ? S.healthServerFailed : S.healthServerStopped,
      warn: true,
      fix: { label: S.healthFixServer, view: "dashboard", target: "server" },
    });
  }
  // A full disk stops every write (phones' pushes and the relay); low space is a warning.
  if (s.disk?.warning) {
    items.push({ key: "disk", text: s.disk.warning, warn: true });
  }
  // Backups: a missing folder or an old last good backup; a restored hub says what may be missing.
  const backups = s.backups;
  const toBackups: HealthFix = { label: "Backups", view: "dashboard", target: "backups" };
  if (backups?.warning) {
    items.push({ key: "backup", text: backups.warning, warn: true, fix: toBackups });
  }
  if (backups?.restored && !backups.restored.acknowledgedAt) {
    items.push({
      key: "restored",
      text: restoredText(backups.restored.backupTakenAt),
      warn: true,
      fix: toBackups,
    });
  }
  // Phones that pulled one page and have more waiting: the app pulls once per
  // sync and never loops, so someone must press Sync on them again.
  const downloading = devices.filter((d) => d.revokedAt === null && d.waitingRows > 0);
  if (downloading.length > 0) {
    items.push({
      key: "downloading",
      text: S.healthCatchingUp(downloading.length),
      fix: { label: S.healthFixDownloading, view: "dashboard", target: "devices" },
    });
  }
  const h = s.cloud;
  if (!h) return items;
  const cloudProblem = h.authFailed || h.offline || h.lastErrorKind !== null;
  if (!h.registered) {
    items.push({
      key: "linked",
      text: S.healthNotLinked,
      fix: { label: S.healthFixLink, view: "dashboard", target: "cloud" },
    });
  } else if (h.authFailed) {
    items.push({
      key: "auth",
      text: S.healthAuth,
      warn: true,
      fix: { label: S.healthFixKey, view: "maintenance", target: "relink" },
    });
  } else if (h.offline) {
    items.push({
      key: "offline",
      text: h.failingSince !== null
        ? S.healthOfflineSince(dateTime(h.failingSince), ago(h.failingSince, now))
        : S.healthOffline,
      warn: true,
      fix: { label: S.healthFixOffline, view: "dashboard", target: "cloud" },
    });
  } else if (h.rateLimitedUntil !== null && h.rateLimitedUntil > now) {
    items.push({ key: "rate", text: S.healthRateLimited, warn: true });
  } else if (h.lastErrorKind && h.lastErrorKind !== "rate_limited") {
    items.push({
      key: "error",
      text: S.healthError,
      warn: true,
      fix: { label: S.healthFixError, view: "dashboard", target: "cloud" },
    });
  }
  // The last good sync only when nothing is wrong with the cloud: beside a
  // warning, "last good sync just now" reads as if all were well.
  if (h.registered && !cloudProblem) {
    items.push({
      key: "last",
      text: h.lastSuccessAt === null
        ? S.healthNeverSynced
        : S.healthLastSync(ago(h.lastSuccessAt, now)),
      warn: h.lastSuccessAt === null,
    });
  }
  if (h.cycleRunning) items.push({ key: "running", text: S.healthSyncing });
  const waiting = s.pendingCloud?.count ?? h.pendingChanges;
  if (waiting > 0) {
    const age = h.oldestPendingAgeMs;
    items.push({
      key: "waiting",
      text: age !== null && age >= 60_000
        ? S.healthWaitingAge(waiting, ago(now - age, now))
        : S.healthWaiting(waiting),
      // Changes that wait long, or have no cloud to go to, are a problem.
      warn: !h.registered || (age !== null && age >= ONE_HOUR),
      fix: !h.registered
        ? { label: S.healthFixLink, view: "dashboard", target: "cloud" }
        : undefined,
    });
  }
  if (h.openConflicts > 0) {
    items.push({
      key: "conflicts",
      text: S.healthConflicts(h.openConflicts),
      warn: true,
      fix: { label: S.healthFixConflicts, view: "dashboard", target: "conflicts" },
    });
  }
  return items;
}
