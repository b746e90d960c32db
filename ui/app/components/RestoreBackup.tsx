/// <reference lib="dom" />
/**
 * "Restore from a backup" on the first-run screen: a backup file and the
 * passphrase the hub had when it was taken. The hub checks the whole file first
 * and refuses a damaged one or a wrong passphrase with a message.
 */
import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { errorText, useAction } from "../hooks.ts";
import { applyStatus, view } from "../state.ts";
import { PassphraseField } from "./Fields.tsx";
import { Notice } from "./Notice.tsx";

const R = {
  open: "Restore from a backup",
  intro:
    "Bring back a hub from a backup file (*.hubbackup), on this computer or another one. Use the passphrase the hub had when the backup was taken.",
  file: "Backup file",
  passphrase: "The backup's passphrase",
  button: "Restore",
  working: "Checking and restoring…",
  noFile: "Choose the backup file.",
};

/** The restore form (folded until opened). */
export function RestoreBackup() {
  const [open, setOpen] = useState(false);
  const [file, setFile] = useState<File | null>(null);
  const [passphrase, setPassphrase] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const restore = useAction(api.restore);
  if (!open) {
    return (
      <div class="actions">
        <button type="button" onClick={() => setOpen(true)} data-testid="restore-open">
          {R.open}
        </button>
      </div>
    );
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!file) return setProblem(R.noFile);
    setProblem(null);
    const r = await restore.run(file, passphrase);
    if (r) {
      applyStatus(r.status);
      view.value = "dashboard";
    }
  };
  return (
    <form onSubmit={submit} noValidate data-testid="restore-form">
      <h2>{R.open}</h2>
      <p>{R.intro}</p>
      <label for="restore-file">{R.file}</label>
      <input
        id="restore-file"
        type="file"
        accept=".hubbackup"
        onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)}
      />
      <PassphraseField
        id="restore-pass"
        label={R.passphrase}
        value={passphrase}
        onInput={setPassphrase}
        autoComplete="current-password"
      />
      {problem && <Notice kind="error">{problem}</Notice>}
      {restore.error && (
        <Notice kind="error" testId="restore-error">{errorText(restore.error)}</Notice>
      )}
      <div class="actions">
        <button type="submit" class="primary" disabled={restore.busy}>
          {restore.busy ? R.working : R.button}
        </button>
      </div>
    </form>
  );
}
