/// <reference lib="dom" />
/** Lock now, and the optional auto-lock after idle time. */
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.ts";
import { S } from "../strings.ts";
import { errorText, useAction } from "../hooks.ts";
import { applyStatus } from "../state.ts";
import type { AutoLockState } from "../types.ts";
import { Card } from "./Card.tsx";
import { Notice } from "./Notice.tsx";

const CHOICES = [0, 5, 15, 30, 60, 240];

/** The lock card. */
export function LockCard() {
  const lock = useAction(api.lock);
  const [auto, setAuto] = useState<AutoLockState | null>(null);
  const save = useAction(api.setAutoLock);
  useEffect(() => {
    api.autoLock().then(setAuto, () => {});
  }, []);
  const choose = async (value: string) => {
    const r = await save.run(Number(value) === 0 ? null : Number(value));
    if (r) setAuto(r);
  };
  const current = auto?.minutes ?? 0;
  const choices = CHOICES.includes(current) ? CHOICES : [...CHOICES, current].sort((a, b) => a - b);
  return (
    <Card title={S.lockTitle} id="lock">
      <p class="muted">{S.lockHelp}</p>
      <div class="actions">
        <button
          type="button"
          disabled={lock.busy}
          onClick={async () => {
            const s = await lock.run();
            if (s) applyStatus(s);
          }}
          data-testid="lock-now"
        >
          {S.lockButton}
        </button>
      </div>
      {lock.error && <Notice kind="error">{errorText(lock.error)}</Notice>}
      <h3>{S.autoLockTitle}</h3>
      <p class="muted">{S.autoLockHelp}</p>
      <div class="field inline">
        <label for="autolock">{S.autoLockLabel}</label>
        <select
          id="autolock"
          value={String(current)}
          disabled={auto === null || save.busy}
          onChange={(e) => choose((e.currentTarget as HTMLSelectElement).value)}
        >
          {choices.map((m) => (
            <option key={m} value={String(m)}>
              {m === 0 ? S.autoLockOff : S.autoLockMinutes(m)}
            </option>
          ))}
        </select>
      </div>
      {save.result && <p class="muted" role="status">{S.autoLockSaved}</p>}
      {save.error && <Notice kind="error">{errorText(save.error)}</Notice>}
    </Card>
  );
}
