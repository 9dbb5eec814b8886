// The quorum check every write of corosync.conf must pass (issue 13), computed from the file that WILL be
// written: its node votes, its quorum options and its device section, through the same arithmetic as the
// what-if table. The vote push runs an awk port of it on the host (core/scripts/programs/corosync-edit.awk,
// `safety_problems`), right before the write, with the members corosync reports at that moment;
// test/unit/scripts/votes-safety.test.ts checks that the script decides exactly as this file does.
//
// Refusals, each naming votes, expected votes and quorum and the safe way forward:
// - weighted mode: the always-on hosts alone, with the device down, would not be quorate (device votes count
//   in expected votes, so a leftover QDevice makes the weighting useless);
// - weighted mode: the other hosts, with the device, could be quorate without the always-on hosts (two
//   writers: a split brain);
// - any mode, when the file changes: the members corosync reports right now would lose quorum when the new
//   file is loaded (e.g. resetting 3/1/1 to 1/1/1 while only the 3-vote host is up).
import { afterReload, evaluate, layoutArithmetic, majority, asCorosyncQuorum, sum } from "./arithmetic";
import type { Arithmetic, QuorumLayout, VotingNode } from "./arithmetic";

export type SafetyCode =
  "always-on-not-quorate" | "others-quorate-without-always-on" | "live-members-not-quorate";

export interface SafetyProblem {
  readonly code: SafetyCode;
  readonly message: string;
  readonly fix: string;
}

/** What corosync reports right now on the host that writes: member node ids, and whether a device votes. */
export interface LiveMembership {
  readonly members: readonly number[];
  readonly deviceCasting: boolean;
}

const names = (hosts: readonly VotingNode[]) => hosts.map((h) => h.name).join(", ");

/** Threshold the arithmetic applies to `up` (two_node counts the device as a member). */
function threshold(a: Arithmetic, up: readonly VotingNode[], deviceUp: boolean): number {
  const members = up.length + (a.device && deviceUp ? 1 : 0);
  return a.twoNode && members <= 2 ? 1 : asCorosyncQuorum(majority(a.expected));
}

const deviceNote = (a: Arithmetic) =>
  a.device ? ` (${a.expected} counts the quorum device's ${a.deviceVotes} vote(s))` : "";

/**
 * The weighted-mode checks on the new file. `alwaysOn` names the always-on hosts; empty = not weighted mode,
 * nothing checked. Names not in the layout count as holding no votes.
 */
export function weightedProblems(layout: QuorumLayout, alwaysOn: readonly string[]): SafetyProblem[] {
  const holders = [...new Set(alwaysOn)];
  if (holders.length === 0) return [];
  const a = layoutArithmetic(layout);
  const problems: SafetyProblem[] = [];
  const anchors = layout.hosts.filter((h) => holders.includes(h.name));
  const held = sum(anchors.map((h) => h.votes));
  if (!evaluate(a, anchors, false).quorate) {
    const q = threshold(a, anchors, false);
    problems.push({
      code: "always-on-not-quorate",
      message: `The always-on hosts (${holders.join(", ")}) would hold ${held} of ${a.expected} expected votes${deviceNote(a)}; quorum is ${q}, so they could not stay quorate on their own.`,
      fix: a.device
        ? "remove the quorum device (pvecm qdevice remove; quorum.mode: weighted does that first), or give the always-on hosts enough votes for quorum with the device down"
        : layout.expectedVotes
          ? `give the always-on hosts at least ${q} votes, or lower quorum.expectedVotes`
          : `give the always-on hosts more votes together than all other hosts (now ${held} against ${a.nodeSum - held})`,
    });
  }
  const others = layout.hosts.filter((h) => !holders.includes(h.name));
  const split = evaluate(a, others, true);
  if (others.length > 0 && (split.quorate || split.coldStart)) {
    // Quorate after a split, or only when they boot alone (expected then starts at what they hold).
    const cold = !split.quorate;
    const expected = cold
      ? Math.max(a.configuredExpected, sum(others.map((h) => h.votes)) + a.deviceVotes)
      : a.expected;
    const members = others.length + (a.device ? 1 : 0);
    const q = a.twoNode && members <= 2 ? 1 : asCorosyncQuorum(majority(expected));
    problems.push({
      code: "others-quorate-without-always-on",
      message: `Without the always-on hosts, the others (${names(others)}) would hold ${split.votes} of ${expected} expected votes${a.device ? " with the quorum device" : ""}; quorum is ${q}${cold ? " when they boot without the always-on hosts" : ""}, so they could be quorate on their own while the always-on hosts are too: two sides writing /etc/pve (split brain).`,
      fix: layout.expectedVotes
        ? "remove quorum.expectedVotes (the node votes then set expected votes), or give the always-on hosts more votes than all other hosts together"
        : "give the always-on hosts more votes than all other hosts together (and no twoNode/autoTieBreaker that hands the others quorum), or use quorum.mode: qdevice",
    });
  }
  return problems;
}

/** The live check: the members corosync reports now must stay quorate once the new file is loaded. */
export function liveProblems(layout: QuorumLayout, live: LiveMembership): SafetyProblem[] {
  const a = layoutArithmetic(layout);
  const r = afterReload(a, live.members, live.deviceCasting);
  if (r.quorate) return [];
  const byId = new Map(layout.hosts.map((h) => [h.nodeId, h.name]));
  const who = live.members.map((id) => byId.get(id) ?? `nodeid ${id}`).join(", ");
  return [
    {
      code: "live-members-not-quorate",
      message: `The hosts corosync reports as members right now (${who || "none"}) would hold ${r.votes} of ${r.expected} expected votes under the new file${a.device && live.deviceCasting ? " (the quorum device's votes included)" : ""}; quorum would be ${r.quorum}, so they would lose quorum and /etc/pve would turn read-only.`,
      fix: "power on the other hosts and wait until `pvecm status` lists them as members, then re-run; the change itself is fine once they are up",
    },
  ];
}

/** Every refusal for writing this layout: weighted checks always, the live check when given. */
export function pushSafetyProblems(
  layout: QuorumLayout,
  alwaysOn: readonly string[],
  live?: LiveMembership,
): SafetyProblem[] {
  return [...weightedProblems(layout, alwaysOn), ...(live ? liveProblems(layout, live) : [])];
}
