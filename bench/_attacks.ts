/**
 * The attackers and the measured phone of `deno task proof` (bench/proof.ts):
 * each attacker is a "host" of its own, a loopback source address picked with
 * node:net's `localAddress`, so the hub's per-address limits see them as the
 * separate LAN hosts they stand for.
 */
import net from "node:net";
import { b64u, PhoneClient } from "../tests/phone_client.ts";
import { BENCH_PASSWORD, BENCH_USER } from "./_lan_seed.ts";

/** Idle connections the first attacker tries to hold. */
export const IDLE_CONNECTIONS = 2_000;
/**
 * One round every 600 ms: a phone syncs on events, and its handshakes stay
 * under the per-address limit (2 a second), which applies to it as to anyone.
 */
export const ROUND_MS = 600;

/** Opens a TCP connection from a given loopback address. */
export function connectFrom(local: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port, localAddress: local });
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/** One raw HTTP/1.1 request from `local`; resolves with the status and body. */
export async function rawHttp(
  local: string,
  port: number,
  head: string,
  body = "",
): Promise<{ status: number; body: string }> {
  const s = await connectFrom(local, port);
  return await new Promise((resolve) => {
    let text = "";
    s.on("data", (d) => text += d.toString());
    const done = () => {
      const status = Number(text.split(" ")[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf("\r\n\r\n") + 4) });
    };
    s.on("close", done);
    s.on("error", () => {});
    s.write(
      head + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n` + body,
    );
  });
}

/** A handshake under `clientId` from `local`. */
export async function handshakeFrom(
  local: string,
  port: number,
  clientId: string,
): Promise<number> {
  const pair = await crypto.subtle.generateKey({ name: "X25519" }, true, [
    "deriveBits",
  ]) as CryptoKeyPair;
  const pub = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const body = JSON.stringify({ client_id: clientId, client_public_key: b64u(pub) });
  const r = await rawHttp(
    local,
    port,
    "POST /rpc/handshake HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n",
    body,
  );
  return r.status;
}

/** The p-th percentile of `xs`. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** The phone's figures for one phase. */
export interface PhaseResult {
  rounds: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
  firstErrors: string[];
}

/** The phone's loop: handshake → pull → push, for `seconds`. */
export async function phoneLoop(
  url: string,
  clientId: string,
  seconds: number,
): Promise<PhaseResult> {
  const phone = new PhoneClient(url, { clientId, deviceName: "Proof phone" });
  await phone.handshake();
  await phone.login(BENCH_USER.email, BENCH_PASSWORD);
  let cursor = 0;
  // The first sync is not measured (it is the LAN bench's subject).
  for (let i = 0; i < 100; i++) {
    const page = await phone.pull(cursor);
    if (page.timestamp === cursor || Object.keys(page.changes).length === 0) break;
    cursor = page.timestamp;
  }
  const times: number[] = [];
  const errors: string[] = [];
  let failed = 0;
  const end = Date.now() + seconds * 1000;
  let n = 0;
  while (Date.now() < end) {
    const t0 = performance.now();
    const next = Date.now() + ROUND_MS;
    try {
      await phone.handshake();
      const page = await phone.pull(cursor);
      const id = `proof-${clientId}-${n++}`;
      await phone.push(cursor, {
        patients: {
          created: [{
            id,
            given_name: "Proof",
            surname: `Row ${n}`,
            date_of_birth: "1990-01-01",
            sex: "female",
            created_at: Date.now(),
            updated_at: Date.now(),
          }],
          updated: [],
          deleted: [],
        },
      });
      cursor = page.timestamp;
      times.push(performance.now() - t0);
    } catch (err) {
      failed++;
      if (errors.length < 5) errors.push((err as Error).message.slice(0, 160));
    }
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  }
  return {
    rounds: times.length + failed,
    failed,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    max: Math.max(...times),
    firstErrors: errors,
  };
}

/** Runs every attacker until `stop` is set; returns counters. */
export function attack(port: number, phoneId: string, stop: { now: boolean }) {
  const counts = {
    idleOpened: 0,
    idleRefusedOrDropped: 0,
    slowUploadsStarted: 0,
    slowUploadsCut: 0,
    rehandshakes: 0,
    rehandshakeStatuses: {} as Record<string, number>,
    bigBodies: 0,
    bigBodyStatuses: {} as Record<string, number>,
    badHosts: 0,
    badHostStatuses: {} as Record<string, number>,
  };
  const sockets = new Set<net.Socket>();
  const tasks: Promise<void>[] = [];

  // 127.0.0.2: idle connections, topped up 100 at a time.
  tasks.push((async () => {
    const open = new Set<net.Socket>();
    while (!stop.now) {
      const batch: Promise<void>[] = [];
      for (let i = 0; i < 100 && open.size + i < IDLE_CONNECTIONS; i++) {
        batch.push(
          connectFrom("127.0.0.2", port).then((s) => {
            counts.idleOpened++;
            open.add(s);
            sockets.add(s);
            s.on("error", () => {});
            s.on("close", () => {
              open.delete(s);
              sockets.delete(s);
              counts.idleRefusedOrDropped++;
            });
          }).catch(() => {
            counts.idleRefusedOrDropped++;
          }),
        );
      }
      await Promise.all(batch);
      await new Promise((r) => setTimeout(r, 100));
    }
  })());

  // 127.0.0.3: two slow uploads under the attacker's own session.
  for (let k = 0; k < 2; k++) {
    tasks.push((async () => {
      const id = `slow-uploader-${k}`;
      while (!stop.now) {
        await handshakeFrom("127.0.0.3", port, id).catch(() => 0);
        const s = await connectFrom("127.0.0.3", port).catch(() => null);
        if (!s) {
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
        counts.slowUploadsStarted++;
        sockets.add(s);
        let closed = false;
        s.on("error", () => {});
        s.on("close", () => {
          closed = true;
          sockets.delete(s);
        });
        s.write(
          "POST /rpc/command HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n" +
            `Content-Length: ${128 * 1024 * 1024}\r\n\r\n{"client_id":"${id}","payload":"`,
        );
        while (!closed && !stop.now) {
          await new Promise((r) => setTimeout(r, 5000));
          if (!closed) s.write("A");
        }
        if (closed && !stop.now) counts.slowUploadsCut++;
        s.destroy();
      }
    })());
  }

  // 127.0.0.4: the phone's client_id, re-handshaken every 0.5 s.
  tasks.push((async () => {
    while (!stop.now) {
      const st = await handshakeFrom("127.0.0.4", port, phoneId).catch(() => 0);
      counts.rehandshakes++;
      counts.rehandshakeStatuses[st] = (counts.rehandshakeStatuses[st] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, 500));
    }
  })());

  // 127.0.0.5: a 100 MiB body with no session, every 2 s (sent as fast as the hub reads).
  tasks.push((async () => {
    const chunk = Buffer.alloc(1024 * 1024, "B");
    while (!stop.now) {
      const s = await connectFrom("127.0.0.5", port).catch(() => null);
      if (s) {
        sockets.add(s);
        const status = await new Promise<number>((resolve) => {
          let text = "";
          s.on("data", (d) => text += d.toString());
          s.on("error", () => {});
          s.on("close", () => resolve(Number(text.split(" ")[1] ?? 0)));
          s.write(
            "POST /rpc/command HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n" +
              `Content-Length: ${100 * 1024 * 1024}\r\n\r\n{"client_id":"nobody","payload":"`,
          );
          let sent = 0;
          const pump = () => {
            while (sent < 100 && !s.destroyed) {
              sent++;
              if (!s.write(chunk)) {
                s.once("drain", pump);
                return;
              }
            }
          };
          pump();
          setTimeout(() => s.destroy(), 10_000);
        });
        sockets.delete(s);
        counts.bigBodies++;
        counts.bigBodyStatuses[status] = (counts.bigBodyStatuses[status] ?? 0) + 1;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  })());

  // 127.0.0.6: malformed Host headers.
  tasks.push((async () => {
    const hosts = ["a:b", "[zz]", "127.0.0.1:99999"];
    while (!stop.now) {
      const r = await rawHttp(
        "127.0.0.6",
        port,
        `GET /rpc/heartbeat HTTP/1.1\r\nHost: ${hosts[counts.badHosts % 3]}\r\n`,
      ).catch(() => ({ status: 0 }));
      counts.badHosts++;
      counts.badHostStatuses[r.status] = (counts.badHostStatuses[r.status] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, 200));
    }
  })());

  return {
    counts,
    async finish() {
      stop.now = true;
      for (const s of sockets) s.destroy();
      await Promise.all(tasks);
    },
  };
}
