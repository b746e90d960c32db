/// <reference lib="dom" />
/** First-run step 1: choose the passphrase (twice), with the strength meter and the warning. */
import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { S } from "../strings.ts";
import { MIN_PASSPHRASE } from "../strength.ts";
import { errorText, useAction, useFocusOnMount } from "../hooks.ts";
import { applyStatus, setupStep } from "../state.ts";
import { PassphraseField } from "./Fields.tsx";
import { StrengthMeter } from "./StrengthMeter.tsx";
import { Notice } from "./Notice.tsx";

/** The passphrase form of the first run. */
export function SetPassphrase() {
  const [first, setFirst] = useState("");
  const [second, setSecond] = useState("");
  const [understood, setUnderstood] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const focus = useFocusOnMount<HTMLInputElement>();
  const setup = useAction(api.setup);

  const submit = async (e: Event) => {
    e.preventDefault();
    if ([...first].length < MIN_PASSPHRASE) return setProblem(S.passphraseTooShort);
    if (first !== second) return setProblem(S.passphraseMismatch);
    // The box's own label already says what it means; the error says what to do.
    if (!understood) return setProblem(S.setupConfirmMissing);
    setProblem(null);
    const status = await setup.run(first);
    if (status) {
      setupStep.value = "cloud";
      applyStatus(status);
    }
  };

  return (
    <form onSubmit={submit} noValidate data-testid="setup-form">
      <p>{S.setupIntro}</p>
      <div class="notice warn" data-testid="setup-warning">
        <strong>{S.setupWarningTitle}</strong> {S.setupWarning}
      </div>
      <PassphraseField
        id="setup-pass"
        label={S.passphrase}
        value={first}
        onInput={setFirst}
        hint={S.passphraseHint}
        autoComplete="new-password"
        inputRef={focus}
      />
      <StrengthMeter value={first} />
      <PassphraseField
        id="setup-pass2"
        label={S.passphraseRepeat}
        value={second}
        onInput={setSecond}
        autoComplete="new-password"
        invalid={second !== "" && second !== first}
      />
      <label class="check">
        <input
          type="checkbox"
          id="setup-understood"
          checked={understood}
          aria-invalid={problem === S.setupConfirmMissing ? "true" : undefined}
          aria-describedby={problem === S.setupConfirmMissing ? "setup-problem" : undefined}
          onChange={(e) => setUnderstood((e.currentTarget as HTMLInputElement).checked)}
        />
        {S.setupConfirm}
      </label>
      {problem && (
        <div id="setup-problem">
          <Notice kind="error" testId="setup-problem">{problem}</Notice>
        </div>
      )}
      {setup.error && <Notice kind="error">{errorText(setup.error)}</Notice>}
      <div class="actions">
        <button type="submit" class="primary" disabled={setup.busy}>
          {setup.busy ? S.working : S.setupButton}
        </button>
      </div>
    </form>
  );
}
