/**
 * Building blocks of the clinical procedures' params schemas. Phones send the same value in several forms (epoch ms or
 * ISO dates, JSON as text or as objects, flags as booleans or 0/1); each schema
 * here accepts those forms and hands the handler one: numbers, JSON text, 0/1.
 * Clinic rules are not here: each record states its scope (./_scope.ts).
 *
 * Limits decided here: ids ≤ 200 characters, free text ≤ 64 KiB, JSON ≤ 1 MiB,
 * page sizes as each procedure states.
 */
import { z } from "zod";
import type { LocalWriteMeta, Store } from "../../store/mod.ts";
import { type CallContext, type Procedure, procedure, RawJson } from "./registry.ts";

/** A required id. */
export const id = z.string().min(1, { error: "expected a non-empty id" }).max(200);

/** An optional id; empty means "make one" (the phone sends `""` for new rows). */
export const optId = z.string().max(200).nullish().transform((v) => v || undefined);

/** Optional free text (null clears it). */
export const text = z.string().max(65_536).nullish();

/** Epoch milliseconds, or an ISO-8601 date, as epoch milliseconds. */
export const timestamp = z.union([z.number(), z.string()], {
  error: "expected epoch milliseconds or an ISO-8601 date",
}).transform((v, ctx) => {
  const ms = typeof v === "number" ? v : Date.parse(v.trim());
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: "custom", message: "expected epoch milliseconds or an ISO-8601 date" });
    return z.NEVER;
  }
  return Math.trunc(ms);
});

/** A JSON column: an object, an array or JSON text, as JSON text (empty text is `{}`). */
export const json = z.union([
  z.string().max(1_048_576),
  z.record(z.string(), z.unknown()),
  z.array(z.unknown()),
], { error: "expected a JSON object or array, or JSON text" }).transform((v, ctx) => {
  if (typeof v !== "string") return JSON.stringify(v);
  if (v.trim() === "") return "{}";
  try {
    JSON.parse(v);
    return v;
  } catch {
    ctx.addIssue({ code: "custom", message: "expected valid JSON text" });
    return z.NEVER;
  }
});

/** A flag: true/false or 1/0, as 1/0. */
export const flag = z.union([z.boolean(), z.literal(0), z.literal(1)], {
  error: "expected true/false or 1/0",
}).transform((v) => (v === true || v === 1 ? 1 : 0));

/** A finite number (a measurement). */
export const num = z.number();

/** A non-negative whole number (a quantity). */
export const count = z.number().int().min(0).max(1_000_000_000);

/** An optional page size: default `def`, at most `max`. */
export function limit(def: number, max: number) {
  return z.number().int().min(1).max(max).nullish().transform((v) => v ?? def);
}

/** An optional offset: default 0. */
export const offset = z.number().int().min(0).max(10_000_000).nullish().transform((v) => v ?? 0);

/** A list of short strings (statuses, department ids). */
export const stringList = z.array(z.string().max(200)).max(100).nullish();

/** The store of the unlocked hub. */
export function storeOf(ctx: CallContext): Store {
  return ctx.hub!.store;
}

/** Who and when, for the call's writes. */
export function metaOf(ctx: CallContext): LocalWriteMeta {
  return { now: ctx.now, deviceId: ctx.clientId };
}

/** The caller's user id. */
export function userOf(ctx: CallContext): string {
  return ctx.auth!.userId;
}

/** A result that is JSON `null` (the registry would otherwise answer `{}`). */
export function orNull<T>(value: T | undefined | null): T | RawJson {
  return value ?? new RawJson("null");
}

/** Declares a procedure that needs a token (every clinical one does). */
export function clinical<S extends z.ZodType>(
  p: Omit<Procedure<z.infer<S>>, "params" | "auth"> & { params: S },
): Procedure {
  return procedure({ ...p, auth: "token" });
}

/** Drops keys whose value is undefined (so they do not overwrite stored columns). */
export function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as Partial<T>;
}

/** Drops keys whose value is null or undefined: "leave as is", as the reference's updates read them. */
export function given<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null) out[k] = v;
  return out as Partial<T>;
}
