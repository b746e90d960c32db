/// <reference lib="dom" />
/** Re-encrypting the database under a new key, with progress. */
import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { S } from "../strings.ts";
import { errorText, useAction, useElapsed } from "../hooks.ts";
import { Card } from "./Card.tsx";
import { Confirm } from "./Confirm.tsx";
import { Notice } from "./Notice.tsx";
import { Progress } from "./Progress.tsx";

/** The rotate-key card. */
export function RotateKey() {
  const [asking, setAsking] = useState(false);
  const rotate = useAction(api.rotateKey);
  const elapsed = useElapsed(rotate.busy);
  return (
    <Card title={S.rotateTitle} id="rotate">
      <p class="muted">{S.rotateHelp}</p>
      {asking && !rotate.busy
        ? (
          <Confirm
            question={S.rotateConfirm}
            confirmLabel={S.rotateButton}
            onConfirm={() => {
              setAsking(false);
              void rotate.run();
            }}
            onCancel={() => setAsking(false)}
          />
        )
        : (
          <div class="actions">
            <button
              type="button"
              disabled={rotate.busy}
              onClick={() => {
                rotate.reset();
                setAsking(true);
              }}
              data-testid="rotate-button"
            >
              {S.rotateButton}
            </button>
          </div>
        )}
      {rotate.busy && <Progress label={S.rotateRunning(elapsed)} testId="rotate-progress" />}
      {rotate.result && (
        <Notice kind="ok" testId="rotate-done">{S.rotateDone(rotate.result.durationMs)}</Notice>
      )}
      {rotate.error && <Notice kind="error">{errorText(rotate.error)}</Notice>}
    </Card>
  );
}
