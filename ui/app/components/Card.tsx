/// <reference lib="dom" />
/** A titled section of a screen. */
import type { ComponentChildren } from "preact";

/** Props of {@link Card}. */
export interface CardProps {
  title: string;
  /** Stable id (tests and the heading's aria link use it). */
  id: string;
  children: ComponentChildren;
  /** Spans the whole row. */
  wide?: boolean;
  /** Spans two columns (where there are that many). */
  span?: 2;
}

/** A card with a heading. */
export function Card({ title, id, children, wide, span }: CardProps) {
  const cls = wide ? "card wide" : span === 2 ? "card span2" : "card";
  return (
    <section class={cls} id={id} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      {children}
    </section>
  );
}
