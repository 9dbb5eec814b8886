import { strict as assert } from "node:assert";
import { loadModel } from "../../core/config";
import { compareLive, DRIFT_CODES, liveQuorum, sameAddress } from "../../core/drift";
import { NotAClusterError, parseLiveFacts } from "../../core/live/facts";
import type { Model } from "../../core/model";
import { homelabCluster, statusOutput, type FakeCluster } from "../helpers/live-cluster";
import { homelabValues, TEST_SECRET_KEYS, withEdit, type Values } from "../fixtures/stacks";

const model = (values: Values = homelabValues()): Model => {
  const m = loadModel({ values, secretKeys: TEST_SECRET_KEYS }).model;
  if (!m) throw new Error("test stack does not load");
  return m;
};
const cluster = (edit: (c: FakeCluster) => void = () => {}): FakeCluster => {
  const c = homelabCluster();
  edit(c);
  return c;
};
const analyse = (m: Model, c: FakeCluster) => compareLive(m, parseLiveFacts(statusOutput(c)));
const found = (m: Model, c: FakeCluster) =>
  analyse(m, c).findings.map((f) => `${f.level} ${f.code} ${f.path}: ${f.message}`);

const QDEVICE: Values = {
  mode: "qdevice",
  device: {
    address: "192.168.1.5",
    hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAck+soWCIea19dLESokHuktp/nNo6Iu6J1aorB3jgjq",
  },
};
const qdeviceModel = () =>
  model(
    withEdit((v) => {
      v.quorum = QDEVICE;
      for (const h of v.hosts) h.votes = 1;
    }),
  );
const qdeviceCluster = (edit: (c: FakeCluster) => void = () => {}) =>
  cluster((c) => {
    for (const n of c.nodes) n.votes = 1;
    c.quorum = { device: { host: "192.168.1.5", algorithm: "lms" } };
    edit(c);
  });

// One row per code: the stack, the cluster, and every finding expected (level code subject: message).
const TABLE: [string, () => Model, () => FakeCluster, string[]][] = [
  ["in sync: no finding at all", () => model(), () => cluster(), []],
  [
    "votes edited by hand (drift.votes names the host and both numbers)",
    () => model(),
    () => cluster((c) => (c.nodes[0]!.votes = 2)),
    ["drift drift.votes pve-low: pve-low has 2 votes, the stack says 3"],
  ],
  [
    "votes changed in corosync only (runtime differs from the file)",
    () => model(),
    () => cluster((c) => (c.nodes[1]!.runtimeVotes = 2)),
    ["drift drift.votes pve-mid: pve-mid has 1 vote (corosync runs with 2), the stack says 1"],
  ],
  [
    "a quorum option set by hand",
    () => model(),
    () => cluster((c) => (c.quorum = { waitForAll: true })),
    ["drift drift.quorum-option quorum.waitForAll: corosync.conf quorum.wait_for_all is 1, the stack says 0"],
  ],
  [
    "expected_votes declared but not live",
    () => model(withEdit((v) => (v.quorum = { expectedVotes: 5 }))),
    () => cluster(),
    [
      "drift drift.quorum-option quorum.expectedVotes: corosync.conf quorum.expected_votes is not set, the stack says 5",
    ],
  ],
  [
    "a node the stack does not declare",
    () => model(),
    () =>
      cluster((c) =>
        c.nodes.push({ name: "pve-old", nodeId: 4, address: "192.168.1.24", votes: 1, online: false }),
      ),
    [
      "drift drift.undeclared-node pve-old: pve-old (nodeid 4, 192.168.1.24, 1 vote, offline) is in the cluster but not in the stack",
    ],
  ],
  [
    "a declared host that is not a member",
    () => model(),
    () => cluster((c) => c.nodes.splice(2, 1)),
    ["drift drift.not-member pve-high: pve-high is declared but not in the cluster's nodelist"],
  ],
  [
    "another link address",
    () => model(),
    () => cluster((c) => (c.nodes[1]!.address = "192.168.1.99")),
    [
      "drift drift.address pve-mid: pve-mid is in the nodelist with ring0_addr 192.168.1.99, the stack says 192.168.1.22",
    ],
  ],
  [
    "another node id",
    () => model(),
    () => cluster((c) => (c.nodes[2]!.nodeId = 7)),
    ["drift drift.nodeid pve-high: pve-high has nodeid 7 in the cluster, the stack says 3"],
  ],
  [
    "the cluster has another name",
    () => model(),
    () => cluster((c) => (c.clusterName = "lab")),
    ["drift drift.cluster-name clusterName: the cluster is named lab, the stack says homelab"],
  ],
  [
    "a QDevice the stack does not declare",
    () =>
      model(
        withEdit((v) => {
          for (const h of v.hosts) h.votes = 1;
          v.quorum = { mode: "default" };
        }),
      ),
    () => qdeviceCluster(),
    [
      "drift drift.qdevice quorum.mode: corosync has a quorum device (192.168.1.5), the stack's quorum.mode is default",
    ],
  ],
  [
    "a declared QDevice that is not configured",
    () => qdeviceModel(),
    () =>
      cluster((c) => {
        for (const n of c.nodes) n.votes = 1;
      }),
    [
      "drift drift.qdevice quorum.device: the stack declares a QDevice at 192.168.1.5, corosync has none configured",
    ],
  ],
  [
    "a QDevice with another algorithm",
    () => qdeviceModel(),
    () =>
      qdeviceCluster((c) => (c.quorum = { device: { host: "192.168.1.5", algorithm: "ffsplit", votes: 1 } })),
    [
      "drift drift.qdevice quorum.device: the quorum device differs: algorithm ffsplit (stack lms), votes 1 (stack automatic)",
    ],
  ],
  [
    "a QDevice that does not vote",
    () => qdeviceModel(),
    () => qdeviceCluster((c) => (c.qdeviceVoting = 0)),
    [
      "error drift.qdevice quorum.device: the quorum device is configured but casts no vote now (qdevice state: Connect failed)",
    ],
  ],
  [
    "a VM on another node",
    () => model(),
    () => cluster((c) => (c.vms[0]!.node = "pve-mid")),
    ["drift drift.vm-host dns: VM dns (vmId 101) runs on pve-mid, the stack says pve-low"],
  ],
  [
    "a declared VM that is gone",
    () => model(),
    () => cluster((c) => (c.vms = [])),
    ["drift drift.vm-missing dns: VM dns (vmId 101) is declared on pve-low but not in the cluster"],
  ],
  [
    "a VM the stack does not manage (info only)",
    () => model(),
    () => cluster((c) => c.vms.push({ vmid: 9000, node: "pve-mid", name: "tpl", template: true })),
    ["info drift.vm-unmanaged tpl: template tpl (vmId 9000) on pve-mid is not managed by the stack"],
  ],
  [
    "an unmanaged container on a node that is off (no name: Proxmox has no current data)",
    () => model(),
    () =>
      cluster((c) => {
        c.nodes[2]!.online = false;
        c.vms.push({ vmid: 300, node: "pve-high", type: "lxc" });
      }),
    ["info drift.vm-unmanaged lxc/300: container lxc/300 (vmId 300) on pve-high is not managed by the stack"],
  ],
  [
    "the usually-off host is off: calm, no finding",
    () => model(),
    () => cluster((c) => (c.nodes[2]!.online = false)),
    [],
  ],
  [
    "the sometimes-on host is off: calm, no finding",
    () => model(),
    () => cluster((c) => (c.nodes[1]!.online = false)),
    [],
  ],
  [
    "the always-on host is offline (the session ran on a second always-on host)",
    () => model(withEdit((v) => (v.hosts[1]!.power = "always-on"))),
    () =>
      cluster((c) => {
        c.nodes[0]!.online = false;
        c.via = "pve-mid";
      }),
    [
      "error status.always-on-offline pve-low: pve-low is always-on but offline",
      "error status.not-quorate : the cluster is not quorate: 2 of 5 votes, quorum 3; /etc/pve is read-only",
    ],
  ],
  [
    "a section that could not be read",
    () => model(),
    () => cluster((c) => (c.override = { resources: [255, "ipcc_send_rec failed"] })),
    [
      "error status.unreadable pve-low: pvesh get /cluster/resources --type vm failed (exit 255)",
      "drift drift.vm-missing dns: VM dns (vmId 101) is declared on pve-low but not in the cluster",
    ],
  ],
];

describe("core/drift: the live cluster against the stack", () => {
  for (const [what, m, c, expected] of TABLE) {
    it(what, () => assert.deepEqual(found(m(), c()), expected));
  }

  it("has a table row for every code", () => {
    const seen = new Set(TABLE.flatMap(([, m, c]) => analyse(m(), c()).findings.map((f) => f.code)));
    assert.deepEqual(
      DRIFT_CODES.filter((code) => !seen.has(code)),
      [],
    );
  });

  it("says how `pulumi up` fixes drift.votes", () => {
    const f = analyse(
      model(),
      cluster((c) => (c.nodes[0]!.votes = 2)),
    ).findings[0]!;
    assert.equal(f.fix, "`pulumi up` will push 3; or set hosts[0].votes: 2 to keep the live value");
  });

  it("shows a usually-off host that is off as off (usually-off), an always-on one as OFFLINE", () => {
    const a = analyse(
      model(),
      cluster((c) => (c.nodes[2]!.online = false)),
    );
    assert.deepEqual(
      a.hosts.map((h) => h.state),
      ["online", "online", "off (usually-off)"],
    );
    const b = analyse(
      model(withEdit((v) => (v.hosts[1]!.power = "always-on"))),
      cluster((c) => {
        c.nodes[0]!.online = false;
        c.via = "pve-mid";
      }),
    );
    assert.deepEqual(
      b.hosts.map((h) => h.state),
      ["OFFLINE", "online", "online"],
    );
  });

  it("gives the live margin and which losses end quorum (3/1/1, all up: 2 votes can go)", () => {
    const q = liveQuorum(parseLiveFacts(statusOutput(cluster())))!;
    assert.deepEqual(
      { quorate: q.quorate, total: q.totalVotes, quorum: q.quorum, margin: q.margin, sets: q.losingSets },
      { quorate: true, total: 5, quorum: 3, margin: 2, sets: [["pve-low"]] },
    );
  });

  it("counts the QDevice as a voter that can be lost", () => {
    const q = liveQuorum(parseLiveFacts(statusOutput(qdeviceCluster())))!;
    assert.deepEqual(
      { total: q.totalVotes, quorum: q.quorum, margin: q.margin, sets: q.losingSets },
      {
        total: 5,
        quorum: 3,
        margin: 2,
        sets: [
          ["pve-low", "qdevice"],
          ["pve-mid", "qdevice"],
          ["pve-high", "qdevice"],
          ["pve-low", "pve-mid", "pve-high"],
        ],
      },
    );
  });

  it("compares IPv6 addresses in canonical form", () => {
    assert.ok(sameAddress("fd00:0:0::21", "FD00::21"));
    assert.ok(!sameAddress("fd00::21", "fd00::22"));
    assert.ok(sameAddress("192.168.1.21", "192.168.1.21"));
  });

  it("reads the wakeonlan MAC of each node's config", () => {
    const f = parseLiveFacts(statusOutput(cluster((c) => (c.nodes[2]!.wakeOnLan = "aa:bb:cc:dd:ee:ff"))));
    assert.deepEqual(
      f.nodes.map((n) => n.wakeOnLan),
      [undefined, undefined, "aa:bb:cc:dd:ee:ff"],
    );
  });

  it("refuses output cut short, and a host that is not in a cluster", () => {
    assert.throws(() => parseLiveFacts(statusOutput(cluster((c) => (c.truncated = true)))), /ends early/);
    const standalone = cluster((c) => {
      c.override = {
        "cluster-status": [
          0,
          JSON.stringify([{ type: "node", name: "pve-low", nodeid: 0, local: 1, online: 1 }]),
        ],
        "corosync-conf": [1, ""],
      };
    });
    assert.throws(
      () => parseLiveFacts(statusOutput(standalone)),
      (e: unknown) =>
        e instanceof NotAClusterError && /pve-low is not in a cluster/.test((e as Error).message),
    );
  });
});
