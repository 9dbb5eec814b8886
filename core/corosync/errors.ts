// Typed errors of the corosync.conf engine. Callers branch on `code` (stable); messages are for humans.

/** Syntax errors, one per rejection in corosync's exec/coroparse.c parse_section(), plus "nul-byte". */
export type CorosyncParseCode =
  | "line-too-long"
  | "missing-section-name"
  | "extra-after-open-brace"
  | "section-path-too-long"
  | "empty-key"
  | "key-path-too-long"
  | "extra-around-close-brace"
  | "unexpected-close-brace"
  | "not-section-or-key"
  | "missing-close-brace"
  | "nul-byte";

/** What to do about each syntax error; appended to the message. */
const PARSE_FIXES: Readonly<Record<CorosyncParseCode, string>> = {
  "line-too-long": "corosync reads at most 510 bytes per line; shorten it",
  "missing-section-name": "write the section name before '{', e.g. `totem {`",
  "extra-after-open-brace": "nothing may follow '{' on its line; move it to the next line",
  "section-path-too-long": "the dotted section path must stay under 254 bytes; shorten the names",
  "empty-key": "write a key before ':', e.g. `quorum_votes: 1`",
  "key-path-too-long": "the dotted key path must stay under 254 bytes; shorten the key",
  "extra-around-close-brace": "'}' must stand alone on its line (comments only on lines of their own)",
  "unexpected-close-brace": "remove the extra '}' or open the section it closes",
  "not-section-or-key": "each line must be `name {`, `}`, `key: value`, a `#` comment or blank",
  "missing-close-brace": "add the '}' that closes the last open section",
  "nul-byte": "remove the NUL byte (corosync would silently cut the line there)",
};

/** corosync.conf text that corosync itself would refuse to parse. */
export class CorosyncParseError extends Error {
  override readonly name = "CorosyncParseError";

  constructor(
    readonly code: CorosyncParseCode,
    /** 1-based line number, as corosync reports it. */
    readonly line: number,
    /** corosync's own wording of the error (what `corosync -t` prints after the line number). */
    readonly reason: string,
    lineText: string,
  ) {
    super(`corosync.conf line ${line}: ${reason}: ${preview(lineText)}. Fix: ${PARSE_FIXES[code]}.`);
  }
}

const preview = (text: string): string => JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);

/** Why a well-formed file cannot be read or edited safely, or why a requested edit is refused. */
export type CorosyncEditCode =
  // The file.
  | "repeated-section"
  | "repeated-key"
  | "no-nodelist"
  | "node-missing-field"
  | "invalid-number"
  | "duplicate-nodeid"
  | "duplicate-node-name"
  | "config-version-missing"
  | "config-version-invalid"
  // The request.
  | "invalid-votes"
  | "unknown-node"
  | "undeclared-node"
  | "nodelist-drift"
  // The votes it would produce.
  | "always-on-not-quorate"
  | "quorum-device-with-weighted-votes"
  | "last-man-standing-with-weighted-votes"
  | "others-quorate-without-always-on"
  | "live-members-not-quorate"
  | "quorum-section-missing"
  // renderCorosyncConf input.
  | "invalid-render-input";

export interface CorosyncProblem {
  readonly code: CorosyncEditCode;
  /** What is wrong, naming the node, key or line. */
  readonly message: string;
  /** What to change to fix it. */
  readonly fix: string;
}

/** Refusal to read, edit or render a corosync.conf. `code` is the first problem; all are in `problems`. */
export class CorosyncEditError extends Error {
  override readonly name = "CorosyncEditError";
  readonly code: CorosyncEditCode;

  constructor(readonly problems: readonly [CorosyncProblem, ...CorosyncProblem[]]) {
    super(problems.map((p) => `${p.message} Fix: ${p.fix}`).join("\n"));
    this.code = problems[0].code;
  }
}

/** Throws the collected problems together, so one run reports everything wrong at once. */
export function throwIfProblems(problems: readonly CorosyncProblem[]): void {
  const [first, ...rest] = problems;
  if (first !== undefined) throw new CorosyncEditError([first, ...rest]);
}

/** Throws a single problem. */
export function refuse(code: CorosyncEditCode, message: string, fix: string): never {
  throw new CorosyncEditError([{ code, message, fix }]);
}
