// What `pulumi up` would write into a live corosync.conf: core/corosync setVotes with the declared votes and
// quorum options, as data for the plan (before/after text), or findings when the edit would be refused. The
// live-members check needs the running cluster, so the plan leaves it to the push.
import * as path from "node:path";
import { CorosyncEditError, CorosyncParseError, quorumOptionsOf, setVotes } from "../core/corosync";
import type { Finding, Model } from "../core/model";

export interface CorosyncPlan {
  readonly file: string;
  readonly changed: boolean;
  /** The file's text for display (its bytes decoded as UTF-8; invalid bytes shown as U+FFFD). */
  readonly before: string;
  readonly after: string;
  /** The exact bytes `pulumi up` would write: the edit runs on bytes, as the on-host awk does. */
  readonly afterBytes: Buffer;
  readonly versionBefore?: number;
  readonly versionAfter?: number;
  /** Votes written per node name. */
  readonly votes: Readonly<Record<string, number>>;
}

/**
 * The vote edit `pulumi up` performs (components/VoteWeights: the vote push runs the awk port of setVotes on the
 * always-on host, in every quorum mode): every declared host's votes, refused unless the always-on hosts stay
 * quorate on their own and the file's nodelist matches the stack (names, nodeids, ring0 addresses).
 */
export function corosyncEdit(
  model: Model,
  file: string,
  content: Buffer | string,
): CorosyncPlan | { finding: Finding[] } {
  // Bytes as latin1 (one character per byte): line lengths, names and the output are the file's bytes, so the
  // plan agrees with the vote push's awk (LC_ALL=C) on Latin-1 or broken UTF-8 as well.
  const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  const text = bytes.toString("latin1");
  const votes = Object.fromEntries(model.hosts.map((h) => [h.name, h.votes]));
  // As the vote push does: the always-on-alone check applies to weighted votes only.
  const alwaysOn =
    model.quorum.mode === "weighted"
      ? model.hosts.filter((h) => h.power === "always-on").map((h) => h.name)
      : [];
  const expectNodes = Object.fromEntries(
    model.hosts.map((h) => [h.name, { nodeId: h.nodeId, address: h.address }]),
  );
  try {
    const edit = setVotes(text, votes, {
      alwaysOn,
      expectNodes,
      quorum: quorumOptionsOf(model.quorum),
      encoding: "latin1",
    });
    const afterBytes = Buffer.from(edit.text, "latin1");
    return {
      file,
      changed: edit.changed,
      before: bytes.toString("utf8"),
      after: afterBytes.toString("utf8"),
      afterBytes,
      versionBefore: edit.versionBefore,
      versionAfter: edit.versionAfter,
      votes,
    };
  } catch (e) {
    if (e instanceof CorosyncEditError) {
      return {
        finding: e.problems.map((p) => ({
          level: "error" as const,
          code: `corosync.${p.code}`,
          path: "corosync.conf",
          message: `${p.message} \`pulumi up\` would refuse to change the votes in ${path.basename(file)}.`,
          fix: p.fix,
        })),
      };
    }
    if (e instanceof CorosyncParseError) {
      return {
        finding: [
          {
            level: "error",
            code: `corosync.${e.code}`,
            path: `corosync.conf:${e.line}`,
            message: `line ${e.line} of ${path.basename(file)}: ${e.reason}; corosync would refuse this file`,
            fix: e.message.split(" Fix: ")[1]?.replace(/\.$/, "") ?? "fix the file's syntax",
          },
        ],
      };
    }
    throw e;
  }
}
