// The parser against the real corosync: generated files (valid Proxmox skeleton + a section of quirky
// lines, half of them with one broken line) go through both, and the verdicts must agree: same accept,
// same rejected line, same reason. A random seed per run widens coverage; failures print it
// (rerun with COROSYNC_FUZZ_SEED=<seed>).
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { CorosyncParseError, parseCorosyncConf, renderCorosyncConf } from "../../../core/corosync";
import { checkManyWithCorosync, checkWithCorosync, corosyncVersion } from "../../helpers/corosync-validate";

/** corosync's syntax messages (exec/coroparse.c); any other "parser error" is a semantic one. */
const SYNTAX_REASONS = new Set([
  "Line too long",
  "Missing section name before opening bracket '{'",
  "Extra characters after opening bracket '{'",
  "Start of section makes total cmap path too long",
  "Key name can't be empty",
  "New key makes total cmap path too long",
  "Extra characters before or after closing bracket '}'",
  "Unexpected closing brace",
  "Line is not opening or closing section or key value",
  "Missing closing brace",
]);

const SKELETON = renderCorosyncConf({
  clusterName: "fuzz",
  configVersion: 1,
  nodes: [
    { name: "n1", nodeId: 1, address: "10.77.0.1", votes: 1 },
    { name: "n2", nodeId: 2, address: "10.77.0.2", votes: 1 },
  ],
});

const blanks = fc.constantFrom("", " ", "\t", "  ", " \t ");
const word = fc.stringMatching(/^[a-z0-9_]{1,6}$/);
// Printable ASCII and é, without braces (a brace in a value turns the line into a section line).
const value = fc.stringMatching(/^[ -z|~é]{0,12}$/);

const validLine = fc.oneof(
  blanks,
  fc.tuple(blanks, fc.stringMatching(/^[ -~]{0,12}$/)).map(([b, t]) => `${b}#${t}`),
  fc
    .tuple(blanks, word, blanks, fc.constantFrom(":", ": ", ":\t", ":  ", "::"), value, blanks)
    .map((parts) => parts.join("")),
  fc.constantFrom(": colon-key", "k: x}", "k: a # b", "k:"),
);

const body: fc.Arbitrary<string[]> = fc.letrec<{ block: string[]; section: string[] }>((tie) => ({
  block: fc
    .array(
      fc.oneof(
        { maxDepth: 3 },
        validLine.map((l) => [l]),
        tie("section"),
      ),
      { maxLength: 6 },
    )
    .map((xs) => xs.flat()),
  section: fc
    .tuple(blanks, word, fc.constantFrom(" {", "{", ": {", " {\t", "\t{ "), tie("block"), blanks)
    .map(([b, name, open, inner, b2]) => [`${b}${name}${open}`, ...inner, `${b2}}`]),
})).block;

const brokenLine = fc.oneof(
  fc.tuple(blanks, blanks, word).map(([a, b, w]) => `${a}}${b}${w}`),
  fc.tuple(blanks, word).map(([b, w]) => `${b}${w} }`),
  fc.tuple(blanks, fc.constantFrom("{", "{x", "{ x", ":{", ": {x")).map(([b, l]) => `${b}${l}`),
  fc.tuple(blanks, word, blanks, word).map(([b, w, b2, x]) => `${b}${w} {${b2}${x}`),
  fc.tuple(blanks, word).map(([b, w]) => `${b}${w}`),
  fc.tuple(blanks, value).map(([b, v]) => `${b}:${v.trimStart()}`),
  fc.constantFrom("}", "x {", "\f", "\v", "k: {v}", "}: v"),
  fc.integer({ min: 505, max: 516 }).map((n) => `#${"x".repeat(n - 1)}`),
  fc.integer({ min: 250, max: 260 }).map((n) => `k: ${"é".repeat(n)}`),
  fc.integer({ min: 248, max: 256 }).map((n) => `${"s".repeat(n)} {`),
  fc.integer({ min: 246, max: 252 }).map((n) => `${"k".repeat(n)}: v`),
);

const fileArb = fc
  .record({
    lines: body,
    broken: fc.option(fc.tuple(fc.nat(), brokenLine), { nil: undefined }),
    eol: fc.constantFrom("\n", "\r\n"),
    finalNewline: fc.boolean(),
  })
  .map(({ lines, broken, eol, finalNewline }) => {
    const all = ["xfuzz {", ...lines, "}"];
    if (broken) all.splice(1 + (broken[0] % (all.length - 1)), 0, broken[1]);
    const text = SKELETON + all.join("\n") + (finalNewline ? "\n" : "");
    return eol === "\n" ? text : text.replace(/\n/g, "\r\n");
  });

type Verdict = { readonly ok: true } | { readonly ok: false; readonly line: number; readonly reason: string };

function ours(text: string): Verdict {
  try {
    parseCorosyncConf(text);
    return { ok: true };
  } catch (e) {
    if (e instanceof CorosyncParseError) return { ok: false, line: e.line, reason: e.reason };
    throw e;
  }
}

/** corosync before 3.1.10 (e.g. Debian 12's 3.1.7) has no "Key name can't be empty" check. */
function checksEmptyKeys(): boolean {
  const [major = 0, minor = 0, patch = 0] = corosyncVersion().split(".").map(Number);
  return major * 1e6 + minor * 1e3 + patch >= 3_001_010;
}

/** Why the two verdicts disagree, or undefined when they agree. */
function disagreement(mine: Verdict, check: ReturnType<typeof checkWithCorosync>): string | undefined {
  const theirs = check.parserError;
  if (!mine.ok && mine.reason === "Key name can't be empty" && !checksEmptyKeys()) {
    // This corosync goes on parsing where we stop: only the lines before can be compared.
    return theirs && SYNTAX_REASONS.has(theirs.reason) && theirs.line < mine.line
      ? "syntax verdicts differ"
      : undefined;
  }
  if (theirs && SYNTAX_REASONS.has(theirs.reason)) {
    return !mine.ok && mine.line === theirs.line && mine.reason === theirs.reason
      ? undefined
      : "syntax verdicts differ";
  }
  if (theirs) {
    // corosync stopped on a semantic error (e.g. a key name icmap refuses): only the lines before compare.
    return mine.ok || mine.line > theirs.line ? undefined : "we reject a line corosync's syntax accepts";
  }
  return mine.ok ? undefined : "we reject a file corosync parses";
}

describe("corosync.conf parser against corosync -t", () => {
  it("really runs corosync: it rejects a duplicate nodeid, which the parser alone accepts", function () {
    this.timeout(60_000);
    const check = checkWithCorosync(SKELETON.replace("nodeid: 2", "nodeid: 1"));
    assert.equal(check.ok, false, check.output);
  });

  it("agrees with corosync on generated files", function () {
    this.timeout(180_000);
    const seed = Number(process.env.COROSYNC_FUZZ_SEED ?? Date.now() % 2 ** 31);
    const texts = fc.sample(fileArb, { numRuns: 48, seed });
    const checks = checkManyWithCorosync(texts);
    const failures = texts.flatMap((text, i) => {
      const check = checks[i];
      const mine = ours(text);
      const why = check && disagreement(mine, check);
      return check && why ? [{ why, mine, corosync: check.parserError ?? check.output, text }] : [];
    });
    assert.deepStrictEqual(failures, [], `seed ${seed}`);
  });
});
