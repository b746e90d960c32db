/** `store.people`: users, permissions and clinics, as login and authorisation need them. */
import type { Database } from "./_db.ts";
import {
  clinicName,
  clinicsWithFlag,
  findLoginUsers,
  type LoginUser,
  type PermissionRow,
  permissionRow,
  rowClinic,
  userIsLive,
} from "./_people.ts";

/**
 * Users, clinics and permissions of a Store, reached as `store.people`.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * declare const userId: string; // the caller's, from their token
 * const perms = store.people.permissions(userId, "clinic-a");
 * const canRegister = perms?.can_register_patients === 1;
 * ```
 */
export class People {
  readonly #db: Database;

  /** Wraps the Store's connection (the Store builds it). */
  constructor(db: Database) {
    this.#db = db;
  }

  /** Live users with this e-mail, case-insensitively (hashes included: for the login check). */
  findLoginUsers(email: string): LoginUser[] {
    return findLoginUsers(this.#db, email);
  }

  /** True when the user exists and is not deleted. */
  isLive(userId: string): boolean {
    return userIsLive(this.#db, userId);
  }

  /** The user's permission flags at a clinic, or undefined when there are none. */
  permissions(userId: string, clinicId: string): PermissionRow | undefined {
    return permissionRow(this.#db, userId, clinicId);
  }

  /** The clinics where the user has `flag` set. */
  clinicsWithFlag(userId: string, flag: string): string[] {
    return clinicsWithFlag(this.#db, userId, flag);
  }

  /** A clinic's name, or null when unknown. */
  clinicName(clinicId: string | null): string | null {
    return clinicName(this.#db, clinicId);
  }

  /** The clinic a row belongs to (its own, or its patient's); undefined when there is no row. */
  rowClinic(table: string, id: string): { clinicId: string | null } | undefined {
    return rowClinic(this.#db, table, id);
  }
}
