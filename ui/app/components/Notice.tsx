/// <reference lib="dom" />
/** A message box: errors and warnings are announced to screen readers. */
import type { ComponentChildren } from "preact";

/** Props of {@link Notice}. */
export interface NoticeProps {
  kind: "error" | "warn" | "ok" | "info";
  children: ComponentChildren;
  testId?: string;
}

/** One message. */
export function Notice({ kind, children, testId }: NoticeProps) {
  return (
    <div
      class={`notice ${kind}`}
      role={kind === "error" || kind === "warn" ? "alert" : "status"}
      data-testid={testId}
    >
      {children}
    </div>
  );
}
