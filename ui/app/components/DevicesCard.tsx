/// <reference lib="dom" />
/**
 * Paired devices: last seen, last sync, records from and to each phone, revoke
 * (permanent, with a confirmation) and, once revoked, removal from the list.
 */
import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { S } from "../strings.ts";
import { errorText, useAction } from "../hooks.ts";
import { ago } from "../format.ts";
import { devices, now, refreshUnlocked } from "../state.ts";
import type { Device } from "../types.ts";
import { Card } from "./Card.tsx";
import { Notice } from "./Notice.tsx";
import { Confirm } from "./Confirm.tsx";

function label(d: Device): string {
  return d.name ?? S.deviceUnnamed;
}

function deviceStatus(d: Device): string {
  if (d.revokedAt !== null) return S.deviceRevoked;
  return d.lastSync !== null && d.lastUserId !== null ? S.deviceSynced : S.deviceNeverSynced;
}

/** The devices card of the dashboard. */
export function DevicesCard() {
  const [confirming, setConfirming] = useState<string | null>(null);
  const act = useAction(async (how: "revoke" | "remove", id: string) => {
    try {
      return await (how === "revoke" ? api.revoke(id) : api.removeDevice(id));
    } finally {
      setConfirming(null);
      await refreshUnlocked();
    }
  });
  const list = devices.value;
  const t = now.value;
  const catchingUp = list.filter((d) => d.revokedAt === null && d.waitingRows > 0);
  return (
    <Card title={S.devicesTitle} id="devices" wide>
      {catchingUp.map((d) => (
        <Notice kind="info" key={`wait-${d.clientId}`}>
          <span data-testid="device-catching-up">
            {S.deviceCatchingUp(label(d), d.waitingRows)}
          </span>
        </Notice>
      ))}
      {list.length === 0 ? <p class="muted">{S.devicesNone}</p> : (
        <div class="scroll-x">
          <table class="table" data-testid="devices">
            <thead>
              <tr>
                <th scope="col">{S.deviceName}</th>
                <th scope="col">{S.deviceLastSeen}</th>
                <th scope="col">{S.deviceLastSync}</th>
                <th scope="col" class="num">{S.deviceFromPhone}</th>
                <th scope="col" class="num">{S.deviceToPhone}</th>
                <th scope="col">{S.deviceStatus}</th>
                <th scope="col">
                  <span class="sr-only">{S.deviceActions}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((d) => (
                <tr key={d.clientId} data-client-id={d.clientId}>
                  <th scope="row">
                    {label(d)}
                    <br />
                    <code class="muted small">{d.clientId}</code>
                  </th>
                  <td>{ago(d.lastSeen, t)}</td>
                  <td data-testid="device-last-sync">
                    {ago(d.lastSync, t)}
                    {d.revokedAt === null && d.waitingRows > 0 && (
                      <>
                        <br />
                        <span class="warn small" data-testid="device-waiting">
                          {S.deviceWaiting(d.waitingRows)}
                        </span>
                      </>
                    )}
                  </td>
                  <td class="num" data-testid="device-from-phone">{d.rowsPushed}</td>
                  <td class="num" data-testid="device-to-phone">{d.rowsPulled}</td>
                  <td data-testid="device-status">{deviceStatus(d)}</td>
                  <td>
                    {d.revokedAt === null && confirming !== d.clientId && (
                      <button
                        type="button"
                        class="small"
                        aria-label={S.deviceRevokeLabel(label(d))}
                        onClick={() => setConfirming(d.clientId)}
                      >
                        {S.deviceRevoke}
                      </button>
                    )}
                    {d.revokedAt !== null && (
                      <button
                        type="button"
                        class="small"
                        disabled={act.busy}
                        aria-label={S.deviceRemoveLabel(label(d))}
                        onClick={() => act.run("remove", d.clientId)}
                      >
                        {S.deviceRemove}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {confirming !== null && (
        <Confirm
          question={S.deviceRevokeConfirm(
            label(list.find((d) => d.clientId === confirming) ?? { name: null } as Device),
          )}
          confirmLabel={S.deviceRevoke}
          danger
          busy={act.busy}
          onConfirm={() => act.run("revoke", confirming)}
          onCancel={() => setConfirming(null)}
        />
      )}
      {act.error && <Notice kind="error">{errorText(act.error)}</Notice>}
    </Card>
  );
}
