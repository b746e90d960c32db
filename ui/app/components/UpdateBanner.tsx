/// <reference lib="dom" />
/**
 * The updates banner, wired to `GET /api/update` (a 404 means this hub has no
 * update API: the banner stays hidden). It shows a newer version with its notes
 * and installs only when the operator clicks; download and install progress
 * arrive as `update` events; an offline check shows a retry.
 */
import { api } from "../api.ts";
import { S } from "../strings.ts";
import { errorText, useAction } from "../hooks.ts";
import { update } from "../state.ts";
import type { UpdateStatus } from "../types.ts";
import { Progress } from "./Progress.tsx";

function percent(u: UpdateStatus): number | null {
  const p = u.progress;
  return p && p.total ? Math.floor((p.received / p.total) * 100) : null;
}

/** The banner (nothing without an update API or anything to say). */
export function UpdateBanner() {
  const u = update.value;
  const install = useAction(api.installUpdate);
  const check = useAction(api.checkUpdate);
  const apply = (r: UpdateStatus | undefined) => r && (update.value = r);
  if (!u) return null;
  let body;
  switch (u.state) {
    case "available":
      body = (
        <>
          <strong>{S.updateAvailable(u.latest ?? "?")}</strong>
          {u.notes && (
            <details>
              <summary>{S.updateNotes}</summary>
              <p class="notes">{u.notes}</p>
            </details>
          )}
          {u.canInstall
            ? (
              <button
                type="button"
                class="primary"
                disabled={install.busy}
                onClick={async () => apply(await install.run())}
                data-testid="update-install"
              >
                {S.updateInstall}
              </button>
            )
            : <span class="muted">{S.updateCannotInstall}</span>}
        </>
      );
      break;
    case "downloading":
      body = <Progress label={S.updateDownloading(percent(u))} />;
      break;
    case "verifying":
      body = <Progress label={S.updateVerifying} />;
      break;
    case "installing":
      body = <Progress label={S.updateInstalling} />;
      break;
    case "failed":
      body = (
        <>
          <span>{S.updateFailed(u.error ?? "")}</span>
          {u.retryable && (
            <button
              type="button"
              disabled={check.busy}
              onClick={async () => apply(await check.run())}
            >
              {S.updateRetry}
            </button>
          )}
        </>
      );
      break;
    default:
      return null;
  }
  const error = install.error ?? check.error;
  return (
    <div class="banner" role="status" data-testid="update-banner" data-state={u.state}>
      {body}
      {error && <span class="error-text">{errorText(error)}</span>}
    </div>
  );
}
