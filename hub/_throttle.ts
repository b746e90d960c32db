/**
 * Slows down repeated wrong passphrases: after the n-th failure in a row the next
 * attempt is refused until 2^(n-1) seconds have passed (capped at 5 minutes).
 * Together with the vault's PBKDF2 cost this bounds guessing through the admin API.
 * Kept in memory: an attacker able to restart the hub can already copy the vault
 * and guess offline, where only the KDF cost protects it.
 */
import { HubError, type Logger } from "../core/mod.ts";
import { type OpenVault, openVault } from "../vault/mod.ts";

/**
 * Longest wait between attempts.
 *
 * @example
 * ```ts
 * import { MAX_DELAY_MS, PassphraseThrottle } from "./mod.ts";
 *
 * MAX_DELAY_MS; // 300000 (5 minutes)
 * const throttle = new PassphraseThrottle();
 * for (let i = 0; i < 12; i++) throttle.fail();
 * throttle.fail(); // 300000: the delay doubles up to MAX_DELAY_MS, then stays there
 * ```
 */
export const MAX_DELAY_MS = 5 * 60_000;

/**
 * Growing-delay gate for passphrase attempts.
 *
 * @example
 * ```ts
 * import { PassphraseThrottle } from "./mod.ts";
 *
 * const throttle = new PassphraseThrottle();
 * throttle.check(); // passes: no failure yet
 * throttle.fail(); // 1000 (ms until the next attempt)
 * throttle.fail(); // 2000
 * throttle.check(); // throws HubError `too_many_attempts` (429): "Try again in 2 s."
 * throttle.succeed(); // the right passphrase: `throttle.failures` is 0 again
 * ```
 */
export class PassphraseThrottle {
  #failures = 0;
  #nextAllowed = 0;
  #now: () => number;

  /** `now` is injectable for tests. */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Consecutive failures so far. */
  get failures(): number {
    return this.#failures;
  }

  /** Throws `too_many_attempts` (429) while the delay runs. */
  check(): void {
    const wait = this.#nextAllowed - this.#now();
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      throw new HubError(
        "too_many_attempts",
        429,
        `Too many wrong passphrases. Try again in ${seconds} s.`,
        { details: { retryAfterSeconds: seconds, failures: this.#failures } },
      );
    }
  }

  /** Records a failure; returns the delay now imposed in ms. */
  fail(): number {
    this.#failures++;
    const delay = Math.min(1000 * 2 ** (this.#failures - 1), MAX_DELAY_MS);
    this.#nextAllowed = this.#now() + delay;
    return delay;
  }

  /** Clears the count after a success. */
  succeed(): void {
    this.#failures = 0;
    this.#nextAllowed = 0;
  }
}

/**
 * Opens the vault at `vaultPath` with `passphrase`, through `throttle`: a wrong
 * passphrase is counted, logged (without the passphrase) and refused with the
 * wait before the next attempt (`details.retryAfterSeconds`).
 */
export async function openVaultThrottled(
  vaultPath: string,
  passphrase: string,
  throttle: PassphraseThrottle,
  logger: Logger,
): Promise<OpenVault> {
  throttle.check();
  if (typeof passphrase !== "string" || passphrase.length === 0) {
    throw new HubError("bad_request", 400, "Enter the passphrase.");
  }
  try {
    const vault = await openVault(vaultPath, passphrase);
    throttle.succeed();
    return vault;
  } catch (err) {
    if (err instanceof HubError && err.code === "wrong_passphrase") {
      const delay = throttle.fail();
      logger.log("warn", "hub.wrong_passphrase", { failures: throttle.failures });
      throw new HubError(
        "wrong_passphrase",
        401,
        `Wrong passphrase. Next attempt allowed in ${Math.ceil(delay / 1000)} s.`,
        {
          details: {
            retryAfterSeconds: Math.ceil(delay / 1000),
            failures: throttle.failures,
          },
        },
      );
    }
    throw err;
  }
}
