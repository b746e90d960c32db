/**
 * Writes the hub makes itself, on behalf of a phone calling a named procedure
 * (SPEC §6). They are ordinary changes: each call runs in one transaction with
 * one stamp from the change clock (so other phones get it by `sync_pull`), goes
 * through {@link upsertRow} / {@link deleteRow} with source `local` (so the
 * relay pushes it to the cloud), and fills the timestamps a phone would fill.
 *
 * `updated_at` of a changed row is moved past the stored one: the call is an
 * explicit edit of the current row, and the cloud keeps only strictly newer versions.
 */
import { HubError } from "../core/mod.ts";
import { type ApplyContext, upsertRow } from "./_apply.ts";
import { deleteRow } from "./_delete.ts";
import { ident, SECRET_COLUMNS, tableDef } from "./_schema.ts";
import { one, type Row } from "./_read.ts";
import type { StoreParts } from "./_parts.ts";

/**
 * Who and when, for one procedure's writes.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * declare const clientId: string; // the calling phone's
 * const meta: LocalWriteMeta = { now: Date.now(), deviceId: clientId };
 * store.records.put(meta, "visits", { patient_id: "p1" });
 * ```
 */
export interface LocalWriteMeta {
  /** Wall-clock time of the call, ms (fills created_at / updated_at / last_modified). */
  now: number;
  /** The calling device (kept in the conflict log if a write loses). */
  deviceId?: string | null;
}

/** What a row is called in error messages (`patients` → `Patient`). */
const LABELS: Record<string, string> = {
  patients: "Patient",
  patient_additional_attributes: "Patient attribute",
  visits: "Visit",
  events: "Event",
  patient_vitals: "Vitals record",
  patient_problems: "Problem",
  appointments: "Appointment",
  prescriptions: "Prescription",
  prescription_items: "Prescription item",
  dispensing_records: "Dispensing record",
  clinic_inventory: "Inventory record",
};

/**
 * `Patient 'p1' not found` as the not-found error every procedure uses.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * if (!store.records.get("visits", "v1")) {
 *   throw notFound("visits", "v1"); // "Visit 'v1' not found."
 * }
 * ```
 */
export function notFound(table: string, id: string): HubError {
  return new HubError("not_found", 404, `${LABELS[table] ?? table} '${id}' not found.`, {
    details: { table, id },
  });
}

function dataColumns(table: string): string {
  const t = tableDef(table);
  const secret = new Set(SECRET_COLUMNS[table] ?? []);
  return t.columns.filter((c) => !secret.has(c.name)).map((c) => ident(c.name)).join(", ");
}

/**
 * Reads and writes of one procedure call, inside its transaction.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * store.records.change({ now: Date.now() }, (w: LocalWriter) => {
 *   const visit = w.put("visits", { id: crypto.randomUUID(), patient_id: "p1" });
 *   w.put("events", { id: crypto.randomUUID(), visit_id: visit.id, patient_id: "p1" });
 * });
 * ```
 */
export class LocalWriter {
  readonly #ctx: ApplyContext;

  /** Wraps the apply context of the call's transaction. */
  constructor(ctx: ApplyContext) {
    this.#ctx = ctx;
  }

  /** Wall-clock time of the call. */
  get now(): number {
    return this.#ctx.now;
  }

  /** The live (not deleted) row, or undefined. */
  get(table: string, id: string): Row | undefined {
    return one(
      this.#ctx.db,
      `SELECT ${dataColumns(table)} FROM ${ident(table)} WHERE id = ?
         AND coalesce(is_deleted, 0) = 0 AND local_server_deleted_at IS NULL`,
      id,
    );
  }

  /** The live row; throws `not_found` when it is missing or deleted. */
  require(table: string, id: string): Row {
    const row = this.get(table, id);
    if (!row) throw notFound(table, id);
    return row;
  }

  /** True when a row with this id exists but is deleted. */
  isDeleted(table: string, id: string): boolean {
    const r = one(
      this.#ctx.db,
      `SELECT coalesce(is_deleted, 0) = 1 OR local_server_deleted_at IS NOT NULL AS d
         FROM ${ident(table)} WHERE id = ?`,
      id,
    );
    return r !== undefined && r.d === 1;
  }

  /**
   * Creates the row, or replaces the columns given on the live row with that id.
   * Fills `created_at` (kept from the stored row), `updated_at`, `last_modified`
   * and `is_deleted`. Throws `conflict` when the id belongs to a deleted row.
   */
  put(table: string, row: Row): Row {
    const id = row.id;
    if (typeof id !== "string" || id.length === 0) {
      throw new HubError("bad_params", 400, `A ${LABELS[table] ?? table} needs an id.`);
    }
    if (this.isDeleted(table, id)) {
      throw new HubError(
        "conflict",
        409,
        `${LABELS[table] ?? table} '${id}' has been deleted; it cannot be written again.`,
        { details: { table, id } },
      );
    }
    const existing = this.get(table, id);
    const def = tableDef(table);
    const merged: Row = { ...(existing ?? {}) };
    // An absent (undefined) value keeps the stored one; null clears it.
    for (const [k, v] of Object.entries(row)) if (v !== undefined) merged[k] = v;
    const now = this.#ctx.now;
    if (def.columnNames.has("created_at")) {
      merged.created_at = existing?.created_at ?? row.created_at ?? now;
    }
    if (def.columnNames.has("updated_at")) {
      merged.updated_at = nextUpdatedAt(
        typeof row.updated_at === "number" ? row.updated_at : now,
        existing?.updated_at,
      );
    }
    if (def.columnNames.has("last_modified")) merged.last_modified = now;
    if (def.columnNames.has("is_deleted")) merged.is_deleted = 0;
    const outcome = upsertRow(this.#ctx, def, merged);
    if (outcome === "conflicts") {
      // Only a deleted row makes a local write lose (checked above); be safe anyway.
      throw new HubError(
        "conflict",
        409,
        `${LABELS[table] ?? table} '${id}' could not be written.`,
      );
    }
    return this.require(table, id);
  }

  /** Changes some columns of a live row; throws `not_found` when there is none. */
  patch(table: string, id: string, changes: Row): Row {
    this.require(table, id);
    return this.put(table, { ...changes, id });
  }

  /** Soft-deletes a row (a deletion phones and the cloud receive). */
  remove(table: string, id: string): boolean {
    return deleteRow(this.#ctx, tableDef(table), id);
  }

  /** Runs a read statement in the call's transaction. */
  query(sql: string, ...args: unknown[]): Row[] {
    return this.#ctx.db.prepare(sql).all(...args) as Row[];
  }
}

/** `updated_at` for a changed row: the requested time, but always past the stored one. */
function nextUpdatedAt(requested: number, stored: unknown): number {
  return typeof stored === "number" && requested <= stored ? stored + 1 : requested;
}

/**
 * Runs one procedure's writes in one transaction with one change-clock stamp.
 *
 * @example
 * ```ts
 * import type { StoreParts } from "./_parts.ts";
 *
 * declare const parts: StoreParts; // the Store's connection, clock and transaction
 * const visit = writeLocal(parts, { now: Date.now() }, (w) => {
 *   return w.put("visits", { patient_id: "p1" }); // in one transaction, with one stamp
 * });
 * ```
 */
export function writeLocal<T>(
  store: StoreParts,
  meta: LocalWriteMeta,
  fn: (w: LocalWriter) => T,
): T {
  return store.transaction(() => {
    const ctx: ApplyContext = {
      db: store.db,
      stamp: store.clock.next(),
      now: meta.now,
      source: "local",
      deviceId: meta.deviceId ?? null,
    };
    return fn(new LocalWriter(ctx));
  });
}
