/// <reference lib="dom" />
/** Changing the passphrase: current, new twice, with the strength meter. */
import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { S } from "../strings.ts";
import { MIN_PASSPHRASE } from "../strength.ts";
import { errorText, useAction } from "../hooks.ts";
import { Card } from "./Card.tsx";
import { PassphraseField } from "./Fields.tsx";
import { StrengthMeter } from "./StrengthMeter.tsx";
import { Notice } from "./Notice.tsx";

/** The change-passphrase card. */
export function ChangePassphrase() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const change = useAction(api.changePassphrase);
  const submit = async (e: Event) => {
    e.preventDefault();
    if ([...next].length < MIN_PASSPHRASE) return setProblem(S.passphraseTooShort);
    if (next !== again) return setProblem(S.passphraseMismatch);
    setProblem(null);
    if (await change.run(current, next)) {
      setCurrent("");
      setNext("");
      setAgain("");
    }
  };
  return (
    <Card title={S.changePassTitle} id="change-pass">
      <form onSubmit={submit} noValidate>
        <PassphraseField
          id="cp-current"
          label={S.passphraseCurrent}
          value={current}
          onInput={setCurrent}
          autoComplete="current-password"
        />
        <PassphraseField
          id="cp-next"
          label={S.passphraseNew}
          value={next}
          onInput={setNext}
          autoComplete="new-password"
          hint={S.passphraseHint}
        />
        <StrengthMeter value={next} />
        <PassphraseField
          id="cp-again"
          label={S.passphraseNewRepeat}
          value={again}
          onInput={setAgain}
          autoComplete="new-password"
          invalid={again !== "" && again !== next}
        />
        {problem && <Notice kind="error">{problem}</Notice>}
        {change.error && <Notice kind="error">{errorText(change.error)}</Notice>}
        {change.result && <Notice kind="ok">{S.changePassDone}</Notice>}
        <div class="actions">
          <button type="submit" class="primary" disabled={change.busy}>
            {change.busy ? S.working : S.changePassButton}
          </button>
        </div>
      </form>
    </Card>
  );
}
