// The one edit this project makes to a live corosync.conf: set nodes' quorum_votes and bump
// totem.config_version, touching no other byte. It refuses whenever the file or the request does not
// match what the stack declares, because a wrong vote edit can leave the cluster without quorum.
import { throwIfProblems, type CorosyncProblem } from "./errors";
import {
  locateConfigVersion,
  locateNodes,
  readNodelist,
  readQuorum,
  type CorosyncQuorum,
  type LocatedNode,
} from "./query";
import { parseCorosyncConf, type SourceLine, type TextEncoding } from "./syntax";

export interface ExpectedNode {
  readonly nodeId: number;
  /** ring0_addr as the stack declares it. */
  readonly address: string;
}

export interface SetVotesOptions {
  /** Hosts that must be quorate on their own after the edit. Omitted or empty = not checked. */
  readonly alwaysOn?: readonly string[];
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
  throwIfProblems(quorumProblems(desired, quorum, options.alwaysOn ?? []));

  const votesOf = (name: string): number => desired[name] ?? 1; // every node is in desired by now
  const stale = nodes.filter((n) => (n.node.quorumVotes ?? 1) !== votesOf(n.node.name));
  if (stale.length === 0) return { text, changed: false, versionBefore: version, versionAfter: version };

  const replaced = new Map<number, string>(); // line number → new text
  const inserted = new Map<number, SourceLine>(); // after line number → new line
  const setValue = (line: number, start: number, end: number, value: string) => {
    const old = doc.lines[line - 1]?.text ?? "";
    replaced.set(line, old.slice(0, start) + value + old.slice(end));
  };
  for (const { node, nodeIdEntry, votesEntry } of stale) {
    const votes = String(votesOf(node.name));
    if (votesEntry) {
      setValue(votesEntry.line, votesEntry.valueStart, votesEntry.valueEnd, votes);
    } else {
      const anchor = doc.lines[nodeIdEntry.line - 1]?.text ?? "";
      const indent = /^[ \t]*/.exec(anchor)?.[0] ?? "";
      const cr = anchor.endsWith("\r") ? "\r" : ""; // keep CRLF files CRLF
      inserted.set(nodeIdEntry.line, { text: `${indent}quorum_votes: ${votes}${cr}`, eol: "\n" });
    }
  }
  setValue(versionEntry.line, versionEntry.valueStart, versionEntry.valueEnd, String(version + 1));

  const out: string[] = [];
  doc.lines.forEach((line, index) => {
    out.push((replaced.get(index + 1) ?? line.text) + line.eol);
    const extra = inserted.get(index + 1);
    if (extra) out.push(extra.text + extra.eol);
  });
  return { text: out.join(""), changed: true, versionBefore: version, versionAfter: version + 1 };
}

/** Every nodelist node back to 1 vote: setVotes with 1 for each node. */
export function resetVotes(text: string, options: SetVotesOptions = {}): VotesEdit {
  const ones = Object.fromEntries(
    readNodelist(parseCorosyncConf(text, options.encoding)).map((n) => [n.name, 1]),
  );
  return setVotes(text, ones, options);
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
      fix: "declare them in the stack's hosts; to remove a host, power it off, run pulumi up --target <URN of its membership-member command> first (pvecm delnode; pulumi stack --show-urns lists URNs), then pulumi up",
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
  quorum: CorosyncQuorum | undefined,
  alwaysOn: readonly string[],
): CorosyncProblem[] {
  const problems: CorosyncProblem[] = [];
  const votes = Object.values(desired);
  const weighted = votes.some((v) => v !== 1);
  // votequorum.c disables a quorum device when node votes are not all 1 and device.votes is unset.
  if (weighted && quorum?.device && quorum.device.votes === undefined) {
    problems.push({
      code: "quorum-device-with-weighted-votes",
      message:
        "The file configures a quorum device without quorum.device.votes; corosync disables it when node votes are not all 1.",
      fix: "use 1 vote per node with a QDevice, or remove the QDevice (pvecm qdevice remove) to use weighted votes",
    });
  }
  if (weighted && quorum?.lastManStanding) {
    problems.push({
      code: "last-man-standing-with-weighted-votes",
      message: "quorum.last_man_standing is on, and it needs every node to vote 1 (votequorum(5)).",
      fix: "turn last_man_standing off, or keep 1 vote per node",
    });
  }
  const holders = [...new Set(alwaysOn)];
  if (holders.length > 0) {
    const total = votes.reduce((a, b) => a + b, 0);
    const expected = quorum?.expectedVotes ?? total;
    const needed = Math.floor(expected / 2) + 1;
    const held = holders.reduce((sum, name) => sum + (desired[name] ?? 0), 0);
    if (held < needed) {
      problems.push({
        code: "always-on-not-quorate",
        message: `The always-on hosts (${holders.join(", ")}) would hold ${held} of ${expected} expected votes; quorum is ${needed}, so they could not stay quorate on their own.`,
        fix:
          quorum?.expectedVotes === undefined
            ? `give the always-on hosts more votes together than all other hosts (now ${held} against ${total - held})`
            : `give the always-on hosts at least ${needed} votes, or lower quorum.expected_votes`,
      });
    }
  }
  return problems;
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
