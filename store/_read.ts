/**
 * Small helpers the clinical queries share: cached prepared statements, the
 * live-row condition, LIKE patterns with the user's wildcards escaped, bounded
 * paging. (Answers get the phone's shapes in one place: store/_column_kinds.ts.)
 *
 * Every value reaches SQL as a bound parameter; only names from the schema or
 * from fixed allow-lists are ever spliced into SQL text.
 */
import type { Statement } from "better-sqlite3-multiple-ciphers";
import type { Database } from "./_db.ts";
import { LIVE_ROW_SQL } from "./_migrations.ts";

/**
 * A row as read from the database (column name → value).
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const row: Row | undefined = store.records.get("visits", "v1");
 * ```
 */
export type Row = Record<string, unknown>;

// deno-lint-ignore no-explicit-any
type Stmt = Statement<any[]>;
const statements = new WeakMap<Database, Map<string, Stmt>>();

/**
 * A prepared statement for `sql`, prepared once per connection and shared by all
 * of `store/`. Its row mode is reset on every hand-out (callers that want
 * `.raw(true)` or `.pluck(true)` ask for it each time), so one caller's mode never
 * leaks into another's.
 */
export function stmt(db: Database, sql: string): Stmt {
  let m = statements.get(db);
  if (!m) statements.set(db, m = new Map());
  let s = m.get(sql);
  if (!s) {
    s = db.prepare(sql) as Stmt;
    if (m.size > 1000) m.clear();
    m.set(sql, s);
  } else if (s.reader) {
    s.raw(false);
    s.pluck(false);
  }
  return s;
}

/** All rows of a query. */
export function all(db: Database, sql: string, ...args: unknown[]): Row[] {
  return stmt(db, sql).all(...args) as Row[];
}

/** The first row of a query, if any. */
export function one(db: Database, sql: string, ...args: unknown[]): Row | undefined {
  return stmt(db, sql).get(...args) as Row | undefined;
}

/** Runs reads in one transaction (each read transaction decrypts page 1 again). */
export function reading<T>(db: Database, fn: () => T): T {
  return db.transaction(fn)();
}

/** The live-row condition, optionally for a table alias (`p` → `coalesce(p.is_deleted...`). */
export function live(alias?: string): string {
  if (!alias) return LIVE_ROW_SQL;
  return LIVE_ROW_SQL.replace("is_deleted", `${alias}.is_deleted`).replace(
    "local_server_deleted_at",
    `${alias}.local_server_deleted_at`,
  );
}

/** The ESCAPE clause that goes with {@link contains} and {@link startsWith}. */
export const ESCAPE = "ESCAPE '\\'";

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A LIKE pattern matching `text` anywhere; `%` and `_` in it match only themselves. */
export function contains(text: string): string {
  return `%${escapeLike(text)}%`;
}

/** A LIKE pattern matching values that start with `text`. */
export function startsWith(text: string): string {
  return `${escapeLike(text)}%`;
}

/** `?, ?, ?` for n parameters. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => "?").join(", ");
}

/**
 * A paginated answer (SPEC §6, the reference's shape).
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * const page: Paged = store.patients.list({ limit: 20, offset: 0, clinicIds: ["c1"] });
 * console.log(page.data.length, page.total);
 * ```
 */
export interface Paged<T = Row> {
  data: T[];
  total: number;
  limit: number;
  offset: number;
}
