// Cluster layouts for the vqsim cross-check: one plain description turned into both a Model (for
// core/quorum) and a corosync.conf (for corosync-vqsim), plus the fast-check generators.
import fc from "fast-check";
import { renderCorosyncConf } from "../../../core/corosync/render";
import type { HostSpec, Model, QDeviceSpec, QuorumSpec } from "../../../core/model";
import { renderedDeviceVotes } from "../../../core/quorum";

export interface Layout {
  /** quorum_votes per host, in declared order. */
  readonly votes: readonly number[];
  /** nodeid per host, in declared order (unique, not necessarily 1..n). */
  readonly nodeIds: readonly number[];
  readonly quorum: QuorumSpec;
}

const NAMES = ["ha", "hb", "hc", "hd", "he", "hf", "hg", "hh", "hi", "hj"];
const DEVICE_TIMEOUT_MS = 200;

export const PLAIN_QUORUM: QuorumSpec = {
  mode: "weighted",
  twoNode: false,
  lastManStanding: false,
  autoTieBreaker: false,
  waitForAll: false,
};

export function layoutModel(l: Layout): Model {
  const hosts: HostSpec[] = l.votes.map((votes, i) => ({
    name: NAMES[i]!,
    address: `10.99.0.${i + 1}`,
    power: i === 0 ? "always-on" : "usually-off",
    votes,
    nodeId: l.nodeIds[i]!,
    sshUser: "root",
    sshPort: 22,
  }));
  return {
    clusterName: "vqsim",
    hosts,
    sharedStorage: [],
    acknowledgeQuorumRisk: false,
    quorum: l.quorum,
    vms: [],
    retiredHosts: [],
    proxmox: { endpoint: "https://10.99.0.1:8006/", insecure: false },
  };
}

/**
 * corosync.conf for the layout, rendered by core/corosync/render (the file the program writes). Boolean
 * options are written only when true, as the quorum model assumes (a written `wait_for_all: 0` would stop
 * two_node from implying it). Two simulator-only keys are spliced in: a short quorum device timeout (vqsim
 * polls at half of it) and a long last_man_standing window (the table shows the state before it expires).
 */
export function layoutConf(l: Layout): string {
  const model = layoutModel(l);
  const q = l.quorum;
  const device = q.mode === "qdevice" ? q.device : undefined;
  let conf = renderCorosyncConf({
    clusterName: model.clusterName,
    configVersion: 1,
    nodes: model.hosts.map((h) => ({ name: h.name, nodeId: h.nodeId, address: h.address, votes: h.votes })),
    quorum: {
      expectedVotes: q.expectedVotes,
      twoNode: q.twoNode || undefined,
      lastManStanding: q.lastManStanding || undefined,
      autoTieBreaker: q.autoTieBreaker || undefined,
      waitForAll: q.waitForAll || undefined,
      device: device && {
        host: device.address,
        algorithm: device.algorithm,
        votes: renderedDeviceVotes(model),
      },
    },
  });
  conf = splice(conf, /^ {2}device \{\n/m, `    sync_timeout: 20\n    timeout: ${DEVICE_TIMEOUT_MS}\n`);
  if (q.lastManStanding) conf = splice(conf, /^quorum \{\n/m, "  last_man_standing_window: 600000\n");
  return conf;
}

/** How long after `qdevice on` the device's first poll (and so its votes) is due in vqsim. */
export const DEVICE_POLL_MS = DEVICE_TIMEOUT_MS / 2;

function splice(conf: string, after: RegExp, text: string): string {
  const m = after.exec(conf);
  if (!m) return conf;
  const at = m.index + m[0].length;
  return conf.slice(0, at) + text + conf.slice(at);
}

export const describeLayout = (l: Layout): string => {
  const q = l.quorum;
  const opts = [
    q.mode,
    q.expectedVotes !== undefined && `expected_votes=${q.expectedVotes}`,
    q.twoNode && "two_node",
    q.waitForAll && "wait_for_all",
    q.autoTieBreaker && "auto_tie_breaker",
    q.lastManStanding && "last_man_standing",
    q.device &&
      `device(${q.device.algorithm}${q.device.votes !== undefined ? `, votes ${q.device.votes}` : ""})`,
  ].filter(Boolean);
  return `votes ${l.votes.join("/")} nodeids ${l.nodeIds.join(",")} ${opts.join(" ")}`;
};

/** `arb` in `yes` out of `yes + no` cases, else undefined. */
const sometimes = <T>(arb: fc.Arbitrary<T>, yes: number, no: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: yes, arbitrary: arb }, { weight: no, arbitrary: fc.constant(undefined) });

const nodeIdsFor = (n: number) =>
  fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { minLength: n, maxLength: n });

/** Hosts 1..maxHosts, votes 0..maxVotes each, distinct node ids. */
const hostsArb = (minHosts: number, maxHosts: number, maxVotes: number) =>
  fc
    .integer({ min: minHosts, max: maxHosts })
    .chain((n) =>
      fc.tuple(
        fc.array(fc.integer({ min: 0, max: maxVotes }), { minLength: n, maxLength: n }),
        nodeIdsFor(n),
      ),
    );

/** What Proxmox writes: a nodelist with votes and no quorum options. */
export const votesOnlyLayout = (maxHosts = 8, maxVotes = 5): fc.Arbitrary<Layout> =>
  hostsArb(1, maxHosts, maxVotes).map(([votes, nodeIds]) => ({ votes, nodeIds, quorum: PLAIN_QUORUM }));

/** Votes plus the quorum options the model can set (no device). */
export const optionsLayout = (maxHosts = 5, maxVotes = 3): fc.Arbitrary<Layout> =>
  hostsArb(1, maxHosts, maxVotes).chain(([votes, nodeIds]) =>
    fc
      .record({
        expectedVotes: sometimes(fc.integer({ min: 1, max: votes.reduce((a, b) => a + b, 0) + 3 }), 1, 2),
        twoNode: fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false))),
        waitForAll: fc.boolean(),
        autoTieBreaker: fc.boolean(),
        lastManStanding: fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false))),
      })
      .map((o) => ({ votes, nodeIds, quorum: { mode: "weighted" as const, ...o } })),
  );

const device = (algorithm: QDeviceSpec["algorithm"], votes: number | undefined): QDeviceSpec => ({
  address: "10.99.1.1",
  hostKey: "ssh-ed25519 AAAA",
  sshUser: "root",
  sshPort: 22,
  algorithm,
  votes,
});

/** qdevice mode: mostly 1 vote per host (corosync's precondition), sometimes not, to see it refuse. */
export const qdeviceLayout = (maxHosts = 5): fc.Arbitrary<Layout> =>
  fc
    .integer({ min: 1, max: maxHosts })
    .chain((n) =>
      fc.record({
        votes: fc.oneof(
          { weight: 4, arbitrary: fc.constant(Array.from({ length: n }, () => 1)) },
          { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }) },
        ),
        nodeIds: nodeIdsFor(n),
        algorithm: fc.constantFrom<QDeviceSpec["algorithm"]>("ffsplit", "lms"),
        deviceVotes: sometimes(fc.integer({ min: 1, max: 4 }), 1, 2),
        expectedVotes: sometimes(fc.integer({ min: 1, max: 2 * n + 4 }), 1, 5),
      }),
    )
    .map((r) => ({
      votes: r.votes,
      nodeIds: r.nodeIds,
      quorum: {
        ...PLAIN_QUORUM,
        mode: "qdevice" as const,
        expectedVotes: r.expectedVotes,
        device: device(r.algorithm, r.deviceVotes),
      },
    }));
