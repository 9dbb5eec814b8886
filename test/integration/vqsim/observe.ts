// Drives corosync-vqsim through every subset of a layout's hosts and records what corosync's votequorum
// decided. Subsets are host indexes in declared order; vqsim speaks node ids.
import { DEVICE_POLL_MS, layoutConf, type Layout } from "./layouts";
import { Vqsim, type VqsimOptions } from "./driver";

export interface Observation {
  /** Declared indexes of the hosts that are up, ascending. */
  readonly up: readonly number[];
  readonly deviceUp?: boolean;
  /** "warm": reached from a full quorate cluster; "cold": only these hosts booted from nothing. */
  readonly kind: "warm" | "cold";
  readonly quorate: boolean;
}

export interface LayoutRun {
  /** Set when a node's votequorum refused the config (corosync would not start). */
  readonly refused?: string;
  readonly observations: readonly Observation[];
  /** `up` commands vqsim had to be sent again (see Vqsim.up). */
  readonly upRetries?: number;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const lowestBit = (k: number) => 31 - Math.clz32(k & -k);

async function withSim<T>(layout: Layout, opts: VqsimOptions, fn: (sim: Vqsim) => Promise<T>): Promise<T> {
  const sim = await Vqsim.start(layoutConf(layout), opts);
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

/**
 * Every non-empty subset, one `split` per step: host 0 stays in partition 0, the others walk a Gray code
 * between partitions 0 and 1, so each step moves one node and shows two subsets (a partition and its
 * complement). Valid when quorum does not depend on the path, i.e. without wait_for_all and
 * auto_tie_breaker: once the full cluster formed, expected votes and quorum stay fixed.
 */
export async function grayWalk(layout: Layout, opts: VqsimOptions = {}): Promise<LayoutRun> {
  return withSettledSim(layout, opts, async (sim, { ids, all }) => {
    const obs: Observation[] = [];
    const inOne = new Set<number>();
    const record = async () => {
      const zero = all.filter((i) => !inOne.has(i));
      const one = all.filter((i) => inOne.has(i));
      const q = await sim.settle(partitionsOf(ids, zero, one));
      obs.push({ up: zero, kind: "warm", quorate: q.get(0)! });
      if (one.length > 0) obs.push({ up: one, kind: "warm", quorate: q.get(1)! });
    };
    await record();
    await walkSplits(sim, ids, inOne, record);
    return { observations: obs };
  });
}

/**
 * Every non-empty subset as a split from the full cluster: `split 1:<the others>` then `join 0 1`, so each
 * split starts from the same full, quorate state (what wait_for_all and auto_tie_breaker depend on).
 */
export async function splitsFromFull(layout: Layout, opts: VqsimOptions = {}): Promise<LayoutRun> {
  return withSettledSim(layout, opts, async (sim, { n, ids, all }) => {
    const obs: Observation[] = [];
    const full = await sim.settle(partitionsOf(ids, all, []));
    obs.push({ up: all, kind: "warm", quorate: full.get(0)! });
    for (let mask = 1; mask < 1 << (n - 1); mask++) {
      const one = all.filter((i) => i > 0 && mask & (1 << (i - 1)));
      const zero = all.filter((i) => !one.includes(i));
      await sim.command(`split 1:${one.map((i) => ids[i]).join(",")}`);
      const q = await sim.settle(partitionsOf(ids, zero, one));
      obs.push({ up: zero, kind: "warm", quorate: q.get(0)! }, { up: one, kind: "warm", quorate: q.get(1)! });
      await sim.command("join 0 1");
      await sim.settle(partitionsOf(ids, all, []));
    }
    return { observations: obs };
  });
}

/**
 * Cold starts: every non-empty subset booted from nothing. Subsets come in symmetric chains (each one host
 * more than the last); per chain every node is downed, the first subset's nodes are brought up, then one
 * more node per step. Booting order does not matter for the final state (expected votes only grow).
 */
export async function coldStarts(
  layout: Layout,
  opts: VqsimOptions = {},
  /** qdevice layouts: the device stays down (never registered); recorded as deviceUp: false. */
  deviceDown = false,
): Promise<LayoutRun> {
  return withSettledSim(layout, opts, async (sim, { n, ids, all }) => {
    await sim.command("timeout 60"); // a command that leaves no node waits this long for nothing
    const obs: Observation[] = [];
    let up: number[] = [...all];
    for (const chain of symmetricChains(n)) {
      for (const i of up) await sim.command(`down ${ids[i]}`);
      await sim.settle(new Map([[0, []]])); // every node process gone, or `up` would find it still there
      up = [];
      for (const set of chain) {
        for (const i of set) {
          if (!up.includes(i)) {
            await sim.up(ids[i]!);
            up.push(i);
          }
        }
        if (set.length === 0) continue;
        const q = await sim.settle(partitionsOf(ids, up, []));
        obs.push({
          up: [...set],
          kind: "cold",
          quorate: q.get(0)!,
          ...(deviceDown ? { deviceUp: false } : {}),
        });
      }
    }
    return { observations: obs, upRetries: sim.upRetries };
  });
}

/**
 * qdevice mode: the Gray walk, and at each step the device off on every node, then on again (vqsim's
 * device polls stop at a ring change, so it is re-armed each time; its votes arrive with the next poll).
 */
export async function deviceWalk(layout: Layout, opts: VqsimOptions = {}): Promise<LayoutRun> {
  return withSettledSim(layout, opts, async (sim, { ids, all }) => {
    const everyNode = ids.join(",");
    const obs: Observation[] = [];
    await sim.command(`qdevice on ${everyNode}`); // registers; first poll after the full timeout
    const inOne = new Set<number>();
    const record = async () => {
      const zero = all.filter((i) => !inOne.has(i));
      const one = all.filter((i) => inOne.has(i));
      const parts = partitionsOf(ids, zero, one);
      for (const deviceUp of [false, true]) {
        await sim.command(`qdevice ${deviceUp ? "on" : "off"} ${everyNode}`);
        let q = await sim.settle(parts, deviceUp ? DEVICE_POLL_MS + 60 : 40);
        // Turning the device on can only make a partition quorate, turning it off only not quorate. A
        // partition that has not turned may just be slow on a busy machine (the votes come with a timer
        // driven poll; `off` when the node gets to read it): give it three more poll periods to turn.
        if ([...q.values()].some((quorate) => quorate !== deviceUp)) {
          q = await sim.settle(parts, 3 * DEVICE_POLL_MS);
        }
        obs.push({ up: zero, deviceUp, kind: "warm", quorate: q.get(0)! });
        if (one.length > 0) obs.push({ up: one, deviceUp, kind: "warm", quorate: q.get(1)! });
      }
    };
    await sim.settle(partitionsOf(ids, all, []), 2 * DEVICE_POLL_MS + 60);
    await record();
    await walkSplits(sim, ids, inOne, record);
    return { observations: obs };
  });
}

/**
 * Every two-way split of the nodes, one node moved between partitions 0 and 1 per step (Gray code order, node 0
 * always in partition 0), calling `record` after each move; `inOne` holds the nodes now in partition 1.
 */
async function walkSplits(
  sim: Vqsim,
  ids: readonly number[],
  inOne: Set<number>,
  record: () => Promise<void>,
): Promise<void> {
  for (let k = 1; k < 1 << (ids.length - 1); k++) {
    const i = lowestBit(k) + 1;
    const to = inOne.has(i) ? 0 : 1;
    if (to === 1) inOne.add(i);
    else inOne.delete(i);
    await sim.command(`split ${to}:${ids[i]}`);
    await record();
  }
}

/** withSim, once the full cluster has settled: a config votequorum refuses is reported, not observed. */
async function withSettledSim(
  layout: Layout,
  opts: VqsimOptions,
  fn: (sim: Vqsim, nodes: { n: number; ids: readonly number[]; all: number[] }) => Promise<LayoutRun>,
): Promise<LayoutRun> {
  return withSim(layout, opts, async (sim) => {
    const n = layout.votes.length;
    const all = range(n);
    const refused = await firstSettle(sim, all, layout.nodeIds);
    return refused ? { refused, observations: [] } : fn(sim, { n, ids: layout.nodeIds, all });
  });
}

/** Wait for the initial full cluster; report a refused config instead of settling. */
async function firstSettle(
  sim: Vqsim,
  all: readonly number[],
  ids: readonly number[],
): Promise<string | undefined> {
  const refused = sim.refused();
  if (refused) return refused;
  await sim.settle(partitionsOf(ids, all, []));
  return sim.refused();
}

function partitionsOf(ids: readonly number[], zero: readonly number[], one: readonly number[]) {
  return new Map([
    [0, zero.map((i) => ids[i]!)],
    [1, one.map((i) => ids[i]!)],
  ]);
}

/** de Bruijn's symmetric chain decomposition of the subsets of 0..n-1 (each chain adds one element per step). */
export function symmetricChains(n: number): number[][][] {
  let chains: number[][][] = [[[]]];
  for (let e = 0; e < n; e++) {
    const next: number[][][] = [];
    for (const c of chains) {
      next.push([...c, [...c[c.length - 1]!, e]]);
      if (c.length > 1) next.push(c.slice(0, -1).map((s) => [...s, e]));
    }
    chains = next;
  }
  return chains;
}

/** Run `fn` over items with at most `concurrency` in flight; results in item order. */
export async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (t: T, i: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
  return results;
}
