/// <reference lib="dom" />
/** The clinics this hub is authorised for (from the cloud link). */
import { S } from "../strings.ts";
import { clinics } from "../state.ts";
import { Card } from "./Card.tsx";

/** The clinics card of the dashboard. */
export function ClinicsCard() {
  const list = clinics.value?.clinics ?? [];
  return (
    <Card title={S.clinicsTitle} id="clinics">
      {list.length === 0
        ? <p class="muted">{S.clinicsNone}</p>
        : (
          <ul class="clinics" data-testid="clinics">
            {list.map((c) => (
              <li key={c.id}>
                <strong>{c.name ?? S.clinicUnnamed}</strong> <code class="muted">{c.id}</code>
              </li>
            ))}
          </ul>
        )}
    </Card>
  );
}
