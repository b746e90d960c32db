/**
 * Phone login and authorisation (SPEC §4): bcrypt against the users the cloud
 * sent, HS256 tokens signed with the vault's key (24 h), and a live
 * `user_clinic_permissions` row for every call that needs a token.
 */
import bcrypt from "bcryptjs";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { HubError } from "../core/mod.ts";
import { type PermissionFlag, type PermissionRow, type Store } from "../store/mod.ts";

/**
 * Token lifetime.
 *
 * @example
 * ```ts
 * import { TOKEN_TTL_SECONDS } from "./mod.ts";
 *
 * TOKEN_TTL_SECONDS; // 86400 (24 hours)
 * const expiresAt = new Date(Date.now() + TOKEN_TTL_SECONDS * 1000); // a new token's end
 * ```
 */
export const TOKEN_TTL_SECONDS = 24 * 60 * 60;

/** Who is calling, once the token and the permission row checked out. */
export interface AuthInfo {
  userId: string;
  clinicId: string;
  role: string;
  permissions: PermissionRow;
}

/** The permission flags a procedure can require (the store's list). */
export type { PermissionFlag };

function unauthorised(message: string): HubError {
  return new HubError("unauthorized", 401, message);
}

/**
 * Signs a 24-hour session token.
 *
 * @example
 * ```ts
 * import { signToken } from "./mod.ts";
 *
 * const jwtKey = new Uint8Array(32).fill(7); // the unlocked hub's `HubAccess.jwtKey`
 * const token = await signToken(jwtKey, {
 *   sub: "user-0001",
 *   clinic_id: "clinic-0001",
 *   role: "provider",
 * });
 * token.split(".").length; // 3: an HS256 JWT, expiring in TOKEN_TTL_SECONDS
 * ```
 */
export async function signToken(
  jwtKey: Uint8Array,
  claims: { sub: string; clinic_id: string; role: string; cid?: string },
  nowMs = Date.now(),
): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  const extra = claims.cid === undefined ? {} : { cid: claims.cid };
  return await new SignJWT({ clinic_id: claims.clinic_id, role: claims.role, ...extra })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + TOKEN_TTL_SECONDS)
    .sign(jwtKey);
}

/**
 * Verifies a token (HS256 only: `alg: none` and other algorithms are refused)
 * and loads the permission row of (user, clinic). Throws `unauthorized`.
 */
export async function authenticate(
  store: Store,
  jwtKey: Uint8Array,
  token: unknown,
  nowMs = Date.now(),
  clientId?: string,
): Promise<AuthInfo> {
  if (typeof token !== "string" || token.length === 0) {
    throw unauthorised("Unauthorized: this call needs a token. Log in first.");
  }
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, jwtKey, {
      algorithms: ["HS256"],
      currentDate: new Date(nowMs),
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) {
      throw unauthorised("Unauthorized: the token has expired. Log in again.");
    }
    throw unauthorised("Unauthorized: the token is not valid. Log in again.");
  }
  const userId = payload.sub;
  const clinicId = payload.clinic_id;
  const role = payload.role;
  if (typeof userId !== "string" || typeof clinicId !== "string" || typeof role !== "string") {
    throw unauthorised("Unauthorized: the token is not valid. Log in again.");
  }
  // Tokens are bound to the device that logged in (`cid`), so revoking a device
  // also ends its tokens, and a token copied to another client id is useless.
  if (clientId !== undefined && payload.cid !== undefined) {
    if (payload.cid !== clientId) {
      throw unauthorised("Unauthorized: this token belongs to another device. Log in again.");
    }
    if (store.devices.get(clientId)?.revokedAt) {
      throw unauthorised("Unauthorized: this device has been revoked on this hub.");
    }
  }
  if (!store.people.isLive(userId)) {
    throw unauthorised("Unauthorized: this user no longer exists.");
  }
  const permissions = store.people.permissions(userId, clinicId);
  if (!permissions) {
    throw new HubError(
      "forbidden",
      403,
      "Forbidden: this user has no permissions at this clinic.",
    );
  }
  return { userId, clinicId, role, permissions };
}

/** The caller's live permission row at a clinic (their token's clinic when none is given). */
export function permissionsAt(
  store: Store,
  auth: AuthInfo,
  clinicId?: string | null,
): PermissionRow | undefined {
  if (!clinicId || clinicId === auth.clinicId) return auth.permissions;
  return store.people.permissions(auth.userId, clinicId);
}

/**
 * The one permission check: throws `forbidden` unless the caller holds `flag`
 * at `clinicId` (their token's clinic when none is given). Another clinic needs
 * its own live permission row; with no flag, that row is all it needs.
 *
 * @example
 * ```ts
 * import type { Store } from "../store/mod.ts";
 *
 * declare const store: Store;
 * declare const auth: AuthInfo; // from authenticate(), the caller's token at clinic A
 * requireAt(store, auth, "can_edit_records", "clinic-b"); // throws unless the row at B has it
 * ```
 */
export function requireAt(
  store: Store,
  auth: AuthInfo,
  flag: PermissionFlag | undefined,
  clinicId?: string | null,
): void {
  const own = !clinicId || clinicId === auth.clinicId;
  const row = permissionsAt(store, auth, clinicId);
  const where = own ? "" : ` at clinic '${clinicId}'`;
  if (!row && !flag) {
    throw new HubError("forbidden", 403, `Forbidden: this user has no permissions${where}.`);
  }
  if (flag && row?.[flag] !== 1) {
    throw new HubError(
      "forbidden",
      403,
      `Forbidden: this user lacks the permission ${flag}${where}.`,
    );
  }
}

/**
 * Slows failed logins per e-mail and per client: after n failures in a row the
 * next attempt waits 2^(n-3) seconds (the first three are free, capped at 15 min).
 * Entries are forgotten an hour after the last failure.
 */
export class LoginLimiter {
  #failures = new Map<string, { count: number; until: number; last: number }>();
  #inFlight = new Map<string, Promise<void>>();
  #release = new Map<Promise<void>, () => void>();
  #now: () => number;

  /** `now` is injectable for tests. */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Throws `too_many_attempts` while any of the keys is held back. */
  check(keys: string[]): void {
    const now = this.#now();
    for (const k of keys) {
      const f = this.#failures.get(k);
      if (!f) continue;
      if (now - f.last > 3_600_000) {
        this.#failures.delete(k);
        continue;
      }
      if (f.until > now) {
        throw new HubError(
          "too_many_attempts",
          429,
          `Too many failed sign-ins. Try again in ${Math.ceil((f.until - now) / 1000)} s.`,
        );
      }
    }
  }

  /**
   * Starts an attempt: waits for any attempt in flight on the same e-mail or
   * client (so parallel guesses are checked one after another, each seeing the
   * failures before it), then checks the delays. Always pair with {@link end}.
   */
  async begin(keys: string[]): Promise<void> {
    const deadline = this.#now() + 30_000;
    while (true) {
      const busy = keys.map((k) => this.#inFlight.get(k)).filter((p) => p !== undefined);
      if (busy.length === 0) break;
      if (this.#now() > deadline) {
        throw new HubError("too_many_attempts", 429, "Too many sign-ins at once. Try again.");
      }
      await Promise.all(busy);
    }
    this.check(keys);
    let release!: () => void;
    const done = new Promise<void>((r) => release = r);
    this.#release.set(done, release);
    for (const k of keys) this.#inFlight.set(k, done);
  }

  /** Ends an attempt started with {@link begin}: success, wrong credentials, or neither (null). */
  end(keys: string[], ok: boolean | null): void {
    const done = this.#inFlight.get(keys[0]);
    for (const k of keys) this.#inFlight.delete(k);
    if (ok === true) this.succeed(keys);
    else if (ok === false) this.fail(keys);
    if (done) {
      this.#release.get(done)?.();
      this.#release.delete(done);
    }
  }

  /** Records a failure against every key. */
  fail(keys: string[]): void {
    const now = this.#now();
    // Bounded memory: forget the oldest entries (not all of them, which would
    // let an attacker reset every delay by filling the table).
    if (this.#failures.size > 50_000) {
      let drop = 10_000;
      for (const k of this.#failures.keys()) {
        if (drop-- <= 0) break;
        this.#failures.delete(k);
      }
    }
    for (const k of keys) {
      const f = this.#failures.get(k) ?? { count: 0, until: 0, last: now };
      f.count++;
      f.last = now;
      f.until = f.count > 3 ? now + Math.min(1000 * 2 ** (f.count - 4), 15 * 60_000) : 0;
      this.#failures.delete(k); // re-insert: Map order is then least recently failed first
      this.#failures.set(k, f);
    }
  }

  /** Clears the keys after a success. */
  succeed(keys: string[]): void {
    for (const k of keys) this.#failures.delete(k);
  }
}

// A real bcrypt hash to compare against when no user matches, so a wrong e-mail
// costs the same time as a wrong password.
const DUMMY_HASH = bcrypt.hashSync("not-a-real-password", 10);

/** The login reply of SPEC §4. */
export interface LoginResult {
  token: string;
  user_id: string;
  clinic_id: string | null;
  role: string;
  provider_name: string;
  clinic_name: string | null;
}

/** Checks e-mail and password; throws `Invalid email or password` on any mismatch. */
export async function login(
  store: Store,
  jwtKey: Uint8Array,
  email: string,
  password: string,
  nowMs = Date.now(),
  clientId?: string,
): Promise<LoginResult> {
  const candidates = store.people.findLoginUsers(email.trim());
  let user = undefined;
  if (candidates.length === 0) {
    await bcrypt.compare(password, DUMMY_HASH);
  }
  for (const c of candidates) {
    const hash = c.hashed_password.replace(/^\$2y\$/, "$2b$");
    if (await bcrypt.compare(password, hash)) {
      user = c;
      break;
    }
  }
  if (!user) throw new HubError("invalid_credentials", 401, "Invalid email or password");
  const clinicId = user.clinic_id ?? "";
  const token = await signToken(
    jwtKey,
    { sub: user.id, clinic_id: clinicId, role: user.role, cid: clientId },
    nowMs,
  );
  return {
    token,
    user_id: user.id,
    clinic_id: user.clinic_id,
    role: user.role,
    provider_name: user.name,
    clinic_name: store.people.clinicName(user.clinic_id),
  };
}
