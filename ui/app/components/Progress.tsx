/// <reference lib="dom" />
/** An indeterminate progress bar with a label (the hub does not report percentages). */

/** Shows that something runs, and how long it has run. */
export function Progress({ label, testId }: { label: string; testId?: string }) {
  return (
    <div class="progress" role="status" data-testid={testId}>
      <div class="bar" aria-hidden="true">
        <span />
      </div>
      <span>{label}</span>
    </div>
  );
}
