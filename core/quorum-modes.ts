// The three quorum modes side by side, for the plan: for every set of live hosts, is the cluster quorate
// with weighted votes, with one vote each plus a QDevice (device up, and device down too), and with plain
// one vote each? Pure data; the arithmetic is core/quorum's (votequorum.c rules), this file only builds the
// three variants of the stack and asks it.
//
// The column of the stack's own mode uses the stack exactly as declared (so it matches whatIf()). The other
// columns are those modes the way Proxmox sets them up: no expected_votes override, no two_node,
// wait_for_all, auto_tie_breaker or last_man_standing; qdevice as `pvecm qdevice setup` writes it (ffsplit
// with 1 device vote for an even host count, lms with N-1 for an odd one, which needs --force); weighted with
// the declared votes when they are uneven, else the smallest always-on weight that keeps the always-on host
// quorate alone (core/quorum suggestAlwaysOnVotes).
import type { Model, QuorumMode, QuorumSpec } from "./model";
import {
  FULL_TABLE_MAX_HOSTS,
  quorumBoundary,
  scenario,
  subsetsInOrder,
  suggestAlwaysOnVotes,
  whatIf,
  type QuorumBoundary,
} from "./quorum";

/**
 * What `pvecm qdevice setup` picks for a node count (pve-cluster pvecm.pm: `scalar(%{$members}) & 1`): ffsplit
 * for an even count; lms for an odd one, and only with --force ("Clusters with an odd node count are not
 * officially supported!").
 */
export function pvecmAlgorithm(nodeCount: number): { algorithm: "ffsplit" | "lms"; force: boolean } {
  return nodeCount % 2 === 1 ? { algorithm: "lms", force: true } : { algorithm: "ffsplit", force: false };
}

export interface ModeSummary {
  readonly mode: QuorumMode;
  /** The stack's own quorum.mode. */
  readonly active: boolean;
  /** quorum_votes per host name in this mode. */
  readonly votes: Readonly<Record<string, number>>;
  /** Where the votes come from: the stack, a suggestion (weighted column of an unweighted stack), or 1 each. */
  readonly votesFrom: "declared" | "suggested" | "one-each";
  /** The QDevice's votes; 0 outside qdevice mode. */
  readonly deviceVotes: number;
  readonly algorithm?: "ffsplit" | "lms";
  /** Expected votes once every host (and the device) has been up. */
  readonly expectedVotes: number;
  readonly quorum: number;
  /** What to know about this mode for this stack, one sentence each. */
  readonly notes: readonly string[];
}

export interface ModeRow {
  /** Live hosts, in declared order (never empty). */
  readonly up: readonly string[];
  readonly weighted: boolean;
  /** One vote each plus the QDevice, which is up. */
  readonly qdevice: boolean;
  /** One vote each, QDevice configured but down (its host or qnetd stopped). */
  readonly qdeviceDeviceDown: boolean;
  readonly default: boolean;
}

export interface ModeComparison {
  readonly hosts: readonly string[];
  readonly modes: {
    readonly weighted: ModeSummary;
    readonly qdevice: ModeSummary;
    readonly default: ModeSummary;
  };
  /**
   * Every non-empty set of live hosts: all hosts first, then smaller sets (core/quorum subsetsInOrder). Up to
   * FULL_TABLE_MAX_HOSTS hosts; empty beyond, where `boundaries` says the same compactly.
   */
  readonly rows: readonly ModeRow[];
  /** Beyond FULL_TABLE_MAX_HOSTS hosts: each mode's quorate/non-quorate boundary (qdevice: device up, down). */
  readonly boundaries?: {
    readonly weighted: readonly QuorumBoundary[];
    readonly qdevice: readonly QuorumBoundary[];
    readonly default: readonly QuorumBoundary[];
  };
}

const PLAIN: Omit<QuorumSpec, "mode"> = {
  expectedVotes: undefined,
  twoNode: false,
  lastManStanding: false,
  autoTieBreaker: false,
  waitForAll: false,
  device: undefined,
};

const oneEach = (model: Model): Model => ({ ...model, hosts: model.hosts.map((h) => ({ ...h, votes: 1 })) });

function weightedVariant(model: Model): { model: Model; from: ModeSummary["votesFrom"] } {
  if (model.quorum.mode === "weighted") return { model, from: "declared" };
  const plain: Model = { ...model, quorum: { ...PLAIN, mode: "weighted" } };
  if (new Set(model.hosts.map((h) => h.votes)).size > 1) return { model: plain, from: "declared" };
  const v = suggestAlwaysOnVotes(oneEach(plain));
  if (v === undefined) return { model: oneEach(plain), from: "one-each" };
  const hosts = model.hosts.map((h) => ({ ...h, votes: h.power === "always-on" ? v : 1 }));
  return { model: { ...plain, hosts }, from: "suggested" };
}

function qdeviceVariant(model: Model): Model {
  if (model.quorum.mode === "qdevice" && model.quorum.device) return model;
  const { algorithm } = pvecmAlgorithm(model.hosts.length);
  return {
    ...oneEach(model),
    quorum: {
      ...PLAIN,
      mode: "qdevice",
      device: { address: "qnetd", hostKey: "", sshUser: "root", sshPort: 22, algorithm, votes: undefined },
    },
  };
}

function defaultVariant(model: Model): Model {
  if (model.quorum.mode === "default") return model;
  return { ...oneEach(model), quorum: { ...PLAIN, mode: "default" } };
}

function summary(
  mode: QuorumMode,
  variant: Model,
  active: boolean,
  votesFrom: ModeSummary["votesFrom"],
  notes: string[],
): ModeSummary {
  const table = variant.hosts.length <= FULL_TABLE_MAX_HOSTS ? whatIf(variant) : quorumBoundary(variant);
  return {
    mode,
    active,
    votes: Object.fromEntries(variant.hosts.map((h) => [h.name, h.votes])),
    votesFrom,
    deviceVotes: table.deviceVotes,
    ...(variant.quorum.device ? { algorithm: variant.quorum.device.algorithm } : {}),
    expectedVotes: table.expectedVotes,
    quorum: table.quorum,
    notes,
  };
}

/** The three modes for this stack's hosts, side by side (see the file header for what each column assumes). */
export function compareModes(model: Model): ModeComparison {
  const weighted = weightedVariant(model);
  const qdevice = qdeviceVariant(model);
  const plain = defaultVariant(model);
  const n = model.hosts.length;
  const alwaysOn = model.hosts.filter((h) => h.power === "always-on").map((h) => h.name);

  const small = n <= FULL_TABLE_MAX_HOSTS;
  const rows: ModeRow[] = (small ? subsetsInOrder(n) : [])
    .filter((idx) => idx.length > 0)
    .map((idx) => {
      const up = idx.map((i) => model.hosts[i]!.name);
      return {
        up,
        weighted: scenario(weighted.model, up).quorate,
        qdevice: scenario(qdevice, up, true).quorate,
        qdeviceDeviceDown: scenario(qdevice, up, false).quorate,
        default: scenario(plain, up).quorate,
      };
    });

  const qdeviceNotes: string[] = [];
  if (n % 2 === 1) {
    qdeviceNotes.push(
      `${n} hosts is an odd count: Proxmox discourages a QDevice here; \`pvecm qdevice setup --force\` is needed and uses algorithm lms, the device holding ${Math.max(n - 1, 0)} votes (any one host plus the device is quorate)`,
    );
  } else {
    qdeviceNotes.push(
      `${n} hosts is an even count: algorithm ffsplit, the device holds 1 vote and gives it to one half of a split (the one with the lowest node id on a tie)`,
    );
  }
  qdeviceNotes.push(
    "every host must be online while the device is set up or removed (pvecm), and hosts cannot join or leave while it is configured",
  );
  const weightedNotes: string[] = [];
  const heavyAlone = alwaysOn.length > 0 && scenario(weighted.model, alwaysOn).quorate;
  if (heavyAlone) {
    weightedNotes.push(
      `${alwaysOn.join(" + ")} alone is the cluster: the other hosts can never outvote it, and a split or a forced \`pvecm expected\` on their side risks two writers on shared storage`,
    );
  }
  if (weighted.from === "suggested") {
    weightedNotes.push(
      "the stack's votes are equal; this column uses the smallest always-on weight that works",
    );
  }
  return {
    hosts: model.hosts.map((h) => h.name),
    modes: {
      weighted: summary(
        "weighted",
        weighted.model,
        model.quorum.mode === "weighted",
        weighted.from,
        weightedNotes,
      ),
      qdevice: summary(
        "qdevice",
        qdevice,
        model.quorum.mode === "qdevice",
        model.quorum.mode === "qdevice" ? "declared" : "one-each",
        qdeviceNotes,
      ),
      default: summary(
        "default",
        plain,
        model.quorum.mode === "default",
        model.quorum.mode === "default" ? "declared" : "one-each",
        [],
      ),
    },
    rows,
    ...(small
      ? {}
      : {
          boundaries: {
            weighted: quorumBoundary(weighted.model).boundaries,
            qdevice: quorumBoundary(qdevice).boundaries,
            default: quorumBoundary(plain).boundaries,
          },
        }),
  };
}
