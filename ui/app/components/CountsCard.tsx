/// <reference lib="dom" />
/** Record counts per table. */
import { useState } from "preact/hooks";
import { S } from "../strings.ts";
import { status } from "../state.ts";
import { Card } from "./Card.tsx";

/** The counts card of the dashboard. */
export function CountsCard() {
  const [all, setAll] = useState(false);
  const counts = status.value?.counts;
  if (!counts) return null;
  const rows = Object.entries(counts).filter(([, c]) => all || c.rows > 0);
  return (
    <Card title={S.countsTitle} id="counts">
      {rows.length === 0
        ? <p class="muted">{S.countsEmpty}</p>
        : (
          <table class="table" data-testid="counts">
            <thead>
              <tr>
                <th scope="col">{S.countsTable}</th>
                <th scope="col" class="num">{S.countsRows}</th>
                <th scope="col" class="num">{S.countsDeleted}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(([table, c]) => (
                <tr key={table} data-table={table}>
                  <th scope="row">{S.tableNames[table] ?? table}</th>
                  <td class="num">{(c.rows - c.deleted).toLocaleString(S.lang)}</td>
                  <td class="num">{c.deleted.toLocaleString(S.lang)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      <label class="check small">
        <input
          type="checkbox"
          checked={all}
          onChange={(e) => setAll((e.currentTarget as HTMLInputElement).checked)}
        />
        {S.countsShowEmpty}
      </label>
    </Card>
  );
}
