/// <reference lib="dom" />
/**
 * Pairing a phone: the QR code (SPEC §8 payload from `GET /api/pairing`), the
 * address it encodes (a choice when the computer has several), the hub id, the
 * key fingerprint and plain steps. Only while the phone server runs.
 */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api.ts";
import { S } from "../strings.ts";
import { errorText } from "../hooks.ts";
import { status } from "../state.ts";
import { Notice } from "./Notice.tsx";
import { ServerToggle } from "./ServerToggle.tsx";

interface Pairing {
  payload: string;
  svg: string;
  url: string;
  urls: string[];
}

/** The pairing panel. */
export function PairPanel() {
  const s = status.value;
  const running = s?.server.running ?? false;
  const urls = s?.server.urls ?? [];
  const [chosen, setChosen] = useState<string | null>(null);
  const [pairing, setPairing] = useState<Pairing | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const wanted = chosen !== null && urls.includes(chosen) ? chosen : undefined;

  useEffect(() => {
    if (!running) {
      setPairing(null);
      return;
    }
    let current = true;
    api.pairing(wanted).then(
      (p) => current && (setPairing(p), setError(null)),
      (e) => current && setError(e as ApiError),
    );
    return () => {
      current = false;
    };
  }, [running, wanted, urls.join(" "), s?.hub?.id]);

  if (!running) {
    return (
      <div data-testid="pair-stopped">
        <Notice kind="warn">{S.pairServerStopped}</Notice>
        <ServerToggle />
      </div>
    );
  }
  if (error) return <Notice kind="error">{errorText(error)}</Notice>;
  if (!pairing) return <p>{S.loading}</p>;
  return (
    <div class="pair" data-testid="pair-panel">
      <img
        class="qr"
        src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(pairing.svg)}`}
        alt={S.pairQrAlt}
        data-testid="pair-qr"
      />
      <div class="pair-info">
        <ol class="steps">
          {S.pairSteps.map((step) => <li key={step}>{step}</li>)}
        </ol>
        {pairing.urls.length > 1
          ? (
            <fieldset class="choice">
              <legend>{S.pairAddress}</legend>
              <p class="hint">{S.pairAddressHelp}</p>
              {pairing.urls.map((u) => (
                <label key={u} class="check">
                  <input
                    type="radio"
                    name="pair-url"
                    value={u}
                    checked={u === pairing.url}
                    onChange={() => setChosen(u)}
                  />
                  <code>{u}</code>
                </label>
              ))}
            </fieldset>
          )
          : (
            <p>
              {S.pairAddress}: <code data-testid="pair-url">{pairing.url}</code>
            </p>
          )}
        <dl class="facts">
          <dt>{S.pairHubId}</dt>
          <dd>
            <code data-testid="pair-hub-id">{s?.hub?.id}</code>
          </dd>
          <dt>{S.pairFingerprint}</dt>
          <dd>
            <code class="fingerprint" data-testid="pair-fingerprint">{s?.hub?.fingerprint}</code>
            <p class="hint">{S.pairFingerprintHelp}</p>
          </dd>
        </dl>
        <details>
          <summary>{S.pairShowPayload}</summary>
          <code class="payload" data-testid="pair-payload">{pairing.payload}</code>
        </details>
      </div>
    </div>
  );
}
