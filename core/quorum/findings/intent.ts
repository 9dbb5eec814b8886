// The always-on intent: the always-on hosts alone stay quorate, the others never do without them; and the
// fixes that say which votes would restore it.
import type { Finding, HostSpec, Model } from "../../model";
import { error, warning } from "../../config/findings";
import {
  arithmetic,
  configuredDevice,
  deviceVotes,
  evaluate,
  expectedVotes,
  majority,
  nodeVotes,
  quorumThreshold,
  sum,
} from "../arithmetic";
import { MAX_WHAT_IF_HOSTS, combinations } from "../what-if";
import { hostList, hostsQuorate, isAlwaysOn, votesPattern, withVotes } from "./helpers";

export function intentFindings(model: Model): Finding[] {
  const out: Finding[] = [];
  const hosts = model.hosts;
  const alwaysOn = hosts.filter(isAlwaysOn);
  // core/config refuses a stack without an always-on host (hosts.no-always-on): no intent to check here.
  if (alwaysOn.length === 0) return out;
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
        // In qdevice mode: only what `pvecm qdevice setup` can write, else weighted votes.
        (device && qdeviceFix(model, alwaysOn)) || alwaysOnFix(model, alwaysOn),
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
 * In qdevice mode with 1 vote per host: the device as `pvecm qdevice setup` writes it — ffsplit with 1 vote for
 * an even host count, lms with N-1 votes for an odd one (--force); no expected_votes, two_node,
 * auto_tie_breaker or last_man_standing — when that makes the always-on host(s) plus the device quorate and
 * keeps the other hosts from being quorate without them. undefined when that is not a change or does not help
 * (e.g. four hosts: ffsplit gives pve-low + the device 2 of 5), and then weighted votes are the fix.
 */
function qdeviceFix(model: Model, alwaysOn: readonly HostSpec[]): string | undefined {
  const q = model.quorum;
  const device = configuredDevice(model);
  if (!device || nodeVotes(model) !== model.hosts.length) return undefined;
  const pvecmAlgorithm = model.hosts.length % 2 === 0 ? "ffsplit" : "lms";
  const candidate: Model = {
    ...model,
    quorum: {
      ...q,
      expectedVotes: undefined,
      twoNode: false,
      autoTieBreaker: false,
      lastManStanding: false,
      device: { ...device, algorithm: pvecmAlgorithm, votes: undefined },
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
    device.algorithm !== pvecmAlgorithm
      ? `use algorithm ${pvecmAlgorithm} without quorum.device.votes`
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
