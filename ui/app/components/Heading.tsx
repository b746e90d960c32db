/// <reference lib="dom" />
/** A screen's main heading; it takes the keyboard focus when it appears, so screen changes are announced. */
import type { ComponentChildren } from "preact";
import { useFocusOnMount } from "../hooks.ts";

/** The `h1` of a screen. */
export function Heading({ children }: { children: ComponentChildren }) {
  const ref = useFocusOnMount<HTMLHeadingElement>();
  return <h1 tabIndex={-1} ref={ref}>{children}</h1>;
}
