/** Procedures that need no token: ping, heartbeat, login. */
import { z } from "zod";
import { HubError } from "../../core/mod.ts";
import { login } from "../_auth.ts";
import { procedure } from "./registry.ts";
import { noClinic } from "./_scope.ts";

const empty = z.object({}).passthrough();

/** `ping` as a command and as a query: answers even while locked. */
export const pingCommand = procedure({
  name: "ping",
  scope: noClinic("no token, no data"),
  kind: "command",
  auth: "none",
  whileLocked: true,
  inReference: true,
  params: empty,
  handler: () => ({ pong: true }),
});

/** `ping` query. */
export const pingQuery = procedure({ ...pingCommand, kind: "query", params: empty });

/** `heartbeat` query. */
export const heartbeatQuery = procedure({
  name: "heartbeat",
  scope: noClinic("no token, no data"),
  kind: "query",
  auth: "none",
  whileLocked: true,
  inReference: true,
  params: empty,
  handler: () => ({ status: "ok" }),
});

/** `login {email, password}` → token and who the user is. Slowed per e-mail and client. */
export const loginCommand = procedure({
  name: "login",
  scope: noClinic("answers only the caller's own user"),
  kind: "command",
  auth: "none",
  inReference: true,
  params: z.object({
    email: z.string().min(1).max(320),
    password: z.string().min(1).max(1024),
  }),
  handler: async (p, ctx) => {
    const keys = [`email:${p.email.trim().toLowerCase()}`, `client:${ctx.clientId}`];
    await ctx.services.loginLimiter.begin(keys);
    let ok: boolean | null = null;
    try {
      const result = await login(
        ctx.hub!.store,
        ctx.hub!.jwtKey,
        p.email,
        p.password,
        ctx.now,
        ctx.clientId,
      );
      ok = true;
      return result;
    } catch (err) {
      // Only wrong credentials count against the account and device.
      if (err instanceof HubError && err.code === "invalid_credentials") ok = false;
      throw err;
    } finally {
      ctx.services.loginLimiter.end(keys, ok);
    }
  },
});
