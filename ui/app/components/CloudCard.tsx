/// <reference lib="dom" />
/** The cloud: link form until linked, then "Sync with cloud now" with progress and outcome. */
import { api } from "../api.ts";
import { S } from "../strings.ts";
import { errorText, useAction, useElapsed } from "../hooks.ts";
import { inFuture, total } from "../format.ts";
import { now, refreshStatus, status } from "../state.ts";
import { Card } from "./Card.tsx";
import { CloudLinkForm } from "./CloudLinkForm.tsx";
import { Notice } from "./Notice.tsx";
import { Progress } from "./Progress.tsx";

/** The cloud card of the dashboard. */
export function CloudCard() {
  const h = status.value?.cloud;
  const sync = useAction(async () => {
    try {
      return await api.syncCloud();
    } finally {
      await refreshStatus();
    }
  });
  const elapsed = useElapsed(sync.busy);
  if (!h) return null;
  if (!h.registered) {
    return (
      <Card title={S.syncTitle} id="cloud">
        <p>{S.cloudNotLinked}</p>
        <CloudLinkForm />
      </Card>
    );
  }
  const running = sync.busy || h.cycleRunning;
  return (
    <Card title={S.syncTitle} id="cloud">
      <p>
        <code data-testid="cloud-url">{h.cloudUrl}</code>
      </p>
      <div class="actions">
        <button
          type="button"
          class="primary"
          disabled={sync.busy}
          onClick={() => sync.run()}
          data-testid="sync-now"
        >
          {S.syncNow}
        </button>
      </div>
      {running && <Progress label={S.syncRunning(elapsed)} testId="sync-progress" />}
      {sync.result && !sync.busy && (
        <Notice kind="ok" testId="sync-result">
          {S.syncResult(
            total(sync.result.pulled),
            total(sync.result.pushed),
            sync.result.durationMs,
          )}
        </Notice>
      )}
      {sync.error && !sync.busy && (
        <Notice kind="error" testId="sync-error">{S.syncFailed(errorText(sync.error))}</Notice>
      )}
      {!sync.error && h.lastError && !running && (
        <p class="muted">
          {S.syncLastError}: {h.lastError}
        </p>
      )}
      {h.nextAttemptAt !== null && !running && (
        <p class="muted">{S.syncNextAttempt(inFuture(h.nextAttemptAt, now.value))}</p>
      )}
    </Card>
  );
}
