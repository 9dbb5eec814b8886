// Backups, replication, HA and start order in the whole program (index.ts) under the SDK's mocks: the exact
// provider inputs of every new resource, and what each waits for (membership, its VM, and for HA the quorum
// layout: vote push and QuorumDevice commands).
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { runProgram, type ProgramResult, type RegisteredResource } from "../../plan/engine";
import { loadStackFiles, programConfig } from "../../plan/stack";
import { KEY_HIGH, TEST_SECRET_KEYS, withEdit } from "../fixtures/stacks";
import { BAD_PROTECTION_CONFIGS } from "../unit/protection.test";

type Edit = Parameters<typeof withEdit>[0];

const REPO = path.resolve(__dirname, "../..");
const JOB = "proxmoxve:backup/job:Job";
const REPLICATION = "proxmoxve:index/replication:Replication";
const HA_RESOURCE = "proxmoxve:index/haresource:Haresource";
const HA_RULE = "proxmoxve:index/harule:Harule";
const HA_GROUP = "proxmoxve:index/hagroup:Hagroup";
const VM = "proxmoxve:index/vmLegacy:VmLegacy";

const MEMBERSHIP = [
  "homelab-membership-create",
  "homelab-membership-join-pve-mid",
  "homelab-membership-member-pve-mid",
  "homelab-membership-join-pve-high",
  "homelab-membership-member-pve-high",
];
/** The quorum layout in qdevice mode: votes pushed (all 1), then the device set up. */
const QUORUM_STEPS = [
  "homelab-votes-push",
  "homelab-qdevice-root-key",
  "homelab-qdevice-qnetd",
  "homelab-qdevice-config",
];

async function program(edit: Edit): Promise<ProgramResult> {
  const run = await runProgram({
    projectDir: REPO,
    project: "pve-homelab",
    stack: "test",
    config: withEdit(edit),
    secretKeys: [...TEST_SECRET_KEYS],
  });
  assert.equal(run.error, undefined, String(run.error));
  return run;
}

// Registration order follows promise resolution, not construction order: compare by name.
const ofType = (run: ProgramResult, type: string) =>
  run.resources.filter((r) => r.type === type).sort((a, b) => a.name.localeCompare(b.name));
const named = (run: ProgramResult, name: string): RegisteredResource => {
  const found = run.resources.find((r) => r.name === name);
  assert.ok(found, `no resource named ${name}`);
  return found;
};
/** Names of the resources a registration depends on, sorted. */
const deps = (run: ProgramResult, r: RegisteredResource) =>
  r.dependsOn.map((urn) => run.resources.find((x) => x.urn === urn)?.name ?? urn).sort();
const sorted = (xs: string[]) => [...xs].sort();

/** qdevice mode (safe for HA): 1 vote each plus the QNetd vote. */
const qdevice: Edit = (v) => {
  v.quorum = { mode: "qdevice", device: { address: "192.168.1.5", hostKey: KEY_HIGH } };
  v.hosts.forEach((h) => (h.votes = 1));
};

/** dns on ZFS, replicated to pve-mid, under HA; media on pve-mid; one job per kind of coverage. */
const protectedStack =
  (version: 8 | 9): Edit =>
  (v) => {
    qdevice(v);
    v.proxmoxVersion = version;
    Object.assign(v.vms[0]!, {
      datastore: "local-zfs",
      ha: true,
      replicateTo: [
        { host: "pve-mid", rate: 40 },
        { host: "pve-high", schedule: "sat 03:00" },
      ],
    });
    v.vms.push({
      name: "media",
      host: "pve-mid",
      vmId: 110,
      startup: { order: 2, upDelay: 30, downDelay: 90 },
    });
    v.backups = [
      {
        id: "nightly",
        schedule: "02:30",
        storage: "local",
        vms: "all",
        retention: { keepDaily: 7, keepWeekly: 4 },
      },
      {
        id: "weekly-dns",
        schedule: "sun 04:00",
        storage: "nas",
        vms: ["media", "dns"],
        mode: "stop",
        bwlimit: 51200,
        repeatMissed: false,
        compress: "gzip",
      },
    ];
  };

describe("VM protection in the program (mocks)", () => {
  let pve9: ProgramResult;
  let pve8: ProgramResult;
  before(async () => {
    pve9 = await program(protectedStack(9));
    pve8 = await program(protectedStack(8));
  });

  it("registers one backup.Job per job with the exact inputs: all, vmids, retention, repeatMissed", () => {
    assert.deepEqual(
      ofType(pve9, JOB).map((r) => [r.name, r.inputs]),
      [
        [
          "homelab-backups-nightly",
          {
            resourceId: "nightly",
            schedule: "02:30",
            storage: "local",
            mode: "snapshot",
            compress: "zstd",
            all: true,
            pruneBackups: { "keep-daily": "7", "keep-weekly": "4" },
            repeatMissed: true,
            enabled: true,
          },
        ],
        [
          "homelab-backups-weekly-dns",
          {
            resourceId: "weekly-dns",
            schedule: "sun 04:00",
            storage: "nas",
            mode: "stop",
            compress: "gzip",
            all: false,
            vmids: ["101", "110"],
            repeatMissed: false,
            bwlimit: 51200,
            enabled: true,
          },
        ],
      ],
    );
  });

  it("runs each backup job after the membership and after the VMs it covers, through the stack's provider", () => {
    const provider = named(pve9, "homelab-vms-provider").name;
    assert.deepEqual(
      deps(pve9, named(pve9, "homelab-backups-nightly")),
      sorted([...MEMBERSHIP, "homelab-vms-dns", "homelab-vms-media"]),
    );
    assert.deepEqual(
      deps(pve9, named(pve9, "homelab-backups-weekly-dns")),
      sorted([...MEMBERSHIP, "homelab-vms-dns", "homelab-vms-media"]),
    );
    for (const r of [
      ...ofType(pve9, JOB),
      ...ofType(pve9, REPLICATION),
      ...ofType(pve9, HA_RESOURCE),
      ...ofType(pve9, HA_RULE),
    ]) {
      assert.equal(r.provider, provider, r.name);
    }
  });

  it("registers one Replication per target, id <vmid>-<position>, after the membership and the VM", () => {
    assert.deepEqual(
      ofType(pve9, REPLICATION).map((r) => [r.name, r.inputs, deps(pve9, r)]),
      [
        [
          "homelab-replication-dns-0",
          { resourceId: "101-0", target: "pve-mid", type: "local", schedule: "*/15", rate: 40 },
          sorted([...MEMBERSHIP, "homelab-vms-dns"]),
        ],
        [
          "homelab-replication-dns-1",
          { resourceId: "101-1", target: "pve-high", type: "local", schedule: "sat 03:00" },
          sorted([...MEMBERSHIP, "homelab-vms-dns"]),
        ],
      ],
    );
  });

  it("on PVE 9 puts the VM under HA, then a strict node-affinity rule over the hosts holding its disks", () => {
    assert.deepEqual(ofType(pve9, HA_GROUP), []);
    const [resource] = ofType(pve9, HA_RESOURCE);
    const [rule] = ofType(pve9, HA_RULE);
    assert.deepEqual(
      [resource?.name, resource?.inputs],
      ["homelab-ha-dns", { resourceId: "vm:101", state: "started", comment: "pve-homelab: dns" }],
    );
    assert.deepEqual(
      [rule?.name, rule?.inputs],
      [
        "homelab-ha-dns-rule",
        {
          rule: "pve-homelab-dns",
          type: "node-affinity",
          resources: ["vm:101"],
          nodes: { "pve-low": 2, "pve-mid": 1, "pve-high": 1 },
          strict: true,
          comment: "pve-homelab: where dns can run",
        },
      ],
    );
  });

  it("on PVE 9 arms HA only after the membership, the VM and the quorum layout (votes, then QDevice)", () => {
    assert.deepEqual(
      deps(pve9, named(pve9, "homelab-ha-dns")),
      sorted([...MEMBERSHIP, "homelab-vms-dns", ...QUORUM_STEPS]),
    );
    assert.deepEqual(
      deps(pve9, named(pve9, "homelab-ha-dns-rule")),
      sorted([...MEMBERSHIP, "homelab-vms-dns", ...QUORUM_STEPS, "homelab-ha-dns"]),
    );
  });

  it("on PVE 8 creates a restricted HA group first and names it in the HA resource", () => {
    assert.deepEqual(ofType(pve8, HA_RULE), []);
    const [group] = ofType(pve8, HA_GROUP);
    const [resource] = ofType(pve8, HA_RESOURCE);
    assert.deepEqual(
      [group?.name, group?.inputs],
      [
        "homelab-ha-dns-group",
        {
          group: "pve-homelab-dns",
          nodes: { "pve-low": 2, "pve-mid": 1, "pve-high": 1 },
          restricted: true,
          noFailback: false,
          comment: "pve-homelab: where dns can run",
        },
      ],
    );
    assert.deepEqual(resource?.inputs, {
      resourceId: "vm:101",
      state: "started",
      group: "pve-homelab-dns",
      comment: "pve-homelab: dns",
    });
    assert.deepEqual(deps(pve8, group!), sorted([...MEMBERSHIP, "homelab-vms-dns", ...QUORUM_STEPS]));
    assert.deepEqual(
      deps(pve8, resource!),
      sorted([...MEMBERSHIP, "homelab-vms-dns", ...QUORUM_STEPS, "homelab-ha-dns-group"]),
    );
  });

  it("sends the start order as VmLegacy startup, and none for a VM without one", () => {
    assert.deepEqual(named(pve9, "homelab-vms-media").inputs.startup, {
      order: 2,
      upDelay: 30,
      downDelay: 90,
    });
    assert.equal(named(pve9, "homelab-vms-dns").inputs.startup, undefined);
    assert.equal(named(pve9, "homelab-vms-dns").type, VM);
  });

  it("arms HA with weighted votes once the risk is acknowledged, keeping the HA VM stopped when declared so", async () => {
    const run = await program((v) => {
      v.acknowledgeQuorumRisk = true;
      v.proxmoxVersion = 9;
      Object.assign(v.vms[0]!, { ha: true, started: false });
    });
    assert.deepEqual(
      ofType(run, HA_RESOURCE).map((r) => r.inputs),
      [{ resourceId: "vm:101", state: "stopped", comment: "pve-homelab: dns" }],
    );
    // No other host holds dns's disks: the rule keeps it on pve-low (and the plan warns).
    assert.deepEqual(ofType(run, HA_RULE)[0]?.inputs.nodes, { "pve-low": 2 });
    // Weighted mode: the QuorumDevice (its removal) runs before the vote push; HA waits for both.
    assert.deepEqual(
      deps(run, named(run, "homelab-ha-dns")),
      sorted([...MEMBERSHIP, "homelab-vms-dns", "homelab-votes-push", "homelab-qdevice-config"]),
    );
  });

  it("the homelab stack file: a nightly job of every VM, media replicated pve-mid → pve-low, dns first", async () => {
    const run = await runProgram({
      projectDir: REPO,
      stack: "homelab",
      ...programConfig(loadStackFiles(REPO, "homelab")),
    });
    assert.equal(run.error, undefined, String(run.error));
    assert.deepEqual(
      ofType(run, JOB).map((r) => [r.name, r.inputs.all, r.inputs.repeatMissed, r.inputs.schedule]),
      [["homelab-backups-nightly", true, true, "02:30"]],
    );
    assert.deepEqual(
      ofType(run, REPLICATION).map((r) => [
        r.inputs.resourceId,
        named(run, "homelab-vms-media").inputs.nodeName,
        r.inputs.target,
      ]),
      [["110-0", "pve-mid", "pve-low"]],
    );
    assert.deepEqual(named(run, "homelab-vms-dns").inputs.startup, { order: 1, upDelay: 30, downDelay: 60 });
    assert.deepEqual(ofType(run, HA_RESOURCE), []);
  });

  it("registers no protection component for a stack without backups, replication or HA", async () => {
    const run = await program(() => {});
    const types = new Set(run.resources.map((r) => r.type));
    for (const t of [
      "pve-homelab:vms:Backups",
      "pve-homelab:vms:Replication",
      "pve-homelab:vms:HighAvailability",
      JOB,
      REPLICATION,
      HA_RESOURCE,
      HA_RULE,
      HA_GROUP,
    ]) {
      assert.ok(!types.has(t), t);
    }
  });

  it("refuses HA on weighted votes without the acknowledgement, registering nothing", async () => {
    const run = await runProgram({
      projectDir: REPO,
      project: "pve-homelab",
      stack: "test",
      config: withEdit((v) => {
        v.proxmoxVersion = 9;
        v.vms[0]!.ha = true;
      }),
      secretKeys: [...TEST_SECRET_KEYS],
    });
    assert.match(String(JSON.stringify(run.error)), /placement\.ha-with-weighted-votes/);
    assert.deepEqual(
      run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack"),
      [],
    );
  });

  describe("each bad protection value fails the program with its field, registering nothing", () => {
    for (const row of BAD_PROTECTION_CONFIGS) {
      it(row.why, async () => {
        const run = await runProgram({
          projectDir: REPO,
          project: "pve-homelab",
          stack: "bad",
          config: withEdit(row.edit),
          secretKeys: [...TEST_SECRET_KEYS],
        });
        const text = JSON.stringify(run.error);
        assert.ok(text.includes(`pve-homelab:${row.expect[0]}`), text);
        assert.ok(text.includes(JSON.stringify(row.expect[1]).slice(1, -1)), text);
        assert.deepEqual(
          run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack"),
          [],
        );
      });
    }
  });
});
