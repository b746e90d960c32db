/// <reference lib="dom" />
/** Starts or stops the phone (LAN) server, explaining "address already in use". */
import { api } from "../api.ts";
import { S } from "../strings.ts";
import { errorText, useAction } from "../hooks.ts";
import { refreshStatus, status } from "../state.ts";
import { Notice } from "./Notice.tsx";
import { Confirm } from "./Confirm.tsx";
import { useState } from "preact/hooks";

/** The start/stop button with its error. */
export function ServerToggle() {
  const running = status.value?.server.running ?? false;
  const [confirming, setConfirming] = useState(false);
  const toggle = useAction(async () => {
    setConfirming(false);
    try {
      return await (running ? api.stopServer() : api.startServer());
    } finally {
      await refreshStatus();
    }
  });
  const serverError = status.value?.server.error ?? null;
  const inUse = toggle.error?.code === "address_in_use" ||
    (!running && serverError !== null && /already in use/i.test(serverError));
  return (
    <div>
      <div class="actions">
        <button
          type="button"
          class={running ? "" : "primary"}
          disabled={toggle.busy}
          // Stopping cuts every phone off: ask first. Starting needs no question.
          onClick={() => running ? setConfirming(true) : toggle.run()}
          data-testid="server-toggle"
        >
          {toggle.busy ? S.working : running ? S.serverStop : S.serverStart}
        </button>
      </div>
      {confirming && running && (
        <Confirm
          question={S.serverStopConfirm}
          confirmLabel={S.serverStop}
          danger
          busy={toggle.busy}
          onConfirm={() => toggle.run()}
          onCancel={() => setConfirming(false)}
        />
      )}
      {inUse && (
        <Notice kind="error" testId="server-in-use">
          <strong>{S.serverInUseTitle}.</strong> {S.serverInUseHelp}
          {serverError && <span class="detail">{serverError}</span>}
        </Notice>
      )}
      {!inUse && toggle.error && <Notice kind="error">{errorText(toggle.error)}</Notice>}
    </div>
  );
}
