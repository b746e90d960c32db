/// <reference lib="dom" />
/** Starts or stops the phone (LAN) server, explaining "address already in use". */
import { api } from "../api.ts";
import { S } from "../strings.ts";
import { errorText, useAction } from "../hooks.ts";
import { refreshStatus, status } from "../state.ts";
import { Notice } from "./Notice.tsx";

/** The start/stop button with its error. */
export function ServerToggle() {
  const running = status.value?.server.running ?? false;
  const toggle = useAction(async () => {
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
          onClick={() => toggle.run()}
          data-testid="server-toggle"
        >
          {toggle.busy ? S.working : running ? S.serverStop : S.serverStart}
        </button>
      </div>
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
