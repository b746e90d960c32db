/**
 * The one door to a Store's connection, for tests and benches only: seeding raw
 * rows through the store's own write path, and inspecting raw tables. The
 * program never imports this file (tests/store/connection_guard_test.ts fails
 * if anything outside `tests/` and `bench/` does).
 *
 * @module
 */
export { storeConnection } from "./store.ts";
export { type ApplyContext, type ChangeSource, ROWS_PER_STAMP, upsertRow } from "./_apply.ts";
export { deleteRow } from "./_delete.ts";
export { migrate } from "./_migrations.ts";
export { ChangeClock } from "./_clock.ts";
export { CACHE_KIB, type Database, DISK_FULL_MESSAGE, WAL_SIZE_LIMIT } from "./_db.ts";
