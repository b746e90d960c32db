/// <reference lib="dom" />
/**
 * The undecided conflicts: each names its record in people's terms, compares the
 * kept and the older version field by field (dates in local time, with the year),
 * says who made each, and offers "keep the newer one" or "restore the older one".
 */
import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { S } from "../strings.ts";
import { errorText, useAction } from "../hooks.ts";
import { calendarDate, fieldLabel, fullDateTime } from "../format.ts";
import { conflicts, refreshUnlocked } from "../state.ts";
import type { Conflict, FieldDifference, VersionAuthor } from "../types.ts";
import { Card } from "./Card.tsx";
import { Confirm } from "./Confirm.tsx";
import { Notice } from "./Notice.tsx";

/** The record's name for people ("Patient: Layla Haddad", "Visit: Layla Haddad, 3 Feb 2026"). */
export function conflictName(c: Conflict): string {
  const kind = S.recordKinds[c.table] ?? S.tableNames[c.table] ?? c.table;
  const date = c.label.date !== null ? fullDateTime(c.label.date) : null;
  const title = [c.label.title, date].filter(Boolean).join(", ") || null;
  if (!c.label.patient && !title) return `${kind}: ${S.conflictUnnamed}`;
  return S.conflictRecordTitle(kind, c.label.patient, title);
}

function author(a: VersionAuthor): string {
  const via = a.via === "phone"
    ? S.conflictViaPhone(a.device ?? S.deviceUnnamed)
    : a.via === "cloud"
    ? S.conflictViaCloud
    : a.via === "hub"
    ? S.conflictViaHub
    : S.conflictViaUnknown;
  return a.user ? S.conflictByUser(via, a.user) : via;
}

function value(kind: FieldDifference["kind"], v: unknown): string {
  if (v === null || v === undefined || v === "") return S.conflictEmptyValue;
  if (kind === "datetime" && typeof v === "number") return fullDateTime(v);
  if (kind === "date" && typeof v === "string") return calendarDate(v);
  if (kind === "bool") return v === 1 || v === true ? S.yes : S.no;
  if (kind === "json") return JSON.stringify(v);
  return String(v);
}

function ConflictItem({ c }: { c: Conflict }) {
  const [confirming, setConfirming] = useState(false);
  const decide = useAction(async (how: "keep" | "restore") => {
    try {
      return await (how === "keep" ? api.keepNewer(c.id) : api.restoreOlder(c.id));
    } finally {
      setConfirming(false);
      await refreshUnlocked();
    }
  });
  const name = conflictName(c);
  return (
    <article class="conflict" data-testid="conflict" data-conflict-id={c.id}>
      <h3>{name}</h3>
      <p class="muted small">{S.conflictFound(fullDateTime(c.detectedAt))}</p>
      {c.reason && (
        <Notice kind="warn" testId="conflict-refused">{S.conflictRefused(c.reason)}</Notice>
      )}
      {!c.present
        ? <Notice kind="info">{c.reason ? S.conflictRefusedNew : S.conflictGone}</Notice>
        : (
          <div class="scroll-x">
            <table class="table compare" data-testid="conflict-compare">
              <thead>
                <tr>
                  <th scope="col">{S.conflictField}</th>
                  <th scope="col">{S.conflictKept}</th>
                  <th scope="col">{S.conflictOlder}</th>
                </tr>
              </thead>
              <tbody>
                <tr>
                  <th scope="row">{S.conflictChanged}</th>
                  <td>{fullDateTime(c.keptUpdatedAt)}</td>
                  <td>{fullDateTime(c.lostUpdatedAt)}</td>
                </tr>
                <tr>
                  <th scope="row">{S.conflictMadeBy}</th>
                  <td>{author(c.keptBy)}</td>
                  <td data-testid="conflict-older-by">{author(c.olderBy)}</td>
                </tr>
                {c.differences.map((d) => (
                  <tr key={d.name} class="differs" data-field={d.name}>
                    <th scope="row">{fieldLabel(d.name)}</th>
                    <td>{value(d.kind, d.kept)}</td>
                    <td>{value(d.kind, d.older)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {c.differences.length === 0 && <p class="muted">{S.conflictNoDifference}</p>}
          </div>
        )}
      {!c.restorable && <p class="muted small">{S.conflictCloudManaged}</p>}
      <div class="actions">
        <button
          type="button"
          class="primary"
          disabled={decide.busy}
          onClick={() => decide.run("keep")}
          aria-label={`${S.conflictKeepNewer}: ${name}`}
          data-testid="conflict-keep"
        >
          {S.conflictKeepNewer}
        </button>
        {(c.present || c.reason) && c.restorable && !confirming && (
          <button
            type="button"
            disabled={decide.busy}
            onClick={() => setConfirming(true)}
            aria-label={`${S.conflictRestoreOlder}: ${name}`}
            data-testid="conflict-restore"
          >
            {S.conflictRestoreOlder}
          </button>
        )}
      </div>
      {confirming && (
        <Confirm
          question={S.conflictRestoreConfirm(name)}
          confirmLabel={S.conflictRestoreOlder}
          busy={decide.busy}
          onConfirm={() => decide.run("restore")}
          onCancel={() => setConfirming(false)}
        />
      )}
      {decide.error && <Notice kind="error">{errorText(decide.error)}</Notice>}
    </article>
  );
}

/** The conflicts card of the dashboard. */
export function ConflictsCard() {
  const list = conflicts.value;
  return (
    <Card title={S.conflictsTitle} id="conflicts" span={2}>
      <p class="muted">{S.conflictsHelp}</p>
      {list.length === 0
        ? <p data-testid="conflicts-none">{S.conflictsNone}</p>
        : (
          <div data-testid="conflicts">
            {list.map((c) => <ConflictItem key={c.id} c={c} />)}
          </div>
        )}
    </Card>
  );
}
