import { strict as assert } from "node:assert";
import fc from "fast-check";
import { loadModel } from "../../core/config";
import type {
  Finding,
  HostSpec,
  Model,
  PowerProfile,
  QDeviceSpec,
  QuorumSpec,
  VmSpec,
} from "../../core/model";
import {
  COROSYNC_REFUSES,
  deviceVotes,
  expectedVotes,
  QUORUM_FINDING_CODES,
  quorumFindings,
  quorumThreshold,
  renderedDeviceVotes,
  scenario,
  subsetsInOrder,
  suggestAlwaysOnVotes,
  whatIf,
} from "../../core/quorum";
import { homelabValues, TEST_SECRET_KEYS } from "../fixtures/stacks";

// Hosts are pve-low, pve-mid, pve-high, pve-4.. in declared order; the first is always-on, the rest
// usually-off unless `power` says otherwise; node ids 1..n unless `nodeIds` says otherwise.
const NAMES = ["pve-low", "pve-mid", "pve-high", "pve-4", "pve-5", "pve-6", "pve-7", "pve-8"];

interface LayoutOptions {
  readonly mode?: QuorumSpec["mode"];
  readonly quorum?: Partial<QuorumSpec>;
  readonly power?: readonly PowerProfile[];
  readonly nodeIds?: readonly number[];
  readonly sharedStorage?: readonly string[];
  readonly haVms?: readonly string[];
  readonly acknowledgeQuorumRisk?: boolean;
}

const device = (algorithm: QDeviceSpec["algorithm"], votes?: number): QDeviceSpec => ({
  address: "192.168.1.5",
  hostKey: "ssh-ed25519 AAAA",
  sshUser: "root",
  sshPort: 22,
  algorithm,
  votes,
});

function layout(votes: readonly number[], opts: LayoutOptions = {}): Model {
  const hosts: HostSpec[] = votes.map((v, i) => ({
    name: NAMES[i]!,
    address: `192.168.1.${21 + i}`,
    power: opts.power?.[i] ?? (i === 0 ? "always-on" : "usually-off"),
    votes: v,
    nodeId: opts.nodeIds?.[i] ?? i + 1,
    sshUser: "root",
    sshPort: 22,
  }));
  const vms: VmSpec[] = (opts.haVms ?? []).map((name, i) => ({
    name,
    host: hosts[0]!.name,
    vmId: 100 + i,
    cores: 1,
    memoryMiB: 512,
    diskGiB: 8,
    datastore: "local-lvm",
    bridge: "vmbr0",
    tags: [],
    onBoot: true,
    started: true,
    agent: false,
    protect: false,
    alwaysOn: false,
    ha: true,
  }));
  return {
    clusterName: "homelab",
    hosts,
    sharedStorage: opts.sharedStorage ?? [],
    acknowledgeQuorumRisk: opts.acknowledgeQuorumRisk ?? false,
    quorum: {
      mode: opts.mode ?? "weighted",
      twoNode: false,
      lastManStanding: false,
      autoTieBreaker: false,
      waitForAll: false,
      ...opts.quorum,
    },
    vms,
    retiredHosts: [],
    proxmox: { endpoint: "https://192.168.1.21:8006/", insecure: false },
  };
}

const qdevice = (votes: readonly number[], algorithm: QDeviceSpec["algorithm"], opts: LayoutOptions = {}) =>
  layout(votes, {
    ...opts,
    mode: "qdevice",
    quorum: { ...opts.quorum, device: device(algorithm, opts.quorum?.device?.votes) },
  });

/** "host+host" → quorate, for compact expectations. */
const quorateBySet = (model: Model, deviceUp?: boolean) =>
  Object.fromEntries(
    whatIf(model)
      .scenarios.filter((s) => s.deviceUp === deviceUp)
      .map((s) => [s.up.join("+") || "(none)", s.quorate]),
  );

describe("votequorum arithmetic", () => {
  // [why, model, expected votes, quorum, device votes]; each row is what corosync computes (votequorum.c).
  const rows: Array<[string, Model, number, number, number]> = [
    ["3/1/1 weighted", layout([3, 1, 1]), 5, 3, 0],
    ["2/1/1 weighted", layout([2, 1, 1]), 4, 3, 0],
    ["1/1/1 default", layout([1, 1, 1], { mode: "default" }), 3, 2, 0],
    ["1/1 default", layout([1, 1], { mode: "default" }), 2, 2, 0],
    ["1/1/1/1 default", layout([1, 1, 1, 1], { mode: "default" }), 4, 3, 0],
    ["2/1 weighted", layout([2, 1]), 3, 2, 0],
    ["3/1/1/1 weighted", layout([3, 1, 1, 1]), 6, 4, 0],
    ["4/1/1/1 weighted", layout([4, 1, 1, 1]), 7, 4, 0],
    ["2 hosts ffsplit: device votes 1", qdevice([1, 1], "ffsplit"), 3, 2, 1],
    ["3 hosts lms: device votes N-1", qdevice([1, 1, 1], "lms"), 5, 3, 2],
    ["4 hosts ffsplit", qdevice([1, 1, 1, 1], "ffsplit"), 5, 3, 1],
    ["4 hosts lms", qdevice([1, 1, 1, 1], "lms"), 7, 4, 3],
    [
      "explicit device votes win",
      qdevice([1, 1, 1], "lms", { quorum: { device: device("lms", 1) } }),
      4,
      3,
      1,
    ],
    ["lms, votes 2/0/1 (add up to the node count): sum - 1", qdevice([2, 0, 1], "lms"), 5, 3, 2],
    ["expected_votes above the sum is used", layout([3, 1, 1], { quorum: { expectedVotes: 7 } }), 7, 4, 0],
    [
      "expected_votes below the sum is raised to it",
      layout([3, 1, 1], { quorum: { expectedVotes: 3 } }),
      5,
      3,
      0,
    ],
    [
      "expected_votes below nodes + device is raised",
      qdevice([1, 1], "ffsplit", { quorum: { expectedVotes: 2 } }),
      3,
      2,
      1,
    ],
    ["quorum wraps at 256 (uint8_t quorum)", layout([255, 255, 1]), 511, 0, 0],
    [
      "a device section outside qdevice mode is not rendered",
      layout([1, 1], { quorum: { device: device("ffsplit") } }),
      2,
      2,
      0,
    ],
  ];
  for (const [why, model, e, q, dv] of rows) {
    it(`${why}: expected ${e}, quorum ${q}, device ${dv}`, () => {
      assert.deepEqual([expectedVotes(model), quorumThreshold(model), deviceVotes(model)], [e, q, dv]);
      const t = whatIf(model);
      assert.deepEqual([t.expectedVotes, t.quorum, t.deviceVotes], [e, q, dv]);
    });
  }

  it("renders device votes 1 for ffsplit and leaves lms to corosync", () => {
    assert.equal(renderedDeviceVotes(qdevice([1, 1], "ffsplit")), 1);
    assert.equal(renderedDeviceVotes(qdevice([1, 1, 1], "lms")), undefined);
    assert.equal(renderedDeviceVotes(qdevice([1, 1, 1], "lms", { quorum: { device: device("lms", 2) } })), 2);
    assert.equal(renderedDeviceVotes(layout([3, 1, 1])), undefined);
  });
});

describe("what-if table", () => {
  it("3/1/1: pve-low alone is quorate, pve-mid + pve-high are not", () => {
    assert.deepEqual(whatIf(layout([3, 1, 1])), {
      expectedVotes: 5,
      quorum: 3,
      deviceVotes: 0,
      scenarios: [
        { up: ["pve-low", "pve-mid", "pve-high"], votes: 5, quorate: true, coldStart: true },
        { up: ["pve-low", "pve-mid"], votes: 4, quorate: true, coldStart: true },
        { up: ["pve-low", "pve-high"], votes: 4, quorate: true, coldStart: true },
        { up: ["pve-mid", "pve-high"], votes: 2, quorate: false, coldStart: false },
        { up: ["pve-low"], votes: 3, quorate: true, coldStart: true },
        { up: ["pve-mid"], votes: 1, quorate: false, coldStart: false },
        { up: ["pve-high"], votes: 1, quorate: false, coldStart: false },
        { up: [], votes: 0, quorate: false, coldStart: false },
      ],
    });
  });

  it("2/1/1: pve-low alone is not quorate (2 of 4, quorum 3)", () => {
    assert.deepEqual(quorateBySet(layout([2, 1, 1])), {
      "pve-low+pve-mid+pve-high": true,
      "pve-low+pve-mid": true,
      "pve-low+pve-high": true,
      "pve-mid+pve-high": false,
      "pve-low": false,
      "pve-mid": false,
      "pve-high": false,
      "(none)": false,
    });
  });

  it("1/1/1 default: any two hosts are quorate, no single host is", () => {
    assert.deepEqual(quorateBySet(layout([1, 1, 1], { mode: "default" })), {
      "pve-low+pve-mid+pve-high": true,
      "pve-low+pve-mid": true,
      "pve-low+pve-high": true,
      "pve-mid+pve-high": true,
      "pve-low": false,
      "pve-mid": false,
      "pve-high": false,
      "(none)": false,
    });
  });

  it("2 hosts default: neither host alone is quorate", () => {
    assert.deepEqual(quorateBySet(layout([1, 1], { mode: "default" })), {
      "pve-low+pve-mid": true,
      "pve-low": false,
      "pve-mid": false,
      "(none)": false,
    });
  });

  it("4 hosts 4/1/1/1: the heavy host alone is quorate, the three light ones together are not", () => {
    const t = quorateBySet(layout([4, 1, 1, 1]));
    assert.equal(t["pve-low"], true);
    assert.equal(t["pve-mid+pve-high+pve-4"], false);
  });

  it("qdevice, 3 hosts lms: each host with the device is quorate, two hosts without it are not", () => {
    const model = qdevice([1, 1, 1], "lms");
    assert.deepEqual(quorateBySet(model, true), {
      "pve-low+pve-mid+pve-high": true,
      "pve-low+pve-mid": true,
      "pve-low+pve-high": true,
      "pve-mid+pve-high": true,
      "pve-low": true,
      "pve-mid": true,
      "pve-high": true,
      "(none)": false,
    });
    assert.deepEqual(quorateBySet(model, false), {
      "pve-low+pve-mid+pve-high": true,
      "pve-low+pve-mid": false,
      "pve-low+pve-high": false,
      "pve-mid+pve-high": false,
      "pve-low": false,
      "pve-mid": false,
      "pve-high": false,
      "(none)": false,
    });
  });

  it("qdevice, 2 hosts ffsplit: one host with the device's vote is quorate (2 of 3)", () => {
    assert.deepEqual(scenario(qdevice([1, 1], "ffsplit"), ["pve-mid"], true), {
      up: ["pve-mid"],
      deviceUp: true,
      votes: 2,
      quorate: true,
      coldStart: true,
    });
    assert.equal(scenario(qdevice([1, 1], "ffsplit"), ["pve-mid"], false).quorate, false);
  });

  it("qdevice, 4 hosts ffsplit: two hosts need the device (3 of 5), three do not", () => {
    const model = qdevice([1, 1, 1, 1], "ffsplit");
    assert.equal(scenario(model, ["pve-low", "pve-mid"], true).quorate, true);
    assert.equal(scenario(model, ["pve-low", "pve-mid"], false).quorate, false);
    assert.equal(scenario(model, ["pve-mid", "pve-high", "pve-4"], false).quorate, true);
    assert.equal(scenario(model, ["pve-low"], true).quorate, false);
  });

  it("orders scenarios by hosts up (more first), then declared order, device up before down", () => {
    const t = whatIf(qdevice([1, 1, 1], "lms"));
    assert.deepEqual(
      t.scenarios.map((s) => `${s.up.join("+")}${s.deviceUp ? "+dev" : ""}`),
      [
        "pve-low+pve-mid+pve-high+dev",
        "pve-low+pve-mid+pve-high",
        "pve-low+pve-mid+dev",
        "pve-low+pve-mid",
        "pve-low+pve-high+dev",
        "pve-low+pve-high",
        "pve-mid+pve-high+dev",
        "pve-mid+pve-high",
        "pve-low+dev",
        "pve-low",
        "pve-mid+dev",
        "pve-mid",
        "pve-high+dev",
        "pve-high",
        "+dev",
        "",
      ],
    );
    assert.deepEqual(subsetsInOrder(3), [[0, 1, 2], [0, 1], [0, 2], [1, 2], [0], [1], [2], []]);
  });

  it("two_node with 2 hosts: each host keeps quorum when the other stops, but cold starts need both", () => {
    const model = layout([1, 1], { mode: "default", quorum: { twoNode: true } });
    assert.deepEqual(scenario(model, ["pve-low"]), {
      up: ["pve-low"],
      votes: 1,
      quorate: true,
      coldStart: false,
    });
    assert.equal(scenario(model, ["pve-low", "pve-mid"]).coldStart, true);
  });

  it("two_node with 3 hosts: any one or two hosts are quorate (corosync's quorum 1 for <= 2 members)", () => {
    const model = layout([3, 1, 1], { quorum: { twoNode: true } });
    assert.equal(scenario(model, ["pve-mid", "pve-high"]).quorate, true);
    assert.equal(scenario(model, ["pve-high"]).quorate, true);
  });

  it("two_node with a zero-vote host alone: quorum 1 still needs a vote", () => {
    assert.equal(scenario(layout([1, 0], { quorum: { twoNode: true } }), ["pve-mid"]).quorate, false);
  });

  it("wait_for_all: pve-low alone is quorate after the others stop, not after a cold start", () => {
    const model = layout([3, 1, 1], { quorum: { waitForAll: true } });
    assert.deepEqual(scenario(model, ["pve-low"]), {
      up: ["pve-low"],
      votes: 3,
      quorate: true,
      coldStart: false,
    });
    assert.equal(scenario(model, ["pve-low", "pve-mid", "pve-high"]).coldStart, true);
  });

  it("wait_for_all with expected_votes above the sum: never quorate", () => {
    const model = layout([3, 1, 1], { quorum: { waitForAll: true, expectedVotes: 6 } });
    assert.ok(whatIf(model).scenarios.every((s) => !s.quorate && !s.coldStart));
  });

  it("expected_votes below the sum: a cold start of the light hosts is quorate, after a full cluster it is not", () => {
    const model = layout([3, 1, 1], { quorum: { expectedVotes: 3 } });
    assert.deepEqual(scenario(model, ["pve-mid", "pve-high"]), {
      up: ["pve-mid", "pve-high"],
      votes: 2,
      quorate: false,
      coldStart: true,
    });
  });

  it("auto_tie_breaker: half the votes with the lowest node id is quorate, the other half is not", () => {
    const model = layout([1, 1, 1, 1], { mode: "default", quorum: { autoTieBreaker: true } });
    assert.equal(scenario(model, ["pve-low", "pve-high"]).quorate, true);
    assert.equal(scenario(model, ["pve-mid", "pve-4"]).quorate, false);
    // Three hosts left at once (3 >= quorum 3): no tie breaking for the lowest node id alone.
    assert.equal(scenario(model, ["pve-low"]).quorate, false);
  });

  it("auto_tie_breaker follows node ids, not declared order", () => {
    const model = layout([1, 1, 1, 1], {
      mode: "default",
      quorum: { autoTieBreaker: true },
      nodeIds: [7, 5, 9, 2],
    });
    assert.equal(scenario(model, ["pve-high", "pve-4"]).quorate, true);
    assert.equal(scenario(model, ["pve-low", "pve-mid"]).quorate, false);
  });

  it("auto_tie_breaker with an odd vote total and no wait_for_all is disabled (as corosync does)", () => {
    // 2/2/1: expected 5, quorum 3; pve-low alone holds floor(5 / 2) = 2 with the lowest node id.
    const model = layout([2, 2, 1], { quorum: { autoTieBreaker: true } });
    assert.equal(scenario(model, ["pve-low"]).quorate, false);
    const withWfa = layout([2, 2, 1], { quorum: { autoTieBreaker: true, waitForAll: true } });
    assert.equal(scenario(withWfa, ["pve-low"]).quorate, true);
    // ...and so is the other side, by majority: corosync's ATB does not prevent this split brain.
    assert.equal(scenario(withWfa, ["pve-mid", "pve-high"]).quorate, true);
  });

  it("a single 255-vote host among 255/255/1 is quorate: corosync's 8-bit quorum wraps to 0", () => {
    assert.equal(scenario(layout([255, 255, 1]), ["pve-high"]).quorate, true);
  });

  it("all votes 0: nothing is ever quorate", () => {
    assert.ok(whatIf(layout([0, 0, 0])).scenarios.every((s) => !s.quorate && !s.coldStart));
  });

  it("rejects unknown host names and more than 16 hosts", () => {
    assert.throws(() => scenario(layout([3, 1, 1]), ["pve-nope"]), /unknown host "pve-nope"/);
    assert.throws(() => subsetsInOrder(17), /at most 16 hosts, got 17/);
  });

  it("the homelab stack (3/1/1) has no quorum findings", () => {
    const { model } = loadModel({ values: homelabValues(), secretKeys: new Set(TEST_SECRET_KEYS) });
    assert.ok(model);
    assert.deepEqual(quorumFindings(model), []);
    assert.deepEqual([whatIf(model).expectedVotes, whatIf(model).quorum], [5, 3]);
  });
});

describe("what-if table properties (fast-check)", () => {
  const plainLayout = fc
    .array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 8 })
    .map((votes) => layout(votes));

  it("has 2^n rows (2^(n+1) in qdevice mode), sorted by size, each subset once", () => {
    fc.assert(
      fc.property(plainLayout, fc.boolean(), (m, withDevice) => {
        const model = withDevice
          ? { ...m, quorum: { ...m.quorum, mode: "qdevice" as const, device: device("lms", 2) } }
          : m;
        const rows = whatIf(model).scenarios;
        const n = model.hosts.length;
        assert.equal(rows.length, 2 ** n * (withDevice ? 2 : 1));
        assert.equal(new Set(rows.map((s) => `${s.up.join()}|${s.deviceUp}`)).size, rows.length);
        for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1]!.up.length >= rows[i]!.up.length);
      }),
    );
  });

  it("plain votes: a set and its complement are never both quorate (no split brain)", () => {
    fc.assert(
      fc.property(plainLayout, (model) => {
        const byKey = new Map(whatIf(model).scenarios.map((s) => [s.up.join("+"), s]));
        for (const s of byKey.values()) {
          const rest = model.hosts.filter((h) => !s.up.includes(h.name)).map((h) => h.name);
          assert.ok(!(s.quorate && byKey.get(rest.join("+"))!.quorate), `${s.up} and ${rest}`);
        }
      }),
    );
  });

  it("plain votes: quorate exactly when the votes reach floor(sum / 2) + 1, and cold starts agree", () => {
    fc.assert(
      fc.property(plainLayout, (model) => {
        const sum = model.hosts.reduce((a, h) => a + h.votes, 0);
        for (const s of whatIf(model).scenarios) {
          assert.equal(s.quorate, s.up.length > 0 && s.votes >= Math.floor(sum / 2) + 1);
          assert.equal(s.coldStart, s.quorate);
        }
      }),
    );
  });

  it("the suggested always-on vote makes the always-on host quorate and the others not", () => {
    fc.assert(
      fc.property(plainLayout, (model) => {
        const v = suggestAlwaysOnVotes(model);
        assert.ok(v !== undefined && v >= 1);
        const fixed = { ...model, hosts: model.hosts.map((h, i) => (i === 0 ? { ...h, votes: v } : h)) };
        const codes = quorumFindings(fixed).map((f) => f.code);
        assert.ok(
          !codes.includes("votes.always-on-not-quorate") && !codes.includes("votes.spot-hosts-quorate"),
        );
        if (v > 1) {
          const less = { ...model, hosts: model.hosts.map((h, i) => (i === 0 ? { ...h, votes: v - 1 } : h)) };
          const still = quorumFindings(less).map((f) => f.code);
          assert.ok(
            still.includes("votes.always-on-not-quorate") || still.includes("votes.spot-hosts-quorate"),
          );
        }
      }),
    );
  });
});

describe("quorum findings", () => {
  const F = (level: Finding["level"], code: string, path: string, message: string, fix: string): Finding => ({
    level,
    code,
    path,
    message,
    fix,
  });
  const QDEV_ODD = F(
    "warning",
    "quorum.qdevice-odd-nodes",
    "quorum.device",
    "a QDevice with an odd node count (3) is not officially supported by Proxmox: `pvecm qdevice setup` needs --force and uses algorithm lms",
    "accept it (the device then holds N-1 votes and any single host with it is quorate), or use mode: weighted",
  );
  const RISK_FIX =
    "the clean alternative is quorum.mode: qdevice (1 vote per host plus an external QNetd vote)";

  // One row per behaviour: the model and the exact, complete list of findings.
  const rows: Array<[string, Model, Finding[]]> = [
    ["3/1/1 weighted is sound", layout([3, 1, 1]), []],
    ["2 hosts + ffsplit QDevice is sound", qdevice([1, 1], "ffsplit"), []],
    ["3 hosts + lms QDevice only warns about the odd count", qdevice([1, 1, 1], "lms"), [QDEV_ODD]],
    [
      "2/1/1: the always-on host is not quorate alone; the fix is 3/1/1",
      layout([2, 1, 1]),
      [
        F(
          "error",
          "votes.always-on-not-quorate",
          "hosts[0].votes",
          "pve-low alone has 2 of 4 expected votes, below the quorum of 3: switching the other hosts off freezes the cluster",
          "set hosts[0].votes to 3: votes 3/1/1 give expected 5, quorum 3, and pve-low alone then holds 3",
        ),
      ],
    ],
    [
      "1/1/1 default: the always-on host is not quorate alone, the two others outvote it",
      layout([1, 1, 1], { mode: "default" }),
      [
        F(
          "error",
          "votes.always-on-not-quorate",
          "hosts[0].votes",
          "pve-low alone has 1 of 3 expected votes, below the quorum of 2: switching the other hosts off freezes the cluster",
          "set quorum.mode: weighted and set hosts[0].votes to 3: votes 3/1/1 give expected 5, quorum 3, and pve-low alone then holds 3",
        ),
        F(
          "error",
          "votes.spot-hosts-quorate",
          "hosts[0].votes",
          "without the always-on host pve-low, these hosts would be quorate and could outvote it: pve-mid + pve-high",
          "set quorum.mode: weighted and set hosts[0].votes to 3: votes 3/1/1 give expected 5, quorum 3, and the other hosts together then hold 2",
        ),
      ],
    ],
    [
      "2/2/1: two light hosts outvote the always-on one; the fix is 4/2/1",
      layout([2, 2, 1]),
      [
        F(
          "error",
          "votes.always-on-not-quorate",
          "hosts[0].votes",
          "pve-low alone has 2 of 5 expected votes, below the quorum of 3: switching the other hosts off freezes the cluster",
          "set hosts[0].votes to 4: votes 4/2/1 give expected 7, quorum 4, and pve-low alone then holds 4",
        ),
        F(
          "error",
          "votes.spot-hosts-quorate",
          "hosts[0].votes",
          "without the always-on host pve-low, these hosts would be quorate and could outvote it: pve-mid + pve-high",
          "set hosts[0].votes to 4: votes 4/2/1 give expected 7, quorum 4, and the other hosts together then hold 3",
        ),
      ],
    ],
    [
      "two always-on hosts get the same suggested vote",
      layout([1, 1, 1, 1], {
        power: ["always-on", "always-on", "sometimes-on", "usually-off"],
        mode: "default",
      }),
      [
        F(
          "error",
          "votes.always-on-not-quorate",
          "hosts[0].votes",
          "pve-low + pve-mid alone have 2 of 4 expected votes, below the quorum of 3: switching the other hosts off freezes the cluster",
          "set quorum.mode: weighted and set hosts[0].votes and hosts[1].votes to 2: votes 2/2/1/1 give expected 6, quorum 4, and pve-low + pve-mid alone then hold 4",
        ),
      ],
    ],
    [
      "qdevice, 4 hosts ffsplit: always-on + device are not quorate, three light hosts are; pvecm can only set ffsplit, so weighted votes fix both",
      qdevice([1, 1, 1, 1], "ffsplit"),
      [
        F(
          "error",
          "votes.always-on-not-quorate",
          "quorum.device.votes",
          "pve-low + the quorum device alone have 2 of 5 expected votes, below the quorum of 3: switching the other hosts off freezes the cluster",
          "set quorum.mode: weighted and set hosts[0].votes to 4: votes 4/1/1/1 give expected 7, quorum 4, and pve-low alone then holds 4",
        ),
        F(
          "error",
          "votes.spot-hosts-quorate",
          "hosts[0].votes",
          "without the always-on host pve-low and without the quorum device, these hosts would be quorate and could outvote it: pve-mid + pve-high + pve-4",
          "set quorum.mode: weighted and set hosts[0].votes to 4: votes 4/1/1/1 give expected 7, quorum 4, and the other hosts together then hold 3",
        ),
      ],
    ],
    [
      "qdevice lms with an explicit low device vote: light hosts booting alone are quorate",
      qdevice([1, 1, 1], "lms", { quorum: { device: device("lms", 1) } }),
      [
        QDEV_ODD,
        F(
          "warning",
          "quorum.lms-device-votes",
          "quorum.device.votes",
          "algorithm lms expects the default device votes (2), got 1",
          "remove quorum.device.votes so corosync computes it",
        ),
        F(
          "error",
          "votes.always-on-not-quorate",
          "quorum.device.votes",
          "pve-low + the quorum device alone have 2 of 4 expected votes, below the quorum of 3: switching the other hosts off freezes the cluster",
          "remove quorum.device.votes: the device then holds 2, expected 5, quorum 3; pve-low + the device hold 3, the other hosts together 2",
        ),
        F(
          "error",
          "votes.spot-hosts-quorate",
          "hosts[0].votes",
          "without the always-on host pve-low and without the quorum device, these hosts would be quorate and could outvote it: pve-mid + pve-high (when they boot without it)",
          "remove quorum.device.votes: the device then holds 2, expected 5, quorum 3; pve-low + the device hold 3, the other hosts together 2",
        ),
      ],
    ],
    [
      "wait_for_all: the always-on host cannot cold-start alone",
      layout([3, 1, 1], { quorum: { waitForAll: true } }),
      [
        F(
          "warning",
          "votes.always-on-cold-start",
          "quorum.waitForAll",
          "after a full power outage pve-low alone is not quorate: wait_for_all holds quorum back until every host has been seen",
          "turn off quorum.waitForAll (and quorum.twoNode), or plan to boot every host after an outage",
        ),
      ],
    ],
    [
      "expected_votes below the sum: the light hosts are quorate when they boot alone",
      layout([3, 1, 1], { quorum: { expectedVotes: 3 } }),
      [
        F(
          "warning",
          "quorum.expected-votes-override",
          "quorum.expectedVotes",
          "quorum.expectedVotes is 3 but the votes add up to 5; corosync raises expected votes to the votes it has seen, so quorum differs between a cold start and a running cluster",
          "remove quorum.expectedVotes; use `pvecm expected` for a one-off recovery instead",
        ),
        F(
          "error",
          "votes.spot-hosts-quorate",
          "hosts[0].votes",
          "without the always-on host pve-low, these hosts would be quorate and could outvote it: pve-mid + pve-high (when they boot without it)",
          "remove quorum.expectedVotes: votes 3/1/1 give expected 5, quorum 3, and the other hosts together then hold 2",
        ),
      ],
    ],
    [
      "expected_votes above the sum",
      layout([3, 1, 1], { quorum: { expectedVotes: 7 } }),
      [
        F(
          "warning",
          "quorum.expected-votes-override",
          "quorum.expectedVotes",
          "quorum.expectedVotes is 7 but the votes add up to 5; corosync raises expected votes to the votes it has seen, so quorum differs between a cold start and a running cluster",
          "remove quorum.expectedVotes; use `pvecm expected` for a one-off recovery instead",
        ),
        F(
          "error",
          "votes.always-on-not-quorate",
          "hosts[0].votes",
          "pve-low alone has 3 of 7 expected votes, below the quorum of 4: switching the other hosts off freezes the cluster",
          "set hosts[0].votes to 4: votes 4/1/1 give expected 7, quorum 4, and pve-low alone then holds 4",
        ),
      ],
    ],
    [
      "a host with votes 0",
      layout([3, 0, 1]),
      [
        F(
          "warning",
          "votes.zero",
          "hosts[1].votes",
          "host pve-mid has votes: 0 and never counts towards quorum",
          "give it votes: 1 unless it should never matter for quorum",
        ),
      ],
    ],
    [
      "every host with votes 0",
      layout([0, 0, 0]),
      [
        F(
          "error",
          "votes.all-zero",
          "hosts",
          "every host has votes: 0, so the cluster can never be quorate",
          "give the always-on host votes > 0 (e.g. 3/1/1)",
        ),
      ],
    ],
    [
      "weighted mode with equal votes",
      layout([2, 2, 2]),
      [
        F(
          "warning",
          "votes.weighted-equal",
          "quorum.mode",
          "quorum.mode is weighted but every host has 2 vote(s): this is plain majority (default mode)",
          "give the always-on host more votes (e.g. 3/1/1), or set quorum.mode: default",
        ),
        F(
          "error",
          "votes.always-on-not-quorate",
          "hosts[0].votes",
          "pve-low alone has 2 of 6 expected votes, below the quorum of 4: switching the other hosts off freezes the cluster",
          "set hosts[0].votes to 5: votes 5/2/2 give expected 9, quorum 5, and pve-low alone then holds 5",
        ),
        F(
          "error",
          "votes.spot-hosts-quorate",
          "hosts[0].votes",
          "without the always-on host pve-low, these hosts would be quorate and could outvote it: pve-mid + pve-high",
          "set hosts[0].votes to 5: votes 5/2/2 give expected 9, quorum 5, and the other hosts together then hold 4",
        ),
      ],
    ],
    [
      "default mode with uneven votes",
      layout([3, 1, 1], { mode: "default" }),
      [
        F(
          "error",
          "votes.default-uneven",
          "quorum.mode",
          "quorum.mode is default (1 vote each) but votes are 3/1/1",
          "set every host's votes to 1, or set quorum.mode: weighted",
        ),
      ],
    ],
    [
      "votes so large that corosync's 8-bit quorum wraps",
      layout([255, 255, 1]),
      [
        F(
          "error",
          "votes.quorum-overflow",
          "hosts",
          "expected votes 511 need a quorum of 256, but corosync keeps quorum in 8 bits and would use 0",
          "keep the vote total below 510; small weights such as 3/1/1 do the same job",
        ),
        F(
          "error",
          "votes.spot-hosts-quorate",
          "hosts[0].votes",
          "without the always-on host pve-low, these hosts would be quorate and could outvote it: pve-mid; pve-high",
          "give pve-low more votes than all the other hosts together, keeping the vote total below 510",
        ),
      ],
    ],
    [
      "no always-on host: nothing more than core/config's hosts.no-always-on",
      layout([3, 1, 1], { power: ["sometimes-on", "usually-off", "usually-off"] }),
      [],
    ],
    [
      "weighted votes with shared storage",
      layout([3, 1, 1], { sharedStorage: ["nfs-vm"] }),
      [
        F(
          "error",
          "quorum.weighted-shared-storage",
          "sharedStorage",
          "weighted votes (3/1/1) with shared storage (nfs-vm): one host alone is the cluster, so a split or a forced `pvecm expected` on the other side lets two sides write the same storage (split-brain)",
          `${RISK_FIX}; set acknowledgeQuorumRisk: true only if you accept this`,
        ),
      ],
    ],
    [
      "weighted votes with shared storage, acknowledged: still a warning",
      layout([3, 1, 1], { sharedStorage: ["nfs-vm", "cephfs"], acknowledgeQuorumRisk: true }),
      [
        F(
          "warning",
          "quorum.weighted-shared-storage",
          "sharedStorage",
          "weighted votes (3/1/1) with shared storage (nfs-vm, cephfs): one host alone is the cluster, so a split or a forced `pvecm expected` on the other side lets two sides write the same storage (split-brain)",
          `${RISK_FIX}; acknowledged (acknowledgeQuorumRisk: true)`,
        ),
      ],
    ],
    [
      "HA VMs in qdevice mode are fine",
      qdevice([1, 1], "ffsplit", { haVms: ["dns"], sharedStorage: ["nfs"] }),
      [],
    ],
    [
      "last_man_standing with uneven votes",
      layout([3, 1, 1], { quorum: { lastManStanding: true } }),
      [
        F(
          "error",
          "quorum.lms-uneven-votes",
          "quorum.lastManStanding",
          "last_man_standing needs every node to vote 1, but votes are 3/1/1; corosync turns it off",
          "set quorum.lastManStanding: false (weighted votes already keep the always-on host quorate)",
        ),
      ],
    ],
    [
      "two_node with three hosts",
      layout([3, 1, 1], { quorum: { twoNode: true } }),
      [
        F(
          "error",
          "quorum.two-node-host-count",
          "quorum.twoNode",
          "two_node is for exactly 2 hosts, this cluster has 3; with it any 2 hosts (or 1) would be quorate",
          "set quorum.twoNode: false",
        ),
        F(
          "warning",
          "votes.always-on-cold-start",
          "quorum.twoNode",
          "after a full power outage pve-low alone is not quorate: wait_for_all (implied by two_node) holds quorum back until every host has been seen",
          "turn off quorum.waitForAll (and quorum.twoNode), or plan to boot every host after an outage",
        ),
        F(
          "error",
          "votes.spot-hosts-quorate",
          "hosts[0].votes",
          "without the always-on host pve-low, these hosts would be quorate and could outvote it: pve-mid; pve-high",
          "set quorum.twoNode: false: votes 3/1/1 give expected 5, quorum 3, and the other hosts together then hold 2",
        ),
      ],
    ],
    [
      "two_node with auto_tie_breaker",
      layout([1, 1], { mode: "default", quorum: { twoNode: true, autoTieBreaker: true } }),
      [
        F(
          "warning",
          "quorum.two-node-atb",
          "quorum.twoNode",
          "two_node and auto_tie_breaker are not compatible: corosync disables two_node (wait_for_all stays on)",
          "keep one of quorum.twoNode and quorum.autoTieBreaker",
        ),
        F(
          "warning",
          "votes.always-on-cold-start",
          "quorum.twoNode",
          "after a full power outage pve-low alone is not quorate: wait_for_all (implied by two_node) holds quorum back until every host has been seen",
          "turn off quorum.waitForAll (and quorum.twoNode), or plan to boot every host after an outage",
        ),
      ],
    ],
    [
      "auto_tie_breaker with an odd vote total",
      layout([3, 1, 1], { quorum: { autoTieBreaker: true } }),
      [
        F(
          "warning",
          "quorum.atb-odd-votes",
          "quorum.autoTieBreaker",
          "auto_tie_breaker with an odd vote total (5) needs wait_for_all: corosync disables it",
          "set quorum.waitForAll: true, or turn off quorum.autoTieBreaker",
        ),
      ],
    ],
    [
      "auto_tie_breaker and last_man_standing with an odd vote total",
      layout([3, 1, 1], { quorum: { autoTieBreaker: true, lastManStanding: true } }),
      [
        F(
          "error",
          "quorum.lms-uneven-votes",
          "quorum.lastManStanding",
          "last_man_standing needs every node to vote 1, but votes are 3/1/1; corosync turns it off",
          "set quorum.lastManStanding: false (weighted votes already keep the always-on host quorate)",
        ),
        F(
          "error",
          "quorum.atb-lms-odd-votes",
          "quorum.autoTieBreaker",
          "auto_tie_breaker with last_man_standing and an odd vote total (5) without wait_for_all: corosync refuses to start",
          "set quorum.waitForAll: true, or turn off quorum.autoTieBreaker",
        ),
      ],
    ],
    [
      "qdevice mode without a device (core/config reports quorum.device-missing)",
      layout([1, 1], { mode: "qdevice" }),
      [
        F(
          "error",
          "votes.always-on-not-quorate",
          "hosts[0].votes",
          "pve-low alone has 1 of 2 expected votes, below the quorum of 2: switching the other hosts off freezes the cluster",
          "set quorum.mode: weighted and set hosts[0].votes to 2: votes 2/1 give expected 3, quorum 2, and pve-low alone then holds 2",
        ),
      ],
    ],
    [
      "a device outside qdevice mode: ignored (core/config reports quorum.device-unused)",
      layout([3, 1, 1], { quorum: { device: device("lms") } }),
      [],
    ],
    [
      "two_node with a device",
      qdevice([1, 1], "ffsplit", { quorum: { twoNode: true } }),
      [
        F(
          "error",
          "quorum.two-node-with-device",
          "quorum.twoNode",
          "two_node and a quorum device cannot be configured together: corosync refuses to start",
          "set quorum.twoNode: false; the device already breaks the tie",
        ),
        F(
          "error",
          "votes.spot-hosts-quorate",
          "hosts[0].votes",
          "without the always-on host pve-low and without the quorum device, these hosts would be quorate and could outvote it: pve-mid",
          "set quorum.twoNode: false: the device then holds 1, expected 3, quorum 2; pve-low + the device hold 2, the other hosts together 1",
        ),
      ],
    ],
    [
      "auto_tie_breaker with a device",
      qdevice([1, 1], "ffsplit", { quorum: { autoTieBreaker: true } }),
      [
        F(
          "error",
          "quorum.atb-with-device",
          "quorum.autoTieBreaker",
          "auto_tie_breaker is not compatible with a quorum device: corosync refuses to start",
          "set quorum.autoTieBreaker: false; the device breaks ties",
        ),
      ],
    ],
    [
      "last_man_standing with a device",
      qdevice([1, 1, 1], "lms", { quorum: { lastManStanding: true } }),
      [
        F(
          "error",
          "quorum.lms-with-device",
          "quorum.lastManStanding",
          "last_man_standing is not compatible with a quorum device: corosync refuses to start",
          "set quorum.lastManStanding: false; use algorithm lms on the device instead",
        ),
        QDEV_ODD,
      ],
    ],
    [
      "a device without votes and uneven node votes (corosync exits 20)",
      qdevice([3, 1, 1], "lms"),
      [
        F(
          "error",
          "quorum.device-votes-required",
          "quorum.device.votes",
          "a quorum device without quorum.device.votes needs node votes that add up to the node count (every node voting 1), but votes are 3/1/1: corosync exits with status 20 at start",
          "set every host's votes to 1 (QDevice and weighted votes are exclusive modes), or set quorum.device.votes (lms default: 4)",
        ),
        QDEV_ODD,
      ],
    ],
    [
      "expected_votes with a device without votes",
      qdevice([1, 1, 1], "lms", { quorum: { expectedVotes: 5 } }),
      [
        F(
          "error",
          "quorum.device-votes-with-expected",
          "quorum.device.votes",
          "quorum.expectedVotes is set but quorum.device.votes is not: corosync refuses to start",
          "remove quorum.expectedVotes, or set quorum.device.votes",
        ),
        QDEV_ODD,
      ],
    ],
    [
      "device votes too close to expected_votes",
      qdevice([1, 1, 1, 1], "lms", { quorum: { expectedVotes: 5, device: device("lms", 4) } }),
      [
        F(
          "error",
          "quorum.device-votes-too-high",
          "quorum.device.votes",
          "quorum.device.votes (4) must be at least 2 below quorum.expectedVotes (5): corosync refuses to start",
          "remove quorum.expectedVotes, or lower quorum.device.votes",
        ),
        F(
          "warning",
          "quorum.lms-device-votes",
          "quorum.device.votes",
          "algorithm lms expects the default device votes (3), got 4",
          "remove quorum.device.votes so corosync computes it",
        ),
        F(
          "warning",
          "quorum.expected-votes-override",
          "quorum.expectedVotes",
          "quorum.expectedVotes is 5 but the votes add up to 8; corosync raises expected votes to the votes it has seen, so quorum differs between a cold start and a running cluster",
          "remove quorum.expectedVotes; use `pvecm expected` for a one-off recovery instead",
        ),
      ],
    ],
    [
      "ffsplit with uneven node votes",
      qdevice([2, 1, 1, 1], "ffsplit"),
      [
        F(
          "error",
          "quorum.ffsplit-votes",
          "hosts",
          "algorithm ffsplit needs every node and the device to vote 1, but votes are 2/1/1/1 and the device has 1",
          "set every host's votes and quorum.device.votes to 1",
        ),
        F(
          "error",
          "votes.always-on-not-quorate",
          "quorum.device.votes",
          "pve-low + the quorum device alone have 3 of 6 expected votes, below the quorum of 4: switching the other hosts off freezes the cluster",
          "set quorum.mode: weighted and set hosts[0].votes to 4: votes 4/1/1/1 give expected 7, quorum 4, and pve-low alone then holds 4",
        ),
        F(
          "error",
          "votes.spot-hosts-quorate",
          "hosts[0].votes",
          "without the always-on host pve-low and without the quorum device, these hosts would be quorate and could outvote it: pve-mid + pve-high + pve-4 (when they boot without it)",
          "set quorum.mode: weighted and set hosts[0].votes to 4: votes 4/1/1/1 give expected 7, quorum 4, and the other hosts together then hold 3",
        ),
      ],
    ],
    [
      "ffsplit with an odd node count",
      qdevice([1, 1, 1], "ffsplit"),
      [
        F(
          "error",
          "quorum.ffsplit-odd-nodes",
          "quorum.device.algorithm",
          "algorithm ffsplit makes sense only for an even node count, this cluster has 3",
          "use algorithm lms (what `pvecm qdevice setup --force` uses for odd node counts)",
        ),
        F(
          "error",
          "votes.always-on-not-quorate",
          "quorum.device.votes",
          "pve-low + the quorum device alone have 2 of 4 expected votes, below the quorum of 3: switching the other hosts off freezes the cluster",
          "use algorithm lms without quorum.device.votes: the device then holds 2, expected 5, quorum 3; pve-low + the device hold 3, the other hosts together 2",
        ),
        F(
          "error",
          "votes.spot-hosts-quorate",
          "hosts[0].votes",
          "without the always-on host pve-low and without the quorum device, these hosts would be quorate and could outvote it: pve-mid + pve-high (when they boot without it)",
          "use algorithm lms without quorum.device.votes: the device then holds 2, expected 5, quorum 3; pve-low + the device hold 3, the other hosts together 2",
        ),
      ],
    ],
  ];

  for (const [why, model, expected] of rows) {
    it(why, () => assert.deepEqual(quorumFindings(model), expected));
  }

  it("the table above shows every finding code", () => {
    const shown = new Set(rows.flatMap(([, , fs]) => fs.map((f) => f.code)));
    assert.deepEqual(
      QUORUM_FINDING_CODES.filter((c) => !shown.has(c)),
      [],
    );
  });

  it("codes for configurations corosync refuses are finding codes", () => {
    for (const code of COROSYNC_REFUSES)
      assert.ok((QUORUM_FINDING_CODES as readonly string[]).includes(code), code);
  });

  it("suggests 3 for 2/1/1 and 1/1/1, 5 for 1/1/1/1/1, and keeps a sound vote", () => {
    assert.equal(suggestAlwaysOnVotes(layout([2, 1, 1])), 3);
    assert.equal(suggestAlwaysOnVotes(layout([1, 1, 1])), 3);
    assert.equal(suggestAlwaysOnVotes(layout([1, 1, 1, 1, 1])), 5);
    assert.equal(suggestAlwaysOnVotes(layout([3, 1, 1])), 3);
  });
});
