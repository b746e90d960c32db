/**
 * A rough passphrase strength estimate for the meter (0 too short … 4 strong).
 * It only guides the operator; the hub enforces the one hard rule (12 characters).
 */

/** Shortest passphrase the hub accepts. */
export const MIN_PASSPHRASE = 12;

const COMMON = [
  "password",
  "passwort",
  "123456",
  "qwerty",
  "azerty",
  "letmein",
  "admin",
  "hikma",
  "clinic",
  "health",
  "welcome",
  "abc123",
  "iloveyou",
];

/** Scores `p` from 0 (too short) to 4 (strong). */
export function strength(p: string): 0 | 1 | 2 | 3 | 4 {
  if ([...p].length < MIN_PASSPHRASE) return 0;
  let pool = 0;
  if (/[a-z]/.test(p)) pool += 26;
  if (/[A-Z]/.test(p)) pool += 26;
  if (/[0-9]/.test(p)) pool += 10;
  if (/[^a-zA-Z0-9]/.test(p)) pool += 33;
  // Repeats and runs add little: count each character after the first of a run of
  // equal or consecutive characters as a quarter.
  let effective = 0;
  const chars = [...p];
  for (let i = 0; i < chars.length; i++) {
    const d = i > 0 ? chars[i].codePointAt(0)! - chars[i - 1].codePointAt(0)! : 99;
    effective += Math.abs(d) <= 1 ? 0.25 : 1;
  }
  let bits = effective * Math.log2(Math.max(pool, 2));
  const lower = p.toLowerCase();
  for (const w of COMMON) if (lower.includes(w)) bits -= 20;
  if (new Set(chars).size < 6) bits = Math.min(bits, 30);
  if (bits < 45) return 1;
  if (bits < 65) return 2;
  if (bits < 85) return 3;
  return 4;
}
