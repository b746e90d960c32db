/// <reference lib="dom" />
/**
 * The backups card of the dashboard: the last good backup and its age, the
 * folder (and whether it is there), "Back up now", the folder and interval, and
 * on a restored hub what may be missing and which phones may still hold it.
 */
import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { ago, dateTime } from "../format.ts";
import { errorText, inputValue, useAction } from "../hooks.ts";
import { now, status } from "../state.ts";
import { restoredText } from "../health.ts";
import { Card } from "./Card.tsx";
import { Notice } from "./Notice.tsx";

/** The card's words (kept here until the strings module is split by screen). */
export const B = {
  title: "Backups",
  none: "No backup folder is chosen: choose one (a USB stick, a second disk, a network share).",
  lastGood: (age: string, at: string) => `Last good backup ${age} (${at})`,
  never: "No good backup yet.",
  folder: "Folder",
  folderMissing: "not there: is the USB stick or share connected?",
  every: "Every (minutes, when something changed)",
  save: "Save",
  saved: "Saved.",
  now: "Back up now",
  working: "Backing up…",
  done: (file: string) => `Backed up and checked: ${file}`,
  restored: "Restored from a backup",
  phones: "Phones that synced with the old hub after that backup (they may hold changes it lost):",
  understood: "Understood (stop warning)",
  phonesHint:
    "On each, open Sync settings, set “Since” to the day before the backup's date and press Force upload: records it created or changed since then are sent again.",
};

/** The backups card. */
export function BackupsCard() {
  const b = status.value?.backups;
  const [dir, setDir] = useState<string | null>(null);
  const [every, setEvery] = useState<string | null>(null);
  const backup = useAction(api.backupNow);
  const save = useAction(api.backupSettings);
  const ack = useAction(api.acknowledgeRestore);
  if (!b) return null;
  const submit = async (e: Event) => {
    e.preventDefault();
    const patch: { dir?: string; everyMinutes?: number } = {};
    if (dir !== null && dir.trim() !== "") patch.dir = dir.trim();
    if (every !== null) patch.everyMinutes = Number(every);
    if (await save.run(patch)) {
      setDir(null);
      setEvery(null);
    }
  };
  return (
    <Card title={B.title} id="backups">
      {b.restored && (
        <Notice kind="warn" testId="backup-restored">
          <strong>{B.restored}.</strong> {restoredText(b.restored.backupTakenAt)}
          {b.restored.devicesAfterBackup.length > 0 && (
            <>
              <br />
              {B.phones}
              <ul data-testid="backup-late-devices">
                {b.restored.devicesAfterBackup.map((d) => (
                  <li key={d.device}>{d.name ?? d.device}</li>
                ))}
              </ul>
              {B.phonesHint}
            </>
          )}
          {!b.restored.acknowledgedAt && (
            <div class="actions">
              <button
                type="button"
                onClick={() => void ack.run()}
                disabled={ack.busy}
                data-testid="backup-restored-ack"
              >
                {B.understood}
              </button>
            </div>
          )}
        </Notice>
      )}
      {b.folder === "unset" ? <p data-testid="backup-none">{B.none}</p> : (
        <>
          <p data-testid="backup-last" data-file={b.lastGood?.file ?? ""}>
            {b.lastGood
              ? B.lastGood(ago(b.lastGood.takenAt, now.value), dateTime(b.lastGood.takenAt))
              : B.never}
          </p>
          {b.warning && <Notice kind="warn" testId="backup-warning">{b.warning}</Notice>}
        </>
      )}
      <form onSubmit={submit} noValidate data-testid="backup-settings">
        <label for="backup-dir">{B.folder}</label>
        <input
          id="backup-dir"
          type="text"
          value={dir ?? b.dir ?? ""}
          onInput={(e) => setDir(inputValue(e))}
        />
        {b.folder === "missing" && <p class="muted">{B.folderMissing}</p>}
        <label for="backup-every">{B.every}</label>
        <input
          id="backup-every"
          type="number"
          min={1}
          max={1440}
          value={every ?? String(b.everyMinutes)}
          onInput={(e) => setEvery(inputValue(e))}
        />
        {save.error && <Notice kind="error">{errorText(save.error)}</Notice>}
        {save.result && <Notice kind="ok">{B.saved}</Notice>}
        <div class="actions">
          <button type="submit" disabled={save.busy}>{B.save}</button>
          <button
            type="button"
            class="primary"
            disabled={backup.busy || b.running || b.folder !== "ok"}
            onClick={() => void backup.run()}
            data-testid="backup-now"
          >
            {backup.busy || b.running ? B.working : B.now}
          </button>
        </div>
      </form>
      {backup.error && <Notice kind="error" testId="backup-error">{errorText(backup.error)}
      </Notice>}
      {backup.result && <Notice kind="ok" testId="backup-done">{B.done(backup.result.file)}
      </Notice>}
    </Card>
  );
}
