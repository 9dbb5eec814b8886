// The quorum model with a QDevice, for 2, 3 and 4 hosts in each mode (corosync votequorum rules and what
// `pvecm qdevice setup` writes), and compareModes: which host sets keep quorum in each mode, side by side.
import { strict as assert } from "node:assert";
import type { Model } from "../../core/model";
import { quorumFindings, whatIf } from "../../core/quorum";
import { compareModes, pvecmAlgorithm, type ModeRow } from "../../core/quorum-modes";
import { qdeviceFindings, qdevicePlan } from "../../core/scripts/qdevice";
import { KEY_HIGH, stackModel } from "../fixtures/stacks";

const DEVICE = { address: "192.168.1.50", hostKey: KEY_HIGH };

/** pve1 (always-on), pve2 (sometimes-on), pve3, pve4 (usually-off) with the given votes and quorum block. */
const stack = (votes: readonly number[], quorum: Record<string, unknown>): Model =>
  stackModel({ votes, quorum });

const ones = (n: number) => Array.from({ length: n }, () => 1);
const qdevice = (n: number, device: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  stack(ones(n), { mode: "qdevice", device: { ...DEVICE, ...device }, ...extra });
const codes = (m: Model) => quorumFindings(m).map((f) => `${f.level}:${f.code}`);
const arithmetic = (m: Model) => {
  const t = whatIf(m);
  return { expected: t.expectedVotes, quorum: t.quorum, device: t.deviceVotes };
};
/** Quorate rows of the what-if table as "pve1+pve2" (device up) strings. */
const quorateSets = (m: Model, deviceUp = true) =>
  whatIf(m)
    .scenarios.filter((s) => (s.deviceUp ?? true) === deviceUp && s.quorate)
    .map((s) => s.up.join("+"));

describe("quorum model with a QDevice (2, 3 and 4 hosts)", () => {
  describe("qdevice mode, as pvecm qdevice setup writes it", () => {
    it("2 hosts: ffsplit, the device holds 1 vote: expected 3, quorum 2, either host with the device is quorate", () => {
      const m = qdevice(2);
      assert.equal(m.quorum.device?.algorithm, "ffsplit");
      assert.deepEqual(arithmetic(m), { expected: 3, quorum: 2, device: 1 });
      assert.deepEqual(quorateSets(m), ["pve1+pve2", "pve1", "pve2"]);
      assert.deepEqual(quorateSets(m, false), ["pve1+pve2"]);
      assert.deepEqual(codes(m), []);
      assert.deepEqual(pvecmAlgorithm(2), { algorithm: "ffsplit", force: false });
    });

    it("3 hosts: lms with N-1 = 2 device votes: expected 5, quorum 3, any one host with the device is quorate; Proxmox needs --force", () => {
      const m = qdevice(3);
      assert.equal(m.quorum.device?.algorithm, "lms");
      assert.deepEqual(arithmetic(m), { expected: 5, quorum: 3, device: 2 });
      assert.deepEqual(quorateSets(m), [
        "pve1+pve2+pve3",
        "pve1+pve2",
        "pve1+pve3",
        "pve2+pve3",
        "pve1",
        "pve2",
        "pve3",
      ]);
      // Without the device: plain majority of 3 votes out of 5.
      assert.deepEqual(quorateSets(m, false), ["pve1+pve2+pve3"]);
      assert.deepEqual(codes(m), ["warning:quorum.qdevice-odd-nodes"]);
      assert.match(quorumFindings(m)[0]!.message, /needs --force and uses algorithm lms/);
      assert.deepEqual(pvecmAlgorithm(3), { algorithm: "lms", force: true });
    });

    it("4 hosts: ffsplit, 1 device vote: expected 5, quorum 3, so the always-on host with the device is NOT quorate", () => {
      const m = qdevice(4);
      assert.equal(m.quorum.device?.algorithm, "ffsplit");
      assert.deepEqual(arithmetic(m), { expected: 5, quorum: 3, device: 1 });
      assert.ok(!quorateSets(m).includes("pve1"));
      assert.ok(quorateSets(m).includes("pve1+pve2"), "a half plus the tie-breaking device");
      assert.ok(quorateSets(m, false).includes("pve2+pve3+pve4"));
      assert.deepEqual(codes(m), ["error:votes.always-on-not-quorate", "error:votes.spot-hosts-quorate"]);
      assert.deepEqual(pvecmAlgorithm(4), { algorithm: "ffsplit", force: false });
    });
  });

  describe("corosync's rules for a device", () => {
    // One row per rule: the stack, then the error corosync's refusal maps to.
    const rows: [string, () => Model, string][] = [
      [
        "uneven node votes without quorum.device.votes (corosync exits with status 20)",
        () => stack([3, 1, 1], { mode: "qdevice", device: DEVICE }),
        "error:quorum.device-votes-required",
      ],
      [
        "auto_tie_breaker with a device",
        () => qdevice(3, {}, { autoTieBreaker: true }),
        "error:quorum.atb-with-device",
      ],
      [
        "last_man_standing with a device",
        () => qdevice(3, {}, { lastManStanding: true }),
        "error:quorum.lms-with-device",
      ],
      [
        "ffsplit with an odd node count",
        () => qdevice(3, { algorithm: "ffsplit" }),
        "error:quorum.ffsplit-odd-nodes",
      ],
      ["ffsplit with 2 device votes", () => qdevice(2, { votes: 2 }), "error:quorum.ffsplit-votes"],
    ];
    for (const [what, make, code] of rows) {
      it(`refuses ${what}`, () => assert.ok(codes(make()).includes(code), codes(make()).join(", ")));
    }

    it("counts explicit device votes with uneven node votes (corosync accepts them): 3/1/1 + 2 → expected 7, quorum 4", () => {
      const m = stack([3, 1, 1], { mode: "qdevice", device: { ...DEVICE, votes: 2 } });
      assert.deepEqual(arithmetic(m), { expected: 7, quorum: 4, device: 2 });
      assert.ok(!codes(m).some((c) => c.startsWith("error:")), codes(m).join(", "));
    });
  });

  describe("weighted and default modes (no device)", () => {
    const cases: [number[], string, { expected: number; quorum: number; alone: boolean }][] = [
      [[2, 1], "weighted", { expected: 3, quorum: 2, alone: true }],
      [[3, 1, 1], "weighted", { expected: 5, quorum: 3, alone: true }],
      [[4, 1, 1, 1], "weighted", { expected: 7, quorum: 4, alone: true }],
      [[1, 1], "default", { expected: 2, quorum: 2, alone: false }],
      [[1, 1, 1], "default", { expected: 3, quorum: 2, alone: false }],
      [[1, 1, 1, 1], "default", { expected: 4, quorum: 3, alone: false }],
    ];
    for (const [votes, mode, want] of cases) {
      it(`${votes.length} hosts, ${mode} ${votes.join("/")}: expected ${want.expected}, quorum ${want.quorum}, the always-on host alone ${want.alone ? "is" : "is not"} quorate`, () => {
        const m = stack(votes, { mode });
        assert.deepEqual(arithmetic(m), { expected: want.expected, quorum: want.quorum, device: 0 });
        assert.equal(quorateSets(m).includes("pve1"), want.alone);
        assert.equal(qdevicePlan(m), undefined);
      });
    }
  });
});

describe("qdeviceFindings: what pvecm qdevice setup cannot produce", () => {
  const rows: [string, () => Model, string[]][] = [
    ["the stack as pvecm writes it (3 hosts, lms)", () => qdevice(3), []],
    ["the stack as pvecm writes it (2 hosts, ffsplit)", () => qdevice(2), []],
    [
      "lms declared for 4 hosts (pvecm writes ffsplit)",
      () => qdevice(4, { algorithm: "lms" }),
      ["qdevice.algorithm-not-pvecm@quorum.device.algorithm"],
    ],
    [
      "ffsplit declared for 3 hosts (pvecm writes lms)",
      () => qdevice(3, { algorithm: "ffsplit" }),
      ["qdevice.algorithm-not-pvecm@quorum.device.algorithm"],
    ],
    [
      "device votes 2 with ffsplit (pvecm writes 1)",
      () => qdevice(2, { votes: 2 }),
      ["qdevice.votes-not-pvecm@quorum.device.votes"],
    ],
    ["device votes equal to lms's own (N-1)", () => qdevice(3, { votes: 2 }), []],
    [
      "weighted node votes (3/1/1)",
      () => stack([3, 1, 1], { mode: "qdevice", device: DEVICE }),
      ["qdevice.node-votes@hosts[0].votes"],
    ],
    [
      "votes 2/1/0, which add up to the node count but are not 1 each",
      () => stack([2, 1, 0], { mode: "qdevice", device: DEVICE }),
      ["qdevice.node-votes@hosts[0].votes", "qdevice.node-votes@hosts[2].votes"],
    ],
    [
      "weighted node votes with explicit lms votes (pvecm writes none: corosync would refuse)",
      () => stack([3, 1, 1], { mode: "qdevice", device: { ...DEVICE, votes: 2 } }),
      ["qdevice.node-votes@hosts[0].votes"],
    ],
    [
      "a QNetd SSH port other than 22",
      () => qdevice(3, { sshPort: 2222 }),
      ["qdevice.ssh-port@quorum.device.sshPort"],
    ],
    ["weighted mode", () => stack([3, 1, 1], { mode: "weighted" }), []],
  ];
  for (const [what, make, want] of rows) {
    it(`${want.length ? "refuses" : "accepts"} ${what}`, () => {
      const found = qdeviceFindings(make());
      assert.deepEqual(
        found.map((f) => `${f.code}@${f.path}`),
        want,
      );
      for (const f of found) {
        assert.equal(f.level, "error");
        assert.match(f.message, /pvecm qdevice setup/);
        assert.ok(f.fix.length > 0);
      }
    });
  }
});

describe("compareModes", () => {
  const row = (
    up: string,
    weighted: boolean,
    qdevice: boolean,
    deviceDown: boolean,
    plain: boolean,
  ): ModeRow => ({
    up: up.split("+"),
    weighted,
    qdevice,
    qdeviceDeviceDown: deviceDown,
    default: plain,
  });

  it("3 hosts, weighted 3/1/1 (the homelab): every set of live hosts under weighted, qdevice (device up / down) and default", () => {
    const c = compareModes(stack([3, 1, 1], { mode: "weighted" }));
    assert.deepEqual(c.hosts, ["pve1", "pve2", "pve3"]);
    assert.deepEqual(c.rows, [
      row("pve1+pve2+pve3", true, true, true, true),
      row("pve1+pve2", true, true, false, true),
      row("pve1+pve3", true, true, false, true),
      row("pve2+pve3", false, true, false, true),
      row("pve1", true, true, false, false),
      row("pve2", false, true, false, false),
      row("pve3", false, true, false, false),
    ]);
    const { weighted, qdevice: qd, default: plain } = c.modes;
    assert.deepEqual(
      [weighted.active, weighted.votesFrom, weighted.votes, weighted.expectedVotes, weighted.quorum],
      [true, "declared", { pve1: 3, pve2: 1, pve3: 1 }, 5, 3],
    );
    assert.deepEqual(
      [qd.active, qd.votesFrom, qd.votes, qd.algorithm, qd.deviceVotes, qd.expectedVotes, qd.quorum],
      [false, "one-each", { pve1: 1, pve2: 1, pve3: 1 }, "lms", 2, 5, 3],
    );
    assert.match(
      qd.notes[0]!,
      /odd count: Proxmox discourages a QDevice here; `pvecm qdevice setup --force` is needed and uses algorithm lms/,
    );
    assert.deepEqual(
      [plain.votes, plain.expectedVotes, plain.quorum, plain.deviceVotes],
      [{ pve1: 1, pve2: 1, pve3: 1 }, 3, 2, 0],
    );
  });

  it("2 hosts: the weighted 2/1 host alone is quorate; with ffsplit either host plus the device is", () => {
    const c = compareModes(stack([2, 1], { mode: "weighted" }));
    assert.deepEqual(c.rows, [
      row("pve1+pve2", true, true, true, true),
      row("pve1", true, true, false, false),
      row("pve2", false, true, false, false),
    ]);
    assert.deepEqual([c.modes.qdevice.algorithm, c.modes.qdevice.deviceVotes], ["ffsplit", 1]);
    assert.match(c.modes.qdevice.notes[0]!, /even count: algorithm ffsplit/);
  });

  it("4 hosts in qdevice mode: its own column is the declared stack; weighted uses a suggested weight for the always-on host", () => {
    const c = compareModes(qdevice(4));
    assert.equal(c.modes.qdevice.active, true);
    assert.equal(c.modes.qdevice.votesFrom, "declared");
    assert.equal(c.modes.weighted.votesFrom, "suggested");
    assert.deepEqual(c.modes.weighted.votes, { pve1: 4, pve2: 1, pve3: 1, pve4: 1 });
    const by = new Map(c.rows.map((r) => [r.up.join("+"), r]));
    assert.deepEqual(by.get("pve1"), row("pve1", true, false, false, false));
    assert.deepEqual(by.get("pve2+pve3+pve4"), row("pve2+pve3+pve4", false, true, true, true));
    assert.deepEqual(by.get("pve1+pve2"), row("pve1+pve2", true, true, false, false));
    assert.equal(c.rows.length, 15);
    // The stack's own column matches its what-if table exactly.
    const table = whatIf(qdevice(4));
    for (const r of c.rows) {
      const s = table.scenarios.find((x) => x.deviceUp && x.up.join("+") === r.up.join("+"));
      assert.equal(r.qdevice, s?.quorate, r.up.join("+"));
    }
  });
});
