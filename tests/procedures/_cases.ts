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
  "created_at",
  "updated_at",
];
