/** `sync_pull` and `sync_push`: the WatermelonDB protocol (SPEC §5). */
import { z } from "zod";
import { procedure, RawJson } from "./registry.ts";
import { noClinic } from "./_scope.ts";
import { pushGuard } from "./_push_rules.ts";

const cursor = z.union([z.number().int().nonnegative(), z.null()]).optional();

/** `sync_pull {lastPulledAt | last_pulled_at}` → `{changes, timestamp}` (paged; see store/_pull.ts). */
export const syncPull = procedure({
  name: "sync_pull",
  // Not scoped per user yet: see docs/security.md, "What a phone can read".
  scope: noClinic("the hub's whole data set, as the cloud sends it for the hub's clinics"),
  kind: "query",
  auth: "token",
  inReference: true,
  params: z.object({ lastPulledAt: cursor, last_pulled_at: cursor }).passthrough(),
  handler: (p, ctx) => {
    const store = ctx.hub!.store;
    const from = p.lastPulledAt ?? p.last_pulled_at ?? 0;
    // One transaction for the pull and the device's statistics: one commit, one disk sync.
    const result = store.transaction(() => {
      const r = store.phoneSync.pull(from, {
        maxRows: ctx.services.pullPageRows,
        maxBytes: ctx.services.pullPageBytes,
        deviceId: ctx.clientId,
        now: ctx.now,
      });
      store.devices.recordSync(ctx.clientId, "pull", r.rows, ctx.now, ctx.auth!.userId);
      return r;
    });
    ctx.services.logger.log("info", "sync.pull", {
      device: ctx.clientId,
      rows: result.rows,
      more: result.more,
      waiting: result.waiting,
      bytes: result.json.length,
    });
    ctx.hub!.publish?.("sync", {
      device: ctx.clientId,
      kind: "pull",
      rows: result.rows,
      conflicts: 0,
      refused: 0,
      cursor: from,
    });
    return new RawJson(result.json);
  },
});

/**
 * `sync_push {lastPulledAt, changes}` → `{}`; one transaction, all or nothing.
 * Each row is checked by the push rule table (./_push_rules.ts): a refused row
 * goes to the conflict log and the rest is applied.
 */
export const syncPush = procedure({
  name: "sync_push",
  scope: { kind: "per-row" },
  kind: "command",
  auth: "token",
  inReference: true,
  params: z.object({
    lastPulledAt: cursor,
    last_pulled_at: cursor,
    changes: z.record(z.string(), z.unknown()),
  }).passthrough(),
  handler: (p, ctx) => {
    const store = ctx.hub!.store;
    // The push and the device's statistics commit together (all or nothing, one disk sync).
    const result = store.transaction(() => {
      const r = store.phoneSync.push(p.changes, {
        deviceId: ctx.clientId,
        now: ctx.now,
        lastPulledAt: p.lastPulledAt ?? p.last_pulled_at ?? null,
        // Rows the caller may not write are logged and skipped, never fail the push.
        guard: pushGuard(store, ctx.auth!, p.changes),
      });
      const rows = r.total.upserted + r.total.deleted;
      store.devices.recordSync(ctx.clientId, "push", rows, ctx.now, ctx.auth!.userId);
      return r;
    });
    ctx.services.logger.log("info", "sync.push", {
      device: ctx.clientId,
      upserted: result.total.upserted,
      deleted: result.total.deleted,
      conflicts: result.total.conflicts,
      refused: result.refused,
      ignoredTables: result.ignoredTables.length,
    });
    ctx.hub!.publish?.("sync", {
      device: ctx.clientId,
      kind: "push",
      rows: result.total.upserted + result.total.deleted,
      conflicts: result.total.conflicts,
      refused: result.refused,
    });
    const logged = result.total.conflicts + result.refused;
    if (logged > 0) {
      ctx.hub!.publish?.("conflict", {
        action: "logged",
        id: null,
        count: logged,
        open: store.openConflicts(),
      });
    }
    return {};
  },
});
