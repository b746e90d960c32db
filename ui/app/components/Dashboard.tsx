/// <reference lib="dom" />
/** The dashboard: server, cloud, activity, devices, records, clinics, conflicts. */
import { S } from "../strings.ts";
import { Heading } from "./Heading.tsx";
import { ServerCard } from "./ServerCard.tsx";
import { CloudCard } from "./CloudCard.tsx";
import { ActivityChart } from "./ActivityChart.tsx";
import { DevicesCard } from "./DevicesCard.tsx";
import { CountsCard } from "./CountsCard.tsx";
import { ClinicsCard } from "./ClinicsCard.tsx";
import { ConflictsCard } from "./ConflictsCard.tsx";
import { BackupsCard } from "./BackupsCard.tsx";

/** The dashboard screen. */
export function Dashboard() {
  return (
    <div data-testid="dashboard">
      <Heading>{S.navDashboard}</Heading>
      <div class="grid">
        <ServerCard />
        <CloudCard />
        <ClinicsCard />
        <ActivityChart />
        <DevicesCard />
        <CountsCard />
        <ConflictsCard />
        <BackupsCard />
      </div>
    </div>
  );
}
