/// <reference lib="dom" />
/** Maintenance: passphrase, database key, clearing records, locking, cloud link. */
import { S } from "../strings.ts";
import { status } from "../state.ts";
import { Heading } from "./Heading.tsx";
import { Card } from "./Card.tsx";
import { ChangePassphrase } from "./ChangePassphrase.tsx";
import { RotateKey } from "./RotateKey.tsx";
import { ClearData } from "./ClearData.tsx";
import { LockCard } from "./LockCard.tsx";
import { CloudLinkForm } from "./CloudLinkForm.tsx";

/** The maintenance screen. */
export function Maintenance() {
  const linked = status.value?.cloud?.registered ?? false;
  return (
    <div data-testid="maintenance">
      <Heading>{S.maintenanceTitle}</Heading>
      <div class="grid">
        <LockCard />
        <RotateKey />
        <ClearData />
        <ChangePassphrase />
        <Card title={linked ? S.cloudRelink : S.cloudTitle} id="relink">
          <CloudLinkForm />
        </Card>
      </div>
    </div>
  );
}
