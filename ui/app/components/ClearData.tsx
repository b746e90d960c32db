/// <reference lib="dom" />
/**
 * Clearing the records on this computer: needs the passphrase, warns while
 * changes wait for the cloud (the hub refuses then), and offers to force only
 * after that refusal, with the number of changes that would be lost.
 */
import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { S } from "../strings.ts";
import { errorText, useAction } from "../hooks.ts";
import { total } from "../format.ts";
import { refreshStatus, status } from "../state.ts";
import { Card } from "./Card.tsx";
import { PassphraseField } from "./Fields.tsx";
import { Notice } from "./Notice.tsx";

/** The clear-data card. */
export function ClearData() {
  const [pass, setPass] = useState("");
  const [force, setForce] = useState(false);
  const clear = useAction(async (p: string, f: boolean) => {
    try {
      return await api.clear(p, f);
    } finally {
      await refreshStatus();
    }
  });
  const waiting = status.value?.pendingCloud?.count ?? 0;
  const refused = clear.error?.code === "changes_pending";
  const pendingAtRefusal = typeof clear.error?.body.pending === "number"
    ? clear.error.body.pending as number
    : waiting;
  const submit = async (e: Event) => {
    e.preventDefault();
    if (pass === "") return;
    if (await clear.run(pass, refused && force)) {
      setPass("");
      setForce(false);
    }
  };
  return (
    <Card title={S.clearTitle} id="clear">
      <p class="muted">{S.clearHelp}</p>
      {waiting > 0 && (
        <Notice kind="warn" testId="clear-pending">{S.clearPendingWarning(waiting)}</Notice>
      )}
      <form onSubmit={submit} noValidate>
        <PassphraseField
          id="clear-pass"
          label={S.passphrase}
          value={pass}
          onInput={setPass}
          autoComplete="current-password"
        />
        {refused && (
          <>
            <Notice kind="error" testId="clear-refused">{S.clearRefused(pendingAtRefusal)}</Notice>
            <label class="check">
              <input
                type="checkbox"
                checked={force}
                onChange={(e) => setForce((e.currentTarget as HTMLInputElement).checked)}
                data-testid="clear-force"
              />
              {S.clearForce}
            </label>
          </>
        )}
        {clear.error && !refused && <Notice kind="error">{errorText(clear.error)}</Notice>}
        {clear.result && (
          <Notice kind="ok" testId="clear-done">{S.clearDone(total(clear.result.deleted))}</Notice>
        )}
        <div class="actions">
          <button
            type="submit"
            class="danger"
            disabled={clear.busy || pass === ""}
            data-testid="clear-button"
          >
            {clear.busy ? S.working : S.clearButton}
          </button>
        </div>
      </form>
    </Card>
  );
}
