/**
 * Turning numbers into words for people: ages, deadlines, clock times. The
 * words themselves come from the strings module.
 */
import { S } from "./strings.ts";

/** "5 minutes ago", "just now"... for an epoch-ms time before `now`. */
export function ago(at: number | null, now: number): string {
  if (at === null) return S.never;
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 10) return S.justNow;
  if (s < 60) return S.secondsAgo(s);
  const m = Math.floor(s / 60);
  if (m < 60) return S.minutesAgo(m);
  const h = Math.floor(m / 60);
  if (h < 48) return S.hoursAgo(h);
  return S.daysAgo(Math.floor(h / 24));
}

/** "in 3 minutes"... for an epoch-ms time after `now`. */
export function inFuture(at: number, now: number): string {
  const s = Math.max(0, Math.round((at - now) / 1000));
  if (s < 60) return S.inSeconds(s);
  const m = Math.round(s / 60);
  if (m < 60) return S.inMinutes(m);
  return S.inHours(Math.round(m / 60));
}

/** A local date and time, short ("21 Nov, 14:05"). */
export function dateTime(at: number | null): string {
  if (at === null) return S.never;
  return new Date(at).toLocaleString(S.lang, {
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** An hour of the day ("14:00"). */
export function hourLabel(at: number): string {
  return new Date(at).toLocaleTimeString(S.lang, { hour: "2-digit", minute: "2-digit" });
}

/** Sum of a record's values. */
export function total(o: Record<string, number> | undefined | null): number {
  return Object.values(o ?? {}).reduce((a, b) => a + b, 0);
}

/** A local date and time with the year ("3 Feb 2026, 11:30"), for records. */
export function fullDateTime(at: number | null): string {
  if (at === null) return S.never;
  return new Date(at).toLocaleString(S.lang, {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** A calendar date kept as text ("1980-02-03" → "3 Feb 1980"); other text as it is. */
export function calendarDate(text: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (!m) return text;
  // Noon UTC, shown in UTC: the same calendar day wherever the clinic is.
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], 12)).toLocaleDateString(S.lang, {
    day: "numeric",
    month: "short",
    year: "numeric",
    timeZone: "UTC",
  });
}

/** "given_name" → "Given name". */
export function fieldLabel(name: string): string {
  const words = name.replaceAll("_", " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
