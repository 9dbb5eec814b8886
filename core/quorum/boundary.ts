// The compact quorum summary shared by the plan and the status: up to FULL_TABLE_MAX_HOSTS hosts the full
// what-if table (2^n rows); beyond, the BOUNDARY between quorate and non-quorate sets of live hosts, which is
// what the table shows anyway (quorum is monotone: adding a live host never loses it).
//
// Hosts that are interchangeable for votequorum (same votes; under auto_tie_breaker the lowest node id is
// special) form a class, and a set of live hosts is described by how many hosts of each class are up. The
// boundary is then each minimal quorate count pattern ("any 9 of the 15 one-vote hosts") and each maximal
// non-quorate one, with how many concrete host sets each stands for. The patterns number at most
// prod(class size + 1), far below 2^n for any real layout, and the output is capped at MAX_PATTERNS.
import type { HostSpec, Model } from "../model";
import { arithmetic, configuredDevice, quorumThreshold, type WhatIfTable } from "./arithmetic";
import { evaluate } from "./arithmetic";
import { whatIf } from "./what-if";

/** Up to this many hosts the full what-if table is shown. */
export const FULL_TABLE_MAX_HOSTS = 5;
/** At most this many patterns of each kind are listed (the counts say how many there are). */
export const MAX_PATTERNS = 12;

export interface HostClass {
  /** Host names in declared order. */
  readonly hosts: readonly string[];
  readonly votes: number;
}

export interface BoundaryPattern {
  /** Live hosts per class (same order as `classes`). */
  readonly counts: readonly number[];
  /** Votes of such a set (plus the device's when it is up). */
  readonly votes: number;
  /** How many concrete sets of hosts this pattern stands for. */
  readonly sets: number;
  /** e.g. "pve-01 + any 8 of pve-02…pve-16 (1-vote)". */
  readonly text: string;
}

export interface QuorumBoundary {
  /** qdevice mode: the device state this boundary holds for. */
  readonly deviceUp?: boolean;
  /** Each minimal quorate pattern (remove any host and it is not quorate), fewest votes first. */
  readonly minimalQuorate: readonly BoundaryPattern[];
  readonly minimalQuorateCount: number;
  /** Each maximal non-quorate pattern (add any host and it is quorate), most votes first. */
  readonly maximalNonQuorate: readonly BoundaryPattern[];
  readonly maximalNonQuorateCount: number;
}

export type QuorumSummary =
  | { readonly kind: "table"; readonly hosts: number; readonly table: WhatIfTable }
  | {
      readonly kind: "boundary";
      readonly hosts: number;
      readonly expectedVotes: number;
      readonly quorum: number;
      readonly deviceVotes: number;
      readonly classes: readonly HostClass[];
      readonly boundaries: readonly QuorumBoundary[];
    };

/** The summary for this stack: the table for few hosts, the boundary beyond. */
export function quorumSummary(model: Model): QuorumSummary {
  if (model.hosts.length <= FULL_TABLE_MAX_HOSTS) {
    return { kind: "table", hosts: model.hosts.length, table: whatIf(model) };
  }
  return { kind: "boundary", hosts: model.hosts.length, ...quorumBoundary(model) };
}

/** Classes of interchangeable hosts: equal votes (and under auto_tie_breaker the lowest node id alone). */
export function hostClasses(model: Model): HostSpec[][] {
  const a = arithmetic(model);
  const classes = new Map<string, HostSpec[]>();
  for (const h of model.hosts) {
    const key = `${h.votes}${a.autoTieBreaker && h.nodeId === a.lowestNodeId ? "*" : ""}`;
    const c = classes.get(key);
    if (c) c.push(h);
    else classes.set(key, [h]);
  }
  return [...classes.values()];
}

export function quorumBoundary(model: Model): {
  expectedVotes: number;
  quorum: number;
  deviceVotes: number;
  classes: HostClass[];
  boundaries: QuorumBoundary[];
} {
  const a = arithmetic(model);
  const classes = hostClasses(model);
  const sizes = classes.map((c) => c.length);
  // Every count vector, as a mixed-radix number; quorate[] per device state.
  const total = sizes.reduce((p, s) => p * (s + 1), 1);
  const radix = sizes.map((_, i) => sizes.slice(0, i).reduce((p, s) => p * (s + 1), 1));
  const countsOf = (k: number) => sizes.map((s, i) => Math.floor(k / radix[i]!) % (s + 1));
  const deviceStates = configuredDevice(model) ? [true, false] : [undefined];
  const boundaries = deviceStates.map((deviceUp): QuorumBoundary => {
    const quorate = new Uint8Array(total);
    const votes = new Float64Array(total);
    for (let k = 0; k < total; k++) {
      const counts = countsOf(k);
      const up = classes.flatMap((c, i) => c.slice(0, counts[i]));
      const e = evaluate(a, up, deviceUp ?? true);
      quorate[k] = e.quorate ? 1 : 0;
      votes[k] = e.votes;
    }
    const minimal: number[] = [];
    const maximal: number[] = [];
    for (let k = 0; k < total; k++) {
      const counts = countsOf(k);
      if (quorate[k]) {
        if (counts.every((c, i) => c === 0 || !quorate[k - radix[i]!])) minimal.push(k);
      } else if (counts.every((c, i) => c === sizes[i] || quorate[k + radix[i]!])) maximal.push(k);
    }
    const pattern = (k: number): BoundaryPattern => {
      const counts = countsOf(k);
      return {
        counts,
        votes: votes[k]!,
        sets: counts.reduce((p, c, i) => p * binomial(sizes[i]!, c), 1),
        text: describe(classes, counts),
      };
    };
    const byVotes = (x: BoundaryPattern, y: BoundaryPattern) => x.votes - y.votes;
    return {
      ...(deviceUp === undefined ? {} : { deviceUp }),
      minimalQuorate: minimal.map(pattern).sort(byVotes).slice(0, MAX_PATTERNS),
      minimalQuorateCount: minimal.length,
      maximalNonQuorate: maximal
        .map(pattern)
        .sort((x, y) => byVotes(y, x))
        .slice(0, MAX_PATTERNS),
      maximalNonQuorateCount: maximal.length,
    };
  });
  return {
    expectedVotes: a.expected,
    quorum: quorumThreshold(model),
    deviceVotes: a.deviceVotes,
    classes: classes.map((c) => ({ hosts: c.map((h) => h.name), votes: c[0]!.votes })),
    boundaries,
  };
}

/** "pve-01 + any 8 of pve-02…pve-16 (1 vote each)"; "no host" for the empty set. */
function describe(classes: readonly HostSpec[][], counts: readonly number[]): string {
  const parts = classes.flatMap((c, i) => {
    const n = counts[i]!;
    if (n === 0) return [];
    const names = c.length <= 3 ? c.map((h) => h.name).join(", ") : `${c[0]!.name}…${c[c.length - 1]!.name}`;
    const each = `${c[0]!.votes} ${c[0]!.votes === 1 ? "vote" : "votes"}${c.length > 1 ? " each" : ""}`;
    if (n === c.length)
      return [c.length <= 3 ? c.map((h) => h.name).join(" + ") : `all ${n} of ${names} (${each})`];
    return [`any ${n} of ${names} (${each})`];
  });
  return parts.length === 0 ? "no host" : parts.join(" + ");
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}
