import { strict as assert } from "node:assert";
import { loadModel } from "../../core/config";
import { homelabValues, withEdit, KEY_LOW, TEST_SECRET_KEYS, type Values } from "../fixtures/stacks";

const load = (values: Values, secretKeys: readonly string[] = [...TEST_SECRET_KEYS]) =>
  loadModel({ values, secretKeys: new Set(secretKeys) });

/** One row per bad input: the config, and the exact [path, message] findings expected among the errors. */
export const BAD_CONFIGS: ReadonlyArray<{
  why: string;
  values: Values;
  secretKeys?: string[];
  expect: [string, string][];
}> = [
  {
    why: "missing clusterName",
    values: withEdit((v) => delete v.clusterName),
    expect: [["clusterName", "clusterName is required: the Proxmox cluster name, e.g. homelab"]],
  },
  {
    why: "missing hosts",
    values: withEdit((v) => delete (v as Values).hosts),
    expect: [["hosts", "hosts is required: a list of {name, address, power, votes, hostKey}"]],
  },
  {
    why: "unknown top-level key",
    values: withEdit((v) => (v.clustername = "x")),
    expect: [["clustername", 'unknown key "clustername"']],
  },
  {
    why: "a retired host that is still declared",
    values: withEdit((v) => (v.retiredHosts = [{ name: "pve-high", nodeId: 3 }])),
    expect: [["retiredHosts[0].name", "host pve-high is in retiredHosts and also in hosts[2]"]],
  },
  {
    why: "a retired host listed twice",
    values: withEdit((v) => {
      v.hosts.splice(2, 1);
      v.retiredHosts = [{ name: "pve-high" }, { name: "PVE-HIGH" }];
    }),
    expect: [
      ["retiredHosts[1].name", "host PVE-HIGH is listed twice in retiredHosts (also retiredHosts[0])"],
    ],
  },
  {
    why: "a retired host with a bad name",
    values: withEdit((v) => (v.retiredHosts = [{ name: "pve high" }])),
    expect: [
      [
        "retiredHosts[0].name",
        `"pve high" is not a valid Proxmox node name: letters, digits and inner '-' only (a hostname label)`,
      ],
    ],
  },
  {
    why: "unknown host key",
    values: withEdit((v) => (v.hosts[1]!.vote = 1)),
    expect: [["hosts[1].vote", 'unknown key "vote"']],
  },
  {
    why: "empty host list",
    values: withEdit((v) => (v.hosts = [])),
    expect: [["hosts", "hosts must list at least one host"]],
  },
  {
    why: "bad IPv4 address",
    values: withEdit((v) => (v.hosts[2]!.address = "10.0.0.300")),
    expect: [
      [
        "hosts[2].address",
        '"10.0.0.300" is not an IPv4/IPv6 address; write the host\'s LAN address, e.g. 192.168.1.21',
      ],
    ],
  },
  {
    why: "hostname instead of address",
    values: withEdit((v) => (v.hosts[0]!.address = "pve-low.lan")),
    expect: [
      [
        "hosts[0].address",
        '"pve-low.lan" is not an IPv4/IPv6 address; write the host\'s LAN address, e.g. 192.168.1.21',
      ],
    ],
  },
  {
    why: "fractional votes",
    values: withEdit((v) => (v.hosts[0]!.votes = 2.5)),
    expect: [["hosts[0].votes", "votes must be a whole number >= 0 (corosync quorum_votes)"]],
  },
  {
    why: "negative votes",
    values: withEdit((v) => (v.hosts[1]!.votes = -1)),
    expect: [
      ["hosts[1].votes", "votes must be >= 0 (corosync quorum_votes); use 0 for a host that never counts"],
    ],
  },
  {
    why: "votes as a string",
    values: withEdit((v) => (v.hosts[1]!.votes = "three")),
    expect: [["hosts[1].votes", "votes must be a whole number >= 0 (corosync quorum_votes)"]],
  },
  {
    why: "huge votes",
    values: withEdit((v) => (v.hosts[0]!.votes = 1000)),
    expect: [["hosts[0].votes", "votes must be <= 255; keep weights small, e.g. 3/1/1"]],
  },
  {
    why: "bad power profile",
    values: withEdit((v) => (v.hosts[1]!.power = "sometimes")),
    expect: [["hosts[1].power", "power must be one of always-on | sometimes-on | usually-off"]],
  },
  {
    why: "no always-on host",
    values: withEdit((v) => (v.hosts[0]!.power = "sometimes-on")),
    expect: [["hosts", "no host has power: always-on"]],
  },
  {
    why: "duplicate host name",
    values: withEdit((v) => (v.hosts[2]!.name = "pve-mid")),
    expect: [["hosts[2].name", 'host name "pve-mid" is also used by hosts[1]']],
  },
  {
    why: "duplicate address",
    values: withEdit((v) => (v.hosts[2]!.address = "192.168.1.21")),
    expect: [["hosts[2].address", "address 192.168.1.21 is also used by hosts[0]"]],
  },
  {
    why: "duplicate nodeId",
    values: withEdit((v) => (v.hosts[2]!.nodeId = 1)),
    expect: [["hosts[2].nodeId", "nodeId 1 is also used by hosts[0]"]],
  },
  {
    why: "nodeId zero",
    values: withEdit((v) => (v.hosts[2]!.nodeId = 0)),
    expect: [["hosts[2].nodeId", "nodeId must be at least 1"]],
  },
  {
    why: "host key missing",
    values: withEdit((v) => delete v.hosts[1]!.hostKey),
    expect: [
      [
        "hosts[1].hostKey",
        "host pve-mid has no pinned SSH host key, and the program connects to it over SSH",
      ],
    ],
  },
  {
    why: "host key truncated",
    values: withEdit((v) => (v.hosts[0]!.hostKey = KEY_LOW.slice(0, 40))),
    expect: [
      [
        "hosts[0].hostKey",
        'not a valid SSH public key line: the key data does not encode a "ssh-ed25519" key (truncated or pasted wrong?); get the real one with `ssh-keyscan -t ed25519 <address>`',
      ],
    ],
  },
  {
    why: "host key with a fingerprint instead of a key",
    values: withEdit((v) => (v.hosts[0]!.hostKey = "SHA256:abcdef")),
    expect: [
      [
        "hosts[0].hostKey",
        'not a valid SSH public key line: expected "<type> <base64>" (e.g. "ssh-ed25519 AAAA..."); get the real one with `ssh-keyscan -t ed25519 <address>`',
      ],
    ],
  },
  {
    why: "host key of an unknown type",
    values: withEdit((v) => (v.hosts[0]!.hostKey = "ssh-dss AAAAB3NzaC1kc3M=")),
    expect: [
      [
        "hosts[0].hostKey",
        'not a valid SSH public key line: key type "ssh-dss" is not one of ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, ssh-rsa; get the real one with `ssh-keyscan -t ed25519 <address>`',
      ],
    ],
  },
  {
    why: "host name with an underscore",
    values: withEdit((v) => (v.hosts[1]!.name = "pve_mid")),
    expect: [
      [
        "hosts[1].name",
        "\"pve_mid\" is not a valid Proxmox node name: letters, digits and inner '-' only (a hostname label)",
      ],
    ],
  },
  {
    why: "host name ending in a dash",
    values: withEdit((v) => (v.hosts[1]!.name = "pve-")),
    expect: [
      [
        "hosts[1].name",
        "\"pve-\" is not a valid Proxmox node name: letters, digits and inner '-' only (a hostname label)",
      ],
    ],
  },
  {
    why: "cluster name too long",
    values: withEdit((v) => (v.clusterName = "my-very-long-homelab")),
    expect: [["clusterName", "clusterName must be at most 15 characters (pvecm create)"]],
  },
  {
    why: "cluster name with a dot",
    values: withEdit((v) => (v.clusterName = "home.lab")),
    expect: [["clusterName", "clusterName: letters, digits and inner '-' only (pvecm create)"]],
  },
  {
    why: "VM on an unknown host",
    values: withEdit((v) => (v.vms[0]!.host = "pve-huge")),
    expect: [["vms[0].host", 'VM dns is placed on "pve-huge", which is not a declared host']],
  },
  {
    why: "duplicate vmId",
    values: withEdit((v) => v.vms.push({ name: "dns2", host: "pve-low", vmId: 101 })),
    expect: [["vms[1].vmId", "vmId 101 is also used by vms[0]"]],
  },
  {
    why: "vmId below 100",
    values: withEdit((v) => (v.vms[0]!.vmId = 99)),
    expect: [["vms[0].vmId", "vmId must be from 100 to 999999999 (Proxmox reserves 0-99)"]],
  },
  {
    why: "vmId above 999999999",
    values: withEdit((v) => (v.vms[0]!.vmId = 1_000_000_000)),
    expect: [["vms[0].vmId", "vmId must be from 100 to 999999999"]],
  },
  {
    why: "VM with both clone and image",
    values: withEdit((v) =>
      Object.assign(v.vms[0]!, { cloneFrom: { vmId: 9000 }, image: { url: "https://example.org/a.img" } }),
    ),
    expect: [["vms[0]", "VM dns sets both cloneFrom and image"]],
  },
  {
    why: "secret stored in plain text",
    values: withEdit((v) => (v.rootPassword = "hunter2")),
    secretKeys: ["sshPrivateKey", "proxmoxApiToken"],
    expect: [["rootPassword", "rootPassword is stored in plain text in the stack file"]],
  },
  {
    why: "SSH private key not set",
    values: withEdit((v) => delete v.sshPrivateKey),
    expect: [["sshPrivateKey", "sshPrivateKey is not set, and every host action runs over SSH"]],
  },
  {
    why: "root password not set while a second host must join",
    values: withEdit((v) => delete v.rootPassword),
    expect: [["rootPassword", "rootPassword is not set, and `pvecm add` joins hosts with the root password"]],
  },
  {
    why: "API token not set while VMs are declared",
    values: withEdit((v) => delete v.proxmoxApiToken),
    expect: [["proxmoxApiToken", "proxmoxApiToken is not set, and VMs are created through the Proxmox API"]],
  },
  {
    why: "qdevice mode without a device",
    values: withEdit((v) => (v.quorum = { mode: "qdevice" })),
    expect: [["quorum.device", "quorum.mode is qdevice but no quorum.device is declared"]],
  },
  {
    why: "unknown quorum mode",
    values: withEdit((v) => (v.quorum = { mode: "majority" })),
    expect: [["quorum.mode", "quorum.mode must be one of weighted | qdevice | default"]],
  },
  {
    why: "sharedStorage not a list",
    values: withEdit((v) => (v.sharedStorage = "nfs")),
    expect: [["sharedStorage", 'expected array, got the string "nfs"']],
  },
];

describe("stack config", () => {
  it("loads the homelab stack into a frozen model with defaults applied", () => {
    const { model, findings } = load(homelabValues());
    assert.deepEqual(findings, []);
    assert.ok(model);
    assert.deepEqual(
      model.hosts.map((h) => [h.name, h.nodeId, h.votes, h.sshUser, h.sshPort]),
      [
        ["pve-low", 1, 3, "root", 22],
        ["pve-mid", 2, 1, "root", 22],
        ["pve-high", 3, 1, "root", 22],
      ],
    );
    assert.equal(model.quorum.mode, "weighted");
    assert.equal(model.proxmox.endpoint, "https://192.168.1.21:8006/");
    assert.ok(Object.isFrozen(model.hosts[0]));
    assert.throws(() => ((model.hosts as unknown as { votes: number }[])[0]!.votes = 9), TypeError);
  });

  it("keeps secrets out of the model when they are stored encrypted", () => {
    const { model, findings } = load(homelabValues());
    assert.deepEqual(findings, []);
    assert.ok(model && !JSON.stringify(model).includes("[secret]"));
  });

  it("defaults VMs on a usually-off host to not start and not boot with the host", () => {
    const { model } = load(
      withEdit((v) => v.vms.push({ name: "build", host: "pve-high", vmId: 201, tags: ["CI", "b", "ci"] })),
    );
    const build = model?.vms.find((vm) => vm.name === "build");
    assert.deepEqual([build?.onBoot, build?.started, build?.tags], [false, false, ["b", "ci"]]);
    const dns = model?.vms.find((vm) => vm.name === "dns");
    assert.deepEqual([dns?.onBoot, dns?.started], [true, true]);
  });

  it("warns when a nodeId is implicit, since removing a host above it would renumber it", () => {
    const { model, findings } = load(withEdit((v) => delete v.hosts[2]!.nodeId));
    assert.equal(model?.hosts[2]?.nodeId, 3);
    assert.deepEqual(
      findings.map((f) => [f.level, f.path, f.fix]),
      [["warning", "hosts[2].nodeId", "add nodeId: 3 to this host"]],
    );
  });

  it("reports every problem at once", () => {
    const values = withEdit((v) => {
      v.hosts[0]!.votes = -1;
      v.hosts[2]!.address = "999.1.1.1";
      v.clusterName = "bad name";
    });
    const { model, findings } = load(values);
    assert.equal(model, undefined);
    assert.deepEqual(findings.map((f) => f.path).sort(), [
      "clusterName",
      "hosts[0].votes",
      "hosts[2].address",
    ]);
  });

  describe("rejects each bad config with a specific message naming the field", () => {
    for (const row of BAD_CONFIGS) {
      it(row.why, () => {
        const { model, findings } = load(row.values, row.secretKeys);
        assert.equal(model, undefined, "a bad config must not produce a model");
        const errors = findings.filter((f) => f.level === "error").map((f) => [f.path, f.message]);
        for (const expected of row.expect)
          assert.deepEqual(
            errors.filter((e) => e[0] === expected[0]),
            [expected],
          );
        for (const f of findings) assert.ok(f.fix.length > 10, `finding ${f.code} has a fix: ${f.fix}`);
      });
    }
  });
});
