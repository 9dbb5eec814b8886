import { strict as assert } from "node:assert";
import { loadModel } from "../../core/config";
import type { Finding, Model } from "../../core/model";
import { placementByHost, placementFindings } from "../../core/placement";
import { KEY_HIGH, withEdit, TEST_SECRET_KEYS } from "../fixtures/stacks";

type Edit = Parameters<typeof withEdit>[0];

/** A valid Model from the homelab fixture with one edit; fails the test if the config itself is refused. */
function model(edit: Edit = () => {}): Model {
  const loaded = loadModel({ values: withEdit(edit), secretKeys: TEST_SECRET_KEYS });
  assert.ok(loaded.model, JSON.stringify(loaded.findings));
  return loaded.model;
}

const short = (f: Finding) => [f.level, f.code, f.path, f.message];

const DEBIAN = "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2";
const UBUNTU = "https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img";

/** One row per rule violation: the edit to the homelab fixture and the exact findings it must produce. */
const ROWS: ReadonlyArray<{ why: string; edit: Edit; expect: string[][] }> = [
  {
    why: "more cores on a host than it declares",
    edit: (v) => {
      v.hosts[2]!.cores = 16;
      v.vms.push({ name: "build", host: "pve-high", vmId: 201, cores: 12 });
      v.vms.push({ name: "ci", host: "pve-high", vmId: 202, cores: 8 });
    },
    expect: [
      [
        "error",
        "placement.cores-exceeded",
        "hosts[2].cores",
        "VMs on pve-high need 20 cores, 4 more than the 16 it has (build 12, ci 8)",
      ],
    ],
  },
  {
    why: "more memory on a host than it declares",
    edit: (v) => {
      v.hosts[0]!.memoryMiB = 2048;
      v.vms.push({ name: "home-assistant", host: "pve-low", vmId: 102, memoryMiB: 4096 });
    },
    expect: [
      [
        "error",
        "placement.memory-exceeded",
        "hosts[0].memoryMiB",
        "VMs on pve-low need 5120 MiB of memory, 3072 MiB more than the 2048 MiB it has (dns 1024 MiB, home-assistant 4096 MiB)",
      ],
    ],
  },
  {
    why: "an alwaysOn VM on a sometimes-on host",
    edit: (v) => v.vms.push({ name: "media", host: "pve-mid", vmId: 110, alwaysOn: true }),
    expect: [
      [
        "error",
        "placement.always-on-vm-on-sleeping-host",
        "vms[1].host",
        "VM media is alwaysOn but its host pve-mid is sometimes-on: the VM stops whenever pve-mid is off",
      ],
    ],
  },
  {
    why: "an alwaysOn VM on a usually-off host",
    edit: (v) => v.vms.push({ name: "build", host: "pve-high", vmId: 201, alwaysOn: true }),
    expect: [
      [
        "error",
        "placement.always-on-vm-on-sleeping-host",
        "vms[1].host",
        "VM build is alwaysOn but its host pve-high is usually-off: the VM stops whenever pve-high is off",
      ],
    ],
  },
  {
    why: "HA with weighted votes",
    edit: (v) => (v.vms[0]!.ha = true),
    expect: [
      [
        "error",
        "placement.ha-with-weighted-votes",
        "vms[0].ha",
        "VM dns asks for HA, which weighted votes do not support: with weighted votes (pve-low 3, pve-mid 1, pve-high 1) the light hosts cannot keep quorum without the heavy one, so HA cannot fail over, and a host running HA guests self-fences (watchdog reboot) when it loses quorum",
      ],
    ],
  },
  {
    why: "HA with weighted votes and the risk acknowledged",
    edit: (v) => {
      v.vms[0]!.ha = true;
      v.acknowledgeQuorumRisk = true;
    },
    expect: [
      [
        "warning",
        "placement.ha-with-weighted-votes",
        "vms[0].ha",
        "VM dns asks for HA; with weighted votes (pve-low 3, pve-mid 1, pve-high 1) the light hosts cannot keep quorum without the heavy one, so HA cannot fail over, and a host running HA guests self-fences (watchdog reboot) when it loses quorum (accepted by acknowledgeQuorumRisk)",
      ],
    ],
  },
  {
    why: "started: true on a usually-off host",
    edit: (v) => v.vms.push({ name: "build", host: "pve-high", vmId: 201, started: true }),
    expect: [
      [
        "warning",
        "placement.started-on-usually-off-host",
        "vms[1].started",
        "VM build has started: true on pve-high, which is usually off: it runs only while pve-high is on, and `pulumi up` fails to start it while pve-high is off",
      ],
    ],
  },
  {
    why: "two different images under one file name on one host",
    edit: (v) => {
      v.vms.push({ name: "a", host: "pve-low", vmId: 102, image: { url: DEBIAN, fileName: "cloud.img" } });
      v.vms.push({ name: "b", host: "pve-low", vmId: 103, image: { url: UBUNTU, fileName: "cloud.img" } });
    },
    expect: [
      [
        "error",
        "placement.image-conflict",
        "vms[2].image",
        'VM b and VM a (vms[1]) both use the image file "cloud.img" on pve-low, with different url, fileName or checksum',
      ],
    ],
  },
  {
    why: "one image with two checksums on one host",
    edit: (v) => {
      v.vms.push({
        name: "a",
        host: "pve-low",
        vmId: 102,
        image: { url: DEBIAN, checksum: "aa".repeat(32), checksumAlgorithm: "sha256" },
      });
      v.vms.push({
        name: "b",
        host: "pve-low",
        vmId: 103,
        image: { url: DEBIAN, checksum: "bb".repeat(32), checksumAlgorithm: "sha256" },
      });
    },
    expect: [
      [
        "error",
        "placement.image-conflict",
        "vms[2].image",
        'VM b and VM a (vms[1]) both use the image file "debian-12-genericcloud-amd64.qcow2" on pve-low, with different url, fileName or checksum',
      ],
    ],
  },
  {
    why: "one image url under two file names on one host",
    edit: (v) => {
      v.vms.push({ name: "a", host: "pve-low", vmId: 102, image: { url: DEBIAN, fileName: "a.img" } });
      v.vms.push({ name: "b", host: "pve-low", vmId: 103, image: { url: DEBIAN, fileName: "b.img" } });
    },
    expect: [
      [
        "error",
        "placement.image-conflict",
        "vms[2].image",
        `VM b and VM a (vms[1]) both use the image file from ${DEBIAN} on pve-low, with different url, fileName or checksum`,
      ],
    ],
  },
];

/** Edits that break no placement rule. */
const FINE: ReadonlyArray<{ why: string; edit: Edit }> = [
  { why: "the homelab fixture as it is", edit: () => {} },
  {
    why: "a host filled exactly to its declared capacity",
    edit: (v) => {
      v.hosts[0]!.cores = 3;
      v.hosts[0]!.memoryMiB = 3072;
      v.vms.push({ name: "b", host: "pve-low", vmId: 102, cores: 2, memoryMiB: 2048 });
    },
  },
  {
    why: "VMs on hosts that declare no capacity",
    edit: (v) => v.vms.push({ name: "big", host: "pve-mid", vmId: 110, cores: 512, memoryMiB: 4_000_000 }),
  },
  { why: "an alwaysOn VM on the always-on host", edit: (v) => (v.vms[0]!.alwaysOn = true) },
  {
    why: "HA when every host has one vote",
    edit: (v) => {
      v.hosts.forEach((h) => (h.votes = 1));
      v.vms[0]!.ha = true;
    },
  },
  {
    why: "HA in qdevice mode",
    edit: (v) => {
      v.hosts[0]!.votes = 1;
      v.quorum = { mode: "qdevice", device: { address: "192.168.1.5", hostKey: KEY_HIGH } };
      v.vms[0]!.ha = true;
    },
  },
  {
    why: "a VM left to the defaults on a usually-off host",
    edit: (v) => v.vms.push({ name: "build", host: "pve-high", vmId: 201 }),
  },
  {
    why: "started: true on a sometimes-on host",
    edit: (v) => v.vms.push({ name: "media", host: "pve-mid", vmId: 110, started: true }),
  },
  {
    why: "the same image on one host twice, and on another host under another name",
    edit: (v) => {
      v.vms.push({ name: "a", host: "pve-low", vmId: 102, image: { url: DEBIAN } });
      v.vms.push({ name: "b", host: "pve-low", vmId: 103, image: { url: DEBIAN } });
      v.vms.push({ name: "c", host: "pve-mid", vmId: 110, image: { url: DEBIAN, fileName: "other.img" } });
    },
  },
];

describe("placement findings", () => {
  for (const row of ROWS) {
    it(`reports ${row.why}`, () => {
      assert.deepEqual(placementFindings(model(row.edit)).map(short), row.expect);
    });
  }

  for (const row of FINE) {
    it(`accepts ${row.why}`, () => {
      assert.deepEqual(placementFindings(model(row.edit)), []);
    });
  }

  it("says how to fix a capacity overrun", () => {
    const [finding] = placementFindings(model(ROWS[0]!.edit));
    assert.equal(
      finding?.fix,
      "move a VM to another host (vms[N].host), lower vms[N].cores, or raise hosts[2].cores if pve-high may hand out more vCPUs",
    );
  });

  it("points an alwaysOn VM at the always-on hosts", () => {
    const [finding] = placementFindings(model(ROWS[2]!.edit));
    assert.equal(finding?.fix, "place it on an always-on host (pve-low), or remove alwaysOn");
  });

  it("points an acknowledged HA risk at QDevice mode", () => {
    const [finding] = placementFindings(model(ROWS[5]!.edit));
    assert.equal(
      finding?.fix,
      "for HA that can fail over, use quorum.mode: qdevice (1 vote per host plus an external QNetd vote)",
    );
  });

  it("reports every broken rule of one stack together", () => {
    const findings = placementFindings(
      model((v) => {
        v.hosts[1]!.cores = 2;
        v.vms.push({ name: "media", host: "pve-mid", vmId: 110, cores: 4, alwaysOn: true, ha: true });
        v.vms.push({ name: "build", host: "pve-high", vmId: 201, started: true });
      }),
    );
    assert.deepEqual(
      findings.map((f) => [f.code, f.path]),
      [
        ["placement.cores-exceeded", "hosts[1].cores"],
        ["placement.always-on-vm-on-sleeping-host", "vms[1].host"],
        ["placement.ha-with-weighted-votes", "vms[1].ha"],
        ["placement.started-on-usually-off-host", "vms[2].started"],
      ],
    );
  });
});

describe("placement by host", () => {
  it("sums what each host carries, with the declared totals", () => {
    const m = model((v) => {
      v.hosts[0]!.cores = 4;
      v.hosts[0]!.memoryMiB = 16384;
      v.vms.push({ name: "home-assistant", host: "pve-low", vmId: 102, cores: 2, memoryMiB: 4096 });
      v.vms.push({ name: "build", host: "pve-high", vmId: 201, cores: 12, memoryMiB: 49152 });
    });
    assert.deepEqual(placementByHost(m), [
      {
        host: "pve-low",
        vms: ["dns", "home-assistant"],
        coresUsed: 3,
        coresTotal: 4,
        memoryUsed: 5120,
        memoryTotal: 16384,
      },
      {
        host: "pve-mid",
        vms: [],
        coresUsed: 0,
        coresTotal: undefined,
        memoryUsed: 0,
        memoryTotal: undefined,
      },
      {
        host: "pve-high",
        vms: ["build"],
        coresUsed: 12,
        coresTotal: undefined,
        memoryUsed: 49152,
        memoryTotal: undefined,
      },
    ]);
  });

  it("counts VMs that are not started: they may start any time", () => {
    const m = model((v) =>
      v.vms.push({ name: "build", host: "pve-high", vmId: 201, cores: 2, started: false }),
    );
    assert.deepEqual(
      placementByHost(m).map((h) => [h.host, h.coresUsed]),
      [
        ["pve-low", 1],
        ["pve-mid", 0],
        ["pve-high", 2],
      ],
    );
  });
});
