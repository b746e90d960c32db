/// <reference lib="dom" />
/** An inline "are you sure?" box: the confirm button takes the focus, Escape cancels. */
import { useFocusOnMount } from "../hooks.ts";
import { S } from "../strings.ts";

/** Props of {@link Confirm}. */
export interface ConfirmProps {
  question: string;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  busy?: boolean;
  danger?: boolean;
}

/** The confirmation box. */
export function Confirm(p: ConfirmProps) {
  const ref = useFocusOnMount<HTMLButtonElement>();
  return (
    <div
      class="confirm"
      role="alertdialog"
      aria-label={p.question}
      onKeyDown={(e) => e.key === "Escape" && p.onCancel()}
    >
      <p>{p.question}</p>
      <div class="actions">
        <button
          type="button"
          class={p.danger ? "danger" : "primary"}
          disabled={p.busy}
          onClick={p.onConfirm}
          ref={ref}
          data-testid="confirm-yes"
        >
          {p.busy ? S.working : p.confirmLabel}
        </button>
        <button type="button" onClick={p.onCancel}>{S.cancel}</button>
      </div>
    </div>
  );
}
