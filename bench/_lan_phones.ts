/**
 * Simulated phones for the LAN and backup benchmarks: each logs in as the bench
 * provider, then loops rounds of handshake → incremental pull → push of one
 * patient and one event, as the app's sync does, recording every request's
 * latency.
 */
import { PhoneClient } from "../tests/phone_client.ts";
import { BENCH_CLINIC, BENCH_PASSWORD, BENCH_USER } from "./_lan_seed.ts";
import { benchEvent, benchId, benchPatient } from "./_lan_rows.ts";

/** What a group of phones measured, filled in as their rounds go (shared by all of them). */
export interface PhoneTally {
  /** Latency of each handshake, pull and push (ms), kept even when a later step fails. */
  latency: { handshake: number[]; pull: number[]; push: number[] };
  /** Rounds that completed. */
  rounds: number;
  /** Rows (created + updated) the pulls brought. */
  pulledRows: number;
  /** Why rounds failed (the first 200 characters of each error). */
  errors: string[];
}

/** An empty tally. */
export function newTally(): PhoneTally {
  return { latency: { handshake: [], pull: [], push: [] }, rounds: 0, pulledRows: 0, errors: [] };
}

/** How a phone makes the rows it pushes. */
export interface PushedRows {
  /** The phone's own random source (row contents, think time). */
  random: () => number;
  /** Hands out the next row number (shared by the group, so ids never repeat). */
  serial: () => number;
  /** `benchId` kinds of the pushed patient and event (a benchmark's own, apart from the seed's). */
  patientKind: number;
  eventKind: number;
}

/** A phone that has shaken hands and logged in as the bench provider. */
export async function benchPhone(url: string, clientId?: string): Promise<PhoneClient> {
  const p = new PhoneClient(url, { clientId });
  await p.handshake();
  await p.login(BENCH_USER.email, BENCH_PASSWORD);
  return p;
}

/**
 * One round: a new handshake, a pull from `cursor`, and a push of one patient
 * and one event; returns the pull's `timestamp` (the next cursor). Throws if a
 * step fails, after recording the latencies of the steps taken.
 */
export async function phoneRound(
  p: PhoneClient,
  cursor: number,
  rows: PushedRows,
  tally: PhoneTally,
): Promise<number> {
  let a = performance.now();
  await p.handshake();
  tally.latency.handshake.push(performance.now() - a);
  a = performance.now();
  const pulled = await p.query<{
    changes: Record<string, { created: unknown[]; updated: unknown[] }>;
    timestamp: number;
  }>("sync_pull", { lastPulledAt: cursor });
  tally.latency.pull.push(performance.now() - a);
  if (!pulled.success) throw new Error(`pull: ${pulled.error ?? pulled.text}`);
  for (const s of Object.values(pulled.result!.changes)) {
    tally.pulledRows += s.created.length + s.updated.length;
  }
  const n = rows.serial();
  const patient = {
    ...benchPatient(rows.random, n, Date.now(), BENCH_CLINIC),
    id: benchId(rows.patientKind, n),
  };
  a = performance.now();
  const pushed = await p.command("sync_push", {
    lastPulledAt: pulled.result!.timestamp,
    changes: {
      patients: { created: [patient], updated: [], deleted: [] },
      events: {
        created: [{
          ...benchEvent(rows.random, n, patient.id, Date.now(), BENCH_USER.id),
          id: benchId(rows.eventKind, n),
        }],
        updated: [],
        deleted: [],
      },
    },
  });
  tally.latency.push.push(performance.now() - a);
  if (!pushed.success) throw new Error(`push: ${pushed.error ?? pushed.text}`);
  return pulled.result!.timestamp;
}

/**
 * Runs rounds from `cursor` until `deadline` (a `Date.now()` time), waiting
 * 0..`thinkMs` before each; a failed round is recorded and the cursor kept.
 */
export async function phoneLoop(
  p: PhoneClient,
  cursor: number,
  deadline: number,
  thinkMs: number,
  rows: PushedRows,
  tally: PhoneTally,
): Promise<void> {
  while (Date.now() < deadline) {
    if (thinkMs > 0) await new Promise((res) => setTimeout(res, rows.random() * thinkMs));
    if (Date.now() >= deadline) break;
    try {
      cursor = await phoneRound(p, cursor, rows, tally);
      tally.rounds++;
    } catch (err) {
      tally.errors.push(String((err as Error).message ?? err).slice(0, 200));
    }
  }
}
