/** The loopback admin API and the operator's page. */
export { type AdminServer, type AdminServerOptions, startAdminServer } from "./admin.ts";
export { AdminGuard, CSRF_HEADER, MAX_BROWSER_SESSIONS, SESSION_COOKIE } from "./_guard.ts";
export { pairingPayload, pairingSvg, pairingTerminal } from "./_pairing.ts";
