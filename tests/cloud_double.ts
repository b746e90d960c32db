/**
 * A cloud double: an in-memory model of the Hikma Health cloud server's hub API,
 * written from SPEC §7 (what was observed against the real server), not from the
 * server's code. Tests and benches run the relay against it over real HTTP on
 * 127.0.0.1 and turn knobs to make it fail the ways the real one does.
 *
 * Model: each table is a map by id of typed values (timestamps as epoch ms, dates
 * as `YYYY-MM-DD`, booleans, JSON values) plus the server's bookkeeping
 * (`server_created_at`, `last_modified`, deletion time). Pulls serialise like the
 * real server: ISO-8601 dates, date-only columns as midnight timestamps, booleans
 * as true/false, JSON columns as objects. The double's clock is strictly
 * increasing so a write never shares a millisecond with a pull's `timestamp`
 * (the real server has that race itself; it is not what these tests are about).
 *
 * ```ts
 * const cloud = await CloudDouble.start({ clinicIds: ["c1"] });
 * cloud.insert("patients", { id: crypto.randomUUID(), primary_clinic_id: "c1", ... });
 * cloud.failNext(2, { kind: "status", status: 500 }, "pull");
 * // ... register a hub at cloud.url with cloud.apiKey ...
 * await cloud.close();
 * ```
 */

/** How the double stores and serialises a column. */
type ColumnKind = "plain" | "bool" | "timestamp" | "date" | "json";

/** Every table key a pull reply carries (SPEC §7: always present, even empty). */
export const CLOUD_TABLES: readonly string[] = [
  "clinics",
  "users",
  "user_clinic_permissions",
  "app_config",
  "event_forms",
  "registration_forms",
  "patients",
  "patient_additional_attributes",
  "visits",
  "events",
  "appointments",
  "prescriptions",
  "prescription_items",
  "patient_vitals",
  "patient_problems",
  "patient_allergies",
  "patient_observations",
  "clinic_departments",
  "drug_catalogue",
  "clinic_inventory",
  "dispensing_records",
];

/** Keys in the pull reply that are not tables a hub keeps. */
export const NON_TABLE_KEYS: readonly string[] = ["device_pin_codes", "undefined"];

/** Tables without server bookkeeping: selected by created_at/updated_at, no deletions listed. */
const PLAIN_TABLES = new Set(["user_clinic_permissions", "app_config"]);
/** Tables the cloud does not accept from a hub (skipped with 200). */
const NOT_ACCEPTED = new Set(["users", "clinics", "registration_forms", "event_forms"]);

const JSON_COLUMNS = new Set([
  "metadata",
  "additional_data",
  "form_data",
  "form_fields",
  "fields",
  "items",
  "departments",
  "attributes",
  "clinic_ids",
  "translations",
]);
const TIMESTAMP_COLUMNS = new Set([
  "timestamp",
  "last_modified",
  "expiration_date",
  "onset_date",
  "end_date",
  "date_value",
  "value_datetime",
  "batch_expiry_date",
  "expiry_date",
  "image_timestamp",
]);
const BOOL_COLUMNS = new Set(["boolean_value", "value_boolean", "requires_refrigeration"]);

function kindOf(column: string): ColumnKind {
  if (column === "date_of_birth") return "date";
  if (JSON_COLUMNS.has(column)) return "json";
  if (TIMESTAMP_COLUMNS.has(column) || column.endsWith("_at")) return "timestamp";
  if (BOOL_COLUMNS.has(column) || /^(is|can)_/.test(column)) return "bool";
  return "plain";
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for an id the cloud keeps as is (anything else is stored under a new id). */
export function isUuid(id: unknown): boolean {
  return typeof id === "string" && UUID.test(id);
}

class BadValue extends Error {}

function toMs(v: unknown): number | null {
  if (v === null || v === undefined || v === "") return null;
  if (typeof v === "number" && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === "string") {
    if (/^-?\d+$/.test(v.trim())) return Number(v);
    const ms = Date.parse(v);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new BadValue(`not a timestamp: ${String(v).slice(0, 40)}`);
}

/** Converts one incoming value (a hub push or a test insert) to the stored form. */
function decodeValue(column: string, v: unknown): unknown {
  if (v === undefined || v === null) return null;
  switch (kindOf(column)) {
    case "timestamp":
      return toMs(v);
    case "date": {
      if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}/.test(v)) return v.slice(0, 10);
      const ms = toMs(v);
      return ms === null ? null : new Date(ms).toISOString().slice(0, 10);
    }
    case "bool": {
      if (v === true || v === 1 || v === "1" || v === "t" || v === "true") return true;
      if (v === false || v === 0 || v === "0" || v === "f" || v === "false") return false;
      throw new BadValue(`not a boolean: ${String(v).slice(0, 40)}`);
    }
    case "json":
      if (typeof v === "string") {
        try {
          return JSON.parse(v);
        } catch {
          throw new BadValue("invalid JSON text");
        }
      }
      return structuredClone(v);
    default:
      return v;
  }
}

/** Serialises one stored value the way the real server's JSON does. */
function encodeValue(column: string, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (kindOf(column)) {
    case "timestamp":
      return new Date(v as number).toISOString();
    case "date":
      return `${v}T00:00:00.000Z`;
    default:
      return v;
  }
}

/** A stored row as the real server's JSON has it. */
function encodeRow(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) out[k] = encodeValue(k, v);
  return out;
}

/** A row as the double keeps it. */
interface Stored {
  data: Record<string, unknown>;
  /** server_created_at (or created_at for the plain tables). */
  createdAt: number;
  /** last_modified (or updated_at for the plain tables). */
  modifiedAt: number;
  deletedAt: number | null;
}

/** A failure the double injects instead of (or in the middle of) a normal answer. */
export type Fault =
  /** Answer this status (401 → Unauthorized, 429 → retry-after, others a generic body). */
  | { kind: "status"; status: number; retryAfterSeconds?: number; afterRows?: number }
  /** Never answer (the client's connect timeout must fire). */
  | { kind: "hang" }
  /** Pull only: send the headers and the first `afterRows` rows, then nothing more. */
  | { kind: "stall"; afterRows: number }
  /** Pull only: send the first `afterRows` rows, then break the connection. */
  | { kind: "cut"; afterRows: number };

/** Which requests a fault applies to. */
export type RequestKind = "verify" | "pull" | "push" | "other";

/** One request the double received. */
export interface RequestRecord {
  at: number;
  kind: RequestKind;
  method: string;
  path: string;
  status: number;
  /** Rows in a push body (created + updated + deleted entries). */
  rows?: number;
}

/** Progress the tests can react to (the crash test kills the hub on these). */
export type DoubleEvent =
  | { type: "pull-progress"; rowsSent: number; rowsTotal: number }
  | { type: "pull-done"; rowsTotal: number }
  | { type: "push-received"; rows: number }
  | { type: "push-applied"; rows: number };

/** One row entry the hub pushed. */
export interface PushedEntry {
  table: string;
  kind: "created" | "updated" | "deleted";
  id: string;
  applied: boolean;
}

/** Options of {@link CloudDouble.start}. */
export interface CloudDoubleOptions {
  /** The hub's API key; random `hh_…` when absent. */
  apiKey?: string;
  hubId?: string;
  hubName?: string;
  /** The clinics the hub is authorised for. */
  clinicIds?: string[];
  /** Requests per rolling minute before 429 (SPEC: 60). */
  rateLimitPerMinute?: number;
  /** Rows per chunk of a streamed pull body. */
  rowsPerChunk?: number;
  port?: number;
  /**
   * Columns the cloud's models lack, per table: a pushed value is dropped and
   * stored as null (measured on the real cloud: `patient_vitals.event_id`).
   */
  unknownColumns?: Record<string, string[]>;
}

/** A random hub API key (`hh_` + 64 hex). */
export function randomApiKey(): string {
  return "hh_" + crypto.getRandomValues(new Uint8Array(32)).toHex();
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** The running double. */
export class CloudDouble {
  apiKey: string;
  readonly hubId: string;
  readonly hubName: string;
  clinicIds: string[];
  rateLimitPerMinute: number;
  /** Every request, in arrival order. */
  readonly requests: RequestRecord[] = [];
  /** Every row entry the hub pushed, in order. */
  readonly pushed: PushedEntry[] = [];
  /** Called on pull/push progress. */
  onEvent: ((e: DoubleEvent) => void) | null = null;
  /** Requests being answered right now (a pull until its body ends), and the most at once. */
  inFlight = 0;
  maxInFlight = 0;
  /** Milliseconds every request waits before it is answered (a slow uplink). */
  latencyMs = 0;

  #tables = new Map<string, Map<string, Stored>>();
  #faults: { fault: Fault; on: RequestKind | "any"; left: number }[] = [];
  #window: number[] = [];
  #last = 0;
  #rowsPerChunk: number;
  #server: Deno.HttpServer | null = null;
  #port: number;
  #releases = new Set<() => void>();
  #device: Record<string, unknown>;

  #unknownColumns: Record<string, string[]>;

  private constructor(o: CloudDoubleOptions) {
    this.apiKey = o.apiKey ?? randomApiKey();
    this.hubId = o.hubId ?? crypto.randomUUID();
    this.hubName = o.hubName ?? "Clinic hub";
    this.clinicIds = o.clinicIds ?? [];
    this.rateLimitPerMinute = o.rateLimitPerMinute ?? 60;
    this.#rowsPerChunk = o.rowsPerChunk ?? 200;
    this.#port = o.port ?? 0;
    this.#unknownColumns = o.unknownColumns ?? {};
    for (const t of CLOUD_TABLES) this.#tables.set(t, new Map());
    const at = this.tick();
    this.#device = {
      id: this.hubId,
      name: this.hubName,
      device_type: "sync_hub",
      status: "active",
      created_at: new Date(at).toISOString(),
      updated_at: new Date(at).toISOString(),
    };
  }

  /** Starts a double on 127.0.0.1 (any free port unless given). */
  static async start(options: CloudDoubleOptions = {}): Promise<CloudDouble> {
    const d = new CloudDouble(options);
    await d.up();
    return d;
  }

  /** `http://127.0.0.1:PORT`. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** The bound port (kept across {@link down}/{@link up}). */
  get port(): number {
    return this.#port;
  }

  /** A strictly increasing clock (epoch ms). */
  tick(): number {
    this.#last = Math.max(Date.now(), this.#last + 1);
    return this.#last;
  }

  /** Starts listening again on the same port (after {@link down}). */
  up(): Promise<void> {
    if (this.#server) return Promise.resolve();
    return new Promise((resolve) => {
      this.#server = Deno.serve({
        hostname: "127.0.0.1",
        port: this.#port,
        onListen: (addr) => {
          this.#port = addr.port;
          resolve();
        },
        onError: () => json(500, { error: "Internal Server Error" }),
      }, (req) => this.#handle(req));
    });
  }

  /** Closes the listener: connections are refused until {@link up}. Hung answers end. */
  async down(): Promise<void> {
    const s = this.#server;
    this.#server = null;
    for (const r of [...this.#releases]) r();
    await s?.shutdown();
  }

  /** Stops the double for good. */
  async close(): Promise<void> {
    this.#faults = [];
    await this.down();
  }

  /** `await using cloud = await CloudDouble.start()` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Queues a fault for the next `count` requests of `on` (default: any). */
  failNext(count: number, fault: Fault, on: RequestKind | "any" = "any"): void {
    this.#faults.push({ fault, on, left: count });
  }

  /** Drops queued faults. */
  clearFaults(): void {
    this.#faults = [];
  }

  /** Faults not yet used. */
  get pendingFaults(): number {
    return this.#faults.reduce((n, f) => n + f.left, 0);
  }

  /** Requests of one kind. */
  count(kind: RequestKind): number {
    return this.requests.filter((r) => r.kind === kind).length;
  }

  /** Row entries the hub pushed (all tables). */
  get pushedRows(): number {
    return this.pushed.length;
  }

  // ---- data helpers -----------------------------------------------------

  #table(name: string): Map<string, Stored> {
    const t = this.#tables.get(name);
    if (!t) throw new Error(`the double has no table ${name}`);
    return t;
  }

  /** Inserts (or replaces) a row as if created in the cloud now. Returns its id. */
  insert(table: string, row: Record<string, unknown>, at = this.tick()): string {
    const data = this.#decode(row);
    const id = String(data.id);
    this.#table(table).set(id, this.#newStored(table, data, at));
    return id;
  }

  /** Inserts many rows sharing one creation time (a bulk import). */
  insertMany(table: string, rows: Iterable<Record<string, unknown>>): number {
    const at = this.tick();
    let n = 0;
    for (const r of rows) {
      this.insert(table, r, at);
      n++;
    }
    return n;
  }

  /** Changes a row in the cloud now (`updated_at` moves unless the patch sets it). */
  update(table: string, id: string, patch: Record<string, unknown>): void {
    const s = this.#table(table).get(id);
    if (!s) throw new Error(`no ${table} row ${id} in the double`);
    const at = this.tick();
    Object.assign(s.data, this.#decode(patch));
    if (!("updated_at" in patch)) s.data.updated_at = at;
    this.#touch(table, s, at);
  }

  /** Deletes a row in the cloud now (soft: is_deleted, deleted_at). */
  remove(table: string, id: string): void {
    const s = this.#table(table).get(id);
    if (!s) throw new Error(`no ${table} row ${id} in the double`);
    this.#softDelete(table, s, this.tick());
  }

  /** A stored row (typed values: epoch ms, booleans, JSON values), or undefined. */
  get(table: string, id: string): Record<string, unknown> | undefined {
    const s = this.#table(table).get(id);
    return s ? structuredClone(s.data) : undefined;
  }

  /** Stored rows of a table; deleted ones only with `includeDeleted`. */
  rows(table: string, options: { includeDeleted?: boolean } = {}): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const s of this.#table(table).values()) {
      if (s.deletedAt !== null && !options.includeDeleted) continue;
      out.push(structuredClone(s.data));
    }
    return out;
  }

  /** Number of stored rows (deleted included) of a table. */
  size(table: string): number {
    return this.#table(table).size;
  }

  #decode(row: Record<string, unknown>): Record<string, unknown> {
    const data: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) data[k] = decodeValue(k, v);
    return data;
  }

  #newStored(table: string, data: Record<string, unknown>, at: number): Stored {
    if (PLAIN_TABLES.has(table)) {
      data.created_at ??= at;
      data.updated_at ??= at;
      return {
        data,
        createdAt: data.created_at as number,
        modifiedAt: data.updated_at as number,
        deletedAt: null,
      };
    }
    data.created_at ??= at;
    data.updated_at ??= at;
    data.server_created_at = at;
    data.last_modified = at;
    data.is_deleted ??= false;
    data.deleted_at ??= null;
    return {
      data,
      createdAt: at,
      modifiedAt: at,
      deletedAt: data.is_deleted === true ? at : null,
    };
  }

  #touch(table: string, s: Stored, at: number): void {
    if (PLAIN_TABLES.has(table)) {
      s.modifiedAt = (s.data.updated_at as number | null) ?? at;
      return;
    }
    s.modifiedAt = at;
    s.data.last_modified = at;
    if (s.data.is_deleted === true && s.deletedAt === null) s.deletedAt = at;
  }

  #softDelete(table: string, s: Stored, at: number): void {
    if (PLAIN_TABLES.has(table)) {
      this.#table(table).delete(String(s.data.id));
      return;
    }
    if (s.deletedAt !== null) return;
    s.data.is_deleted = true;
    s.data.deleted_at = at;
    s.deletedAt = at;
    s.modifiedAt = at;
    s.data.last_modified = at;
  }

  /** The clinic a row belongs to (null: shared by every clinic). */
  #clinicOf(table: string, data: Record<string, unknown>): string | null {
    if (table === "clinics") return String(data.id);
    if (table === "patients") return (data.primary_clinic_id as string | null) ?? null;
    if (typeof data.clinic_id === "string") return data.clinic_id;
    if (typeof data.patient_id === "string") {
      const p = this.#tables.get("patients")!.get(data.patient_id);
      return (p?.data.primary_clinic_id as string | null) ?? null;
    }
    return null;
  }

  #inScope(table: string, data: Record<string, unknown>): boolean {
    const c = this.#clinicOf(table, data);
    return c === null || this.clinicIds.includes(c);
  }

  // ---- HTTP -------------------------------------------------------------

  #takeFault(kind: RequestKind): Fault | null {
    const i = this.#faults.findIndex((f) => f.left > 0 && (f.on === "any" || f.on === kind));
    if (i < 0) return null;
    const f = this.#faults[i];
    f.left--;
    if (f.left === 0) this.#faults.splice(i, 1);
    return f.fault;
  }

  #rateLimited(now: number): number | null {
    while (this.#window.length > 0 && this.#window[0] <= now - 60_000) this.#window.shift();
    this.#window.push(now);
    if (this.#window.length <= this.rateLimitPerMinute) return null;
    return Math.max(1, Math.ceil((this.#window[0] + 60_000 - now) / 1000));
  }

  async #handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const kind: RequestKind = url.pathname === "/api/hub/verify-key" && req.method === "POST"
      ? "verify"
      : url.pathname === "/api/v2/sync"
      ? (req.method === "GET" ? "pull" : req.method === "POST" ? "push" : "other")
      : "other";
    const rec: RequestRecord = {
      at: Date.now(),
      kind,
      method: req.method,
      path: url.pathname + url.search,
      status: 0,
    };
    this.requests.push(rec);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let streaming = false;
    try {
      if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
      const res = await this.#answer(req, url, kind, rec);
      rec.status = res.status;
      // A pull stays in flight until its body has ended (its stream counts down).
      streaming = kind === "pull" && res.status === 200 && res.body !== null;
      return res;
    } finally {
      if (!streaming) this.inFlight--;
    }
  }

  async #answer(req: Request, url: URL, kind: RequestKind, rec: RequestRecord): Promise<Response> {
    const wait = this.#rateLimited(rec.at);
    if (wait !== null) {
      return json(429, { error: "Too many requests" }, { "retry-after": String(wait) });
    }
    const fault = this.#takeFault(kind);
    if (fault?.kind === "hang") {
      await new Promise<void>((resolve) => {
        const release = () => {
          this.#releases.delete(release);
          resolve();
        };
        this.#releases.add(release);
      });
      return json(503, { error: "Service Unavailable" });
    }
    if (fault?.kind === "status" && fault.afterRows === undefined) {
      return this.#faultStatus(fault);
    }
    if (kind === "verify") return await this.#verify(req);
    if (kind === "other") return json(404, { error: "Not found" });
    const auth = req.headers.get("authorization");
    if (auth !== `Bearer ${this.apiKey}` || url.searchParams.get("peerType") !== "sync_hub") {
      return json(401, { error: "Unauthorized" });
    }
    if (kind === "pull") {
      const w = Number(url.searchParams.get("lastPulledAt") ?? "0");
      if (!Number.isFinite(w)) return json(500, { error: "Internal Server Error" });
      return this.#pull(w, fault);
    }
    return await this.#push(req, rec, fault?.kind === "status" ? fault : null);
  }

  #faultStatus(f: Extract<Fault, { kind: "status" }>): Response {
    if (f.status === 401) return json(401, { error: "Unauthorized" });
    if (f.status === 429) {
      return json(429, { error: "Too many requests" }, {
        "retry-after": String(f.retryAfterSeconds ?? 1),
      });
    }
    return json(f.status, { error: "Internal Server Error" });
  }

  async #verify(req: Request): Promise<Response> {
    let body: Record<string, unknown>;
    try {
      body = await req.json();
    } catch {
      return json(400, { error: "Invalid request body" });
    }
    if (!body || typeof body.api_key !== "string" || body.api_key === "") {
      return json(400, { error: "api_key is required" });
    }
    if (body.api_key !== this.apiKey) return json(401, { error: "Invalid API key" });
    return json(200, { ...this.#device, clinic_ids: [...this.clinicIds] });
  }

  // ---- pull -------------------------------------------------------------

  #pull(w: number, fault: Fault | null): Response {
    // The reply's timestamp is taken before the queries (SPEC §7, §10).
    const timestamp = this.tick();
    const sections: { key: string; created: Stored[]; updated: Stored[]; deleted: string[] }[] = [];
    let total = 0;
    for (const [name, table] of this.#tables) {
      const plain = PLAIN_TABLES.has(name);
      const sec = {
        key: name,
        created: [] as Stored[],
        updated: [] as Stored[],
        deleted: [] as string[],
      };
      for (const s of table.values()) {
        if (!this.#inScope(name, s.data)) continue;
        if (plain) {
          if (s.createdAt >= w) sec.created.push(s);
          else if (s.modifiedAt > w) sec.updated.push(s);
          continue;
        }
        if (s.createdAt >= w && s.deletedAt === null) sec.created.push(s);
        else if (s.modifiedAt > w && s.createdAt < w) sec.updated.push(s);
        if (w > 0 && s.deletedAt !== null && s.deletedAt > w) sec.deleted.push(String(s.data.id));
      }
      total += sec.created.length + sec.updated.length + sec.deleted.length;
      sections.push(sec);
    }
    const extras = NON_TABLE_KEYS.map((key) => {
      const device = key === "undefined" && w === 0
        ? [{
          ...this.#device,
          key_hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        }]
        : [];
      const pins = key === "device_pin_codes" && w === 0
        ? [{ id: crypto.randomUUID(), device_id: this.hubId, pin_hash: "$2b$04$abc" }]
        : [];
      return { key, rows: [...device, ...pins] };
    });
    total += extras.reduce((n, e) => n + e.rows.length, 0);

    // Serialise lazily, a chunk of rows at a time, so a large reply streams.
    function* pieces(): Generator<{ text: string; rows: number }> {
      yield { text: `{"success":true,"changes":{`, rows: 0 };
      let first = true;
      for (const sec of sections) {
        yield { text: `${first ? "" : ","}${JSON.stringify(sec.key)}:{"created":[`, rows: 0 };
        first = false;
        for (const part of ["created", "updated"] as const) {
          if (part === "updated") yield { text: `],"updated":[`, rows: 0 };
          const list = sec[part];
          for (let i = 0; i < list.length; i++) {
            yield {
              text: (i > 0 ? "," : "") + JSON.stringify(encodeRow(list[i].data)),
              rows: 1,
            };
          }
        }
        yield { text: `],"deleted":${JSON.stringify(sec.deleted)}}`, rows: sec.deleted.length };
      }
      for (const e of extras) {
        yield {
          text: `,${JSON.stringify(e.key)}:{"created":${
            JSON.stringify(e.rows)
          },"updated":[],"deleted":[]}`,
          rows: e.rows.length,
        };
      }
      yield { text: `},"timestamp":${timestamp}}`, rows: 0 };
    }

    const it = pieces();
    const enc = new TextEncoder();
    const perChunk = this.#rowsPerChunk;
    let sent = 0;
    let stopped = false;
    let ended = false;
    const end = () => {
      if (!ended) this.inFlight--;
      ended = true;
    };
    const body = new ReadableStream<Uint8Array>({
      cancel: end,
      pull: async (controller) => {
        if (stopped) return;
        let text = "";
        let rows = 0;
        for (;;) {
          if (
            fault && (fault.kind === "cut" || fault.kind === "stall") &&
            sent + rows >= fault.afterRows
          ) {
            if (text) controller.enqueue(enc.encode(text));
            stopped = true;
            if (fault.kind === "stall") {
              await new Promise<void>((resolve) => {
                const release = () => {
                  this.#releases.delete(release);
                  resolve();
                };
                this.#releases.add(release);
              });
            } else {
              // Let the bytes already queued leave before the connection breaks.
              await new Promise((r) => setTimeout(r, 20));
            }
            controller.error(new Error("connection cut by the cloud double"));
            end();
            return;
          }
          const next = it.next();
          if (next.done) {
            if (text) controller.enqueue(enc.encode(text));
            controller.close();
            end();
            this.onEvent?.({ type: "pull-done", rowsTotal: total });
            return;
          }
          text += next.value.text;
          rows += next.value.rows;
          if (rows >= perChunk || text.length > 256 * 1024) break;
        }
        sent += rows;
        controller.enqueue(enc.encode(text));
        this.onEvent?.({ type: "pull-progress", rowsSent: sent, rowsTotal: total });
      },
    }, { highWaterMark: 0 });
    return new Response(body, { headers: { "content-type": "application/json" } });
  }

  // ---- push -------------------------------------------------------------

  async #push(
    req: Request,
    rec: RequestRecord,
    failAfter: Extract<Fault, { kind: "status" }> | null,
  ): Promise<Response> {
    let body: unknown;
    try {
      body = await req.json();
    } catch {
      return json(500, { error: "Internal Server Error" });
    }
    if (!body || typeof body !== "object" || Array.isArray(body)) {
      return json(500, { error: "Internal Server Error" });
    }
    const changes = body as Record<string, Record<string, unknown>>;
    let rows = 0;
    for (const set of Object.values(changes)) {
      if (!set || typeof set !== "object") continue;
      for (const k of ["created", "updated", "deleted"]) {
        if (Array.isArray(set[k])) rows += (set[k] as unknown[]).length;
      }
    }
    rec.rows = rows;
    this.onEvent?.({ type: "push-received", rows });
    // One time for the whole request, like a database's now() in a transaction.
    const now = this.tick();
    let applied = 0;
    try {
      // Not atomic (SPEC §7): rows written before a failure stay written.
      for (const [name, set] of Object.entries(changes)) {
        const table = this.#tables.get(name);
        if (!table || NOT_ACCEPTED.has(name) || !set || typeof set !== "object") continue;
        for (const k of ["created", "updated", "deleted"] as const) {
          const list = set[k];
          if (!Array.isArray(list)) continue;
          for (const entry of list) {
            if (failAfter && applied >= failAfter.afterRows!) return this.#faultStatus(failAfter);
            applied++;
            if (k === "deleted") {
              if (typeof entry !== "string") throw new BadValue("deleted entries must be ids");
              const s = table.get(entry);
              const ok = s !== undefined && s.deletedAt === null && this.#inScope(name, s.data);
              if (ok) this.#softDelete(name, s!, now);
              this.pushed.push({ table: name, kind: k, id: entry, applied: ok });
              continue;
            }
            const id = this.#upsert(name, table, entry, now);
            this.pushed.push({
              table: name,
              kind: k,
              id: id ?? String((entry as Record<string, unknown>)?.id),
              applied: id !== null,
            });
          }
        }
      }
    } catch {
      return json(500, { error: "Internal Server Error" });
    }
    this.onEvent?.({ type: "push-applied", rows });
    return json(200, { success: true });
  }

  /** Upserts one pushed row; returns the id written, or null when skipped or older. */
  #upsert(name: string, table: Map<string, Stored>, raw: unknown, now: number): string | null {
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new BadValue("row");
    const data = this.#decode(raw as Record<string, unknown>);
    if (!isUuid(data.id)) data.id = crypto.randomUUID();
    const id = data.id as string;
    // The server keeps its own bookkeeping, whatever the hub sent.
    delete data.server_created_at;
    delete data.last_modified;
    for (const c of this.#unknownColumns[name] ?? []) if (c in data) data[c] = null;
    if (!this.#inScope(name, data)) return null;
    const existing = table.get(id);
    if (!existing) {
      table.set(id, this.#newStored(name, data, now));
      return id;
    }
    const incoming = data.updated_at as number | null | undefined;
    const stored = existing.data.updated_at as number | null | undefined;
    if (
      stored !== null && stored !== undefined &&
      !(typeof incoming === "number" && incoming > stored)
    ) {
      return null;
    }
    Object.assign(existing.data, data);
    this.#touch(name, existing, now);
    return id;
  }
}
