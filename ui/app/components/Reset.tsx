/// <reference lib="dom" />
/** "Forgot the passphrase": what erasing means, then a typed RESET to confirm. */
import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { S } from "../strings.ts";
import { errorText, useAction } from "../hooks.ts";
import { applyStatus, setupStep } from "../state.ts";
import { TextField } from "./Fields.tsx";
import { Notice } from "./Notice.tsx";
import { Heading } from "./Heading.tsx";

/** The reset screen. */
export function Reset({ onBack }: { onBack: () => void }) {
  const [typed, setTyped] = useState("");
  const reset = useAction(api.reset);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (typed !== S.resetWord) return;
    const status = await reset.run(typed);
    if (status) {
      setupStep.value = null;
      applyStatus(status);
    }
  };
  return (
    <main class="narrow" id="main" data-testid="reset">
      <Heading>{S.resetTitle}</Heading>
      <ul class="explain">
        {S.resetExplain.map((line) => <li key={line}>{line}</li>)}
      </ul>
      <form onSubmit={submit} noValidate>
        <TextField id="reset-confirm" label={S.resetTypeLabel} value={typed} onInput={setTyped} />
        {reset.error && <Notice kind="error">{errorText(reset.error)}</Notice>}
        <div class="actions">
          <button type="submit" class="danger" disabled={typed !== S.resetWord || reset.busy}>
            {reset.busy ? S.working : S.resetButton}
          </button>
          <button type="button" onClick={onBack}>{S.back}</button>
        </div>
      </form>
    </main>
  );
}
