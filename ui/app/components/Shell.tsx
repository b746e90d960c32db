/// <reference lib="dom" />
/** The unlocked frame: header with navigation and lock, health line, update banner, screen. */
import { api } from "../api.ts";
import { S } from "../strings.ts";
import { useAction } from "../hooks.ts";
import { applyStatus, live, status, view } from "../state.ts";
import { HealthLine } from "./HealthLine.tsx";
import { UpdateBanner } from "./UpdateBanner.tsx";
import { Dashboard } from "./Dashboard.tsx";
import { PairScreen } from "./PairScreen.tsx";
import { Maintenance } from "./Maintenance.tsx";
import { Notice } from "./Notice.tsx";

const TABS = [
  ["dashboard", S.navDashboard],
  ["pair", S.navPair],
  ["maintenance", S.navMaintenance],
] as const;

/** The frame around the unlocked screens. */
export function Shell() {
  const s = status.value;
  const lock = useAction(api.lock);
  const current = view.value;
  return (
    <>
      <a class="skip" href="#main">{S.skipToContent}</a>
      <header class="top">
        <div class="brand">
          <strong>{S.appName}</strong>
          {s?.hub && <span class="muted">{S.hubLabel(s.hub.name)}</span>}
        </div>
        <nav aria-label={S.appName}>
          {TABS.map(([key, label]) => (
            <button
              key={key}
              type="button"
              class={current === key ? "tab current" : "tab"}
              aria-current={current === key ? "page" : undefined}
              onClick={() => view.value = key}
              data-testid={`nav-${key}`}
            >
              {label}
            </button>
          ))}
        </nav>
        <button
          type="button"
          class="lock"
          disabled={lock.busy}
          onClick={async () => {
            const r = await lock.run();
            if (r) applyStatus(r);
          }}
          data-testid="lock"
        >
          {S.lock}
        </button>
      </header>
      <UpdateBanner />
      <HealthLine />
      {!live.value && <Notice kind="warn" testId="offline">{S.connectionLost}</Notice>}
      <main id="main" class="content">
        {current === "dashboard" && <Dashboard />}
        {current === "pair" && <PairScreen />}
        {current === "maintenance" && <Maintenance />}
      </main>
      {s && <footer class="muted small">{S.version(s.version)}</footer>}
    </>
  );
}
