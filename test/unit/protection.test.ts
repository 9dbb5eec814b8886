// Backups, replication, HA and start order (issue 18): every bad value refused naming its field, every finding,
// and the plan data (replication pairs, HA placement with fencing, start order) from the real config loader.
import { strict as assert } from "node:assert";
import { analyzeStack } from "../../core/analyze";
import { loadModel } from "../../core/config";
import type { Finding, Model } from "../../core/model";
import {
  fencingCases,
  haNodes,
  protectionFindings,
  protectionPlan,
  pruneBackups,
} from "../../core/protection";
import { KEY_HIGH, TEST_SECRET_KEYS, withEdit } from "../fixtures/stacks";

type Edit = Parameters<typeof withEdit>[0];

const job = (extra: Record<string, unknown> = {}) => ({
  id: "nightly",
  schedule: "02:30",
  storage: "local",
  vms: "all",
  ...extra,
});
const SCHEDULE_HINT =
  'write e.g. "02:30", "*/15", "sat 03:00" or "mon..fri 22:00" (Proxmox "Schedule Format")';

/** One row per bad value: the edit, and the exact [path, message] of the one error it must produce. */
export const BAD_PROTECTION_CONFIGS: ReadonlyArray<{ why: string; edit: Edit; expect: [string, string] }> = [
  {
    why: "a schedule that is no calendar event",
    edit: (v) => (v.backups = [job({ schedule: "every night" })]),
    expect: [
      "backups[0].schedule",
      `schedule "every night" is not a Proxmox calendar event (it has an unknown weekday at "every night"); ${SCHEDULE_HINT}`,
    ],
  },
  {
    why: "an hour of 25, which Proxmox would read as minute:second",
    edit: (v) => (v.backups = [job({ schedule: "25:00" })]),
    expect: [
      "backups[0].schedule",
      `schedule "25:00" is not a Proxmox calendar event (it reads as minute:second, not hour:minute (hours are 0-23); write *:MM:SS if that is meant); ${SCHEDULE_HINT}`,
    ],
  },
  {
    why: "a schedule given as a number",
    edit: (v) => (v.backups = [job({ schedule: 230 })]),
    expect: [
      "backups[0].schedule",
      "schedule must be a Proxmox calendar event, e.g. 02:30 or mon..fri 22:00",
    ],
  },
  {
    why: "a storage id with shell characters",
    edit: (v) => (v.backups = [job({ storage: "local;rm" })]),
    expect: [
      "backups[0].storage",
      'storage "local;rm" is not a Proxmox storage id: 2+ characters, a letter first, then letters, digits, - _ . (ending in a letter or digit); use the ID column of `pvesm status`',
    ],
  },
  {
    why: "a one-character storage id",
    edit: (v) => (v.backups = [job({ storage: "l" })]),
    expect: [
      "backups[0].storage",
      'storage "l" is not a Proxmox storage id: 2+ characters, a letter first, then letters, digits, - _ . (ending in a letter or digit); use the ID column of `pvesm status`',
    ],
  },
  {
    why: "a job id starting with a digit",
    edit: (v) => (v.backups = [job({ id: "1nightly" })]),
    expect: [
      "backups[0].id",
      'id "1nightly" is not a Proxmox job id: a letter, then letters, digits, _ or - (2+ characters)',
    ],
  },
  {
    why: "a job id over 50 characters",
    edit: (v) => (v.backups = [job({ id: "n".repeat(51) })]),
    expect: ["backups[0].id", "id must be at most 50 characters (vzdump job id)"],
  },
  {
    why: "an unknown backup mode",
    edit: (v) => (v.backups = [job({ mode: "live" })]),
    expect: ["backups[0].mode", "mode must be one of snapshot | suspend | stop"],
  },
  {
    why: "an unknown compression",
    edit: (v) => (v.backups = [job({ compress: "xz" })]),
    expect: ["backups[0].compress", "compress must be one of 0 | 1 | gzip | lzo | zstd"],
  },
  {
    why: "an empty VM list",
    edit: (v) => (v.backups = [job({ vms: [] })]),
    expect: ["backups[0].vms", "vms must name at least one VM"],
  },
  {
    why: "vms neither all nor a list",
    edit: (v) => (v.backups = [job({ vms: "every" })]),
    expect: ["backups[0].vms", 'vms must be "all" or a list of VM names'],
  },
  {
    why: "an undeclared VM in a job",
    edit: (v) => (v.backups = [job({ vms: ["dns", "mail"] })]),
    expect: ["backups[0].vms[1]", 'backup job nightly names VM "mail", which is not declared in vms'],
  },
  {
    why: "a VM named twice in a job",
    edit: (v) => (v.backups = [job({ vms: ["dns", "dns"] })]),
    expect: ["backups[0].vms[1]", 'backup job nightly names VM "dns" twice'],
  },
  {
    why: "two jobs with the same id (Proxmox ids ignore case)",
    edit: (v) => (v.backups = [job(), job({ id: "Nightly" })]),
    expect: ["backups[1].id", 'backup job id "Nightly" is also used by backups[0]'],
  },
  {
    why: "a negative retention count",
    edit: (v) => (v.backups = [job({ retention: { keepDaily: -1 } })]),
    expect: ["backups[0].retention.keepDaily", "retention.keepDaily must be a whole number >= 0"],
  },
  {
    why: "a Proxmox-spelled retention key",
    edit: (v) => (v.backups = [job({ retention: { "keep-daily": 7 } })]),
    expect: ["backups[0].retention.keep-daily", 'unknown key "keep-daily"'],
  },
  {
    why: "keepAll together with counts",
    edit: (v) => (v.backups = [job({ retention: { keepAll: true, keepDaily: 7 } })]),
    expect: [
      "backups[0].retention.keepAll",
      "retention.keepAll: true cannot be combined with keep* counts (Proxmox: keep-all cannot be set together with other options)",
    ],
  },
  {
    why: "a retention that keeps nothing (Proxmox would turn it into keep-all)",
    edit: (v) => (v.backups = [job({ retention: { keepDaily: 0 } })]),
    expect: [
      "backups[0].retention",
      "retention sets no keep* count above 0, which Proxmox silently turns into keep-all",
    ],
  },
  {
    why: "a negative bandwidth limit",
    edit: (v) => (v.backups = [job({ bwlimit: -5 })]),
    expect: ["backups[0].bwlimit", "bwlimit must be a whole number >= 0"],
  },
  {
    why: "a storage host that is not declared",
    edit: (v) => (v.backups = [job({ storageHost: "nas" })]),
    expect: ["backups[0].storageHost", 'storageHost "nas" is not a declared host'],
  },
  {
    why: "replication to the VM's own host",
    edit: (v) => (v.vms[0]!.replicateTo = [{ host: "pve-low" }]),
    expect: ["vms[0].replicateTo[0].host", "VM dns replicates to pve-low, the host it runs on"],
  },
  {
    why: "replication to an undeclared host",
    edit: (v) => (v.vms[0]!.replicateTo = [{ host: "pve-huge" }]),
    expect: ["vms[0].replicateTo[0].host", 'VM dns replicates to "pve-huge", which is not a declared host'],
  },
  {
    why: "two replication jobs to one target",
    edit: (v) => (v.vms[0]!.replicateTo = [{ host: "pve-mid" }, { host: "pve-mid" }]),
    expect: [
      "vms[0].replicateTo[1].host",
      "VM dns replicates to pve-mid twice (replicateTo[0] too); Proxmox allows one job per target",
    ],
  },
  {
    why: "a replication rate under Proxmox's minimum",
    edit: (v) => (v.vms[0]!.replicateTo = [{ host: "pve-mid", rate: 0.5 }]),
    expect: [
      "vms[0].replicateTo[0].rate",
      "rate must be >= 1 MB/s (Proxmox's minimum); leave it out for no limit",
    ],
  },
  {
    why: "a replication schedule repeating every 0 minutes",
    edit: (v) => (v.vms[0]!.replicateTo = [{ host: "pve-mid", schedule: "*/0" }]),
    expect: [
      "vms[0].replicateTo[0].schedule",
      `schedule "*/0" is not a Proxmox calendar event (it cannot be parsed at "/0"); ${SCHEDULE_HINT}`,
    ],
  },
  {
    why: "a replication job without a target",
    edit: (v) => (v.vms[0]!.replicateTo = [{ schedule: "*/5" }]),
    expect: [
      "vms[0].replicateTo[0].host",
      "replicateTo[].host is required: the node that receives the copies",
    ],
  },
  {
    why: "a negative start order",
    edit: (v) => (v.vms[0]!.startup = { order: -1 }),
    expect: ["vms[0].startup.order", "startup.order must be a whole number >= 0"],
  },
  {
    why: "a fractional start delay",
    edit: (v) => (v.vms[0]!.startup = { upDelay: 1.5 }),
    expect: ["vms[0].startup.upDelay", "startup.upDelay must be a whole number >= 0"],
  },
  {
    why: "a shutdown delay over a day",
    edit: (v) => (v.vms[0]!.startup = { downDelay: 100000 }),
    expect: ["vms[0].startup.downDelay", "startup.downDelay is in seconds; keep it under a day (86400)"],
  },
  {
    why: "Proxmox's startup spelling instead of the config's",
    edit: (v) => (v.vms[0]!.startup = { up: 5 }),
    expect: ["vms[0].startup.up", 'unknown key "up"'],
  },
  {
    why: "an unknown Proxmox version",
    edit: (v) => (v.proxmoxVersion = 10),
    expect: [
      "proxmoxVersion",
      "proxmoxVersion must be 8 or 9 (the major Proxmox VE version of every host: `pveversion`)",
    ],
  },
  {
    why: "a minor Proxmox version",
    edit: (v) => (v.proxmoxVersion = 8.4),
    expect: [
      "proxmoxVersion",
      "proxmoxVersion must be 8 or 9 (the major Proxmox VE version of every host: `pveversion`)",
    ],
  },
];

function model(edit: Edit): Model {
  const loaded = loadModel({ values: withEdit(edit), secretKeys: TEST_SECRET_KEYS });
  assert.ok(loaded.model, JSON.stringify(loaded.findings));
  return loaded.model;
}

const codes = (findings: readonly Finding[]) => findings.map((f) => [f.level, f.code, f.path]);

/** The homelab hosts in qdevice mode (1/1/1 plus an lms device): HA is safe there. */
const qdevice: Edit = (v) => {
  v.quorum = { mode: "qdevice", device: { address: "192.168.1.5", hostKey: KEY_HIGH } };
  v.hosts.forEach((h) => (h.votes = 1));
};

describe("protection config: every bad value is refused naming its field", () => {
  for (const row of BAD_PROTECTION_CONFIGS) {
    it(row.why, () => {
      const { model, findings } = loadModel({ values: withEdit(row.edit), secretKeys: TEST_SECRET_KEYS });
      assert.equal(model, undefined);
      const errors = findings.filter((f) => f.level === "error").map((f) => [f.path, f.message]);
      assert.deepEqual(errors, [row.expect]);
    });
  }

  it("asks for the API token when backups are declared without VMs", () => {
    const values = withEdit((v) => {
      v.vms = [];
      v.backups = [job()];
      delete v.proxmoxApiToken;
    });
    const { findings } = loadModel({ values, secretKeys: new Set(["sshPrivateKey", "rootPassword"]) });
    assert.deepEqual(
      findings.map((f) => [f.path, f.message]),
      [
        [
          "proxmoxApiToken",
          "proxmoxApiToken is not set, and backup jobs are created through the Proxmox API",
        ],
      ],
    );
  });
});

describe("protection defaults", () => {
  it("repeats missed backups by default when a covered VM's host is not always on, else not", () => {
    const m = model((v) => {
      v.vms.push({ name: "media", host: "pve-mid", vmId: 110 });
      v.backups = [job({ id: "all" }), job({ id: "low", vms: ["dns"] }), job({ id: "mid", vms: ["media"] })];
    });
    assert.deepEqual(
      m.backups?.map((b) => [b.id, b.repeatMissed, b.mode, b.compress, b.enabled]),
      [
        ["all", true, "snapshot", "zstd", true],
        ["low", false, "snapshot", "zstd", true],
        ["mid", true, "snapshot", "zstd", true],
      ],
    );
  });

  it("keeps an explicit repeatMissed and gives replication Proxmox's default schedule", () => {
    const m = model((v) => {
      v.backups = [job({ repeatMissed: true, vms: ["dns"] })];
      v.vms[0]!.replicateTo = [{ host: "pve-mid" }];
      v.vms[0]!.datastore = "local-zfs";
    });
    assert.equal(m.backups?.[0]?.repeatMissed, true);
    assert.deepEqual(m.vms[0]?.replicateTo, [{ host: "pve-mid", schedule: "*/15" }]);
  });
});

/** One row per finding: the stack, and the exact [level, code, path] list protectionFindings returns. */
const FINDINGS: ReadonlyArray<{ why: string; edit: Edit; expect: string[][] }> = [
  { why: "the homelab without protection settings", edit: () => {}, expect: [] },
  {
    why: "backups on a storage served by the usually-off host",
    edit: (v) => (v.backups = [job({ storage: "pbs-high", storageHost: "pve-high" })]),
    expect: [["warning", "backups.storage-on-sleeping-host", "backups[0].storageHost"]],
  },
  {
    why: "backups on a storage served by the always-on host",
    edit: (v) => (v.backups = [job({ storage: "pbs-low", storageHost: "pve-low" })]),
    expect: [],
  },
  {
    why: "missed runs not repeated for a VM on a sometimes-on host",
    edit: (v) => {
      v.vms.push({ name: "media", host: "pve-mid", vmId: 110 });
      v.backups = [job({ repeatMissed: false })];
    },
    expect: [["warning", "backups.missed-not-repeated", "backups[0].repeatMissed"]],
  },
  {
    why: "missed runs not repeated, but only the always-on host's VM covered",
    edit: (v) => (v.backups = [job({ repeatMissed: false, vms: ["dns"] })]),
    expect: [],
  },
  {
    why: "an alwaysOn VM without backup",
    edit: (v) => (v.vms[0]!.alwaysOn = true),
    expect: [["warning", "backups.important-vm-not-backed-up", "vms[0]"]],
  },
  {
    why: "a protected VM covered only by a disabled job",
    edit: (v) => {
      v.vms[0]!.protect = true;
      v.backups = [job({ enabled: false })];
    },
    expect: [["warning", "backups.important-vm-not-backed-up", "vms[0]"]],
  },
  {
    why: "an alwaysOn VM covered by name",
    edit: (v) => {
      v.vms[0]!.alwaysOn = true;
      v.backups = [job({ vms: ["dns"] })];
    },
    expect: [],
  },
  {
    why: "replication from LVM-thin (the default datastore)",
    edit: (v) => (v.vms[0]!.replicateTo = [{ host: "pve-mid" }]),
    expect: [["error", "replication.needs-zfs", "vms[0].datastore"]],
  },
  {
    why: "replication of a VM on shared storage",
    edit: (v) => {
      v.sharedStorage = ["ceph"];
      v.acknowledgeQuorumRisk = true;
      v.vms[0]!.datastore = "ceph";
      v.vms[0]!.replicateTo = [{ host: "pve-mid" }];
    },
    expect: [["error", "replication.needs-zfs", "vms[0].datastore"]],
  },
  {
    why: "replication to the usually-off host",
    edit: (v) => {
      v.vms[0]!.datastore = "local-zfs";
      v.vms[0]!.replicateTo = [{ host: "pve-mid" }, { host: "pve-high" }];
    },
    expect: [["warning", "replication.target-usually-off", "vms[0].replicateTo[1].host"]],
  },
  {
    why: "HA without proxmoxVersion (and with no other host holding the disks)",
    edit: (v) => {
      qdevice(v);
      v.vms[0]!.ha = true;
    },
    expect: [
      ["error", "ha.proxmox-version-missing", "proxmoxVersion"],
      ["warning", "ha.no-failover-target", "vms[0].ha"],
    ],
  },
  {
    why: "HA on PVE 9 with hosts that sleep (the groups → rules migration needs them all online once)",
    edit: (v) => {
      qdevice(v);
      v.proxmoxVersion = 9;
      v.vms[0]!.ha = true;
      v.vms[0]!.datastore = "local-zfs";
      v.vms[0]!.replicateTo = [{ host: "pve-mid" }];
    },
    expect: [["warning", "ha.groups-migration", "proxmoxVersion"]],
  },
  {
    why: "HA on PVE 8 with a replication target",
    edit: (v) => {
      qdevice(v);
      v.proxmoxVersion = 8;
      v.vms[0]!.ha = true;
      v.vms[0]!.datastore = "local-zfs";
      v.vms[0]!.replicateTo = [{ host: "pve-mid" }];
    },
    expect: [],
  },
  {
    why: "a start order on an HA VM",
    edit: (v) => {
      qdevice(v);
      v.proxmoxVersion = 8;
      v.sharedStorage = ["ceph"];
      v.vms[0]!.datastore = "ceph";
      v.vms[0]!.ha = true;
      v.vms[0]!.startup = { order: 1 };
    },
    expect: [["warning", "startup.ignored-for-ha", "vms[0].startup"]],
  },
];

describe("protection findings", () => {
  for (const row of FINDINGS) {
    it(row.why, () => assert.deepEqual(codes(protectionFindings(model(row.edit))), row.expect));
  }

  it("explains the error state of a replication to a host that is usually off", () => {
    const [f] = protectionFindings(
      model((v) => {
        v.vms[0]!.datastore = "local-zfs";
        v.vms[0]!.replicateTo = [{ host: "pve-high" }];
      }),
    );
    assert.equal(
      f?.message,
      "VM dns replicates to pve-high, which is usually off: while it is off every run fails, the job goes into an error state and Proxmox retries it every 30 minutes; the first run after pve-high is back sends every change since the last good run",
    );
  });

  it("refuses HA on weighted votes unless acknowledged, through the one analysis the program runs", () => {
    const ha: Edit = (v) => {
      v.proxmoxVersion = 9;
      v.vms[0]!.ha = true;
    };
    const refused = analyzeStack({ values: withEdit(ha), secretKeys: TEST_SECRET_KEYS });
    assert.deepEqual(
      refused.findings.filter((f) => f.level === "error").map((f) => f.code),
      ["placement.ha-with-weighted-votes"],
    );
    const acknowledged = analyzeStack({
      values: withEdit((v) => {
        ha(v);
        v.acknowledgeQuorumRisk = true;
      }),
      secretKeys: TEST_SECRET_KEYS,
    });
    assert.deepEqual(
      acknowledged.findings.filter((f) => f.level === "error"),
      [],
    );
  });
});

describe("protection plan data", () => {
  it("maps retention to Proxmox prune-backups keys, keeping only counts above 0", () => {
    assert.deepEqual(pruneBackups({ keepLast: 2, keepDaily: 7, keepWeekly: 0, keepYearly: 1 }), {
      "keep-last": "2",
      "keep-daily": "7",
      "keep-yearly": "1",
    });
    assert.deepEqual(pruneBackups({ keepAll: true }), { "keep-all": "1" });
    assert.equal(pruneBackups(undefined), undefined);
  });

  it("lists replication pairs with Proxmox job ids <vmid>-<position>", () => {
    const plan = protectionPlan(
      model((v) => {
        v.vms[0]!.datastore = "local-zfs";
        v.vms[0]!.replicateTo = [
          { host: "pve-mid", rate: 12.5 },
          { host: "pve-high", schedule: "sat 03:00" },
        ];
      }),
    );
    assert.deepEqual(plan.replication, [
      {
        vm: "dns",
        jobId: "101-0",
        from: "pve-low",
        to: "pve-mid",
        toPower: "sometimes-on",
        schedule: "*/15",
        rate: 12.5,
      },
      {
        vm: "dns",
        jobId: "101-1",
        from: "pve-low",
        to: "pve-high",
        toPower: "usually-off",
        schedule: "sat 03:00",
        rate: null,
      },
    ]);
  });

  it("fences the small hosts of 3/1/1 only without pve-low, and never pve-low", () => {
    const m = model((v) => (v.acknowledgeQuorumRisk = true));
    assert.deepEqual(fencingCases(m, "pve-low"), []);
    assert.deepEqual(fencingCases(m, "pve-mid"), [{ up: ["pve-mid", "pve-high"] }]);
    assert.deepEqual(fencingCases(m, "pve-high"), [{ up: ["pve-mid", "pve-high"] }]);
  });

  it("in qdevice mode (lms, 2 device votes of 5) fences a host only while the device is down and fewer than all three are up", () => {
    const m = model(qdevice);
    assert.deepEqual(fencingCases(m, "pve-mid"), [
      { up: ["pve-low", "pve-mid"], deviceUp: false },
      { up: ["pve-mid", "pve-high"], deviceUp: false },
    ]);
  });

  it("places an HA VM on its own host first and on the hosts holding its disks", () => {
    const m = model((v) => {
      qdevice(v);
      v.proxmoxVersion = 9;
      v.vms[0]!.ha = true;
      v.vms[0]!.datastore = "local-zfs";
      v.vms[0]!.replicateTo = [{ host: "pve-high" }];
    });
    assert.deepEqual(haNodes(m, m.vms[0]!), { "pve-low": 2, "pve-high": 1 });
    const [ha] = protectionPlan(m).ha;
    assert.deepEqual(ha?.placement, { kind: "rule", id: "pve-homelab-dns" });
    assert.deepEqual(
      ha?.hosts.map((h) => [h.host, h.priority, h.consequence]),
      [
        [
          "pve-low",
          2,
          "self-fences (watchdog reset ~60 s after losing quorum) when the live hosts are at most: pve-low + pve-mid without the QDevice; pve-low + pve-high without the QDevice",
        ],
        [
          "pve-high",
          1,
          "self-fences (watchdog reset ~60 s after losing quorum) when the live hosts are at most: pve-low + pve-high without the QDevice; pve-mid + pve-high without the QDevice",
        ],
      ],
    );
  });

  it("orders start order per host by order, then vmId, unordered VMs last", () => {
    const m = model((v) => {
      v.vms[0]!.startup = { order: 2, upDelay: 30 };
      v.vms.push({ name: "mqtt", host: "pve-low", vmId: 105, startup: { order: 1, downDelay: 60 } });
      v.vms.push({ name: "ha", host: "pve-low", vmId: 102, startup: { upDelay: 5 } });
    });
    assert.deepEqual(protectionPlan(m).startup, [
      {
        host: "pve-low",
        vms: [
          { vm: "mqtt", order: 1, upDelay: null, downDelay: 60 },
          { vm: "dns", order: 2, upDelay: 30, downDelay: null },
          { vm: "ha", order: null, upDelay: 5, downDelay: null },
        ],
      },
    ]);
  });
});
