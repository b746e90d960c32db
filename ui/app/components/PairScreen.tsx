/// <reference lib="dom" />
/** The "pair a device" screen. */
import { S } from "../strings.ts";
import { Heading } from "./Heading.tsx";
import { PairPanel } from "./PairPanel.tsx";

/** The pairing screen. */
export function PairScreen() {
  return (
    <div data-testid="pair-screen">
      <Heading>{S.pairTitle}</Heading>
      <PairPanel />
    </div>
  );
}
