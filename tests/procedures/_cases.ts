/** The shape of one table-driven procedure case, and assertions the cases share. */
import assert from "node:assert/strict";

// deno-lint-ignore no-explicit-any
export type Any = any;

/** One procedure call: params, the documented shape, invalid params and the field named. */
export interface Case {
  kind: "command" | "query";
  name: string;
  params: Record<string, unknown>;
  shape: (r: Any) => void;
  /** Invalid params and the field the error must name (omitted: params take no fields). */
  bad?: [Record<string, unknown>, string];
}

/** The fixtures' base time. */
export const T0 = Date.UTC(2026, 0, 10, 9, 0, 0);
/** One day in ms. */
export const DAY = 86_400_000;

/** Asserts an object has exactly these keys. */
export function keys(obj: Any, expected: readonly string[]): void {
  assert(obj && typeof obj === "object", `expected an object, got ${JSON.stringify(obj)}`);
  assert.deepStrictEqual(Object.keys(obj).sort(), [...expected].sort());
}

/** Asserts `{data: [rows with these columns]}`. */
export function dataOf(r: Any, columns: readonly string[], n?: number): Any[] {
  keys(r, ["data"]);
  assert(Array.isArray(r.data));
  if (n !== undefined) assert.deepStrictEqual(r.data.length, n);
  for (const row of r.data) keys(row, columns);
  return r.data;
}

/** Asserts a page `{data, total, limit, offset}`. */
export function paged(r: Any, columns: readonly string[], total: number): Any[] {
  keys(r, ["data", "total", "limit", "offset"]);
  assert.deepStrictEqual(r.total, total);
  for (const row of r.data) keys(row, columns);
  return r.data;
}

/** Columns of a patient in list answers. */
export const PATIENT_LIST = [
  "id",
  "given_name",
  "surname",
  "date_of_birth",
  "citizenship",
  "hometown",
  "phone",
  "sex",
  "camp",
  "photo_url",
  "government_id",
  "external_patient_id",
  "additional_data",
  "metadata",
  "primary_clinic_id",
  "last_modified_by",
  "is_deleted",
  "deleted_at",
  "created_at",
  "updated_at",
];

/**
 * Flag columns as the phone's WatermelonDB schema declares them `boolean`
 * (restated here from the app, not imported from the hub, so the test can fail).
 */
const PHONE_BOOLEANS = new Set([
  "is_deleted",
  "is_archived",
  "is_editable",
  "is_snapshot_form",
  "is_walk_in",
  "boolean_value",
  "can_register_patients",
  "can_view_history",
  "can_edit_records",
  "can_delete_records",
  "is_clinic_admin",
  "can_edit_other_provider_event",
  "can_download_patient_reports",
  "can_prescribe_medications",
  "can_dispense_medications",
  "can_delete_patient_visits",
  "can_delete_patient_records",
  "can_perform_labs",
  "can_perform_imaging",
  "is_controlled",
  "requires_refrigeration",
  "is_active",
]);

/** Columns the app's transformers read as objects or arrays (`Record<string, any>`, `FormDataItem[]`...). */
const PHONE_JSON = new Set([
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
]);

/**
 * Asserts the shapes the phone reads, at any depth of an answer: flags are
 * booleans (or null), JSON columns are parsed (objects or arrays, or null). The
 * clinic's own JSON is not looked into. Returns how many columns it checked.
 */
export function assertPhoneShapes(value: unknown, path = "result"): number {
  if (Array.isArray(value)) {
    return value.reduce((n: number, v, i) => n + assertPhoneShapes(v, `${path}[${i}]`), 0);
  }
  if (value === null || typeof value !== "object") return 0;
  let n = 0;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (PHONE_JSON.has(k)) {
      assert.ok(
        v === null || typeof v === "object",
        `${path}.${k} is parsed JSON, got ${typeof v}`,
      );
      n++;
    } else if (PHONE_BOOLEANS.has(k)) {
      assert.ok(v === null || typeof v === "boolean", `${path}.${k} is a boolean, got ${typeof v}`);
      n++;
    } else n += assertPhoneShapes(v, `${path}.${k}`);
  }
  return n;
}
