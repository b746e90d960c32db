/**
 * Sessions: `client_id` → a few recent session keys, held in memory only (the
 * phone handshakes again before every use). The `client_id` travels in clear, so
 * anyone on the LAN can handshake under a phone's id; a new handshake therefore
 * adds a key instead of replacing the phone's, and a request is accepted under
 * whichever key authenticates it (the GCM tag decides, SPEC §2).
 *
 * Security limits decided here, so that no single host can push other hosts'
 * keys out:
 * - a key expires after `idleMs` without use (default 30 min);
 * - at most `keysPerClient` keys per client id (4), of which at most
 *   `keysPerClientSource` (2) from one source address; a source over that share
 *   loses its own oldest key; when the client is full, keys that never
 *   authenticated a request go first (the phone uses its key right after its
 *   handshake);
 * - at most `maxPerSource` keys created from one source address (64), its own
 *   least recently used key evicted beyond that;
 * - at most `maxSessions` keys in all (256): the least recently used key of the
 *   source holding the most is evicted, so a host can only ever evict its own;
 * - each nonce is accepted once per key; after `maxNoncesPerSession` (10,000)
 *   requests the client must handshake again.
 */

/** One session key of a client. */
export interface Session {
  clientId: string;
  key: CryptoKey;
  /** Source address that made the handshake. */
  source: string;
  /** The `device_name` sent at the handshake (recorded only once a call proves itself). */
  deviceName: string | null;
  createdAt: number;
  lastUsed: number;
  /** Requests this key authenticated. */
  uses: number;
  nonces: Set<string>;
  /** True once the device row was written for this key (after a logged-in call). */
  recorded: boolean;
}

/** Limits of the session table. */
export interface SessionLimits {
  idleMs: number;
  /** Keys in all. */
  maxSessions: number;
  maxNoncesPerSession: number;
  /** Recent keys kept per client id. */
  keysPerClient?: number;
  /** Of those, at most this many from one source address. */
  keysPerClientSource?: number;
  /** Keys created from one source address. */
  maxPerSource?: number;
}

/**
 * Defaults used by the CLI.
 *
 * @example
 * ```ts
 * import { DEFAULT_SESSION_LIMITS, LanServer } from "./mod.ts";
 *
 * DEFAULT_SESSION_LIMITS.idleMs; // 1800000 (a key expires after 30 min unused)
 * DEFAULT_SESSION_LIMITS.maxSessions; // 256
 * const server = new LanServer({
 *   host: "0.0.0.0",
 *   port: 4001,
 *   sessions: { ...DEFAULT_SESSION_LIMITS, idleMs: 10 * 60_000 },
 * }, () => null);
 * ```
 */
export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  idleMs: 30 * 60_000,
  maxSessions: 256,
  maxNoncesPerSession: 10_000,
  keysPerClient: 4,
  keysPerClientSource: 2,
  maxPerSource: 64,
};

/** The bounded, expiring session table. */
export class SessionTable {
  /** Keys per client, oldest first. */
  #byClient = new Map<string, Session[]>();
  /** Keys per source address. */
  #bySource = new Map<string, Set<Session>>();
  /** Every key, least recently used first. */
  #all = new Set<Session>();
  #limits: Required<SessionLimits>;
  #now: () => number;

  /** Creates an empty table. */
  constructor(limits: SessionLimits = DEFAULT_SESSION_LIMITS, now: () => number = Date.now) {
    this.#limits = {
      keysPerClient: 4,
      keysPerClientSource: 2,
      maxPerSource: 64,
      ...limits,
    };
    this.#now = now;
  }

  /** Clients with at least one live key. */
  get size(): number {
    return this.#byClient.size;
  }

  /** Keys held in all. */
  get keyCount(): number {
    return this.#all.size;
  }

  /** Adds a key for `clientId`, made by a handshake from `source`; returns it. */
  set(clientId: string, key: CryptoKey, source = "unknown", deviceName: string | null = null) {
    const now = this.#now();
    this.#sweep(now);
    const l = this.#limits;
    const mine = () => (this.#byClient.get(clientId) ?? []).filter((s) => s.source === source);
    while (mine().length >= l.keysPerClientSource) this.#remove(this.#lru(mine()));
    let list = this.#byClient.get(clientId) ?? [];
    while (list.length >= l.keysPerClient) {
      const unproven = list.filter((s) => s.uses === 0);
      this.#remove(this.#lru(unproven.length > 0 ? unproven : list));
      list = this.#byClient.get(clientId) ?? [];
    }
    while ((this.#bySource.get(source)?.size ?? 0) >= l.maxPerSource) {
      this.#remove(this.#lru([...this.#bySource.get(source)!]));
    }
    while (this.#all.size >= l.maxSessions) {
      let biggest: Set<Session> | undefined;
      for (const set of this.#bySource.values()) {
        if (!biggest || set.size > biggest.size) biggest = set;
      }
      this.#remove(this.#lru([...biggest!]));
    }
    const s: Session = {
      clientId,
      key,
      source,
      deviceName,
      createdAt: now,
      lastUsed: now,
      uses: 0,
      nonces: new Set(),
      recorded: false,
    };
    this.#byClient.set(clientId, [...(this.#byClient.get(clientId) ?? []), s]);
    let set = this.#bySource.get(source);
    if (!set) this.#bySource.set(source, set = new Set());
    set.add(s);
    this.#all.add(s);
    return s;
  }

  /** The client's live keys, most recently used first (expired ones are dropped). */
  candidates(clientId: string): Session[] {
    const list = this.#byClient.get(clientId);
    if (!list) return [];
    const now = this.#now();
    for (const s of list) {
      if (now - s.lastUsed > this.#limits.idleMs) this.#remove(s);
    }
    return [...(this.#byClient.get(clientId) ?? [])].sort((a, b) => b.lastUsed - a.lastUsed);
  }

  /** The client's most recently used live key, or undefined. */
  get(clientId: string): Session | undefined {
    return this.candidates(clientId)[0];
  }

  /** True if the nonce was already used under this key. */
  seen(s: Session, nonceHex: string): boolean {
    return s.nonces.has(nonceHex);
  }

  /**
   * Marks a nonce used by an authentic request (refreshing the key's place).
   * Returns false when the key has used up its nonce budget (the caller asks
   * the client to handshake again).
   */
  use(s: Session, nonceHex: string): boolean {
    if (s.nonces.size >= this.#limits.maxNoncesPerSession) {
      this.#remove(s);
      return false;
    }
    s.nonces.add(nonceHex);
    s.uses++;
    s.lastUsed = this.#now();
    if (this.#all.delete(s)) this.#all.add(s);
    return true;
  }

  /** Drops every key of a client (revocation). */
  drop(clientId: string): void {
    for (const s of this.#byClient.get(clientId) ?? []) this.#remove(s);
  }

  /** Drops every session. */
  clear(): void {
    this.#byClient.clear();
    this.#bySource.clear();
    this.#all.clear();
  }

  /** The least recently used of `list` (non-empty): #all is in last-use order. */
  #lru(list: Session[]): Session {
    const among = new Set(list);
    for (const s of this.#all) if (among.has(s)) return s;
    return list[0];
  }

  #remove(s: Session): void {
    if (!this.#all.delete(s)) return;
    const list = this.#byClient.get(s.clientId)?.filter((x) => x !== s) ?? [];
    if (list.length > 0) this.#byClient.set(s.clientId, list);
    else this.#byClient.delete(s.clientId);
    const set = this.#bySource.get(s.source);
    set?.delete(s);
    if (set && set.size === 0) this.#bySource.delete(s.source);
  }

  #sweep(now: number): void {
    for (const s of this.#all) {
      if (now - s.lastUsed > this.#limits.idleMs) this.#remove(s);
      else break; // #all is in last-use order
    }
  }
}
