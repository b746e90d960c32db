/**
 * Writes the "## LAN server (issue 3)" section of bench/RESULTS.md from the
 * benchmark's figures, leaving every other section as it is (bench/_results.ts).
 */
import type { Figures } from "./_lan_bare.ts";
import { writeResultsSection } from "./_results.ts";
import {
  DEFAULT_PULL_PAGE_BYTES as PAGE_BYTES,
  DEFAULT_PULL_PAGE_ROWS as PAGE_ROWS,
} from "../store/mod.ts";

const HEADING = "## LAN server (issue 3)";
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

const n0 = (x: number) => Math.round(x).toLocaleString("en-US");
const n1 = (x: number) => x.toFixed(1);
const mib = (x: number) => `${n0(x / MiB)} MiB`;
const met = (ok: boolean) => (ok ? "met" : "**not met**");
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const n2 = (x: number) => x.toFixed(2);
/** "pages of X MiB on average (largest Y)" of a pull's figures. */
const pageSizes = (p: Figures) =>
  `${p.dataPages ?? p.pages} pages of ${n2(p.avgPageMiB)} MiB on average (largest ${
    n2(p.largestPageMiB)
  } MiB)`;

/** Renders the section's markdown. */
export function renderSection(f: Figures): string {
  const fs = f.firstSync;
  const old = f.storePullPrevious;
  const bp = f.bareFirstSync;
  const sp = f.storePull;
  const pu = f.push;
  const ps = f.barePushStore;
  const pd = f.barePushDirect;
  const ph = f.phones;
  const pn = f.phonesNoThink;
  const hs = f.handshakes;
  const bh = f.bareHandshakes;
  const m = f.machine;
  const date = new Date().toISOString().slice(0, 10);
  const peak = Math.max(fs.peakRss, fs.hwm);
  const kinds = (p: Figures) =>
    Object.entries(p.byKind as Record<string, { p50: number; p99: number }>)
      .map(([k, v]) => `${k} ${n0(v.p50)}/${n0(v.p99)}`).join(", ");
  const lines = [
    HEADING,
    "",
    `Date ${date}; machine: ${m.cores} cores (${m.cpu}), ${m.ramGiB} GiB RAM, Linux, Deno ${m.deno}; 1-minute load average ${f.loadBefore} before, ${
      f.loadAtFirstSync ?? "?"
    } at the first sync, ${f.loadAfter} after (the machine is shared with other sessions' tests, so figures vary by ±30 % between runs).`,
    "",
    `Command: \`${f.command}\`${
      f.quick ? " (quick run: a tenth of the data, shorter phases)" : ""
    }. Loopback only. The hub runs as a child process (\`bench/_lan_hub.ts\`: main.ts's headless path: unlock with \`--passphrase-file\`, start the LAN server) on a data folder seeded beforehand through \`store/\` (${
      n0(f.rows.patients)
    } patients + ${
      n0(f.rows.events)
    } events of ~1.1 KB JSON each, cloud-style transactions of 5,000 rows with a new stamp every 500). The hub runs with its default page budget: a pull reply ends once its JSON reaches ${
      mib(PAGE_BYTES)
    } (whole stamps only) or ${
      n0(PAGE_ROWS)
    } rows. The phones are \`tests/phone_client.ts\` in the benchmark process. "Bare" is the same work done in-process on a copy of the hub's database, without HTTP, sessions or tokens, paged by the same budget. Raw figures: \`bench/out/lan_bench.json\`.`,
    "",
    "| Benchmark | Hub | Bare, same run | Hub ÷ bare | Target | |",
    "|---|---|---|---|---|---|",
    `| 1. First sync: ${n0(fs.rows)} rows, ${n1(fs.jsonMB)} MB JSON | ${
      n0(fs.rowsPerSecWall)
    } rows/s (${n1(fs.wallMs / 1000)} s first request → last byte); ${pageSizes(fs)} | ${
      n0(bp.rowsPerSec)
    } rows/s (select + JSON.stringify + AES-GCM + base64url); ${pageSizes(bp)} | ${
      ratio(fs.rowsPerSecWall, bp.rowsPerSec)
    } | ≥ 58,000 rows/s | ${met(fs.rowsPerSecWall >= 58_000)} |`,
    `| 1. First sync: hub peak RSS | ${mib(peak)} | | | < 1 GiB | ${met(peak < GiB)} |`,
    `| 2. \`sync_push\` of ${n0(pu.rows)} rows (${n1(pu.bodyMB)} MB) | ${
      n0(pu.rowsPerSec)
    } rows/s (median of ${pu.runsMs.length}) | ${
      n0(pd.rowsPerSec)
    } rows/s (decrypt + parse + plain INSERT, one transaction) | ${
      ratio(pu.rowsPerSec, pd.rowsPerSec)
    } | ≥ 26,000 rows/s | ${met(pu.rowsPerSec >= 26_000)} |`,
    `| 3. ${ph.phones} phones × ${ph.seconds} s: handshake + pull + push, 0–${ph.thinkMs} ms apart | ${ph.errors} errors in ${
      n0(ph.requests)
    } requests; p50 ${n0(ph.p50)} ms, p99 ${n0(ph.p99)} ms | | | 0 errors, p99 < 250 ms | ${
      met(ph.errors === 0 && ph.p99 < 250)
    } |`,
    `| 4. Handshakes, 4 in flight | ${n0(hs.perSec)}/s; hub CPU ${
      hs.hubCpuMsEach.toFixed(2)
    } ms each (${n0(hs.perHubCoreSec)}/s per core) | ${
      n0(bh.perSec)
    }/s on one core (X25519 + HKDF + key import) | ${
      ratio(hs.perHubCoreSec, bh.perSec)
    } per core | — | |`,
    "",
    "### Details",
    "",
    `- **First sync** (median of ${(fs.runs ?? [0]).length} runs: ${
      (fs.runs ?? []).map(n0).join(", ")
    } rows/s; bare: ${(bp.runs ?? []).map(n0).join(", ")}). Of the ${
      n1(fs.wallMs / 1000)
    } s, the hub's replies took ${n1(fs.hubMs / 1000)} s (request → last byte, summed: ${
      n0(fs.rowsPerSecHub)
    } rows/s); the rest is the phone opening each page, which it must do to read \`timestamp\` before asking for the next. ${
      fs.dataPages ?? fs.pages - 1
    } pages with rows and one empty reply at the head; ${pageSizes(fs)}; largest page ${
      n0(fs.largestPageRows)
    } rows, slowest ${n0(fs.largestPageMs)} ms; ${n1(fs.wireMB)} MB on the wire; hub CPU ${
      n1(fs.hubCpuMs / 1000)
    } s. Check: ${n0(fs.rows)} rows received of ${
      n0(fs.expected)
    } seeded, ${fs.duplicates} twice, ${fs.updated} as \`updated\`. Peak RSS: VmHWM ${
      mib(fs.hwm)
    }, sampled every 20 ms ${mib(fs.peakRss)}, ${mib(f.hubRssAtStart)} at start.`,
    `- Bare pipeline (runs: ${(bp.runs ?? []).map(n0).join(", ")} rows/s): ${n0(bp.rows)} rows, ${
      pageSizes(bp)
    }, ${
      n1(bp.wireMB)
    } MB on the wire. It ends a page inside a stamp as soon as the budget is reached; the hub ends it at the end of the stamp (at most 500 rows) that reaches it, on an estimated size, so its pages are a little larger and fewer.`,
    `- The store's \`pullChanges\` + seal, in-process without HTTP, same budget: ${
      n0(sp.rowsPerSec)
    } rows/s (${n1(sp.pullChangesMs / 1000)} s of ${n1(sp.ms / 1000)} s in \`pullChanges\`); ${
      pageSizes(sp)
    }.`,
    ...(old
      ? [
        `- **Page budget, previous setting (in-process only):** the same store pull with ${
          n0(old.maxRows)
        }-row pages and no byte bound: ${n0(old.rowsPerSec)} rows/s; ${
          pageSizes(old)
        }. The hub's command line has no flag to lift its byte bound, so this setting was not measured over HTTP. A first download of the ${
          n0(fs.rows)
        } rows (${n0(fs.jsonBytes / MiB)} MiB of JSON) takes one sync per page: ${
          fs.dataPages ?? fs.pages - 1
        } syncs at ${mib(PAGE_BYTES)} (measured, the hub's pages above), ${old.pages} at ${
          n0(old.maxRows)
        } rows (measured in-process; from a full page's ${n2(old.largestPageMiB)} MiB: ceil(${
          n0(fs.jsonBytes / MiB)
        } / ${n2(old.largestPageMiB)}) = ${Math.ceil(fs.jsonBytes / MiB / old.largestPageMiB)}).`,
      ]
      : []),
    `- **Push.** Runs: ${
      pu.runsMs.map(n0).join(", ")
    } ms. In-process through the store's \`pushChanges\` (type coercion, existence check, upsert, conflict rule): ${
      n0(ps.rowsPerSec)
    } rows/s; plain INSERT: ${n0(pd.rowsPerSec)} rows/s.`,
    `- **Phones.** ${n0(ph.cycles)} cycles (${n0(ph.requestsPerSec)} requests/s), ${
      n0(ph.pulledRows)
    } rows pulled; p50/p99 ms by kind: ${kinds(ph)}; max ${n0(ph.max)} ms. CPU: hub ${
      n1(ph.hubCpuMs / 1000)
    } s, the ${ph.phones} phones ${
      n1(ph.clientCpuMs / 1000)
    } s, in ${ph.seconds} s on ${m.cores} cores.`,
    ...(pn
      ? [
        `- Stress, no think time (${pn.phones} phones back to back, ${pn.seconds} s; no target): ${pn.errors} errors, ${
          n0(pn.requestsPerSec)
        } requests/s, p50 ${n0(pn.p50)} ms, p99 ${n0(pn.p99)} ms (${kinds(pn)}); hub CPU ${
          n1(pn.hubCpuMs / 1000)
        } s, phones ${n1(pn.clientCpuMs / 1000)} s.`,
      ]
      : []),
    `- **Handshakes.** ${n0(hs.count)} in ${
      f.quick ? 3 : 10
    } s, ${hs.errors} errors. Besides the key agreement, each handshake hashes the client key and commits the used-key digest and the device row durably (one fsync'd transaction, ~1.2 ms here), which the bare figure does not.`,
    "",
  ];
  for (const note of f.notes ?? []) lines.push(note);
  return lines.join("\n").trimEnd() + "\n";
}

/** Replaces (or appends) the section in bench/RESULTS.md, formatted as \`deno fmt\` wants it. */
export async function writeSection(f: Figures): Promise<void> {
  await writeResultsSection(HEADING, renderSection(f));
}
