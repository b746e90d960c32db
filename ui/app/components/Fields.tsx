/// <reference lib="dom" />
/** Labelled inputs: text and passphrase (with a show/hide toggle). */
import { useState } from "preact/hooks";
import type { Ref } from "preact";
import { S } from "../strings.ts";
import { inputValue } from "../hooks.ts";

/** Props of {@link TextField} and {@link PassphraseField}. */
export interface FieldProps {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  hint?: string;
  placeholder?: string;
  autoComplete?: string;
  inputRef?: Ref<HTMLInputElement>;
  invalid?: boolean;
}

/** A labelled text input. */
export function TextField(p: FieldProps & { type?: "text" | "url" }) {
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <input
        id={p.id}
        type={(p.type ?? "text") as "text"}
        value={p.value}
        placeholder={p.placeholder}
        autoComplete={p.autoComplete ?? "off"}
        spellcheck={false}
        aria-invalid={p.invalid ? "true" : undefined}
        aria-describedby={p.hint ? `${p.id}-hint` : undefined}
        onInput={(e) => p.onInput(inputValue(e))}
        ref={p.inputRef}
      />
      {p.hint && <p class="hint" id={`${p.id}-hint`}>{p.hint}</p>}
    </div>
  );
}

/** A labelled passphrase input with a "show" toggle. */
export function PassphraseField(p: FieldProps) {
  const [shown, setShown] = useState(false);
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <div class="with-button">
        <input
          id={p.id}
          // Preact's types split inputs by type; both kinds take the same attributes here.
          type={(shown ? "text" : "password") as "text"}
          value={p.value}
          autoComplete={p.autoComplete ?? "off"}
          spellcheck={false}
          aria-invalid={p.invalid ? "true" : undefined}
          aria-describedby={p.hint ? `${p.id}-hint` : undefined}
          onInput={(e) => p.onInput(inputValue(e))}
          ref={p.inputRef}
        />
        <button
          type="button"
          class="ghost"
          aria-pressed={shown}
          aria-controls={p.id}
          aria-label={S.showPassphrase}
          onClick={() => setShown(!shown)}
        >
          {shown ? S.hide : S.show}
        </button>
      </div>
      {p.hint && <p class="hint" id={`${p.id}-hint`}>{p.hint}</p>}
    </div>
  );
}
