/**
 * The procedure registry: each procedure is one record (name, kind, auth,
 * permission, clinic scope, params schema, handler). The dispatcher is generic:
 * it checks the token and the permission flag, validates params, checks the
 * flag at every clinic the call touches (./_scope.ts), runs the handler, gives the
 * answer the phone's shapes (store/_column_kinds.ts), and marks any failure as an
 * envelope error (SPEC §3), which `../_reply.ts` sends. Adding a procedure is adding a record.
 */
import type { z } from "zod";
import { HubError, LOCKED_MESSAGE, type Logger } from "../../core/mod.ts";
import type { HubAccess } from "../_access.ts";
import { shapeAnswer } from "../../store/mod.ts";
import { authenticate, type AuthInfo, type PermissionFlag, requireAt } from "../_auth.ts";
import { enforceScope, type ProcedureScope } from "./_scope.ts";

/** Command (write) or query (read). */
export type ProcedureKind = "command" | "query";

/** What a handler receives besides its params. */
export interface CallContext {
  /** The unlocked hub, or null (only procedures with `whileLocked` ever see null). */
  hub: HubAccess | null;
  /** Who is calling; set when the procedure needs a token. */
  auth: AuthInfo | null;
  /**
   * For a procedure scoped `listed`: the clinics whose rows it may answer (where
   * the caller holds the scope's flag), set by the dispatcher. Null otherwise.
   */
  listedClinics?: string[] | null;
  /** The calling device's client id. */
  clientId: string;
  /** Wall-clock time of the call, ms. */
  now: number;
  /** Server-wide services procedures may need (login limiter, page size...). */
  services: ProcedureServices;
}

/** Services the server hands to procedures. */
export interface ProcedureServices {
  /** Slows repeated failed logins. */
  loginLimiter: import("../_auth.ts").LoginLimiter;
  /** Bound on rows per pull reply. */
  pullPageRows: number;
  /** Bound on JSON bytes per pull reply. */
  pullPageBytes: number;
  /** The hub's logger. */
  logger: Logger;
}

/**
 * A result already serialised to JSON (large pull replies skip a second stringify).
 *
 * @example
 * ```ts
 * import { RawJson } from "./mod.ts";
 *
 * // A handler returning a pull page it built as text; the dispatcher sends `json` as is.
 * const page = new RawJson('{"changes":{},"timestamp":1767600000000}');
 * page.json; // '{"changes":{},"timestamp":1767600000000}'
 * ```
 */
export class RawJson {
  /** Wraps JSON text. */
  constructor(readonly json: string) {}
}

/** One procedure. */
export interface Procedure<P = unknown> {
  name: string;
  kind: ProcedureKind;
  /** `none`: no token needed (ping, heartbeat, login); `token`: token + permission row. */
  auth: "none" | "token";
  /** Flag the caller must hold at their clinic, if any. */
  permission?: PermissionFlag;
  /** Which clinics a call touches and what it needs there; checked by the dispatcher. */
  scope: ProcedureScope;
  /** Answers while the hub is locked (ping, heartbeat only). */
  whileLocked?: boolean;
  params: z.ZodType<P>;
  handler: (params: P, ctx: CallContext) => unknown | Promise<unknown>;
  /** Whether the reference hub had it (for docs/procedures.md). */
  inReference?: boolean;
  /** A rule beyond permission and clinic scope the handler applies (for docs/procedures.md). */
  note?: string;
}

/**
 * Helper to get params typing right when declaring a record.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { procedure } from "./mod.ts";
 *
 * export const clinicHours = procedure({
 *   name: "clinic_hours",
 *   kind: "query",
 *   auth: "none",
 *   whileLocked: true,
 *   scope: { kind: "none", why: "opening hours are not patient data" },
 *   params: z.object({ day: z.enum(["mon", "tue"]) }),
 *   handler: (p) => ({ day: p.day, opens: "08:00" }), // `p.day` is typed "mon" | "tue"
 * });
 * ```
 */
export function procedure<S extends z.ZodType>(
  p: Omit<Procedure<z.infer<S>>, "params"> & { params: S },
): Procedure {
  return p as unknown as Procedure;
}

/** Formats a zod error as "field: problem; field: problem". */
export function describeZodError(error: z.ZodError): string {
  return error.issues.slice(0, 5).map((i) => {
    const path = i.path.length ? i.path.join(".") : "params";
    return `${path}: ${i.message}`;
  }).join("; ");
}

/**
 * Procedures by kind and name, and the generic dispatcher.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { procedure, type ProcedureServices, Registry } from "./mod.ts";
 *
 * const clinicHours = procedure({
 *   name: "clinic_hours",
 *   kind: "query",
 *   auth: "none",
 *   whileLocked: true,
 *   scope: { kind: "none", why: "opening hours are not patient data" },
 *   params: z.object({ day: z.enum(["mon", "tue"]) }),
 *   handler: (p) => ({ day: p.day, opens: "08:00" }),
 * });
 * const registry = new Registry().add(clinicHours);
 * registry.add(clinicHours); // throws Error: duplicate procedure query:clinic_hours
 *
 * declare const services: ProcedureServices; // the LAN server's
 * const base = { hub: null, clientId: "phone-0001", now: Date.now(), services };
 * await registry.call("query", "clinic_hours", { day: "mon" }, null, base);
 * // '{"day":"mon","opens":"08:00"}'
 * await registry.call("query", "clinic_hours", { day: "sun" }, null, base);
 * // throws HubError `bad_params` (400): "Invalid params for clinic_hours: day: ..."
 * ```
 */
export class Registry {
  #byKey = new Map<string, Procedure>();

  /** Adds procedures; a duplicate name is a programming error. */
  add(...procs: Procedure[]): this {
    for (const p of procs) {
      const key = `${p.kind}:${p.name}`;
      if (this.#byKey.has(key)) throw new Error(`duplicate procedure ${key}`);
      this.#byKey.set(key, p);
    }
    return this;
  }

  /** All procedures (for documentation and tests). */
  list(): Procedure[] {
    return [...this.#byKey.values()];
  }

  /** Looks a procedure up. */
  get(kind: ProcedureKind, name: string): Procedure | undefined {
    return this.#byKey.get(`${kind}:${name}`);
  }

  /**
   * Runs a call end to end and returns the result's JSON. Every failure throws a
   * `HubError` with `reply: "envelope"` (the phone reads its message); an
   * unexpected one is logged and told as an internal error.
   */
  async call(
    kind: ProcedureKind,
    name: string,
    params: unknown,
    token: unknown,
    base: Omit<CallContext, "auth">,
  ): Promise<string> {
    const proc = this.get(kind, name);
    try {
      if (!proc) {
        throw new HubError("unknown_procedure", 404, `Unknown ${kind}: ${name}`);
      }
      if (!base.hub && !proc.whileLocked) {
        throw new HubError("locked", 423, LOCKED_MESSAGE);
      }
      let auth: AuthInfo | null = null;
      if (proc.auth === "token") {
        auth = await authenticate(
          base.hub!.store,
          base.hub!.jwtKey,
          token,
          base.now,
          base.clientId,
        );
        if (proc.permission) requireAt(base.hub!.store, auth, proc.permission);
      }
      const parsed = proc.params.safeParse(params);
      if (!parsed.success) {
        throw new HubError(
          "bad_params",
          400,
          `Invalid params for ${name}: ${describeZodError(parsed.error)}`,
        );
      }
      // Synchronously before the handler starts: no write can slip in between.
      if (auth) enforceScope(proc.scope, parsed.data, base.hub!.store, auth, proc.permission);
      const listedClinics = auth && proc.scope.kind === "listed"
        ? base.hub!.store.people.clinicsWithFlag(auth.userId, proc.scope.flag)
        : null;
      const result = await proc.handler(parsed.data, { ...base, auth, listedClinics });
      // Counts may have changed: tell the admin page (sync procedures publish their own).
      if (kind === "command" && auth && !proc.name.startsWith("sync_")) {
        base.hub?.publish?.("change", { device: base.clientId, procedure: proc.name });
      }
      const json = result instanceof RawJson
        ? result.json
        : result === undefined
        ? "{}"
        : JSON.stringify(shapeAnswer(result));
      return json;
    } catch (err) {
      if (err instanceof HubError) {
        throw new HubError(err.code, err.status, err.message, {
          cause: err,
          details: err.details,
          reply: "envelope",
        });
      }
      base.services.logger.log("error", "rpc.handler_failed", { kind, name, error: err });
      throw new HubError("internal", 500, `Internal error while running ${name}.`, {
        cause: err,
        reply: "envelope",
      });
    }
  }
}
