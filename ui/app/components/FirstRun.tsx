/// <reference lib="dom" />
/** The first run: passphrase → link to the cloud (skippable) → pair devices. */
import { S } from "../strings.ts";
import { setupStep, view } from "../state.ts";
import { SetPassphrase } from "./SetPassphrase.tsx";
import { CloudLinkForm } from "./CloudLinkForm.tsx";
import { PairPanel } from "./PairPanel.tsx";
import { Heading } from "./Heading.tsx";
import { RestoreBackup } from "./RestoreBackup.tsx";

const STEPS = 3;

/** The wizard; the step after the passphrase lives in `setupStep`. */
export function FirstRun() {
  const step = setupStep.value;
  const n = step === null ? 1 : step === "cloud" ? 2 : 3;
  const title = n === 1 ? S.setupTitle : n === 2 ? S.cloudTitle : S.pairTitle;
  const finish = () => {
    setupStep.value = null;
    view.value = "dashboard";
  };
  return (
    <main class={n === 3 ? "narrow wider" : "narrow"} id="main" data-testid={`firstrun-${n}`}>
      <p class="step">{S.setupStep(n, STEPS)}</p>
      <Heading key={title}>{title}</Heading>
      {n === 1 && (
        <>
          <SetPassphrase />
          <RestoreBackup />
        </>
      )}
      {n === 2 && (
        <>
          <p>{S.cloudIntro}</p>
          <CloudLinkForm
            onContinue={() => setupStep.value = "pair"}
            onSkip={() => setupStep.value = "pair"}
          />
        </>
      )}
      {n === 3 && (
        <>
          <PairPanel />
          <div class="actions">
            <button type="button" class="primary" onClick={finish} data-testid="firstrun-done">
              {S.pairDone}
            </button>
          </div>
        </>
      )}
    </main>
  );
}
