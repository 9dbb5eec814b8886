// Votequorum arithmetic, the what-if table and the quorum intent findings. Every rule below follows
// corosync's exec/votequorum.c (3.1.x) line for line where it matters; test/integration/vqsim-crosscheck
// compares the table with corosync's own simulator, corosync-vqsim.
//
// What corosync does, in short (votequorum.c):
// - votequorum_readconfig: expected = quorum.expected_votes when set (non-zero), else the nodelist sum of
//   quorum_votes (default 1) plus, when quorum.device has no `votes` and the node votes add up to the node
//   count (every node voting 1), the device's automatic votes (sum - 1); with other votes it refuses to
//   start. An explicit device `votes` is NOT added here.
// - recalculate_quorum: "keep expected_votes at the highest number of votes in the cluster": whenever the
//   members' votes plus the configured device votes (counted whether or not the device votes right now)
//   exceed expected, expected is raised and never lowered again. So once every host has been up, expected is
//   max(quorum.expected_votes, node sum + device votes): that is the "max" of explicit and nodelist values.
// - calculate_quorum: quorum = max(floor(highest_expected / 2) + 1, floor(total / 2) + 1), never decreasing;
//   the device's votes count only while it casts them; two_node forces quorum 1 while at most two members
//   (the device counts as one) are present. `quorum` is a uint8_t, so the value corosync uses is that
//   number modulo 256 (seen in vqsim: three 255-vote nodes are each quorate alone).
// - are_we_quorate: wait_for_all (explicit, or implied by two_node when not set) blocks quorum until the
//   votes present equal expected; auto_tie_breaker makes a partition with exactly floor(expected / 2) votes
//   quorate when it holds the lowest node id and fewer nodes left than the quorum.
//
// The table's `quorate` is the state right after the hosts outside `up` stop (or split away) at once, from a
// cluster where every host and the device were up and quorate: the everyday question "if only these hosts
// are up, can I still write /etc/pve?". `coldStart` answers "if only these hosts boot after a full outage".
// last_man_standing is not modelled in the table: it only lowers expected votes after its window
// (default 10 s) and corosync turns it off unless every node votes 1.
import type { HostSpec, Model } from "../model";

/** Alias kept short for callers. */
export type WhatIf = WhatIfTable;

export interface QuorumScenario {
  /** Names of the hosts that are up, in declared order. */
  readonly up: readonly string[];
  /** qdevice mode only: whether the quorum device gives its votes to these hosts. */
  readonly deviceUp?: boolean;
  /** Votes present: the up hosts' votes, plus the device's when deviceUp. */
  readonly votes: number;
  /** Quorate once the other hosts stop (or split away) from a full, quorate cluster. */
  readonly quorate: boolean;
  /** Quorate when only these hosts (and the device when deviceUp) boot after a full outage. */
  readonly coldStart: boolean;
}

export interface WhatIfTable {
  /** Expected votes once every host has been up (what `pvecm status` shows). */
  readonly expectedVotes: number;
  /** Votes needed for quorum, as corosync holds it (8 bits). */
  readonly quorum: number;
  /** Votes of the quorum device; 0 outside qdevice mode. */
  readonly deviceVotes: number;
  /**
   * Every subset of hosts (and in qdevice mode both device states). Order: more hosts up first; among
   * subsets of the same size, the one whose host indexes come first in declared order first (lexicographic
   * over declared positions); in qdevice mode deviceUp: true before false.
   */
  readonly scenarios: readonly QuorumScenario[];
}

export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
export const majority = (expected: number): number => Math.floor(expected / 2) + 1;
/** corosync keeps `quorum` in a uint8_t (votequorum.c `static uint8_t quorum`). */
export const asCorosyncQuorum = (q: number): number => q % 256;

/** The quorum device section corosync sees, or undefined when none is configured. */
export function configuredDevice(model: Model) {
  return model.quorum.mode === "qdevice" ? model.quorum.device : undefined;
}

/** Sum of the hosts' quorum_votes. */
export function nodeVotes(model: Model): number {
  return sum(model.hosts.map((h) => h.votes));
}

/**
 * `quorum.device.votes` as it belongs in corosync.conf: the explicit value; else 1 for ffsplit (what
 * `pvecm qdevice setup` writes, and what corosync-qdevice's ffsplit requires); else undefined, so corosync
 * computes it (lms). Undefined outside qdevice mode as well.
 */
export function renderedDeviceVotes(model: Model): number | undefined {
  const device = configuredDevice(model);
  if (!device) return undefined;
  return device.votes ?? (device.algorithm === "ffsplit" ? 1 : undefined);
}

/**
 * Votes the quorum device holds: the explicit or ffsplit value (renderedDeviceVotes), else corosync's
 * automatic value for lms, node sum - 1 (N - 1 when every node votes 1; corosync computes it only when the
 * node votes add up to the node count and refuses to start otherwise, see quorum.device-votes-required).
 * 0 outside qdevice mode.
 */
export function deviceVotes(model: Model): number {
  if (!configuredDevice(model)) return 0;
  return renderedDeviceVotes(model) ?? Math.max(nodeVotes(model) - 1, 0);
}

/** A node as the arithmetic needs it: its name, corosync nodeid and quorum_votes. */
export type VotingNode = Pick<HostSpec, "name" | "nodeId" | "votes">;

/**
 * What votequorum reads from a corosync.conf, as plain data: the nodelist's votes, the quorum options and the
 * device section. The Model gives one (layoutOfModel); so does a corosync.conf about to be written
 * (core/corosync's vote edit), so the stack's analysis and the on-host safety check share one arithmetic.
 */
export interface QuorumLayout {
  readonly hosts: readonly VotingNode[];
  /** quorum.expected_votes; undefined or 0 = not set (corosync's reading). */
  readonly expectedVotes?: number;
  readonly twoNode: boolean;
  /** quorum.wait_for_all: 1 (absent = off, unless two_node implies it). */
  readonly waitForAll: boolean;
  readonly autoTieBreaker: boolean;
  /** The quorum.device section, if any: its `votes`, undefined when corosync computes them. */
  readonly device?: { readonly votes?: number };
}

/** The layout corosync will run for this stack (false options are left out of the file). */
export function layoutOfModel(model: Model): QuorumLayout {
  const q = model.quorum;
  const device = configuredDevice(model);
  const votes = renderedDeviceVotes(model);
  return {
    hosts: model.hosts,
    ...(q.expectedVotes ? { expectedVotes: q.expectedVotes } : {}),
    twoNode: q.twoNode,
    waitForAll: q.waitForAll,
    autoTieBreaker: q.autoTieBreaker,
    ...(device ? { device: votes === undefined ? {} : { votes } } : {}),
  };
}

export interface Arithmetic {
  readonly hosts: readonly VotingNode[];
  readonly nodeSum: number;
  readonly device: boolean;
  readonly deviceVotes: number;
  /** us->expected_votes right after reading the config. */
  readonly configuredExpected: number;
  /** us->expected_votes once every host and the device votes have been seen. */
  readonly expected: number;
  readonly twoNode: boolean;
  readonly waitForAll: boolean;
  readonly autoTieBreaker: boolean;
  readonly lowestNodeId: number;
}

export function arithmetic(model: Model): Arithmetic {
  return layoutArithmetic(layoutOfModel(model));
}

export function layoutArithmetic(layout: QuorumLayout): Arithmetic {
  const nodeSum = sum(layout.hosts.map((h) => h.votes));
  const device = layout.device !== undefined;
  // corosync's automatic device votes: node sum - 1 (lms; it needs every node to vote 1).
  const automaticDeviceVotes = device && layout.device?.votes === undefined;
  const dv = device ? (layout.device?.votes ?? Math.max(nodeSum - 1, 0)) : 0;
  const explicitExpected = layout.expectedVotes ? layout.expectedVotes : undefined;
  const configuredExpected = explicitExpected ?? nodeSum + (automaticDeviceVotes ? dv : 0);
  // wait_for_all follows two_node when not set (the renderer leaves false keys out); ATB then turns
  // two_node off but not the wait_for_all it implied (votequorum_readconfig order).
  const waitForAll = layout.waitForAll || layout.twoNode;
  const twoNode = layout.twoNode && !layout.autoTieBreaker;
  // ATB with an odd nodelist vote sum needs wait_for_all, else corosync disables it.
  const autoTieBreaker = layout.autoTieBreaker && !(nodeSum % 2 === 1 && !waitForAll);
  return {
    hosts: layout.hosts,
    nodeSum,
    device,
    deviceVotes: dv,
    configuredExpected,
    expected: Math.max(configuredExpected, nodeSum + dv),
    twoNode,
    waitForAll,
    autoTieBreaker,
    lowestNodeId: Math.min(...layout.hosts.map((h) => h.nodeId)),
  };
}

export interface Evaluation {
  readonly votes: number;
  readonly quorate: boolean;
  readonly coldStart: boolean;
}

export function evaluate(a: Arithmetic, up: readonly VotingNode[], deviceUp: boolean): Evaluation {
  const deviceCasts = a.device && deviceUp;
  const nodeTotal = sum(up.map((h) => h.votes));
  const votes = nodeTotal + (deviceCasts ? a.deviceVotes : 0);
  // calculate_quorum counts the voting device as a member for two_node.
  const members = up.length + (deviceCasts ? 1 : 0);
  const threshold = (expected: number) =>
    a.twoNode && members <= 2 ? 1 : asCorosyncQuorum(majority(expected));
  if (up.length === 0) return { votes, quorate: false, coldStart: false };

  // From a full cluster: wait_for_all was satisfied only if the full cluster's votes reached expected.
  const fullVotes = a.nodeSum + (a.device ? a.deviceVotes : 0);
  const fullQuorate =
    (!a.waitForAll || fullVotes === a.expected) &&
    fullVotes >=
      (a.twoNode && a.hosts.length + (a.device ? 1 : 0) <= 2 ? 1 : asCorosyncQuorum(majority(a.expected)));
  const quorum = threshold(a.expected);
  let quorate = a.waitForAll && !fullQuorate ? false : votes >= quorum;
  if (!quorate && a.autoTieBreaker && fullQuorate) {
    const left = a.hosts.length - up.length;
    quorate =
      votes === Math.floor(a.expected / 2) && left < quorum && up.some((h) => h.nodeId === a.lowestNodeId);
  }

  // Cold start: expected is raised to the votes seen (device votes counted even while it does not vote).
  const coldExpected = Math.max(a.configuredExpected, nodeTotal + a.deviceVotes);
  const coldQuorum = threshold(coldExpected);
  const coldStart = a.waitForAll ? votes === coldExpected && votes >= coldQuorum : votes >= coldQuorum;
  return { votes, quorate, coldStart };
}

export interface Reloaded {
  /** Votes the members (and the device, while it casts) hold under the new file. */
  readonly votes: number;
  /** us->expected_votes after the reload. */
  readonly expected: number;
  readonly quorum: number;
  readonly quorate: boolean;
}

/**
 * The state right after corosync reloads a new file while `members` (node ids) are up, the device casting or
 * not (votequorum_refresh_config → readconfig at runtime, then recalculate_quorum(allow_decrease)): expected is
 * the configured value, raised to the votes present (configured device votes counted, get_total_votes);
 * quorum may go DOWN or UP; wait_for_all and auto_tie_breaker are not re-read at runtime and are left out (a
 * write is judged by plain majority, or two_node). Unknown node ids count 0 votes.
 */
export function afterReload(a: Arithmetic, members: readonly number[], deviceCasting: boolean): Reloaded {
  const up = a.hosts.filter((h) => members.includes(h.nodeId));
  const nodeTotal = sum(up.map((h) => h.votes));
  const casts = a.device && deviceCasting;
  const expected = Math.max(a.configuredExpected, nodeTotal + a.deviceVotes);
  const votes = nodeTotal + (casts ? a.deviceVotes : 0);
  const count = new Set(members).size + (casts ? 1 : 0);
  const quorum = a.twoNode && count <= 2 ? 1 : asCorosyncQuorum(majority(expected));
  return { votes, expected, quorum, quorate: members.length > 0 && votes >= quorum };
}

/** Expected votes once every host (and the device) has been up. */
export function expectedVotes(model: Model): number {
  return arithmetic(model).expected;
}

/** Quorum for expectedVotes(model): floor(expected / 2) + 1, modulo 256 as corosync stores it. */
export function quorumThreshold(model: Model): number {
  return asCorosyncQuorum(majority(expectedVotes(model)));
}

/** One row of the what-if table, for the named hosts (any order; unknown names throw). */
export function scenario(model: Model, up: readonly string[], deviceUp = true): QuorumScenario {
  const names = new Set(up);
  for (const n of names) {
    if (!model.hosts.some((h) => h.name === n)) throw new Error(`unknown host "${n}"`);
  }
  const hosts = model.hosts.filter((h) => names.has(h.name));
  return row(model, arithmetic(model), hosts, deviceUp);
}

export function row(model: Model, a: Arithmetic, up: readonly HostSpec[], deviceUp: boolean): QuorumScenario {
  const e = evaluate(a, up, deviceUp);
  const names = up.map((h) => h.name);
  return configuredDevice(model)
    ? { up: names, deviceUp, votes: e.votes, quorate: e.quorate, coldStart: e.coldStart }
    : { up: names, votes: e.votes, quorate: e.quorate, coldStart: e.coldStart };
}
