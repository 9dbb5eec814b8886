// The one report style of the CLI commands: human text built from aligned tables and a findings list (status
// and power keep to 80 columns), or ONE JSON document (--json) with stable keys.
export const TERMINAL_WIDTH = 80;

/** Display width of a string (code points; the reports use no wide characters). */
export const width = (xs: readonly string[]): number => Math.max(0, ...xs.map((x) => [...x].length));
export const pad = (s: string, w: number): string => s + " ".repeat(Math.max(0, w - [...s].length));
export const padLeft = (s: string, w: number): string => " ".repeat(Math.max(0, w - [...s].length)) + s;

/** Aligned columns; `right[i]` right-aligns column i. Trailing spaces trimmed. */
export function table(rows: readonly (readonly string[])[], right: readonly boolean[] = []): string[] {
  const cols = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: cols }, (_, i) => width(rows.map((r) => r[i] ?? "")));
  return rows.map((r) =>
    r
      .map((cell, i) => (right[i] ? padLeft(cell, widths[i]!) : pad(cell, widths[i]!)))
      .join("  ")
      .trimEnd(),
  );
}

/**
 * Words wrapped to `columns`, continuation lines indented by `indent` spaces (the first line's own indent is
 * part of `text`). A word longer than a line stays whole.
 */
export function wrap(text: string, columns = TERMINAL_WIDTH, indent = 4): string[] {
  const lead = /^ */.exec(text)?.[0] ?? "";
  const words = text.slice(lead.length).split(/ +/);
  const lines: string[] = [];
  let line = lead;
  for (const word of words) {
    const sep = line.trim() === "" ? "" : " ";
    if (line.trim() !== "" && [...line].length + sep.length + [...word].length > columns) {
      lines.push(line);
      line = " ".repeat(indent) + word;
    } else line += sep + word;
  }
  lines.push(line);
  return lines;
}

export interface ReportFinding {
  readonly level: string;
  readonly code: string;
  /** Config path or subject (host, VM); "" for the stack as a whole. */
  readonly path: string;
  readonly message: string;
  readonly fix: string;
}

/**
 * Every finding with its fix: `level: path: message [code]`, then `fix: ...`. With `columns`, long lines
 * wrap (status, power); without, each finding stays on two lines (the plan keeps its historic form).
 */
export function findingsSection(list: readonly ReportFinding[], columns?: number): string {
  if (list.length === 0) return "Findings\n  none";
  const lines = ["Findings"];
  const put = (text: string) => lines.push(...(columns ? wrap(text, columns, 6) : [text]));
  for (const f of list) {
    put(`  ${f.level}: ${f.path || "(stack)"}: ${f.message} [${f.code}]`);
    put(`    fix: ${f.fix}`);
  }
  return lines.join("\n");
}

/** One JSON document, as every --json prints it. */
export const jsonDocument = (doc: unknown): string => JSON.stringify(doc, null, 2) + "\n";
