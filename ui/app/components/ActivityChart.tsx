/// <reference lib="dom" />
/** A bar chart of phone syncs per hour over the last 24 hours (`GET /api/activity`). */
import { S } from "../strings.ts";
import { hourLabel } from "../format.ts";
import { activity, now } from "../state.ts";
import { Card } from "./Card.tsx";

const HOUR = 3_600_000;
/** Drawing units: one slot per hour, bars 70 % of a slot; the SVG stretches to the card. */
const SLOT = 10;
const BAR = 7;
const H = 100;

/** One hour of the chart. */
export interface Slot {
  hour: number;
  pulls: number;
  pushes: number;
}

/** Groups the buckets into 24 hourly slots ending with the current hour. */
export function slots(
  buckets: { hour: number; kind: string; events: number }[],
  at: number,
): Slot[] {
  const last = Math.floor(at / HOUR) * HOUR;
  const out: Slot[] = [];
  for (let i = 23; i >= 0; i--) out.push({ hour: last - i * HOUR, pulls: 0, pushes: 0 });
  for (const b of buckets) {
    const slot = out.find((s) => s.hour === b.hour);
    if (!slot) continue;
    if (b.kind === "push") slot.pushes += b.events;
    else slot.pulls += b.events;
  }
  return out;
}

/** The activity card of the dashboard. */
export function ActivityChart() {
  const data = slots(activity.value, now.value);
  const max = Math.max(1, ...data.map((s) => s.pulls + s.pushes));
  const pulls = data.reduce((a, s) => a + s.pulls, 0);
  const pushes = data.reduce((a, s) => a + s.pushes, 0);
  const scale = (H - 4) / max;
  return (
    <Card title={S.activityTitle} id="activity" wide>
      <svg
        class="chart"
        viewBox={`0 0 ${SLOT * data.length} ${H}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={pulls + pushes === 0 ? S.activityNone : S.activitySummary(pulls, pushes)}
        data-testid="activity-chart"
        data-total={pulls + pushes}
      >
        {data.map((s, i) => {
          const x = i * SLOT + (SLOT - BAR) / 2;
          const hPull = s.pulls * scale;
          const hPush = s.pushes * scale;
          return (
            <g key={s.hour} data-hour={s.hour} data-pulls={s.pulls} data-pushes={s.pushes}>
              <title>{S.activityHourLabel(hourLabel(s.hour), s.pulls, s.pushes)}</title>
              {s.pulls > 0 && (
                <rect class="bar-pull" x={x} width={BAR} y={H - hPull} height={hPull} />
              )}
              {s.pushes > 0 && (
                <rect class="bar-push" x={x} width={BAR} y={H - hPull - hPush} height={hPush} />
              )}
            </g>
          );
        })}
      </svg>
      <div class="ticks" aria-hidden="true">
        <span>{S.activityAgo(24)}</span>
        <span>{S.activityAgo(12)}</span>
        <span>{S.activityNow}</span>
      </div>
      <p class="legend">
        {pulls + pushes === 0 ? S.activityNone : (
          <>
            <span class="key pull" aria-hidden="true" /> {S.activityPull} ({pulls})
            <span class="key push" aria-hidden="true" /> {S.activityPush} ({pushes})
          </>
        )}
      </p>
    </Card>
  );
}
