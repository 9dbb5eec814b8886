// Cluster membership end to end on the real corosync + sshd testbed. There is no Proxmox here: every node runs
// the Proxmox stand-in (a TEST DOUBLE for pvecm/pvesh, test/integration/pve-standin) on real corosync, and the
// scripts are exactly the ones ClusterMembership registers (captured under the SDK's mocks), run over SSH the
// way remote.Command runs them (pinned host key, stdin piped). One testbed serves every test, in order:
// guards on fresh hosts → create → refused joins → joins → a no-op re-run → removal of a host.
import { strict as assert } from "node:assert";
import { promises as fs } from "node:fs";
import { readConfigVersion, readNodelist, renderCorosyncConf } from "../../core/corosync";
import type { Model } from "../../core/model";
import { modelOf, stackValues } from "../fixtures/stacks";
import { installStandin, type Standin } from "./pve-standin";
import { captureMembership, type Capture, type CapturedCommand } from "./pve-standin/capture";
import { startTestbed, type Testbed } from "./testbed";

const SUBNET = "10.213.71.0/24";
const NODES = ["pve-low", "pve-mid", "pve-high"];
const VOTES = [3, 1, 1];
// Hostile on purpose: it must reach `pvecm add` byte for byte through stdin and appear nowhere else.
const PASSWORD = `pw with 'quotes' "dq" $(id) \`id\` ; rm -rf / #`;
const M = "homelab-membership";

type HostEdit = (hosts: Record<string, unknown>[]) => void;

function modelFor(tb: Testbed, edit: HostEdit = () => {}): Model {
  const values = stackValues({ nodes: tb.nodes, votes: VOTES });
  edit(values.hosts as Record<string, unknown>[]);
  return modelOf(values);
}

describe("integration: cluster membership (Proxmox stand-in on real corosync)", function () {
  this.timeout(120_000);
  let tb: Testbed;
  let pve: Standin;
  let first: Capture; // captured before the cluster exists (fake fingerprint)
  let full: Capture; // captured with the create command's real stdout, as Pulumi would wire it
  let fingerprint = "";
  const outputs: string[] = [];

  const nodeAt = (address: string) => {
    const n = tb.nodes.find((x) => x.address === address);
    assert.ok(n, `no testbed node at ${address}`);
    return n.name;
  };

  /** Run a command's create (or delete) script on its connection's host, like remote.Command. */
  async function runScript(cmd: CapturedCommand, which: "create" | "delete" = "create", stdin?: string) {
    const text = which === "create" ? cmd.create : cmd.delete;
    assert.ok(text, `${cmd.name} has no ${which} script`);
    const r = await tb.ssh(nodeAt(cmd.host), text, { stdin: stdin ?? cmd.stdin ?? "", timeoutMs: 150_000 });
    outputs.push(r.stdout, r.stderr);
    return r;
  }

  const pveConf = () => fs.readFile(tb.pvePath("corosync.conf"), "utf8");
  const localConf = (node: string) => tb.readFile(node, "/etc/corosync/corosync.conf");
  const hasLocalConf = (node: string) =>
    fs.access(tb.hostPath(node, "/etc/corosync/corosync.conf")).then(
      () => true,
      () => false,
    );

  before(async function () {
    this.timeout(60_000);
    tb = await startTestbed({ subnet: SUBNET, nodes: NODES });
    pve = await installStandin(tb, { rootPassword: PASSWORD });
    first = await captureMembership(modelFor(tb), { rootPassword: PASSWORD });
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed" && tb) console.error(tb.dumpLogs());
  });

  after(async () => {
    await tb?.teardown();
  });

  it("refuses to create the cluster on a host whose node name is not the declared one, naming the fix", async () => {
    const wrong = await captureMembership(
      modelFor(tb, (h) => (h[0]!.name = "pve-small")),
      { rootPassword: PASSWORD },
    );
    const r = await runScript(wrong.byName("homelab-membership-create"));
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /this host is 'pve-low', expected pve-small: check hosts\[\]\.address and hosts\[\]\.name/,
    );
    assert.deepEqual(pve.writes("pve-low"), []);
  });

  it("refuses to join a host whose node name is not the declared one", async () => {
    const wrong = await captureMembership(
      modelFor(tb, (h) => (h[1]!.name = "pve-middle")),
      { rootPassword: PASSWORD },
    );
    const r = await runScript(wrong.byName(`${M}-join-pve-middle`));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /this host is 'pve-mid', expected pve-middle/);
    assert.deepEqual(pve.writes("pve-mid"), []);
  });

  it("refuses to join a host that holds guests, listing them with the fix", async () => {
    await pve.addGuest("pve-mid", "qemu", 100);
    await pve.addGuest("pve-mid", "lxc", 200);
    try {
      const r = await runScript(first.byName(`${M}-join-pve-mid`));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /host pve-mid holds 2 guest\(s\) \(VM\/CT ids: 100 200\)/);
      assert.match(r.stderr, /Back them up \(vzdump\) and remove them/);
      assert.deepEqual(pve.writes("pve-mid"), [], "pvecm add must not run");
    } finally {
      await pve.removeGuests("pve-mid");
    }
  });

  it("refuses to create or join on hosts that are in another cluster", async () => {
    const other = renderCorosyncConf({
      clusterName: "other",
      configVersion: 7,
      nodes: [tb.node("pve-low"), tb.node("pve-high")].map((n) => ({ ...n, votes: 1 })),
    });
    for (const n of ["pve-low", "pve-high"]) await tb.writeFile(n, "/etc/corosync/corosync.conf", other);
    try {
      const created = await runScript(first.byName(`${M}-create`));
      assert.equal(created.code, 1);
      assert.match(
        created.stderr,
        /host pve-low is already in cluster 'other', but the stack declares clusterName homelab/,
      );
      assert.match(
        created.stderr,
        /set clusterName to 'other' to manage that cluster, or take pve-low out of it first/,
      );
      const joined = await runScript(first.byName(`${M}-join-pve-high`));
      assert.equal(joined.code, 1);
      assert.match(
        joined.stderr,
        /host pve-high is already in cluster 'other', not homelab\. Joining would overwrite/,
      );
      assert.deepEqual([...pve.writes("pve-low"), ...pve.writes("pve-high")], []);
    } finally {
      for (const n of ["pve-low", "pve-high"]) await pve.leaveCluster(n);
    }
  });

  it("creates the cluster on the always-on host and prints the fingerprint of its certificate", async () => {
    const r = await runScript(first.byName(`${M}-create`));
    assert.equal(r.code, 0, r.stderr);
    fingerprint = r.stdout.trim();
    assert.equal(r.stdout, `${fingerprint}\n`, "stdout is the fingerprint line alone");
    assert.equal(fingerprint, pve.fingerprint("pve-low"));
    assert.deepEqual(pve.writes("pve-low"), ["pvecm create"]);
    const conf = await pveConf();
    assert.equal(readConfigVersion(conf), 1);
    assert.deepEqual(
      readNodelist(conf).map((n) => [n.name, n.nodeId, n.quorumVotes, n.ring0Addr]),
      [["pve-low", 1, 3, tb.node("pve-low").address]],
    );
    assert.equal((await tb.quorum("pve-low")).quorate, true);
    // What Pulumi does next: the create's stdout flows into each join's stdin. The scripts do not change.
    full = await captureMembership(modelFor(tb), { rootPassword: PASSWORD, createStdout: r.stdout });
    assert.deepEqual(
      full.commands.map((c) => [c.name, c.create, c.delete]),
      first.commands.map((c) => [c.name, c.create, c.delete]),
    );
    assert.equal(full.byName(`${M}-join-pve-mid`).stdin, `${fingerprint}\n${PASSWORD}\n`);
  });

  it("refuses a join with a wrong root password or a wrong fingerprint, printing neither secret nor change", async () => {
    const join = full.byName(`${M}-join-pve-mid`);
    const badPassword = await runScript(join, "create", `${fingerprint}\nnot-the-password\n`);
    assert.equal(badPassword.code, 1);
    assert.match(badPassword.stderr, /authentication failure/);
    assert.match(
      badPassword.stderr,
      /pvecm add failed \(exit \d+\).*rootPassword is not the root password of pve-low/,
    );
    const flipped = (fingerprint.startsWith("00") ? "11" : "00") + fingerprint.slice(2);
    const badFingerprint = await runScript(join, "create", `${flipped}\n${PASSWORD}\n`);
    assert.equal(badFingerprint.code, 1);
    assert.match(badFingerprint.stderr, /does not match/);
    assert.equal(await hasLocalConf("pve-mid"), false, "pve-mid stays standalone");
    assert.equal(readConfigVersion(await pveConf()), 1, "the cluster config is untouched");
  });

  it("joins pve-mid then pve-high, each confirmed from the always-on host, into a quorate 3/1/1 cluster", async () => {
    await pve.clearCalls();
    for (const cmd of full.commands.slice(1)) {
      const r = await runScript(cmd);
      assert.equal(r.code, 0, `${cmd.name}: ${r.stderr}`);
    }
    assert.deepEqual(pve.writes("pve-mid"), ["pvecm add"]);
    assert.deepEqual(pve.writes("pve-high"), ["pvecm add"]);
    await tb.pmxcfs.settle();
    const conf = await pveConf();
    assert.equal(readConfigVersion(conf), 3, "one config_version step per join");
    // Proxmox writes the nodelist sorted by name.
    assert.deepEqual(
      readNodelist(conf).map((n) => [n.name, n.nodeId, n.quorumVotes, n.ring0Addr]),
      [
        ["pve-high", 3, 1, tb.node("pve-high").address],
        ["pve-low", 1, 3, tb.node("pve-low").address],
        ["pve-mid", 2, 1, tb.node("pve-mid").address],
      ],
    );
    for (const n of NODES) assert.equal(await localConf(n), conf, `${n} has the cluster's corosync.conf`);
    for (const n of NODES) {
      const q = await tb.quorum(n);
      assert.equal(q.quorate, true, n);
      assert.equal(q.expectedVotes, 5);
      assert.equal(q.totalVotes, 5);
      assert.deepEqual(await tb.votes(n), { "pve-low": 3, "pve-mid": 1, "pve-high": 1 });
    }
  });

  it("re-running every command is a no-op: same bytes, same config_version, no restart, no pvecm write", async () => {
    await tb.pmxcfs.settle();
    const files = ["/etc/corosync/corosync.conf", "/etc/corosync/authkey"];
    const snapshot = async () => [
      await pveConf(),
      ...(await Promise.all(
        NODES.flatMap((n) => files.map((f) => fs.readFile(tb.hostPath(n, f), "base64"))),
      )),
    ];
    const before = await snapshot();
    tb.resetCounters();
    await pve.clearCalls();
    for (const cmd of full.commands) {
      const r = await runScript(cmd);
      assert.equal(r.code, 0, `${cmd.name}: ${r.stderr}`);
      if (cmd.name === `${M}-create`) assert.equal(r.stdout, `${fingerprint}\n`);
    }
    await tb.pmxcfs.settle();
    assert.deepEqual(await snapshot(), before);
    assert.equal(readConfigVersion(await pveConf()), 3);
    assert.deepEqual(tb.counters(), {
      corosyncStarts: { "pve-low": 0, "pve-mid": 0, "pve-high": 0 },
      totalCorosyncStarts: 0,
      pmxcfsReloads: 0,
    });
    for (const n of NODES) assert.deepEqual(pve.writes(n), [], n);
  });

  it("removing pve-high: delnode runs on the always-on host, refused while pve-high is online, done once it is off", async () => {
    // Removing a host changes no other command's inputs (a usually-off host's commands never need it on).
    const without = await captureMembership(
      modelFor(tb, (h) => h.splice(2, 1)),
      { rootPassword: PASSWORD, createStdout: `${fingerprint}\n` },
    );
    const inputs = (c: CapturedCommand) => [c.name, c.host, c.create, c.delete, c.stdin, c.connection];
    assert.deepEqual(without.commands.map(inputs), full.commands.slice(0, 3).map(inputs));
    // What Pulumi deletes: the member command of pve-high, with the delete script stored in its state.
    const member = full.byName(`${M}-member-pve-high`);
    assert.equal(nodeAt(member.host), "pve-low");
    const refused = await runScript(member, "delete");
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /host pve-high is still online in cluster homelab\. Proxmox requires a node to be powered off/,
    );
    assert.match(refused.stderr, /power it off \(shutdown -h now on pve-high\)/);
    assert.deepEqual(pve.writes("pve-low"), []);
    assert.equal(readNodelist(await pveConf()).length, 3);

    await tb.stopNode("pve-high");
    await tb.waitForQuorum({ nodes: ["pve-low", "pve-mid"], members: 2 });
    const removed = await runScript(member, "delete");
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(pve.writes("pve-low"), ["pvecm delnode"]);
    await tb.pmxcfs.settle();
    const conf = await pveConf();
    assert.equal(readConfigVersion(conf), 4);
    assert.deepEqual(
      readNodelist(conf).map((n) => n.name),
      ["pve-low", "pve-mid"],
    );
    for (const n of ["pve-low", "pve-mid"]) assert.equal(await localConf(n), conf);
    const q = await tb.quorum("pve-low");
    assert.equal(q.quorate, true);
    assert.equal(q.expectedVotes, 4);
    // A retried delete (e.g. after a failure further on) finds nothing to do.
    const again = await runScript(member, "delete");
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /host pve-high is not in the nodelist of cluster homelab: nothing to remove/);
  });

  it("never printed the root password, and no command text contains it", () => {
    for (const text of outputs) assert.ok(!text.includes(PASSWORD), "a script printed the root password");
    for (const c of full.commands) {
      for (const text of [c.create, c.update, c.delete]) {
        assert.ok(!text?.includes(PASSWORD), `${c.name} carries the password in a command string`);
      }
    }
  });
});
