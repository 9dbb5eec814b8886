// Lossless corosync.conf parser. The grammar is corosync's own (exec/coroparse.c, parse_section()), rule for
// rule, quirks included, so a file is accepted here exactly when corosync's parser accepts it (checked
// against the real `corosync -t` in test/unit/corosync/differential.test.ts). Rules follow upstream 3.1.10+;
// older corosync (Debian 12 has 3.1.7) also accepts an empty key (":x"), which we reject. A NUL byte is
// rejected too, where corosync silently cuts the line. The document keeps every source line verbatim:
// printing joins them back, so print(parse(x)) === x, and edits splice lines, so a diff shows only them.
import { CorosyncParseError, type CorosyncParseCode } from "./errors";

export interface SourceLine {
  /** The line without its "\n". A "\r" before the "\n" stays here: corosync drops it only when reading. */
  readonly text: string;
  /** "\n", or "" for a last line that has no newline. */
  readonly eol: "\n" | "";
}

export interface CorosyncEntry {
  readonly kind: "entry";
  /** As corosync reads it: text before the first ':' without surrounding blanks. */
  readonly key: string;
  /** As corosync reads it: text after the first ':' without surrounding blanks (a trailing `# x` is value). */
  readonly value: string;
  /** 1-based line number. */
  readonly line: number;
  /** Where the value sits in the line's text, so an edit can replace it and keep the rest of the line. */
  readonly valueStart: number;
  readonly valueEnd: number;
}

export interface CorosyncSection {
  readonly kind: "section";
  readonly name: string;
  /** 1-based line numbers of `name {` and of its `}`. */
  readonly line: number;
  readonly endLine: number;
  readonly children: readonly CorosyncItem[];
}

export type CorosyncItem = CorosyncSection | CorosyncEntry;

export interface CorosyncDocument {
  /** Every line of the source, comments and blank lines included. */
  readonly lines: readonly SourceLine[];
  /** Top-level sections and entries, in file order. Comments and blank lines live only in `lines`. */
  readonly items: readonly CorosyncItem[];
}

/** corosync reads lines with fgets(line, 512): 510 bytes of text plus "\n" and NUL fill the buffer. */
const MAX_LINE_BYTES = 510;
/** ICMAP_KEYNAME_MAXLEN: a dotted path must satisfy parent + name + 1 < 255 (in bytes). */
const KEYNAME_MAXLEN = 255;

const REASONS: Readonly<Record<CorosyncParseCode, string>> = {
  "line-too-long": "Line too long",
  "missing-section-name": "Missing section name before opening bracket '{'",
  "extra-after-open-brace": "Extra characters after opening bracket '{'",
  "section-path-too-long": "Start of section makes total cmap path too long",
  "empty-key": "Key name can't be empty",
  "key-path-too-long": "New key makes total cmap path too long",
  "extra-around-close-brace": "Extra characters before or after closing bracket '}'",
  "unexpected-close-brace": "Unexpected closing brace",
  "not-section-or-key": "Line is not opening or closing section or key value",
  "missing-close-brace": "Missing closing brace",
  "nul-byte": "NUL byte in line",
};

interface OpenSection {
  readonly name: string;
  readonly line: number;
  /** Byte length of the dotted path ("totem.interface"), for corosync's path length limit. */
  readonly pathBytes: number;
  readonly children: CorosyncItem[];
}

/** What one line is, judged on its own; path lengths and nesting are checked by the caller. */
type LineSyntax =
  | { readonly kind: "trivia" }
  | { readonly kind: "open"; readonly name: string }
  | { readonly kind: "entry"; readonly key: string; readonly valueStart: number; readonly valueEnd: number }
  | { readonly kind: "close" };

const TRIVIA: LineSyntax = { kind: "trivia" };
const CLOSE: LineSyntax = { kind: "close" };

/**
 * How the text's characters map to the file's bytes: "utf8" (a decoded JS string, the default) or "latin1"
 * (one character per byte, as read with `readFileSync(file, "latin1")`: the plan reads corosync.conf so, and
 * counts and edits exactly the bytes corosync and the on-host awk see, whatever the encoding of the file).
 */
export type TextEncoding = "utf8" | "latin1";

/** Parses corosync.conf text; throws CorosyncParseError where corosync's parser would stop. */
export function parseCorosyncConf(text: string, encoding: TextEncoding = "utf8"): CorosyncDocument {
  const lines = splitLines(text);
  const root: OpenSection = { name: "", line: 0, pathBytes: 0, children: [] };
  const stack: OpenSection[] = [root];

  let lineNo = 0;
  for (const { text: raw } of lines) {
    lineNo++;
    const syntax = readLine(raw, encoding);
    if (typeof syntax === "string") throw parseError(syntax, lineNo, raw);
    const parent = stack[stack.length - 1] ?? root;
    switch (syntax.kind) {
      case "trivia":
        break;
      case "open": {
        if (pathTooLong(parent, syntax.name, encoding))
          throw parseError("section-path-too-long", lineNo, raw);
        const nameBytes = corosyncByteLength(syntax.name, encoding);
        const pathBytes = parent === root ? nameBytes : parent.pathBytes + 1 + nameBytes;
        stack.push({ name: syntax.name, line: lineNo, pathBytes, children: [] });
        break;
      }
      case "entry": {
        if (pathTooLong(parent, syntax.key, encoding)) throw parseError("key-path-too-long", lineNo, raw);
        const { key, valueStart, valueEnd } = syntax;
        const value = raw.slice(valueStart, valueEnd);
        parent.children.push({ kind: "entry", key, value, line: lineNo, valueStart, valueEnd });
        break;
      }
      case "close": {
        if (parent === root) throw parseError("unexpected-close-brace", lineNo, raw);
        stack.pop();
        const { name, line, children } = parent;
        (stack[stack.length - 1] ?? root).children.push({
          kind: "section",
          name,
          line,
          endLine: lineNo,
          children,
        });
        break;
      }
    }
  }

  if (stack.length > 1) {
    throw parseError("missing-close-brace", lines.length, lines[lines.length - 1]?.text ?? "");
  }
  return { lines, items: root.children };
}

/** One line, by the rules and in the order of parse_section(). */
function readLine(raw: string, encoding: TextEncoding): LineSyntax | CorosyncParseCode {
  // Deliberately stricter than corosync, which silently truncates a line at a NUL byte.
  if (raw.includes("\0")) return "nul-byte";
  if (tooLong(raw, encoding)) return "line-too-long";

  const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
  const end = trimmedEnd(line);
  const start = skipBlanks(line, 0, end);
  if (start === end || line[start] === "#") return TRIVIA;

  // Any '{' makes a section line, even after a ':' ("key: {x}" is a bad section, not a value).
  const brace = indexBefore(line, "{", end);
  if (brace >= 0) {
    const afterStart = skipBlanks(line, brace + 1, end);
    const name = nameBefore(line, afterStart);
    if (name === "") return "missing-section-name";
    if (afterStart < end) return "extra-after-open-brace";
    return { kind: "open", name };
  }

  const colon = indexBefore(line, ":", end);
  if (colon >= 0) {
    const valueStart = skipBlanks(line, colon + 1, end);
    const key = nameBefore(line, valueStart);
    return key === "" ? "empty-key" : { kind: "entry", key, valueStart, valueEnd: end };
  }

  if (indexBefore(line, "}", end) >= 0) {
    return line.slice(start, end) === "}" ? CLOSE : "extra-around-close-brace";
  }
  return "not-section-or-key";
}

const parseError = (code: CorosyncParseCode, line: number, raw: string) =>
  new CorosyncParseError(code, line, REASONS[code], raw);

/** corosync's cmap limit: parent path + "." + name must stay under ICMAP_KEYNAME_MAXLEN bytes. */
function pathTooLong(parent: OpenSection, name: string, encoding: TextEncoding): boolean {
  // A UTF-16 code unit takes at most 3 UTF-8 bytes: short names need no byte counting.
  if (parent.pathBytes + name.length * 3 + 1 < KEYNAME_MAXLEN) return false;
  return parent.pathBytes + corosyncByteLength(name, encoding) + 1 >= KEYNAME_MAXLEN;
}

/** The exact text the document was parsed from (or the edited text it stands for). */
export function printCorosyncConf(doc: CorosyncDocument): string {
  return doc.lines.map((l) => l.text + l.eol).join("");
}

/** Lines as fgets() sees them: split after each "\n"; a final piece without "\n" is a line too. */
function splitLines(text: string): SourceLine[] {
  const pieces = text.split("\n");
  const last = pieces.pop() ?? "";
  const lines: SourceLine[] = pieces.map((t) => ({ text: t, eol: "\n" }));
  if (last !== "") lines.push({ text: last, eol: "" });
  return lines;
}

// corosync's blanks are space, tab and the byte 0xA0. In UTF-8 text 0xA0 only occurs as a continuation
// byte, never first in a character, so it never decides acceptance; it matters only for byte lengths below.
const isBlank = (c: string | undefined): boolean => c === " " || c === "\t";

function trimmedEnd(line: string): number {
  let end = line.length;
  while (end > 0 && isBlank(line[end - 1])) end--;
  return end;
}

function skipBlanks(line: string, from: number, end: number): number {
  let i = from;
  while (i < end && isBlank(line[i])) i++;
  return i;
}

function indexBefore(line: string, char: string, end: number): number {
  const i = line.indexOf(char);
  return i >= 0 && i < end ? i : -1;
}

/**
 * The section name or key before a '{' or ':'. corosync cuts the line one character before the first
 * non-blank after that '{' / ':' (usually the '{' / ':' itself), then applies remove_whitespace(…, 1).
 */
function nameBefore(line: string, afterSeparator: number): string {
  return removeName(line.slice(0, afterSeparator - 1));
}

/** coroparse.c remove_whitespace(): trims blanks and trailing ':' / '{', but never the first character left. */
function removeName(s: string): string {
  const start = skipBlanks(s, 0, s.length);
  if (start === s.length) return "";
  let end = s.length - 1;
  while (end > start && (isBlank(s[end]) || s[end] === ":" || s[end] === "{")) end--;
  return s.slice(start, end + 1);
}

const ASCII = /^[\x00-\x7f]*$/;

function tooLong(line: string, encoding: TextEncoding): boolean {
  // A UTF-16 code unit never takes more than 3 UTF-8 bytes: short lines need no counting.
  if (encoding === "latin1") return line.length > MAX_LINE_BYTES;
  return line.length * 3 > MAX_LINE_BYTES && Buffer.byteLength(line, "utf8") > MAX_LINE_BYTES;
}

/** Bytes corosync keeps of a name: it also strips trailing 0xA0 bytes (the tail of e.g. "à" = C3 A0). */
function corosyncByteLength(name: string, encoding: TextEncoding): number {
  if (ASCII.test(name)) return name.length;
  const bytes = Buffer.from(name, encoding);
  let end = bytes.length;
  const strippable = (b: number | undefined): boolean =>
    b === 0x20 || b === 0x09 || b === 0xa0 || b === 0x3a || b === 0x7b;
  while (end > 1 && strippable(bytes[end - 1])) end--;
  return end;
}
