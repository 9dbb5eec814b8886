// The one quoting helper and the script builder every host script uses. Only core/scripts writes shell.

/** POSIX single-quote a value: safe for any byte string except NUL (rejected). */
export function quote(value: string | number): string {
  const s = String(value);
  if (s.includes("\0")) throw new Error("cannot quote a value containing a NUL byte");
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Tag for script templates: every ${} value is quoted; use raw() to splice pre-built shell. */
export function sh(strings: TemplateStringsArray, ...values: ReadonlyArray<string | number | Raw>): string {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += (v instanceof Raw ? v.text : quote(v)) + (strings[i + 1] ?? "");
  });
  return out;
}

export class Raw {
  constructor(readonly text: string) {}
}
/** Mark already-safe shell text (built by sh/quote) so sh`` does not quote it again. */
export const raw = (text: string): Raw => new Raw(text);

/** A whole script: strict mode, C locale, then the body lines. */
export function script(...lines: readonly string[]): string {
  return ["#!/bin/bash", "set -euo pipefail", "export LC_ALL=C", ...lines, ""].join("\n");
}
