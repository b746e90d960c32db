/**
 * Versioned migrations. `PRAGMA user_version` records how many have run; each
 * runs in its own transaction, so a crash mid-migration leaves the previous version.
 */
import type { Database } from "./_db.ts";
import { PUSH_MARK_COLUMNS_SQL, syncedTablesSql, TABLES } from "./_schema.ts";
import { deletedIndexSql } from "./_counters.ts";

/** One migration step. */
interface Migration {
  version: number;
  description: string;
  statements: () => string[];
  /** Steps that must look at the database first (run before `statements`, same transaction). */
  prepare?: (db: Database) => void;
}

/** The live-row condition the search indexes are partial on (queries must repeat it verbatim). */
export const LIVE_ROW_SQL = "coalesce(is_deleted, 0) = 0 AND local_server_deleted_at IS NULL";

function hasColumn(db: Database, table: string, column: string): boolean {
  const cols = db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table) as string[];
  return cols.includes(column);
}

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: "synced tables and the hub's own tables",
    statements: () => [
      ...syncedTablesSql(),
      `CREATE TABLE hub_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT`,
      `CREATE TABLE devices (
        client_id TEXT PRIMARY KEY,
        name TEXT,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        last_sync INTEGER,
        last_user_id TEXT,
        rows_pulled INTEGER NOT NULL DEFAULT 0,
        rows_pushed INTEGER NOT NULL DEFAULT 0,
        handshakes INTEGER NOT NULL DEFAULT 0,
        revoked_at INTEGER
      ) STRICT`,
      `CREATE TABLE used_client_keys (digest TEXT PRIMARY KEY, seen_at INTEGER NOT NULL) STRICT`,
      `CREATE TABLE conflicts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        table_name TEXT NOT NULL,
        row_id TEXT NOT NULL,
        source TEXT NOT NULL,
        device_id TEXT,
        kept_updated_at INTEGER,
        lost_updated_at INTEGER,
        lost_row TEXT NOT NULL,
        detected_at INTEGER NOT NULL,
        resolved_at INTEGER
      ) STRICT`,
      `CREATE INDEX conflicts_open ON conflicts (detected_at) WHERE resolved_at IS NULL`,
      `CREATE TABLE tombstones (
        table_name TEXT NOT NULL,
        row_id TEXT NOT NULL,
        deleted_stamp INTEGER NOT NULL,
        local_server_pending INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (table_name, row_id)
      ) STRICT`,
      `CREATE INDEX tombstones_stamp ON tombstones (deleted_stamp)`,
      `CREATE TABLE activity (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        device_id TEXT,
        rows_in INTEGER NOT NULL DEFAULT 0,
        rows_out INTEGER NOT NULL DEFAULT 0
      ) STRICT`,
      `CREATE INDEX activity_at ON activity (at)`,
    ],
  },
  {
    version: 2,
    description: "visits.check_in_timestamp; indexes for the clinical procedures (issue 4)",
    // Databases made by version 1 lack the column the reference and the phone have;
    // fresh ones get it from the table list in version 1.
    prepare: (db) => {
      if (!hasColumn(db, "visits", "check_in_timestamp")) {
        db.exec("ALTER TABLE visits ADD COLUMN check_in_timestamp INTEGER");
      }
    },
    statements: () => [
      // search_patients / get_patients: one ordered scan of live rows that never
      // touches the table. Names (what the phone searches, and plain listing) have
      // an index a quarter the size of the one with every filter column; both are in
      // answer order (updated_at DESC, id). See bench/RESULTS.md.
      `CREATE INDEX patients_names ON patients (updated_at DESC, id, given_name, surname,
        primary_clinic_id) WHERE ${LIVE_ROW_SQL}`,
      `CREATE INDEX patients_search ON patients (updated_at DESC, id, given_name, surname,
        date_of_birth, citizenship, hometown, phone, sex, camp, government_id,
        external_patient_id, primary_clinic_id) WHERE ${LIVE_ROW_SQL}`,
      "CREATE INDEX patients_government_id ON patients (government_id)",
      `CREATE INDEX patient_additional_attributes_search ON patient_additional_attributes
        (attribute_id, patient_id, string_value, number_value) WHERE ${LIVE_ROW_SQL}`,
      "CREATE INDEX clinic_inventory_clinic_id ON clinic_inventory (clinic_id)",
      "CREATE INDEX prescriptions_prescribed_at ON prescriptions (prescribed_at)",
    ],
  },
  {
    version: 3,
    description: "who pushed each row's current version; per-device pull state (issue 10)",
    // Fresh databases get the row columns from the table list in version 1.
    prepare: (db) => {
      const add = (table: string, columnSql: string) => {
        if (!hasColumn(db, table, columnSql.split(" ")[0])) {
          db.exec(`ALTER TABLE "${table}" ADD COLUMN ${columnSql}`);
        }
      };
      for (const t of TABLES.keys()) for (const c of PUSH_MARK_COLUMNS_SQL) add(t, c);
      add("tombstones", "pushed_by TEXT");
      add("tombstones", "pushed_after INTEGER");
      // The timestamp handed out by the device's last pull and the cursor it
      // pulled from, the `pushed_after` of its last push, the stamp and cursor at
      // which it was last seen starting over, and how many changes were still
      // waiting for it after its last pull.
      add("devices", "pull_timestamp INTEGER");
      add("devices", "push_after INTEGER");
      add("devices", "pull_cursor INTEGER");
      add("devices", "rewound_stamp INTEGER NOT NULL DEFAULT 0");
      add("devices", "rewound_cursor INTEGER NOT NULL DEFAULT 0");
      add("devices", "waiting_rows INTEGER NOT NULL DEFAULT 0");
      add("devices", "waiting_checked_at INTEGER");
    },
    statements: () => [],
  },
  {
    version: 4,
    description:
      "why a logged version was set aside: a refused push names the missing right (issue 12)",
    // NULL for the ordinary conflicts (an older version lost to a newer one).
    prepare: (db) => {
      if (!hasColumn(db, "conflicts", "reason")) {
        db.exec("ALTER TABLE conflicts ADD COLUMN reason TEXT");
      }
    },
    statements: () => [],
  },
  {
    version: 5,
    description: "partial indexes on deleted rows, so the status counts them without a scan",
    statements: deletedIndexSql,
  },
];

/**
 * The schema version this build writes.
 *
 * @example
 * ```ts
 * import { SCHEMA_VERSION, Store } from "./mod.ts";
 *
 * declare const keyHex: string; // the database key, from the open vault
 * const opened = Store.open("data/hub.db", keyHex); // migrates the file up to SCHEMA_VERSION
 * console.log(`schema version ${SCHEMA_VERSION}`);
 * ```
 */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Runs every migration newer than the database's `user_version`. */
export function migrate(db: Database): number {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `The database was written by a newer hub (schema ${current}, this build knows ${SCHEMA_VERSION}).`,
    );
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      m.prepare?.(db);
      for (const sql of m.statements()) db.exec(sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return SCHEMA_VERSION;
}
