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
import type { Finding, HostSpec, Model } from "./model";
import { error, warning } from "./config/findings";

/** Every code quorumFindings can return. */
export const QUORUM_FINDING_CODES = [
  "hosts.no-always-on",
  "votes.always-on-not-quorate",
  "votes.always-on-cold-start",
  "votes.spot-hosts-quorate",
  "votes.zero",
  "votes.all-zero",
  "votes.weighted-equal",
  "votes.default-uneven",
  "votes.quorum-overflow",
  "quorum.weighted-shared-storage",
  "quorum.device-missing",
  "quorum.device-unused",
  "quorum.lms-uneven-votes",
  "quorum.two-node-host-count",
  "quorum.two-node-atb",
  "quorum.atb-odd-votes",
  "quorum.atb-lms-odd-votes",
  "quorum.two-node-with-device",
  "quorum.atb-with-device",
  "quorum.lms-with-device",
  "quorum.device-votes-required",
  "quorum.device-votes-with-expected",
  "quorum.device-votes-too-high",
  "quorum.ffsplit-votes",
  "quorum.ffsplit-odd-nodes",
  "quorum.qdevice-odd-nodes",
  "quorum.lms-device-votes",
  "quorum.expected-votes-override",
] as const;

/** Finding codes for configurations corosync refuses to start with (votequorum_readconfig errors). */
export const COROSYNC_REFUSES: ReadonlySet<string> = new Set([
  "quorum.two-node-with-device",
  "quorum.atb-with-device",
  "quorum.lms-with-device",
  "quorum.atb-lms-odd-votes",
  "quorum.device-votes-required",
  "quorum.device-votes-with-expected",
  "quorum.device-votes-too-high",
]);

/** More hosts than this make the 2^n table too large to be useful (and corosync clusters this size are not homelabs). */
export const MAX_WHAT_IF_HOSTS = 16;

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

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const majority = (expected: number): number => Math.floor(expected / 2) + 1;
/** corosync keeps `quorum` in a uint8_t (votequorum.c `static uint8_t quorum`). */
const asCorosyncQuorum = (q: number): number => q % 256;

/** The quorum device section corosync sees, or undefined when none is configured. */
function configuredDevice(model: Model) {
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

interface Arithmetic {
  readonly hosts: readonly HostSpec[];
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

function arithmetic(model: Model): Arithmetic {
  const q = model.quorum;
  const nodeSum = nodeVotes(model);
  const device = configuredDevice(model) !== undefined;
  const dv = deviceVotes(model);
  const explicitExpected = q.expectedVotes ? q.expectedVotes : undefined;
  const automaticDeviceVotes = device && renderedDeviceVotes(model) === undefined;
  const configuredExpected = explicitExpected ?? nodeSum + (automaticDeviceVotes ? dv : 0);
  // wait_for_all follows two_node when not set (the renderer leaves false keys out); ATB then turns
  // two_node off but not the wait_for_all it implied (votequorum_readconfig order).
  const waitForAll = q.waitForAll || q.twoNode;
  const twoNode = q.twoNode && !q.autoTieBreaker;
  // ATB with an odd nodelist vote sum needs wait_for_all, else corosync disables it.
  const autoTieBreaker = q.autoTieBreaker && !(nodeSum % 2 === 1 && !waitForAll);
  return {
    hosts: model.hosts,
    nodeSum,
    device,
    deviceVotes: dv,
    configuredExpected,
    expected: Math.max(configuredExpected, nodeSum + dv),
    twoNode,
    waitForAll,
    autoTieBreaker,
    lowestNodeId: Math.min(...model.hosts.map((h) => h.nodeId)),
  };
}

interface Evaluation {
  readonly votes: number;
  readonly quorate: boolean;
  readonly coldStart: boolean;
}

function evaluate(a: Arithmetic, up: readonly HostSpec[], deviceUp: boolean): Evaluation {
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

function row(model: Model, a: Arithmetic, up: readonly HostSpec[], deviceUp: boolean): QuorumScenario {
  const e = evaluate(a, up, deviceUp);
  const names = up.map((h) => h.name);
  return configuredDevice(model)
    ? { up: names, deviceUp, votes: e.votes, quorate: e.quorate, coldStart: e.coldStart }
    : { up: names, votes: e.votes, quorate: e.quorate, coldStart: e.coldStart };
}

/** Every subset of declared positions 0..n-1, largest first, then lexicographic by position. */
export function subsetsInOrder(n: number): number[][] {
  if (n > MAX_WHAT_IF_HOSTS) {
    throw new RangeError(`what-if tables cover at most ${MAX_WHAT_IF_HOSTS} hosts, got ${n}`);
  }
  const out: number[][] = [];
  for (let k = n; k >= 0; k--) combinations(n, k, out);
  return out;
}

/** The k-element subsets of 0..n-1 in lexicographic order, appended to `out`. */
function combinations(n: number, k: number, out: number[][]): void {
  const idx = Array.from({ length: k }, (_, i) => i);
  for (;;) {
    out.push([...idx]);
    let i = k - 1;
    while (i >= 0 && idx[i] === n - k + i) i--;
    if (i < 0) return;
    idx[i]!++;
    for (let j = i + 1; j < k; j++) idx[j] = idx[j - 1]! + 1;
  }
}

/** The what-if table: expected votes, quorum and every subset of hosts (and device state) up. */
export function whatIf(model: Model): WhatIfTable {
  const a = arithmetic(model);
  const deviceStates = configuredDevice(model) ? [true, false] : [true];
  const scenarios = subsetsInOrder(model.hosts.length).flatMap((idx) => {
    const up = idx.map((i) => model.hosts[i]!);
    return deviceStates.map((d) => row(model, a, up, d));
  });
  return { expectedVotes: a.expected, quorum: quorumThreshold(model), deviceVotes: a.deviceVotes, scenarios };
}

// ---------------------------------------------------------------------------------------------------------
// Findings

const isAlwaysOn = (h: HostSpec) => h.power === "always-on";
const votesPattern = (hosts: readonly HostSpec[], override?: ReadonlyMap<string, number>) =>
  hosts.map((h) => override?.get(h.name) ?? h.votes).join("/");
const hostList = (hosts: readonly HostSpec[]) => hosts.map((h) => h.name).join(" + ");

function withVotes(model: Model, votes: ReadonlyMap<string, number>): Model {
  return { ...model, hosts: model.hosts.map((h) => ({ ...h, votes: votes.get(h.name) ?? h.votes })) };
}
function withDeviceVotes(model: Model, votes: number): Model {
  const device = model.quorum.device;
  return device ? { ...model, quorum: { ...model.quorum, device: { ...device, votes } } } : model;
}
const hostsQuorate = (model: Model, hosts: readonly HostSpec[], deviceUp: boolean) =>
  evaluate(arithmetic(model), hosts, deviceUp).quorate;

/** Quorum intent and option findings for a model; empty when the layout is sound. */
export function quorumFindings(model: Model): Finding[] {
  return [...optionFindings(model), ...voteFindings(model), ...intentFindings(model), ...riskFindings(model)];
}

function optionFindings(model: Model): Finding[] {
  const out: Finding[] = [];
  const q = model.quorum;
  const hosts = model.hosts;
  const nodeSum = nodeVotes(model);
  const allOnes = hosts.every((h) => h.votes === 1);

  if (q.mode === "qdevice" && !q.device) {
    out.push(
      error(
        "quorum.device-missing",
        "quorum.device",
        "quorum.mode is qdevice but no quorum.device is declared",
        "add quorum.device: {address, hostKey} of the QNetd host, or use mode: weighted",
      ),
    );
  }
  if (q.mode !== "qdevice" && q.device) {
    out.push(
      error(
        "quorum.device-unused",
        "quorum.device",
        `quorum.device is declared but quorum.mode is ${q.mode}`,
        "set quorum.mode: qdevice to use it, or remove quorum.device",
      ),
    );
  }
  const device = configuredDevice(model);

  if (q.lastManStanding && hosts.some((h) => h.votes > 1)) {
    out.push(
      error(
        "quorum.lms-uneven-votes",
        "quorum.lastManStanding",
        `last_man_standing needs every node to vote 1, but votes are ${votesPattern(hosts)}; corosync turns it off`,
        "set quorum.lastManStanding: false (weighted votes already keep the always-on host quorate)",
      ),
    );
  }
  if (q.twoNode && hosts.length !== 2) {
    out.push(
      error(
        "quorum.two-node-host-count",
        "quorum.twoNode",
        `two_node is for exactly 2 hosts, this cluster has ${hosts.length}; with it any 2 hosts (or 1) would be quorate`,
        "set quorum.twoNode: false",
      ),
    );
  }
  if (q.twoNode && q.autoTieBreaker) {
    out.push(
      warning(
        "quorum.two-node-atb",
        "quorum.twoNode",
        "two_node and auto_tie_breaker are not compatible: corosync disables two_node (wait_for_all stays on)",
        "keep one of quorum.twoNode and quorum.autoTieBreaker",
      ),
    );
  }
  if (q.autoTieBreaker && !device && nodeSum % 2 === 1 && !(q.waitForAll || q.twoNode)) {
    out.push(
      q.lastManStanding
        ? error(
            "quorum.atb-lms-odd-votes",
            "quorum.autoTieBreaker",
            `auto_tie_breaker with last_man_standing and an odd vote total (${nodeSum}) without wait_for_all: corosync refuses to start`,
            "set quorum.waitForAll: true, or turn off quorum.autoTieBreaker",
          )
        : warning(
            "quorum.atb-odd-votes",
            "quorum.autoTieBreaker",
            `auto_tie_breaker with an odd vote total (${nodeSum}) needs wait_for_all: corosync disables it`,
            "set quorum.waitForAll: true, or turn off quorum.autoTieBreaker",
          ),
    );
  }
  if (device) {
    const refuse = "corosync refuses to start";
    if (q.twoNode) {
      out.push(
        error(
          "quorum.two-node-with-device",
          "quorum.twoNode",
          `two_node and a quorum device cannot be configured together: ${refuse}`,
          "set quorum.twoNode: false; the device already breaks the tie",
        ),
      );
    }
    if (q.autoTieBreaker) {
      out.push(
        error(
          "quorum.atb-with-device",
          "quorum.autoTieBreaker",
          `auto_tie_breaker is not compatible with a quorum device: ${refuse}`,
          "set quorum.autoTieBreaker: false; the device breaks ties",
        ),
      );
    }
    if (q.lastManStanding) {
      out.push(
        error(
          "quorum.lms-with-device",
          "quorum.lastManStanding",
          `last_man_standing is not compatible with a quorum device: ${refuse}`,
          "set quorum.lastManStanding: false; use algorithm lms on the device instead",
        ),
      );
    }
    const rendered = renderedDeviceVotes(model);
    if (rendered === undefined && nodeSum !== hosts.length) {
      out.push(
        error(
          "quorum.device-votes-required",
          "quorum.device.votes",
          `a quorum device without quorum.device.votes needs node votes that add up to the node count (every node voting 1), but votes are ${votesPattern(hosts)}: corosync exits with status 20 at start`,
          `set every host's votes to 1 (QDevice and weighted votes are exclusive modes), or set quorum.device.votes (lms default: ${Math.max(nodeSum - 1, 0)})`,
        ),
      );
    }
    if (rendered === undefined && q.expectedVotes) {
      out.push(
        error(
          "quorum.device-votes-with-expected",
          "quorum.device.votes",
          `quorum.expectedVotes is set but quorum.device.votes is not: ${refuse}`,
          "remove quorum.expectedVotes, or set quorum.device.votes",
        ),
      );
    }
    if (rendered !== undefined && q.expectedVotes && q.expectedVotes - rendered < 2) {
      out.push(
        error(
          "quorum.device-votes-too-high",
          "quorum.device.votes",
          `quorum.device.votes (${rendered}) must be at least 2 below quorum.expectedVotes (${q.expectedVotes}): ${refuse}`,
          "remove quorum.expectedVotes, or lower quorum.device.votes",
        ),
      );
    }
    if (device.algorithm === "ffsplit" && (!allOnes || rendered !== 1)) {
      out.push(
        error(
          "quorum.ffsplit-votes",
          device.votes !== undefined && device.votes !== 1 ? "quorum.device.votes" : "hosts",
          `algorithm ffsplit needs every node and the device to vote 1, but votes are ${votesPattern(hosts)} and the device has ${rendered}`,
          "set every host's votes and quorum.device.votes to 1",
        ),
      );
    }
    if (hosts.length % 2 === 1) {
      out.push(
        device.algorithm === "ffsplit"
          ? error(
              "quorum.ffsplit-odd-nodes",
              "quorum.device.algorithm",
              `algorithm ffsplit makes sense only for an even node count, this cluster has ${hosts.length}`,
              "use algorithm lms (what `pvecm qdevice setup --force` uses for odd node counts)",
            )
          : warning(
              "quorum.qdevice-odd-nodes",
              "quorum.device",
              `a QDevice with an odd node count (${hosts.length}) is not officially supported by Proxmox: \`pvecm qdevice setup\` needs --force and uses algorithm lms`,
              "accept it (the device then holds N-1 votes and any single host with it is quorate), or use mode: weighted",
            ),
      );
    }
    if (
      device.algorithm === "lms" &&
      device.votes !== undefined &&
      device.votes !== Math.max(nodeSum - 1, 0)
    ) {
      out.push(
        warning(
          "quorum.lms-device-votes",
          "quorum.device.votes",
          `algorithm lms expects the default device votes (${Math.max(nodeSum - 1, 0)}), got ${device.votes}`,
          "remove quorum.device.votes so corosync computes it",
        ),
      );
    }
  }
  if (q.expectedVotes && q.expectedVotes !== nodeSum + deviceVotes(model)) {
    out.push(
      warning(
        "quorum.expected-votes-override",
        "quorum.expectedVotes",
        `quorum.expectedVotes is ${q.expectedVotes} but the votes add up to ${nodeSum + deviceVotes(model)}; corosync raises expected votes to the votes it has seen, so quorum differs between a cold start and a running cluster`,
        "remove quorum.expectedVotes; use `pvecm expected` for a one-off recovery instead",
      ),
    );
  }
  return out;
}

function voteFindings(model: Model): Finding[] {
  const out: Finding[] = [];
  const hosts = model.hosts;
  if (hosts.length > 0 && hosts.every((h) => h.votes === 0)) {
    out.push(
      error(
        "votes.all-zero",
        "hosts",
        "every host has votes: 0, so the cluster can never be quorate",
        "give the always-on host votes > 0 (e.g. 3/1/1)",
      ),
    );
  } else {
    hosts.forEach((h, i) => {
      if (h.votes === 0) {
        out.push(
          warning(
            "votes.zero",
            `hosts[${i}].votes`,
            `host ${h.name} has votes: 0 and never counts towards quorum`,
            "give it votes: 1 unless it should never matter for quorum",
          ),
        );
      }
    });
  }
  const distinct = new Set(hosts.map((h) => h.votes));
  if (model.quorum.mode === "weighted" && hosts.length > 1 && distinct.size === 1 && !distinct.has(0)) {
    out.push(
      warning(
        "votes.weighted-equal",
        "quorum.mode",
        `quorum.mode is weighted but every host has ${hosts[0]!.votes} vote(s): this is plain majority (default mode)`,
        "give the always-on host more votes (e.g. 3/1/1), or set quorum.mode: default",
      ),
    );
  }
  if (model.quorum.mode === "default" && hosts.some((h) => h.votes !== 1)) {
    out.push(
      error(
        "votes.default-uneven",
        "quorum.mode",
        `quorum.mode is default (1 vote each) but votes are ${votesPattern(hosts)}`,
        "set every host's votes to 1, or set quorum.mode: weighted",
      ),
    );
  }
  const expected = expectedVotes(model);
  if (majority(expected) > 255) {
    out.push(
      error(
        "votes.quorum-overflow",
        "hosts",
        `expected votes ${expected} need a quorum of ${majority(expected)}, but corosync keeps quorum in 8 bits and would use ${quorumThreshold(model)}`,
        "keep the vote total below 510; small weights such as 3/1/1 do the same job",
      ),
    );
  }
  return out;
}

function intentFindings(model: Model): Finding[] {
  const out: Finding[] = [];
  const hosts = model.hosts;
  const alwaysOn = hosts.filter(isAlwaysOn);
  if (alwaysOn.length === 0) {
    return [
      error(
        "hosts.no-always-on",
        "hosts",
        "no host has power: always-on",
        "mark the low-power host that never sleeps as power: always-on; the cluster is built around it",
      ),
    ];
  }
  // Too many hosts for the subset checks, or no votes at all (votes.all-zero says it).
  if (hosts.length > MAX_WHAT_IF_HOSTS || nodeVotes(model) === 0) return out;
  const device = configuredDevice(model);
  const firstIndex = hosts.indexOf(alwaysOn[0]!);
  const expected = expectedVotes(model);
  const quorum = quorumThreshold(model);

  if (!hostsQuorate(model, alwaysOn, true)) {
    const have = sum(alwaysOn.map((h) => h.votes)) + (device ? deviceVotes(model) : 0);
    const who = device ? `${hostList(alwaysOn)} + the quorum device` : hostList(alwaysOn);
    out.push(
      error(
        "votes.always-on-not-quorate",
        device ? "quorum.device.votes" : `hosts[${firstIndex}].votes`,
        `${who} alone ${alwaysOn.length === 1 && !device ? "has" : "have"} ${have} of ${expected} expected votes, below the quorum of ${quorum}: switching the other hosts off freezes the cluster`,
        device ? (qdeviceFix(model, alwaysOn) ?? deviceFix(model, alwaysOn)) : alwaysOnFix(model, alwaysOn),
      ),
    );
  }

  const alone = evaluate(arithmetic(model), alwaysOn, true);
  if (alone.quorate && !alone.coldStart && alwaysOn.length < hosts.length) {
    const q = model.quorum;
    const cause =
      q.waitForAll || q.twoNode
        ? `wait_for_all${q.waitForAll ? "" : " (implied by two_node)"} holds quorum back until every host has been seen`
        : `quorum.expectedVotes ${q.expectedVotes} counts only once every host has been up`;
    out.push(
      warning(
        "votes.always-on-cold-start",
        q.waitForAll || q.twoNode
          ? q.waitForAll
            ? "quorum.waitForAll"
            : "quorum.twoNode"
          : "quorum.expectedVotes",
        `after a full power outage ${hostList(alwaysOn)}${device ? " + the quorum device" : ""} alone ${alwaysOn.length === 1 && !device ? "is" : "are"} not quorate: ${cause}`,
        q.waitForAll || q.twoNode
          ? "turn off quorum.waitForAll (and quorum.twoNode), or plan to boot every host after an outage"
          : "remove quorum.expectedVotes",
      ),
    );
  }

  // Hosts that are not always-on must never be quorate without every always-on host, neither after the
  // others stopped nor when they boot alone. In qdevice mode the check is without the device: the device
  // sides with one partition only, so hosts that are quorate without it outvote the always-on host.
  const a = arithmetic(model);
  const spots = hosts.filter((h) => !isAlwaysOn(h));
  const quorateSpotSets: { hosts: HostSpec[]; coldOnly: boolean }[] = [];
  const bySizeThenOrder: number[][] = [];
  for (let k = 1; k <= spots.length; k++) combinations(spots.length, k, bySizeThenOrder);
  for (const idx of bySizeThenOrder) {
    const set = idx.map((i) => spots[i]!);
    if (quorateSpotSets.some((s) => s.hosts.every((h) => set.includes(h)))) continue; // minimal sets only
    const e = evaluate(a, set, false);
    if (e.quorate || e.coldStart) quorateSpotSets.push({ hosts: set, coldOnly: !e.quorate });
  }
  if (quorateSpotSets.length > 0) {
    const shown = quorateSpotSets
      .slice(0, 3)
      .map((s) => `${hostList(s.hosts)}${s.coldOnly ? " (when they boot without it)" : ""}`);
    const more = quorateSpotSets.length > 3 ? ` and ${quorateSpotSets.length - 3} more` : "";
    out.push(
      error(
        "votes.spot-hosts-quorate",
        `hosts[${firstIndex}].votes`,
        `without the always-on host${alwaysOn.length > 1 ? "s" : ""} ${hostList(alwaysOn)}${device ? " and without the quorum device" : ""}, these hosts would be quorate and could outvote ${alwaysOn.length > 1 ? "them" : "it"}: ${shown.join("; ")}${more}`,
        (device && qdeviceFix(model, alwaysOn)) || alwaysOnFix(model, alwaysOn, true),
      ),
    );
  }
  return out;
}

/**
 * In qdevice mode with 1 vote per host: the Proxmox lms setup (device votes N-1, no expected_votes, no
 * two_node/auto_tie_breaker/last_man_standing) when it makes the always-on host(s) plus the device quorate
 * and keeps the other hosts from being quorate without them. undefined when that is not a change or does
 * not help.
 */
function qdeviceFix(model: Model, alwaysOn: readonly HostSpec[]): string | undefined {
  const q = model.quorum;
  const device = configuredDevice(model);
  if (!device || nodeVotes(model) !== model.hosts.length) return undefined;
  const candidate: Model = {
    ...model,
    quorum: {
      ...q,
      expectedVotes: undefined,
      twoNode: false,
      autoTieBreaker: false,
      lastManStanding: false,
      device: { ...device, algorithm: "lms", votes: undefined },
    },
  };
  const a = arithmetic(candidate);
  const spots = model.hosts.filter((h) => !isAlwaysOn(h));
  const rest = evaluate(a, spots, false);
  if (!evaluate(a, alwaysOn, true).quorate || (spots.length > 0 && (rest.quorate || rest.coldStart))) {
    return undefined;
  }
  const steps = [
    q.expectedVotes && "remove quorum.expectedVotes",
    q.twoNode && "set quorum.twoNode: false",
    q.autoTieBreaker && "set quorum.autoTieBreaker: false",
    q.lastManStanding && "set quorum.lastManStanding: false",
    device.algorithm !== "lms"
      ? "use algorithm lms without quorum.device.votes"
      : device.votes !== undefined && "remove quorum.device.votes",
  ].filter(Boolean);
  if (steps.length === 0) return undefined;
  return `${steps.join(" and ")}: the device then holds ${a.deviceVotes}, expected ${a.expected}, quorum ${quorumThreshold(candidate)}; ${hostList(alwaysOn)} + the device hold ${sum(alwaysOn.map((h) => h.votes)) + a.deviceVotes}, the other hosts together ${rest.votes}`;
}

/**
 * The plain-majority variant of a model that a vote fix is computed on: weighted mode without a device
 * (QDevice and weighted votes are exclusive), without two_node and auto_tie_breaker (their exceptions are
 * errors or depend on history) and last_man_standing (off with uneven votes anyway).
 */
function majorityModel(model: Model): Model {
  const quorum = {
    ...model.quorum,
    mode: "weighted" as const,
    device: undefined,
    twoNode: false,
    autoTieBreaker: false,
    lastManStanding: false,
  };
  return { ...model, quorum };
}

/**
 * Smallest vote, the same for each always-on host, that makes the always-on host(s) quorate alone while
 * the other hosts keep theirs and can never be quorate without them (not even when they boot alone), by
 * plain majority in weighted mode. undefined when no vote up to 255 does it.
 */
export function suggestAlwaysOnVotes(model: Model): number | undefined {
  const alwaysOn = model.hosts.filter(isAlwaysOn);
  if (alwaysOn.length === 0) return undefined;
  const base = majorityModel(model);
  for (let v = 1; v <= 255; v++) {
    const candidate = withVotes(base, new Map(alwaysOn.map((h) => [h.name, v])));
    const a = arithmetic(candidate);
    const spots = candidate.hosts.filter((h) => !isAlwaysOn(h));
    if (!evaluate(a, candidate.hosts.filter(isAlwaysOn), true).quorate) continue;
    const rest = evaluate(a, spots, false);
    if (spots.length > 0 && (rest.quorate || rest.coldStart)) continue;
    if (majority(a.expected) > 255) return undefined;
    return v;
  }
  return undefined;
}

function alwaysOnFix(model: Model, alwaysOn: readonly HostSpec[], spotsToo = false): string {
  const q = model.quorum;
  let base = model;
  let v = suggestAlwaysOnVotes(model);
  if (v === undefined && q.expectedVotes) {
    // An expected_votes below the vote total lets hosts booting without the always-on host be quorate.
    base = { ...model, quorum: { ...q, expectedVotes: undefined } };
    v = suggestAlwaysOnVotes(base);
  }
  if (v === undefined) {
    return `give ${hostList(alwaysOn)} more votes than all the other hosts together, keeping the vote total below 510`;
  }
  const votes = new Map(alwaysOn.map((h) => [h.name, v]));
  const fixed = withVotes(majorityModel(base), votes);
  const where = alwaysOn.map((h) => `hosts[${model.hosts.indexOf(h)}].votes`).join(" and ");
  const steps = [
    q.mode !== "weighted" && "set quorum.mode: weighted",
    base !== model && "remove quorum.expectedVotes",
    q.twoNode && "set quorum.twoNode: false",
    q.autoTieBreaker && "set quorum.autoTieBreaker: false",
    alwaysOn.some((h) => h.votes !== v) && `set ${where} to ${v}`,
  ].filter(Boolean);
  const why = spotsToo
    ? `the other hosts together then hold ${sum(fixed.hosts.filter((h) => !isAlwaysOn(h)).map((h) => h.votes))}`
    : `${hostList(alwaysOn)} alone then ${alwaysOn.length === 1 ? "holds" : "hold"} ${v * alwaysOn.length}`;
  return `${steps.join(" and ")}: votes ${votesPattern(model.hosts, votes)} give expected ${expectedVotes(fixed)}, quorum ${quorumThreshold(fixed)}, and ${why}`;
}

function deviceFix(model: Model, alwaysOn: readonly HostSpec[]): string {
  const device = configuredDevice(model)!;
  const nodeSum = nodeVotes(model);
  const lmsVotes = Math.max(nodeSum - 1, 0);
  for (let dv = 1; dv <= Math.min(nodeSum * 2 + 2, 255); dv++) {
    const candidate = withDeviceVotes(model, dv);
    if (!hostsQuorate(candidate, alwaysOn, true)) continue;
    const automatic = dv === lmsVotes && model.hosts.length === nodeSum && !model.quorum.expectedVotes;
    const how = automatic
      ? device.algorithm === "lms"
        ? `remove quorum.device.votes (algorithm lms then gives the device ${dv})`
        : `use algorithm lms without quorum.device.votes (the device then holds ${dv})`
      : `${device.algorithm === "ffsplit" ? "use algorithm lms and " : ""}set quorum.device.votes to ${dv}`;
    return `${how}: expected ${expectedVotes(candidate)}, quorum ${quorumThreshold(candidate)}, and ${hostList(alwaysOn)} + the device then hold ${sum(alwaysOn.map((h) => h.votes)) + dv}`;
  }
  return "use mode: weighted (e.g. votes 3/1/1) instead";
}

function riskFindings(model: Model): Finding[] {
  const hosts = model.hosts;
  const weighted = model.quorum.mode === "weighted" && new Set(hosts.map((h) => h.votes)).size > 1;
  if (!weighted) return [];
  const out: Finding[] = [];
  const make = model.acknowledgeQuorumRisk ? warning : error;
  const ack = model.acknowledgeQuorumRisk
    ? "acknowledged (acknowledgeQuorumRisk: true)"
    : "set acknowledgeQuorumRisk: true only if you accept this";
  const alternative =
    "the clean alternative is quorum.mode: qdevice (1 vote per host plus an external QNetd vote)";
  if (model.sharedStorage.length > 0) {
    out.push(
      make(
        "quorum.weighted-shared-storage",
        "sharedStorage",
        `weighted votes (${votesPattern(hosts)}) with shared storage (${model.sharedStorage.join(", ")}): one host alone is the cluster, so a split or a forced \`pvecm expected\` on the other side lets two sides write the same storage (split-brain)`,
        `${alternative}; ${ack}`,
      ),
    );
  }
  // HA VMs with weighted votes are the same risk, reported per VM by core/placement (placement.ha-with-weighted-votes).
  return out;
}
