// The what-if table: every subset of hosts (and device state) up, with its votes and quorum state.
import type { Model } from "../model";
import { arithmetic, configuredDevice, quorumThreshold, row, type WhatIfTable } from "./arithmetic";

/** More hosts than this make the 2^n table too large to be useful (and corosync clusters this size are not homelabs). */
export const MAX_WHAT_IF_HOSTS = 16;

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
export function combinations(n: number, k: number, out: number[][]): void {
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
