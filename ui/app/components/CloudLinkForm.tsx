/// <reference lib="dom" />
/** Links the hub to the cloud: address and API key, verified by the hub. */
import { useState } from "preact/hooks";
import type { Ref } from "preact";
import { api } from "../api.ts";
import { S } from "../strings.ts";
import { errorText, useAction } from "../hooks.ts";
import { refreshUnlocked } from "../state.ts";
import { TextField } from "./Fields.tsx";
import { Notice } from "./Notice.tsx";

/** Props of {@link CloudLinkForm}. */
export interface CloudLinkFormProps {
  /** In the first run: after a link, a "Continue" button calls this. */
  onContinue?: () => void;
  /** Shows a "Skip for now" button calling this. */
  onSkip?: () => void;
  focusRef?: Ref<HTMLInputElement>;
}

function isLoopback(url: string): boolean {
  try {
    const h = new URL(url).hostname;
    return h === "localhost" || h === "127.0.0.1" || h === "[::1]";
  } catch {
    return false;
  }
}

/** The cloud link form. */
export function CloudLinkForm({ onContinue, onSkip, focusRef }: CloudLinkFormProps) {
  const [url, setUrl] = useState("");
  const [key, setKey] = useState("");
  const [insecure, setInsecure] = useState(false);
  const link = useAction(api.registerCloud);
  const plainHttp = url.trim().startsWith("http://") && !isLoopback(url.trim());

  const submit = async (e: Event) => {
    e.preventDefault();
    const r = await link.run(url.trim(), key.trim(), plainHttp && insecure);
    if (r) void refreshUnlocked();
  };

  return (
    <form onSubmit={submit} noValidate data-testid="cloud-form">
      <TextField
        id="cloud-url"
        label={S.cloudUrl}
        value={url}
        onInput={setUrl}
        placeholder={S.cloudUrlPlaceholder}
        type="url"
        inputRef={focusRef}
      />
      <TextField
        id="cloud-key"
        label={S.cloudApiKey}
        value={key}
        onInput={setKey}
        hint={S.cloudApiKeyHint}
      />
      {plainHttp && (
        <label class="check">
          <input
            type="checkbox"
            checked={insecure}
            onChange={(e) => setInsecure((e.currentTarget as HTMLInputElement).checked)}
          />
          {S.cloudAllowInsecure}
        </label>
      )}
      {link.error && <Notice kind="error" testId="cloud-error">{errorText(link.error)}</Notice>}
      {link.result && (
        <Notice kind="ok" testId="cloud-linked">
          {S.cloudLinked(link.result.hubName, link.result.clinicIds.length)}
        </Notice>
      )}
      <div class="actions">
        {link.result && onContinue
          ? (
            <button type="button" class="primary" onClick={onContinue} data-testid="cloud-continue">
              {S.continue}
            </button>
          )
          : (
            <button type="submit" class="primary" disabled={link.busy}>
              {link.busy ? S.working : S.cloudLink}
            </button>
          )}
        {onSkip && !link.result && <button type="button" onClick={onSkip}>{S.cloudSkip}</button>}
      </div>
    </form>
  );
}
