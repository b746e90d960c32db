/// <reference lib="dom" />
/** The conflict log: older versions that lost to newer ones, kept for the operator to see. */
import { S } from "../strings.ts";
import { dateTime } from "../format.ts";
import { conflicts, devices } from "../state.ts";
import { Card } from "./Card.tsx";

/** The conflicts card of the dashboard. */
export function ConflictsCard() {
  const list = conflicts.value;
  const deviceName = (id: string | null) =>
    devices.value.find((d) => d.clientId === id)?.name ?? id ?? "?";
  return (
    <Card title={S.conflictsTitle} id="conflicts" span={2}>
      <p class="muted">{S.conflictsHelp}</p>
      {list.length === 0
        ? <p data-testid="conflicts-none">{S.conflictsNone}</p>
        : (
          <div class="scroll-x">
            <table class="table" data-testid="conflicts">
              <thead>
                <tr>
                  <th scope="col">{S.conflictWhen}</th>
                  <th scope="col">{S.conflictTable}</th>
                  <th scope="col">{S.conflictRecord}</th>
                  <th scope="col">{S.conflictFrom}</th>
                  <th scope="col">{S.conflictKeptLost}</th>
                </tr>
              </thead>
              <tbody>
                {list.map((c) => (
                  <tr key={c.id}>
                    <td>{dateTime(c.detectedAt)}</td>
                    <td>{S.tableNames[c.table] ?? c.table}</td>
                    <td>
                      <code class="small">{c.rowId}</code>
                    </td>
                    <td>
                      {c.source === "cloud"
                        ? S.conflictSourceCloud
                        : S.conflictSourcePhone(deviceName(c.deviceId))}
                    </td>
                    <td>
                      {dateTime(c.keptUpdatedAt)} / {dateTime(c.lostUpdatedAt)}
                      <details>
                        <summary>{S.conflictShowLost}</summary>
                        <pre class="small">{JSON.stringify(c.lostRow, null, 2)}</pre>
                      </details>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
    </Card>
  );
}
