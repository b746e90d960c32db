/**
 * The one table of how a column's value travels to a phone, whichever way it
 * goes (a `sync_pull` row or a procedure's answer). SQLite stores flags as 0/1
 * and JSON as text; the phone's WatermelonDB schema declares the flags
 * `boolean` (so they go out as JSON `true`/`false` everywhere), and its data
 * provider's transformers read the JSON columns as objects or arrays (so
 * procedure answers send them parsed; a pull keeps them as text, which is what
 * WatermelonDB stores). A column name means the same thing in every table.
 */

import { PERMISSION_FLAGS } from "./_people.ts";

/**
 * Columns the phone's schema declares `boolean` (stored 0/1 here).
 *
 * @example
 * ```ts
 * import { BOOLEAN_COLUMNS, type Row } from "./mod.ts";
 *
 * declare const row: Row; // as SQLite answered it
 * const flag = BOOLEAN_COLUMNS.has("is_deleted") ? Boolean(row.is_deleted) : row.is_deleted;
 * ```
 */
export const BOOLEAN_COLUMNS: ReadonlySet<string> = new Set([
  "is_deleted",
  "is_archived",
  "is_editable",
  "is_snapshot_form",
  "is_walk_in",
  "boolean_value",
  "value_boolean",
  ...PERMISSION_FLAGS,
  "can_perform_labs",
  "can_perform_imaging",
  "is_controlled",
  "requires_refrigeration",
  "is_active",
  "is_quarantined",
  "hash_verified",
  "synced",
  "is_leader",
]);

/**
 * Columns holding JSON text (objects or arrays), answered parsed by procedures.
 *
 * @example
 * ```ts
 * import { JSON_COLUMNS, type Row } from "./mod.ts";
 *
 * declare const row: Row; // as SQLite answered it
 * const value = JSON_COLUMNS.has("metadata") ? JSON.parse(String(row.metadata)) : row.metadata;
 * ```
 */
export const JSON_COLUMNS: ReadonlySet<string> = new Set([
  "metadata",
  "additional_data",
  "form_data",
  "form_fields",
  "fields",
  "items",
  "departments",
  "attributes",
  "clinic_ids",
  "translations",
  "additional_capabilities",
  "changes",
]);

/**
 * Answer keys whose value is the clinic's own data keyed by its own names (the
 * registration form's answers by field id, `get_patient`): never looked into.
 */
const OPAQUE_KEYS: ReadonlySet<string> = new Set(["values"]);

/**
 * Gives a procedure's answer the shapes the phone reads: every flag column a
 * boolean, every JSON column parsed, at any depth of the answer (paged `data`,
 * nested records). A parsed JSON value is the clinic's own data and is never
 * looked into; text that is not valid JSON is kept as it is.
 *
 * @example
 * ```ts
 * shapeAnswer({ data: [{ is_deleted: 0, metadata: "{\"a\":1}" }] });
 * // → { data: [{ is_deleted: false, metadata: { a: 1 } }] }
 * ```
 */
export function shapeAnswer(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shapeAnswer);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (OPAQUE_KEYS.has(k)) out[k] = v;
    else if (JSON_COLUMNS.has(k)) out[k] = typeof v === "string" ? parseOrKeep(v) : v;
    else if (BOOLEAN_COLUMNS.has(k) && typeof v === "number") out[k] = v !== 0;
    else out[k] = shapeAnswer(v);
  }
  return out;
}

function parseOrKeep(text: string): unknown {
  const c = text.trimStart()[0];
  if (c !== "{" && c !== "[") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
