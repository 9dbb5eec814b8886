// The quorum options the stack owns in corosync.conf's `quorum {}` section, and the line edits that make the
// section hold exactly them. `provider` and the `device` subsection (owned by `pvecm qdevice`) are never
// touched; every other key is left as it is. The awk port is core/scripts/programs/corosync-edit.awk
// (`quorum_edit`), kept equal by test/unit/scripts/votes.test.ts.
import { refuse } from "./errors";
import type { CorosyncSection, CorosyncDocument, SourceLine } from "./syntax";

/** The keys the stack writes, in the order new lines are inserted. */
export const QUORUM_OPTION_KEYS = [
  "expected_votes",
  "two_node",
  "last_man_standing",
  "auto_tie_breaker",
  "wait_for_all",
] as const;
export type QuorumOptionKey = (typeof QUORUM_OPTION_KEYS)[number];

/** The managed keys the file must hold, with their values; a key left out must be absent from the file. */
export type QuorumOptions = Readonly<Partial<Record<QuorumOptionKey, number>>>;

/** The stack's quorum options as corosync.conf keys: a false flag or an unset expectedVotes is no line. */
export function quorumOptionsOf(q: {
  readonly expectedVotes?: number;
  readonly twoNode: boolean;
  readonly lastManStanding: boolean;
  readonly autoTieBreaker: boolean;
  readonly waitForAll: boolean;
}): QuorumOptions {
  const out: Partial<Record<QuorumOptionKey, number>> = {};
  if (q.expectedVotes) out.expected_votes = q.expectedVotes;
  if (q.twoNode) out.two_node = 1;
  if (q.lastManStanding) out.last_man_standing = 1;
  if (q.autoTieBreaker) out.auto_tie_breaker = 1;
  if (q.waitForAll) out.wait_for_all = 1;
  return out;
}

/** Line edits, by 1-based line number of the original file. */
export interface LineEdits {
  readonly replaced: Map<number, string>;
  /** After line number → new lines, in order. */
  readonly inserted: Map<number, SourceLine[]>;
  readonly deleted: Set<number>;
}

/**
 * Adds to `edits` what makes `quorum` (the section, already read and checked by readQuorum) hold exactly
 * `want`. Returns how many keys change. A missing key is inserted after the section's last direct entry (else
 * after its `quorum {` line), with that line's indentation (two more spaces than `quorum {`) and line end.
 */
export function editQuorumOptions(
  doc: CorosyncDocument,
  quorum: CorosyncSection | undefined,
  want: QuorumOptions,
  edits: LineEdits,
): number {
  if (quorum === undefined) {
    if (Object.keys(want).length === 0) return 0;
    refuse(
      "quorum-section-missing",
      "The file has no quorum section, so the quorum options of the stack have nowhere to go.",
      "add `quorum {` with `provider: corosync_votequorum` and `}` (pvecm always writes it)",
    );
  }
  const lineText = (n: number) => doc.lines[n - 1]?.text ?? "";
  const direct = quorum.children.filter((c) => c.kind === "entry");
  const anchor = direct.length > 0 ? direct[direct.length - 1]!.line : quorum.line;
  const anchorText = lineText(anchor);
  const indent =
    direct.length > 0
      ? (/^[ \t]*/.exec(anchorText)?.[0] ?? "")
      : `${/^[ \t]*/.exec(anchorText)?.[0] ?? ""}  `;
  const cr = anchorText.endsWith("\r") ? "\r" : "";
  let changes = 0;
  for (const key of QUORUM_OPTION_KEYS) {
    const entry = direct.find((e) => e.key === key);
    const value = want[key];
    if (entry === undefined) {
      if (value === undefined) continue;
      const list = edits.inserted.get(anchor) ?? [];
      list.push({ text: `${indent}${key}: ${value}${cr}`, eol: "\n" });
      edits.inserted.set(anchor, list);
    } else if (value === undefined) {
      edits.deleted.add(entry.line);
    } else if (Number(entry.value) + 0 !== value) {
      const old = lineText(entry.line);
      edits.replaced.set(
        entry.line,
        old.slice(0, entry.valueStart) + String(value) + old.slice(entry.valueEnd),
      );
    } else continue;
    changes++;
  }
  return changes;
}
