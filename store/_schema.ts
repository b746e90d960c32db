/** Typed table definitions built from {@link TABLE_COLUMNS}, and the SQL they imply. */
import { REFERENCE_INDEXES, TABLE_COLUMNS } from "./_tables.ts";

/** SQLite STRICT column types used by the schema. */
export type ColumnType = "TEXT" | "INTEGER" | "REAL";

/**
 * One data column.
 *
 * @example
 * ```ts
 * const required = tableDef("visits").columns.filter((c) => c.notNull).map((c) => c.name);
 * ```
 */
export interface ColumnDef {
  name: string;
  type: ColumnType;
  primaryKey: boolean;
  notNull: boolean;
  /** SQL literal of the default, if any. */
  defaultSql?: string;
}

/**
 * One synced table.
 *
 * @example
 * ```ts
 * const def: TableDef = tableDef("patients");
 * def.columnNames.has("primary_clinic_id"); // true
 * ```
 */
export interface TableDef {
  name: string;
  columns: ColumnDef[];
  /** Column names, for quick membership checks. */
  columnNames: Set<string>;
  /** Whether the table has soft-delete columns (`is_deleted`, `deleted_at`). */
  softDelete: boolean;
}

/** The hub's bookkeeping columns, on every synced table, never sent to clients. */
export const BOOKKEEPING_COLUMNS = [
  "local_server_created_at",
  "local_server_last_modified_at",
  "local_server_deleted_at",
  "local_server_pending",
  "local_server_pushed_by",
  "local_server_pushed_after",
  "local_server_created_by",
  "local_server_created_after",
] as const;

/**
 * Which device's `sync_push` made a row's current version, and the timestamp of
 * that device's pull just before (SPEC §5: a device never gets its own latest
 * versions back); NULL when the current version came from anywhere else. And
 * which device's push first created the row, with the same timestamp: that
 * device holds the row (or deleted it), so a later version goes to it as
 * `updated`, never as `created`.
 */
export const PUSH_MARK_COLUMNS_SQL = [
  "local_server_pushed_by TEXT",
  "local_server_pushed_after INTEGER",
  "local_server_created_by TEXT",
  "local_server_created_after INTEGER",
] as const;

function parseColumn(spec: string): ColumnDef {
  const parts = spec.trim().split(/\s+/);
  const [name, type, ...flags] = parts;
  if (type !== "TEXT" && type !== "INTEGER" && type !== "REAL") {
    throw new Error(`bad column type in ${spec}`);
  }
  const def = flags.find((f) => f.startsWith("="));
  return {
    name,
    type,
    primaryKey: flags.includes("pk"),
    notNull: flags.includes("nn") || flags.includes("pk"),
    defaultSql: def?.slice(1),
  };
}

/**
 * Every synced table, by name.
 *
 * @example
 * ```ts
 * for (const t of TABLES.values()) console.log(t.name, t.columns.length);
 * ```
 */
export const TABLES: ReadonlyMap<string, TableDef> = new Map(
  Object.entries(TABLE_COLUMNS).map(([name, spec]) => {
    const columns = spec.split(",").map(parseColumn);
    const columnNames = new Set(columns.map((c) => c.name));
    return [name, {
      name,
      columns,
      columnNames,
      softDelete: columnNames.has("is_deleted") && columnNames.has("deleted_at"),
    }];
  }),
);

/**
 * The tables the phone's WatermelonDB schema knows (SPEC §5). Sending any other
 * table makes the phone throw, so pulls are limited to these.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * for (const table of PHONE_TABLES) console.log(table, store.counts()[table].rows);
 * ```
 */
export const PHONE_TABLES: readonly string[] = [
  "patients",
  "users",
  "clinics",
  "events",
  "event_forms",
  "visits",
  "registration_forms",
  "appointments",
  "patient_additional_attributes",
  "prescriptions",
  "patient_vitals",
  "user_clinic_permissions",
  "app_config",
  "patient_problems",
  "clinic_departments",
  "drug_catalogue",
  "clinic_inventory",
  "prescription_items",
  "dispensing_records",
];

/**
 * Tables phones may not write through sync_push (SPEC §5): their pushes are ignored.
 *
 * @example
 * ```ts
 * if (PHONE_READ_ONLY_TABLES.has("users")) console.log("phones cannot push users");
 * ```
 */
export const PHONE_READ_ONLY_TABLES: ReadonlySet<string> = new Set([
  "users",
  "registration_forms",
  "event_forms",
  // Beyond SPEC §5's three: the tables that decide who may do what, and the
  // clinic set-up, belong to the cloud's administrators. A phone pushing a
  // permission row could otherwise grant itself every permission.
  "user_clinic_permissions",
  "app_config",
  "clinics",
  "clinic_departments",
  "drug_catalogue",
]);

/** Columns never sent to any client besides the bookkeeping ones. */
export const SECRET_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  users: ["hashed_password"],
};

/**
 * Looks a table up; throws for names outside the schema (so no name reaches SQL unchecked).
 *
 * @example
 * ```ts
 * const columns = tableDef("visits").columns.map((c) => c.name);
 * ```
 */
export function tableDef(name: string): TableDef {
  const t = TABLES.get(name);
  if (!t) throw new Error(`unknown table ${name}`);
  return t;
}

/** Quotes an identifier that is already known to be in the schema. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** CREATE TABLE and CREATE INDEX statements for every synced table. */
export function syncedTablesSql(): string[] {
  const out: string[] = [];
  for (const t of TABLES.values()) {
    const cols = t.columns.map((c) =>
      [
        ident(c.name),
        c.type,
        c.primaryKey ? "PRIMARY KEY" : "",
        c.notNull && !c.primaryKey ? "NOT NULL" : "",
        c.defaultSql !== undefined ? `DEFAULT ${c.defaultSql}` : "",
      ].filter(Boolean).join(" ")
    );
    cols.push(
      "local_server_created_at INTEGER NOT NULL",
      "local_server_last_modified_at INTEGER NOT NULL",
      "local_server_deleted_at INTEGER",
      "local_server_pending INTEGER NOT NULL DEFAULT 0",
      ...PUSH_MARK_COLUMNS_SQL,
    );
    out.push(`CREATE TABLE ${ident(t.name)} (\n  ${cols.join(",\n  ")}\n) STRICT`);
    out.push(
      `CREATE INDEX ${ident(`${t.name}_lsm`)} ON ${ident(t.name)} (local_server_last_modified_at)`,
      `CREATE INDEX ${ident(`${t.name}_lsc`)} ON ${ident(t.name)} (local_server_created_at)`,
      `CREATE INDEX ${ident(`${t.name}_pending`)} ON ${
        ident(t.name)
      } (local_server_last_modified_at) WHERE local_server_pending = 1`,
    );
  }
  for (const [table, column] of REFERENCE_INDEXES) {
    out.push(
      `CREATE INDEX ${ident(`${table}_${column}`)} ON ${ident(table)} (${ident(column)})`,
    );
  }
  return out;
}
