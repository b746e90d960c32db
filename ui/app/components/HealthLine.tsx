/// <reference lib="dom" />
/**
 * The health line under the header, on every unlocked screen: what stops phones
 * or the cloud, each problem with a link to where it is fixed (ui/app/health.ts).
 */
import { type HealthFix, healthItems } from "../health.ts";
import { devices, now, status, view } from "../state.ts";

/** Shows the screen and card where a problem is fixed, and moves the focus there. */
export function goToFix(fix: HealthFix): void {
  view.value = fix.view;
  // The screen renders later, and a new screen moves the focus to its heading on
  // mount: keep placing the focus in the card until it stays there (2 s at most).
  let tries = 0;
  let steady = 0;
  const place = () => {
    const card = document.getElementById(fix.target);
    if (card) {
      if (!card.contains(document.activeElement)) {
        steady = 0;
        card.scrollIntoView({ block: "start" });
        const control = card.querySelector<HTMLElement>(
          "input, button, select, textarea, a[href]",
        );
        (control ?? card).focus();
      } else if (++steady >= 3) return;
    }
    if (++tries < 40) setTimeout(place, 50);
  };
  setTimeout(place, 0);
}

/** One line under the header. */
export function HealthLine() {
  const s = status.value;
  if (!s) return null;
  const items = healthItems(s, now.value, devices.value);
  if (items.length === 0) return null;
  return (
    <p class="health" data-testid="health" aria-live="polite">
      {items.map((i) => (
        <span key={i.key} class={i.warn ? "warn" : ""} data-testid={`health-${i.key}`}>
          {i.text}
          {i.fix && (
            <>
              {" "}
              <button
                type="button"
                class="link"
                onClick={() => goToFix(i.fix!)}
                data-testid={`health-fix-${i.key}`}
              >
                {i.fix.label}
              </button>
            </>
          )}
        </span>
      ))}
    </p>
  );
}
