// The one edit this project makes to a live corosync.conf: set nodes' quorum_votes and bump
// totem.config_version, touching no other byte. It refuses whenever the file or the request does not
// match what the stack declares, because a wrong vote edit can leave the cluster without quorum.
import type { QuorumLayout } from "../quorum/arithmetic";
import { pushSafetyProblems, weightedProblems, type LiveMembership } from "../quorum/safety";
import { throwIfProblems, type CorosyncProblem } from "./errors";
import {
  locateConfigVersion,
  locateNodes,
  onlySection,
  readNodelist,
  readQuorum,
  type CorosyncQuorum,
  type LocatedNode,
} from "./query";
import { editQuorumOptions, type LineEdits, type QuorumOptions } from "./quorum-options";
import { parseCorosyncConf, type TextEncoding } from "./syntax";

export interface ExpectedNode {
  readonly nodeId: number;
  /** ring0_addr as the stack declares it. */
  readonly address: string;
}

export interface SetVotesOptions {
  /**
   * Weighted mode: the always-on hosts, which must be quorate on their own after the edit (device down), while
   * the other hosts must not be (core/quorum/safety). Omitted or empty = not checked.
   */
  readonly alwaysOn?: readonly string[];
  /**
   * The quorum options the file must hold (core/corosync/quorum-options): keys left out are removed.
   * Omitted = the quorum section is not touched (resetVotes: every managed key removed).
   */
  readonly quorum?: QuorumOptions;
  /** The members corosync reports now: a change that would take their quorum is refused. Omitted = not checked. */
  readonly live?: LiveMembership;
  /** The nodelist the stack expects (name → nodeid and ring0 address). Omitted = drift not checked. */
  readonly expectNodes?: Readonly<Record<string, ExpectedNode>>;
  /** How `text` maps to the file's bytes (core/corosync/syntax TextEncoding). Defaults to "utf8". */
  readonly encoding?: TextEncoding;
}

export interface VotesEdit {
  /** The new file; the very same string when nothing changed. */
  readonly text: string;
  readonly changed: boolean;
  readonly versionBefore: number;
  /** versionBefore + 1 when changed, else versionBefore. */
  readonly versionAfter: number;
}

/** quorum_votes is a uint32 in corosync (coroparse.c). */
const MAX_VOTES = 4294967295;

/**
 * Sets quorum_votes of the named nodes and increments totem.config_version by one; nothing else changes.
 * `desired` must name every nodelist node. A node without a quorum_votes line (corosync counts 1) gets one
 * inserted after its nodeid line, with that line's indentation. Votes already in place: same text back,
 * version not bumped. Throws CorosyncParseError for bad syntax and CorosyncEditError (see its `code`) for
 * everything else.
 */
export function setVotes(
  text: string,
  desired: Readonly<Record<string, number>>,
  options: SetVotesOptions = {},
): VotesEdit {
  const doc = parseCorosyncConf(text, options.encoding);
  const nodes = locateNodes(doc);
  const { version, entry: versionEntry } = locateConfigVersion(doc);
  const quorum = readQuorum(doc);
  throwIfProblems(nodelistProblems(nodes));
  throwIfProblems(requestProblems(nodes, desired, options));
  const votesOf = (name: string): number => desired[name] ?? 1; // every node is in desired by now
  const layout = newLayout(nodes, votesOf, quorum, options.quorum);
  throwIfProblems(quorumProblems(desired, layout, options.quorum, quorum, options.alwaysOn ?? []));

  const edits: LineEdits = { replaced: new Map(), inserted: new Map(), deleted: new Set() };
  const setValue = (line: number, start: number, end: number, value: string) => {
    const old = doc.lines[line - 1]?.text ?? "";
    edits.replaced.set(line, old.slice(0, start) + value + old.slice(end));
  };
  const stale = nodes.filter((n) => (n.node.quorumVotes ?? 1) !== votesOf(n.node.name));
  for (const { node, nodeIdEntry, votesEntry } of stale) {
    const votes = String(votesOf(node.name));
    if (votesEntry) {
      setValue(votesEntry.line, votesEntry.valueStart, votesEntry.valueEnd, votes);
    } else {
      const anchor = doc.lines[nodeIdEntry.line - 1]?.text ?? "";
      const indent = /^[ \t]*/.exec(anchor)?.[0] ?? "";
      const cr = anchor.endsWith("\r") ? "\r" : ""; // keep CRLF files CRLF
      edits.inserted.set(nodeIdEntry.line, [{ text: `${indent}quorum_votes: ${votes}${cr}`, eol: "\n" }]);
    }
  }
  const optionChanges = options.quorum
    ? editQuorumOptions(doc, onlySection(doc.items, "quorum", "quorum"), options.quorum, edits)
    : 0;
  if (stale.length === 0 && optionChanges === 0) {
    return { text, changed: false, versionBefore: version, versionAfter: version };
  }
  // Only a write can take quorum away: the live members are checked against the file about to be written.
  if (options.live) throwIfProblems(pushSafetyProblems(layout, [], options.live));
  setValue(versionEntry.line, versionEntry.valueStart, versionEntry.valueEnd, String(version + 1));

  const out: string[] = [];
  doc.lines.forEach((line, index) => {
    if (!edits.deleted.has(index + 1)) out.push((edits.replaced.get(index + 1) ?? line.text) + line.eol);
    for (const extra of edits.inserted.get(index + 1) ?? []) out.push(extra.text + extra.eol);
  });
  return { text: out.join(""), changed: true, versionBefore: version, versionAfter: version + 1 };
}

/** The file about to be written, as the quorum arithmetic reads it. */
function newLayout(
  nodes: readonly LocatedNode[],
  votesOf: (name: string) => number,
  quorum: CorosyncQuorum | undefined,
  want: QuorumOptions | undefined,
): QuorumLayout {
  const flag = (key: keyof QuorumOptions, current: boolean | undefined) =>
    want ? (want[key] ?? 0) !== 0 : current === true;
  const expectedVotes = want ? want.expected_votes : quorum?.expectedVotes;
  return {
    hosts: nodes.map((n) => ({ name: n.node.name, nodeId: n.node.nodeId, votes: votesOf(n.node.name) })),
    ...(expectedVotes ? { expectedVotes } : {}),
    twoNode: flag("two_node", quorum?.twoNode),
    waitForAll: flag("wait_for_all", quorum?.waitForAll),
    autoTieBreaker: flag("auto_tie_breaker", quorum?.autoTieBreaker),
    ...(quorum?.device
      ? { device: quorum.device.votes === undefined ? {} : { votes: quorum.device.votes } }
      : {}),
  };
}

/** Every nodelist node back to 1 vote and no managed quorum option: setVotes with 1 for each node. */
export function resetVotes(text: string, options: SetVotesOptions = {}): VotesEdit {
  const ones = Object.fromEntries(
    readNodelist(parseCorosyncConf(text, options.encoding)).map((n) => [n.name, 1]),
  );
  // Back to what Proxmox writes: 1 vote each and none of the stack's quorum options; not weighted.
  return setVotes(text, ones, { ...options, alwaysOn: [], quorum: {} });
}

function nodelistProblems(nodes: readonly LocatedNode[]): CorosyncProblem[] {
  if (nodes.length === 0) {
    return [
      {
        code: "no-nodelist",
        message: "The file has no nodelist with node sections, so there are no votes to set.",
        fix: "use the cluster's /etc/pve/corosync.conf (pvecm create writes the nodelist)",
      },
    ];
  }
  const clash = (
    code: "duplicate-nodeid" | "duplicate-node-name",
    key: (n: LocatedNode) => string | number,
  ) =>
    [...groupBy(nodes, key)].flatMap(([value, group]): CorosyncProblem[] =>
      group.length < 2
        ? []
        : [
            {
              code,
              message: `Nodes at lines ${group.map((n) => n.section.line).join(", ")} share the ${code === "duplicate-nodeid" ? "nodeid" : "name"} ${value}.`,
              fix: "give every node its own name and nodeid (fix the file by hand, then retry)",
            },
          ],
    );
  return [
    ...clash("duplicate-nodeid", (n) => n.node.nodeId),
    ...clash("duplicate-node-name", (n) => n.node.name),
  ];
}

function requestProblems(
  nodes: readonly LocatedNode[],
  desired: Readonly<Record<string, number>>,
  options: SetVotesOptions,
): CorosyncProblem[] {
  const problems: CorosyncProblem[] = [];
  const inFile = new Set(nodes.map((n) => n.node.name));
  const known = [...inFile].join(", ");
  for (const [name, votes] of Object.entries(desired)) {
    if (!Number.isInteger(votes) || votes < 0 || votes > MAX_VOTES) {
      problems.push({
        code: "invalid-votes",
        message: `Votes for node ${name} are ${votes}, not a whole number from 0 to ${MAX_VOTES}.`,
        fix: "declare a whole number of votes (e.g. 3 for the always-on host, 1 for the others)",
      });
    }
    if (!inFile.has(name)) {
      problems.push({
        code: "unknown-node",
        message: `Node ${name} is not in the corosync nodelist (it has: ${known}).`,
        fix: "join it to the cluster first (pvecm add), or correct the name to the node's `name:` line",
      });
    }
  }
  for (const name of new Set(options.alwaysOn ?? [])) {
    if (!Object.hasOwn(desired, name)) {
      problems.push({
        code: "unknown-node",
        message: `Always-on host ${name} is not among the nodes whose votes are set (${Object.keys(desired).join(", ")}).`,
        fix: "list only declared hosts as always-on",
      });
    }
  }
  const undeclared = nodes.filter((n) => !Object.hasOwn(desired, n.node.name));
  if (undeclared.length > 0) {
    problems.push({
      code: "undeclared-node",
      message: `The nodelist has nodes the stack does not declare: ${undeclared.map((n) => `${n.node.name} (nodeid ${n.node.nodeId})`).join(", ")}.`,
      fix: "declare them in the stack's hosts; to remove a host, power it off and list it in retiredHosts (the retire step runs pvecm delnode before this push, in the same pulumi up)",
    });
  }
  if (options.expectNodes) problems.push(...driftProblems(nodes, options.expectNodes));
  return problems;
}

function driftProblems(
  nodes: readonly LocatedNode[],
  expected: Readonly<Record<string, ExpectedNode>>,
): CorosyncProblem[] {
  const differences: string[] = [];
  const byName = new Map(nodes.map((n) => [n.node.name, n.node]));
  for (const [name, want] of Object.entries(expected)) {
    const have = byName.get(name);
    if (!have) differences.push(`${name} is missing`);
    else {
      if (have.nodeId !== want.nodeId)
        differences.push(`${name} has nodeid ${have.nodeId}, expected ${want.nodeId}`);
      if (have.ring0Addr !== want.address) {
        differences.push(`${name} has ring0_addr ${have.ring0Addr}, expected ${want.address}`);
      }
    }
  }
  for (const name of byName.keys()) {
    if (!Object.hasOwn(expected, name)) differences.push(`${name} is not expected`);
  }
  if (differences.length === 0) return [];
  return [
    {
      code: "nodelist-drift",
      message: `The cluster's nodelist differs from the stack: ${differences.join("; ")}.`,
      fix: "make the stack's hosts match the cluster (names, nodeids, addresses) or fix the cluster with pvecm first",
    },
  ];
}

function quorumProblems(
  desired: Readonly<Record<string, number>>,
  layout: QuorumLayout,
  want: QuorumOptions | undefined,
  quorum: CorosyncQuorum | undefined,
  alwaysOn: readonly string[],
): CorosyncProblem[] {
  const problems: CorosyncProblem[] = [];
  const weighted = Object.values(desired).some((v) => v !== 1);
  // votequorum.c disables a quorum device when node votes are not all 1 and device.votes is unset.
  if (weighted && quorum?.device && quorum.device.votes === undefined) {
    problems.push({
      code: "quorum-device-with-weighted-votes",
      message:
        "The file configures a quorum device without quorum.device.votes; corosync disables it when node votes are not all 1.",
      fix: "use 1 vote per node with a QDevice, or remove the QDevice (pvecm qdevice remove) to use weighted votes",
    });
  }
  const lastManStanding = want ? (want.last_man_standing ?? 0) !== 0 : quorum?.lastManStanding === true;
  if (weighted && lastManStanding) {
    problems.push({
      code: "last-man-standing-with-weighted-votes",
      message: "quorum.last_man_standing is on, and it needs every node to vote 1 (votequorum(5)).",
      fix: "turn last_man_standing off, or keep 1 vote per node",
    });
  }
  return [...problems, ...weightedProblems(layout, alwaysOn)];
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}
