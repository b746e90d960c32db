/// <reference lib="dom" />
/**
 * The sync health line: last good sync age, ⚠ auth, ⚠ offline, ⚠ N conflicts,
 * devices still downloading, N changes waiting for the cloud.
 */
import { S } from "../strings.ts";
import { ago } from "../format.ts";
import { devices, now, status } from "../state.ts";

/** One line under the header, on every unlocked screen. */
export function HealthLine() {
  const s = status.value;
  const h = s?.cloud;
  if (!s || !h) return null;
  const t = now.value;
  const items: { key: string; text: string; warn?: boolean }[] = [];
  if (!h.registered) items.push({ key: "linked", text: S.healthNotLinked });
  else {
    items.push({
      key: "last",
      text: h.lastSuccessAt === null
        ? S.healthNeverSynced
        : S.healthLastSync(ago(h.lastSuccessAt, t)),
      warn: h.lastSuccessAt === null,
    });
  }
  if (h.cycleRunning) items.push({ key: "running", text: S.healthSyncing });
  if (h.authFailed) items.push({ key: "auth", text: S.healthAuth, warn: true });
  if (h.offline) items.push({ key: "offline", text: S.healthOffline, warn: true });
  if (h.rateLimitedUntil !== null && h.rateLimitedUntil > t) {
    items.push({ key: "rate", text: S.healthRateLimited, warn: true });
  }
  if (h.lastErrorKind && !h.authFailed && !h.offline && h.lastErrorKind !== "rate_limited") {
    items.push({ key: "error", text: S.healthError, warn: true });
  }
  if (h.openConflicts > 0) {
    items.push({ key: "conflicts", text: S.healthConflicts(h.openConflicts), warn: true });
  }
  // Phones that pulled one page and have more waiting (the app pulls once per sync).
  const downloading = devices.value.filter((d) => d.revokedAt === null && d.waitingRows > 0);
  if (downloading.length > 0) {
    items.push({ key: "downloading", text: S.healthCatchingUp(downloading.length) });
  }
  const waiting = s.pendingCloud?.count ?? h.pendingChanges;
  if (waiting > 0) items.push({ key: "waiting", text: S.healthWaiting(waiting) });
  return (
    <p class="health" data-testid="health" aria-live="polite">
      {items.map((i) => (
        <span key={i.key} class={i.warn ? "warn" : ""} data-testid={`health-${i.key}`}>
          {i.text}
        </span>
      ))}
    </p>
  );
}
