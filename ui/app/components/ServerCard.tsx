/// <reference lib="dom" />
/** The phone server: on/off, its LAN addresses, connected phones. */
import { S } from "../strings.ts";
import { devices, now, status } from "../state.ts";
import { Card } from "./Card.tsx";
import { ServerToggle } from "./ServerToggle.tsx";

/** Phones that logged in and synced lately: a bare handshake does not count as connected. */
function recentlySynced(): number {
  const since = now.value - 15 * 60_000;
  return devices.value.filter((d) =>
    d.revokedAt === null && d.lastUserId !== null && d.lastSync !== null && d.lastSync >= since
  ).length;
}

/** The server card of the dashboard. */
export function ServerCard() {
  const server = status.value?.server;
  if (!server) return null;
  return (
    <Card title={S.serverTitle} id="server">
      <p data-testid="server-state" data-running={String(server.running)}>
        <span class={server.running ? "dot on" : "dot off"} aria-hidden="true" />
        {server.running ? S.serverRunning : S.serverStopped}
      </p>
      {server.running && (
        <>
          <p class="label">{S.serverUrls}</p>
          <ul class="urls" data-testid="server-urls">
            {server.urls.map((u) => (
              <li key={u}>
                <code>{u}</code>
              </li>
            ))}
          </ul>
          <p class="muted" data-testid="server-synced">{S.serverSynced(recentlySynced())}</p>
        </>
      )}
      <ServerToggle />
    </Card>
  );
}
