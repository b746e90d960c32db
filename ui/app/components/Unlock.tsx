/// <reference lib="dom" />
/** The unlock screen: wrong passphrases say so and show the wait; "forgot" leads to the reset. */
import { useState } from "preact/hooks";
import { api, ApiError, signIn as signInWithPassphrase } from "../api.ts";
import { S } from "../strings.ts";
import { errorText, useCountdown, useFocusOnMount } from "../hooks.ts";
import { applyStatus, autoLocked } from "../state.ts";
import { PassphraseField } from "./Fields.tsx";
import { Notice } from "./Notice.tsx";
import { Heading } from "./Heading.tsx";
import { Reset } from "./Reset.tsx";

/** Props of {@link Unlock}. */
export interface UnlockProps {
  /**
   * This tab has no session (the hub restarted, or the address was typed in): the
   * passphrase signs it in, unlocking the hub if it is `locked`. "Forgot" needs a
   * session, so it is not offered here.
   */
  signIn?: "locked" | "unlocked";
}

/** The unlock form, or the reset explanation after "forgot passphrase". */
export function Unlock({ signIn }: UnlockProps = {}) {
  const [forgot, setForgot] = useState(false);
  const [pass, setPass] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [until, setUntil] = useState<number | null>(null);
  const focus = useFocusOnMount<HTMLInputElement>();
  const wait = useCountdown(until);

  if (forgot) return <Reset onBack={() => setForgot(false)} />;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (wait > 0 || pass === "" || busy) return;
    setBusy(true);
    try {
      if (signIn) {
        await signInWithPassphrase(pass);
        // Start over with the new session cookie: status, lists and the event stream.
        location.reload();
        return;
      }
      const status = await api.unlock(pass);
      setPass("");
      setError(null);
      applyStatus(status);
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : new ApiError(0, S.unknownError);
      setError(apiErr);
      const retry = apiErr.retryAfterSeconds;
      setUntil(retry !== null && retry > 0 ? Date.now() + retry * 1000 : null);
      focus.current?.select();
    } finally {
      setBusy(false);
    }
  };

  const wrong = error?.code === "wrong_passphrase";
  return (
    <main class="narrow" id="main" data-testid={signIn ? "sign-in" : "unlock"}>
      <Heading>{signIn === "unlocked" ? S.signInTitle : S.unlockTitle}</Heading>
      {autoLocked.value !== null && (
        <Notice kind="info" testId="autolocked">{S.unlockAutoLocked(autoLocked.value)}</Notice>
      )}
      <p>{signIn === "unlocked" ? S.signInIntro : S.unlockIntro}</p>
      <form onSubmit={submit} noValidate>
        <PassphraseField
          id="unlock-pass"
          label={S.passphrase}
          value={pass}
          onInput={setPass}
          autoComplete="current-password"
          inputRef={focus}
          invalid={wrong}
        />
        {error && (
          <Notice kind="error" testId="unlock-error">
            {wrong ? S.unlockWrong : errorText(error)}
            {wait > 0 && (
              <span class="detail" data-testid="unlock-wait">{S.waitSeconds(wait)}</span>
            )}
          </Notice>
        )}
        <div class="actions">
          <button
            type="submit"
            class="primary"
            disabled={busy || wait > 0}
            data-testid="unlock-button"
          >
            {busy ? S.working : S.unlockButton}
          </button>
          {!signIn && (
            <button type="button" class="link" onClick={() => setForgot(true)}>
              {S.forgotLink}
            </button>
          )}
        </div>
      </form>
    </main>
  );
}
