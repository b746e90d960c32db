/// <reference lib="dom" />
/** The passphrase strength meter. */
import { S } from "../strings.ts";
import { strength } from "../strength.ts";

/** Shows how strong `value` is, as a bar and a word. */
export function StrengthMeter({ value }: { value: string }) {
  const score = strength(value);
  return (
    <div class="meter" data-testid="strength" data-score={score}>
      <meter min={0} max={4} low={2} high={3} optimum={4} value={score} aria-hidden="true" />
      <span aria-live="polite">
        {S.strengthLabel}: <strong>{S.strength[score]}</strong>
      </span>
    </div>
  );
}
