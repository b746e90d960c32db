/**
 * The conflict log as an operator reads it, and the two decisions on it:
 * "keep the newer one" (mark it decided) and "restore the older one" (write the
 * older version again as a new local change). A pushed row the pusher had no
 * right to write is logged the same way, with a `reason`; restoring it is the
 * operator accepting it. A restore goes through the same
 * local-write path as a phone's online procedure ({@link writeLocal}): one
 * change-clock stamp (phones get it by `sync_pull`), source `local` (pending for
 * the relay, so the cloud gets it), `updated_at` moved past the stored one.
 */
import { HubError } from "../core/mod.ts";
import type { Database } from "./_db.ts";
import { type ConflictRecord, listConflicts, resolveConflict } from "./_conflicts.ts";
import { coerceValue } from "./_rows.ts";
import {
  ident,
  PHONE_READ_ONLY_TABLES,
  SECRET_COLUMNS,
  type TableDef,
  tableDef,
} from "./_schema.ts";
import { writeLocal } from "./_local.ts";
import type { StoreParts } from "./_parts.ts";

/**
 * How a field's values should be shown.
 *
 * @example
 * ```ts
 * const kind: FieldKind = "datetime"; // shown as a date and time
 * ```
 */
export type FieldKind = "datetime" | "date" | "bool" | "json" | "number" | "text";

/**
 * One field whose value differs between the kept and the older version.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const [c] = store.conflicts.views({ limit: 1 });
 * const changed: string[] = c.differences.map((d: FieldDifference) => d.name);
 * ```
 */
export interface FieldDifference {
  name: string;
  kind: FieldKind;
  kept: unknown;
  older: unknown;
}

/**
 * Who made a version: the channel it came by, the device, and the user named in the row.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const [c] = store.conflicts.views({ limit: 1 });
 * const by: VersionAuthor = c.olderBy; // { via: "phone", device: "Ward tablet", user: "u1" }
 * ```
 */
export interface VersionAuthor {
  /** `phone` (a device's sync), `cloud`, `hub` (a phone's online request or a restore here), `unknown`. */
  via: "phone" | "cloud" | "hub" | "unknown";
  /** The device's name (or id) when it came from a phone. */
  device: string | null;
  /** The user the row names as its author (`last_modified_by`, `recorded_by_user_id`...). */
  user: string | null;
}

/**
 * A conflict with what an operator needs to decide it.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const open: ConflictView[] = store.conflicts.views({ open: true });
 * for (const c of open) {
 *   console.log(c.label.patient, c.differences.length, c.restorable);
 * }
 * ```
 */
export interface ConflictView extends ConflictRecord {
  /** What the record is, in people's terms. */
  label: { patient: string | null; title: string | null; date: number | null };
  /** False when the record is no longer on this hub (deleted, or the data was cleared). */
  present: boolean;
  /** Who made the version that was kept (the stored one) and the older one. */
  keptBy: VersionAuthor;
  olderBy: VersionAuthor;
  /** The fields that differ (bookkeeping and the cloud's own columns left out). */
  differences: FieldDifference[];
  /**
   * Whether "restore the older one" is offered (records the cloud manages are
   * not). For a refused push (`reason` set) it writes the refused version, which
   * the operator may accept even when the hub never held the record.
   */
  restorable: boolean;
}

/** Columns that are not the record's content: never compared, never restored. */
const NOT_CONTENT = new Set([
  "id",
  "created_at",
  "updated_at",
  "last_modified",
  "server_created_at",
  "is_deleted",
  "deleted_at",
]);

const AUTHOR_COLUMNS = ["last_modified_by", "recorded_by_user_id", "provider_id", "user_id"];

const BOOL_NAME = /^(is_|can_|requires_)|(^|_)boolean(_|$)/;
const DATETIME_NAME = /(_at|timestamp|_date)$|^timestamp$/;

function kindOf(col: { name: string; type: string }, value: unknown): FieldKind {
  if (col.type === "INTEGER" && BOOL_NAME.test(col.name)) return "bool";
  if (col.type === "INTEGER" && DATETIME_NAME.test(col.name)) return "datetime";
  if (col.type === "TEXT" && /date/.test(col.name)) return "date";
  if (col.type === "TEXT" && typeof value === "string" && /^\s*[[{]/.test(value)) return "json";
  if (col.type !== "TEXT") return "number";
  return "text";
}

function parsed(v: unknown): unknown {
  if (typeof v !== "string") return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

function same(a: unknown, b: unknown, kind: FieldKind): boolean {
  if (kind === "json") return JSON.stringify(parsed(a)) === JSON.stringify(parsed(b));
  if (kind === "text" || kind === "date") return (a ?? "") === (b ?? "");
  return (a ?? null) === (b ?? null);
}

/** The older version in the stored representation (as the kept one is). */
function normalise(table: TableDef, raw: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!raw || typeof raw !== "object") return out;
  const r = raw as Record<string, unknown>;
  for (const col of table.columns) {
    if (!(col.name in r)) continue;
    try {
      out[col.name] = coerceValue(table.name, col, r[col.name]);
    } catch {
      out[col.name] = r[col.name] as unknown;
    }
  }
  return out;
}

function currentRow(db: Database, table: TableDef, id: string): Record<string, unknown> | null {
  const secret = new Set(SECRET_COLUMNS[table.name] ?? []);
  const cols = table.columns.filter((c) => !secret.has(c.name)).map((c) => ident(c.name));
  const row = db.prepare(
    `SELECT ${cols.join(", ")}, local_server_pending AS _pending,
       local_server_pushed_by AS _pushedBy FROM ${ident(table.name)}
     WHERE id = ? AND coalesce(is_deleted, 0) = 0 AND local_server_deleted_at IS NULL`,
  ).get(id) as Record<string, unknown> | undefined;
  return row ?? null;
}

function userName(db: Database, id: unknown): string | null {
  if (typeof id !== "string" || id === "") return null;
  const r = db.prepare("SELECT name FROM users WHERE id = ?").get(id) as
    | { name: string }
    | undefined;
  return r?.name ?? null;
}

function authorUser(db: Database, row: Record<string, unknown> | null): string | null {
  if (!row) return null;
  if (typeof row.provider_name === "string" && row.provider_name) return row.provider_name;
  for (const c of AUTHOR_COLUMNS) {
    const name = userName(db, row[c]);
    if (name) return name;
  }
  return null;
}

function deviceName(db: Database, id: string | null): string | null {
  if (!id) return null;
  const r = db.prepare("SELECT name FROM devices WHERE client_id = ?").get(id) as
    | { name: string | null }
    | undefined;
  return r?.name ?? id;
}

function patientName(db: Database, id: unknown): string | null {
  if (typeof id !== "string") return null;
  const r = db.prepare("SELECT given_name, surname FROM patients WHERE id = ?").get(id) as
    | { given_name: string | null; surname: string | null }
    | undefined;
  if (!r) return null;
  const name = [r.given_name, r.surname].filter((s) => s && s.trim()).join(" ");
  return name || null;
}

const DATE_COLUMN: Record<string, string> = {
  visits: "check_in_timestamp",
  appointments: "timestamp",
  patient_vitals: "timestamp",
  patient_observations: "timestamp",
  prescriptions: "prescribed_at",
  dispensing_records: "dispensed_at",
  events: "created_at",
};

const TITLE_COLUMNS = [
  "problem_label",
  "event_type",
  "reason",
  "name",
  "generic_name",
  "display_name",
  "allergen_label",
  "observation_label",
];

function labelOf(
  db: Database,
  table: string,
  row: Record<string, unknown>,
): ConflictView["label"] {
  const patient = table === "patients"
    ? [row.given_name, row.surname].filter((s) => typeof s === "string" && s.trim()).join(" ") ||
      null
    : patientName(db, row.patient_id);
  let title: string | null = null;
  if (table !== "patients") {
    for (const c of TITLE_COLUMNS) {
      if (typeof row[c] === "string" && (row[c] as string).trim()) {
        title = row[c] as string;
        break;
      }
    }
  }
  const d = row[DATE_COLUMN[table] ?? ""];
  return { patient, title, date: typeof d === "number" ? d : null };
}

function refusedDeletion(c: ConflictRecord): boolean {
  const row = c.lostRow as Record<string, unknown> | null;
  return !!row && (row.is_deleted === true || row.is_deleted === 1);
}

/** Describes one logged conflict for the operator. */
export function describeConflict(db: Database, c: ConflictRecord): ConflictView {
  const table = tableDef(c.table);
  const kept = currentRow(db, table, c.rowId);
  const older = normalise(table, c.lostRow);
  const secret = new Set(SECRET_COLUMNS[table.name] ?? []);
  const differences: FieldDifference[] = [];
  if (kept) {
    for (const col of table.columns) {
      if (NOT_CONTENT.has(col.name) || secret.has(col.name) || !(col.name in older)) continue;
      const kind = kindOf(col, kept[col.name] ?? older[col.name]);
      if (same(kept[col.name], older[col.name], kind)) continue;
      differences.push({
        name: col.name,
        kind,
        kept: kind === "json" ? parsed(kept[col.name]) : kept[col.name] ?? null,
        older: kind === "json" ? parsed(older[col.name]) : older[col.name] ?? null,
      });
    }
  }
  // The log names where the older version came from. The kept one is the stored
  // row: when the cloud's version beat a change made here, the log says "local"
  // and the kept one is the cloud's; otherwise it is whatever the hub held then.
  const olderBy: VersionAuthor = {
    via: c.source === "phone" ? "phone" : c.source === "cloud" ? "cloud" : "hub",
    device: c.source === "phone" ? deviceName(db, c.deviceId) : null,
    user: authorUser(db, older),
  };
  // A phone's push marks the row with the device (store/_device_sync.ts) until
  // anything else changes it.
  const keptDevice = typeof kept?._pushedBy === "string" ? kept._pushedBy : null;
  const keptBy: VersionAuthor = {
    via: keptDevice
      ? "phone"
      : c.source === "local"
      ? "cloud"
      : kept?._pending === 1
      ? "hub"
      : "unknown",
    device: keptDevice ? deviceName(db, keptDevice) : null,
    user: authorUser(db, kept),
  };
  const { lostRow: _omit, ...record } = c;
  return {
    ...record,
    lostRow: c.lostRow,
    label: labelOf(db, c.table, kept ?? older),
    present: kept !== null,
    keptBy,
    olderBy,
    differences,
    // A refused deletion has no content to restore: it is decided by keeping the record.
    restorable: !PHONE_READ_ONLY_TABLES.has(c.table) && !(c.reason !== null && refusedDeletion(c)),
  };
}

/** Lists conflicts as the operator sees them, newest first; `open` keeps the undecided ones. */
export function listConflictViews(
  db: Database,
  options: { open?: boolean; limit?: number } = {},
): ConflictView[] {
  return listConflicts(db, options).map((c) => describeConflict(db, c));
}

function getConflict(db: Database, id: number): ConflictRecord {
  const c = db.prepare(
    `SELECT id, table_name AS "table", row_id AS rowId, source, device_id AS deviceId,
       kept_updated_at AS keptUpdatedAt, lost_updated_at AS lostUpdatedAt, lost_row AS lostRow,
       reason, detected_at AS detectedAt, resolved_at AS resolvedAt FROM conflicts WHERE id = ?`,
  ).get(id) as (ConflictRecord & { lostRow: string }) | undefined;
  if (!c) throw new HubError("not_found", 404, "No such conflict.");
  return { ...c, lostRow: JSON.parse(c.lostRow) };
}

/** "Keep the newer one": marks the conflict decided. */
export function keepNewer(db: Database, id: number, now: number): void {
  const c = getConflict(db, id);
  if (c.resolvedAt !== null) {
    throw new HubError("already_decided", 409, "This conflict has already been decided.");
  }
  resolveConflict(db, id, now);
}

/**
 * "Restore the older one": writes the older version's content over the record
 * as a new local change (one stamp, pending for the cloud), and marks the
 * conflict decided, in one transaction.
 */
export function restoreOlder(
  store: StoreParts,
  id: number,
  now: number,
): { table: string; id: string } {
  const c = getConflict(store.db, id);
  if (c.resolvedAt !== null) {
    throw new HubError("already_decided", 409, "This conflict has already been decided.");
  }
  if (PHONE_READ_ONLY_TABLES.has(c.table)) {
    throw new HubError(
      "not_restorable",
      409,
      "Records of this kind are managed in the cloud; change them there.",
    );
  }
  const table = tableDef(c.table);
  const older = normalise(table, c.lostRow);
  const secret = new Set(SECRET_COLUMNS[table.name] ?? []);
  const row: Record<string, unknown> = { id: c.rowId, updated_at: now };
  for (const col of table.columns) {
    if (NOT_CONTENT.has(col.name) || secret.has(col.name) || !(col.name in older)) continue;
    row[col.name] = older[col.name];
  }
  writeLocal(store, { now }, (w) => {
    // A refused push of a new row has no stored row: restoring it is the
    // operator accepting it, so it is created (a deleted row stays deleted).
    const refusedNew = c.reason !== null && !w.isDeleted(c.table, c.rowId);
    if (!w.get(c.table, c.rowId) && !refusedNew) {
      throw new HubError(
        "record_missing",
        409,
        "This record is not on the hub now (it was deleted, or the hub's data was cleared and " +
          "has not come back from the cloud yet). Try again after the next sync, or keep the newer one.",
      );
    }
    w.put(c.table, row);
    resolveConflict(store.db, id, now);
  });
  return { table: c.table, id: c.rowId };
}
