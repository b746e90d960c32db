/**
 * Sessions: `client_id` → session key, held in memory only (the phone handshakes
 * again before every use). Security limits decided here:
 * - a session expires after `idleMs` without use (default 30 min);
 * - at most `maxSessions` live at once (256: a clinic has tens of devices); the
 *   least recently used is evicted;
 * - each nonce is accepted once per session; after `maxNoncesPerSession` (10,000; the phone handshakes before every use)
 *   requests the client must handshake again.
 */

/** One client's session. */
export interface Session {
  clientId: string;
  key: CryptoKey;
  createdAt: number;
  lastUsed: number;
  nonces: Set<string>;
}

/** Limits of the session table. */
export interface SessionLimits {
  idleMs: number;
  maxSessions: number;
  maxNoncesPerSession: number;
}

/** Defaults used by the CLI. */
export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  idleMs: 30 * 60_000,
  maxSessions: 256,
  maxNoncesPerSession: 10_000,
};

/** The bounded, expiring session table. */
export class SessionTable {
  #map = new Map<string, Session>();
  #limits: SessionLimits;
  #now: () => number;

  /** Creates an empty table. */
  constructor(limits: SessionLimits = DEFAULT_SESSION_LIMITS, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  /** Live sessions. */
  get size(): number {
    return this.#map.size;
  }

  /** Installs a session, replacing the client's previous one and evicting the oldest if full. */
  set(clientId: string, key: CryptoKey): void {
    const now = this.#now();
    this.#map.delete(clientId);
    this.#sweep(now);
    while (this.#map.size >= this.#limits.maxSessions) {
      const oldest = this.#map.keys().next().value as string;
      this.#map.delete(oldest);
    }
    this.#map.set(clientId, { clientId, key, createdAt: now, lastUsed: now, nonces: new Set() });
  }

  /** Returns the live session of a client (refreshing its place), or undefined. */
  get(clientId: string): Session | undefined {
    const s = this.#map.get(clientId);
    if (!s) return undefined;
    const now = this.#now();
    if (now - s.lastUsed > this.#limits.idleMs) {
      this.#map.delete(clientId);
      return undefined;
    }
    s.lastUsed = now;
    this.#map.delete(clientId);
    this.#map.set(clientId, s);
    return s;
  }

  /** True if the nonce was already used in this session. */
  seen(s: Session, nonceHex: string): boolean {
    return s.nonces.has(nonceHex);
  }

  /**
   * Marks a nonce used. Returns false when the session has used up its nonce
   * budget (the caller asks the client to handshake again).
   */
  use(s: Session, nonceHex: string): boolean {
    if (s.nonces.size >= this.#limits.maxNoncesPerSession) {
      this.#map.delete(s.clientId);
      return false;
    }
    s.nonces.add(nonceHex);
    return true;
  }

  /** Drops a client's session (revocation). */
  drop(clientId: string): void {
    this.#map.delete(clientId);
  }

  /** Drops every session. */
  clear(): void {
    this.#map.clear();
  }

  #sweep(now: number): void {
    for (const [id, s] of this.#map) {
      if (now - s.lastUsed > this.#limits.idleMs) this.#map.delete(id);
      else break; // insertion order is last-use order
    }
  }
}
