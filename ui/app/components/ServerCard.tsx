/// <reference lib="dom" />
/** The phone server: on/off, its LAN addresses, connected phones. */
import { S } from "../strings.ts";
import { status } from "../state.ts";
import { Card } from "./Card.tsx";
import { ServerToggle } from "./ServerToggle.tsx";

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
          <p class="muted">{S.serverSessions(server.sessions)}</p>
        </>
      )}
      <ServerToggle />
    </Card>
  );
}
