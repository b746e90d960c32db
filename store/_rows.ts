/**
 * Turning a row object from a phone or the cloud into values for our STRICT
 * columns, by each column's type in our schema (SPEC §7): booleans to 0/1, ISO
 * dates to epoch ms in INTEGER columns, objects and arrays to JSON text, and
 * sensible values for NOT NULL columns a sender left out.
 */
import { HubError } from "../core/mod.ts";
import type { ColumnDef, TableDef } from "./_schema.ts";

/** A value SQLite can bind. */
export type SqlValue = string | number | null;

const JSON_ARRAY_COLUMNS = new Set([
  "items",
  "form_fields",
  "fields",
  "departments",
  "attributes",
  "clinic_ids",
]);
const DATE_ONLY_TEXT = /^(\d{4}-\d{2}-\d{2})T00:00:00(\.0+)?(Z|[+-]00:?00)$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

function bad(table: string, column: string, expected: string): HubError {
  return new HubError(
    "bad_row",
    400,
    `Column ${column} of ${table} expects ${expected}.`,
    { details: { table, column } },
  );
}

/** Converts one value for a column; throws a clear `bad_row` error when it cannot. */
export function coerceValue(table: string, col: ColumnDef, value: unknown): SqlValue {
  if (value === undefined || value === null) return null;
  switch (col.type) {
    case "INTEGER": {
      if (typeof value === "boolean") return value ? 1 : 0;
      if (typeof value === "number") {
        if (!Number.isFinite(value)) throw bad(table, col.name, "a finite number");
        return Math.trunc(value);
      }
      if (typeof value === "string") {
        const t = value.trim();
        if (t === "") return null;
        if (/^-?\d+(\.\d+)?$/.test(t)) return Math.trunc(Number(t));
        if (t === "true" || t === "false") return t === "true" ? 1 : 0;
        if (ISO_DATE.test(t)) {
          const ms = Date.parse(t);
          if (!Number.isNaN(ms)) return ms;
        }
      }
      throw bad(table, col.name, "an integer, a boolean or an ISO date");
    }
    case "REAL": {
      if (typeof value === "boolean") return value ? 1 : 0;
      if (typeof value === "number") {
        if (!Number.isFinite(value)) throw bad(table, col.name, "a finite number");
        return value;
      }
      if (typeof value === "string") {
        const t = value.trim();
        if (t === "") return null;
        const n = Number(t);
        if (Number.isFinite(n)) return n;
      }
      throw bad(table, col.name, "a number");
    }
    case "TEXT": {
      if (typeof value === "string") {
        // Date-only columns arrive from the cloud as a midnight timestamp; keep YYYY-MM-DD.
        if (col.name.endsWith("date_of_birth") || col.name === "date_of_birth") {
          const m = DATE_ONLY_TEXT.exec(value);
          if (m) return m[1];
        }
        return value;
      }
      if (typeof value === "number" || typeof value === "boolean") return String(value);
      if (typeof value === "object") return JSON.stringify(value);
      throw bad(table, col.name, "text");
    }
  }
}

/** A value for a NOT NULL column without a default that the sender left out. */
export function fillValue(col: ColumnDef, now: number): SqlValue {
  if (col.type === "TEXT") {
    if (JSON_ARRAY_COLUMNS.has(col.name)) return "[]";
    if (
      col.name === "metadata" || col.name === "additional_data" || col.name === "form_data" ||
      col.name === "translations"
    ) return "{}";
    return "";
  }
  if (col.type === "INTEGER") {
    if (/(_at|^timestamp|^last_modified)$/.test(col.name)) return now;
    return 0;
  }
  return 0;
}

/** A row converted for binding: the columns present (in schema order) and their values. */
export interface PreparedRow {
  id: string;
  columns: string[];
  values: SqlValue[];
  /** `updated_at` as epoch ms, when the row had one. */
  updatedAt: number | null;
}

/**
 * Keeps only the table's data columns (unknown ones such as `_status` or
 * `_changed` are dropped) and converts each value. `fillMissing` adds values for
 * NOT NULL columns the row lacks, so an insert cannot fail on them.
 */
export function prepareRow(
  table: TableDef,
  raw: unknown,
  now: number,
  options: { fillMissing: boolean; skip?: ReadonlySet<string> },
): PreparedRow {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new HubError("bad_row", 400, `A row of ${table.name} is not an object.`);
  }
  const obj = raw as Record<string, unknown>;
  const id = obj.id;
  if (typeof id !== "string" || id.length === 0 || id.length > 200) {
    throw new HubError("bad_row", 400, `A row of ${table.name} has no valid id.`, {
      details: { table: table.name },
    });
  }
  const columns: string[] = [];
  const values: SqlValue[] = [];
  let updatedAt: number | null = null;
  for (const col of table.columns) {
    if (options.skip?.has(col.name)) continue;
    const present = Object.hasOwn(obj, col.name);
    let v: SqlValue;
    if (present) {
      v = coerceValue(table.name, col, obj[col.name]);
      if (v === null && col.notNull) {
        if (col.defaultSql !== undefined || !options.fillMissing) continue;
        v = fillValue(col, now);
      }
    } else if (options.fillMissing && col.notNull && col.defaultSql === undefined) {
      v = fillValue(col, now);
    } else {
      continue;
    }
    if (col.name === "updated_at" && typeof v === "number") updatedAt = v;
    columns.push(col.name);
    values.push(v);
  }
  return { id, columns, values, updatedAt };
}

/**
 * Adds values for the NOT NULL columns (without a default) that a prepared row
 * lacks, so an insert cannot fail on them. Used for new rows only: an update
 * leaves the columns it does not carry as they are.
 */
export function addMissing(
  table: TableDef,
  row: PreparedRow,
  now: number,
  skip?: ReadonlySet<string>,
): void {
  for (const col of table.columns) {
    if (!col.notNull || col.defaultSql !== undefined || skip?.has(col.name)) continue;
    if (row.columns.includes(col.name)) continue;
    row.columns.push(col.name);
    row.values.push(fillValue(col, now));
  }
}
