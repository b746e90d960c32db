/// <reference lib="dom" />
/** Chooses the screen from the session and the hub's state. */
import { S } from "../strings.ts";
import { hubDown, session, setupStep, signedOutState, status } from "../state.ts";
import { FirstRun } from "./FirstRun.tsx";
import { Unlock } from "./Unlock.tsx";
import { Shell } from "./Shell.tsx";
import { Notice } from "./Notice.tsx";

/** The root component. */
export function App() {
  if (hubDown.value && status.value === null) {
    return (
      <main class="narrow" id="main">
        <h1>{S.appName}</h1>
        <Notice kind="error">{S.hubNotAnswering}</Notice>
        <div class="actions">
          <button type="button" onClick={() => location.reload()}>{S.retry}</button>
        </div>
      </main>
    );
  }
  if (session.value === "none") {
    // A set-up hub lets this tab back in with the passphrase (e.g. after a restart).
    const st = signedOutState.value;
    if (st === "locked" || st === "unlocked") return <Unlock signIn={st} />;
    return (
      <main class="narrow" id="main" data-testid="no-session">
        <h1>{S.noSession}</h1>
        <p>{S.noSessionHelp}</p>
      </main>
    );
  }
  const s = status.value;
  if (!s) return <p class="boot">{S.loading}</p>;
  if (s.state === "new" || (s.state === "unlocked" && setupStep.value !== null)) {
    return <FirstRun />;
  }
  if (s.state === "locked") return <Unlock />;
  return <Shell />;
}
