// `npm run status` on real corosync + sshd nodes with the pmxcfs double and the pvesh stand-in (TEST DOUBLES,
// see test/integration/pve-standin/README.md): the CLI runs as a user runs it, from the testbed's client
// namespace, with the testbed's client key. Needs root, corosync and openssh: a missing piece fails the before
// hook with a clear message (never a skip).
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readConfigVersion, setVotes } from "../../core/corosync";
import { installStandin } from "./pve-standin";
import { votedConf, startTestbed, type Testbed } from "./testbed";
import { clientSessions, waitForVotes } from "./votes-harness";
import { clusterDigest, locks, nodeProcesses, runStatus, writeTestbedStack } from "./status-harness";

interface StatusJson {
  ok: boolean;
  via: string;
  sshSessions: number;
  hosts: { name: string; state: string; online: boolean; live: { votes: number } | null }[];
  findings: { level: string; code: string; path: string; message: string }[];
  vms: { vmId: number; name: string; node: string | null; status: string | null }[];
}

describe("integration: npm run status (read-only, one SSH session)", function () {
  this.timeout(180_000);
  let tb: Testbed;
  let dir: string;
  const ALL = ["pve1", "pve2", "pve3"];

  before(async function () {
    this.timeout(120_000);
    tb = await startTestbed({
      subnet: "10.213.64.0/24",
      corosyncConf: votedConf([3, 1, 1], { clusterName: "homelab" }),
    });
    await installStandin(tb, { rootPassword: "unused", keepCluster: true });
    const guests = tb.pvePath("nodes/pve1/qemu-server");
    fs.mkdirSync(guests, { recursive: true });
    fs.writeFileSync(
      path.join(guests, "101.conf"),
      "name: dns\ncores: 1\nmemory: 1024\n# stand-in status: running\n",
    );
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "status-it-"));
    writeTestbedStack(tb, dir, "tb", { vms: [{ name: "dns", host: "pve1", vmId: 101 }] });
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed" && tb) console.error(tb.dumpLogs());
  });

  after(async () => {
    await tb?.teardown();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("in sync: exit 0, ONE SSH session, and nothing written, locked or left running", async () => {
    const digest = clusterDigest(tb);
    const processes = nodeProcesses(tb);
    const sessions = clientSessions(tb);
    const r = await runStatus(tb, dir, "tb");
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^In sync with the stack/m);
    assert.match(r.stdout, /^  pve1 +always-on +online +1 +10\.213\.64\.11 +3$/m);
    assert.match(r.stdout, /^  dns +101 +pve1 +pve1 +running$/m);
    assert.ok(
      r.stdout.split("\n").every((l) => [...l].length <= 80),
      r.stdout,
    );
    assert.equal(clientSessions(tb) - sessions, 1);
    assert.deepEqual(clusterDigest(tb), digest, "status wrote to /etc/pve or /etc/corosync");
    assert.deepEqual(locks(tb), []);
    // The session's processes (sshd child, bash, pvesh, ...) end with it; bounded wait for sshd to reap them.
    await tb.waitFor(() => JSON.stringify(nodeProcesses(tb)) === JSON.stringify(processes), {
      timeoutMs: 10_000,
      what: `the nodes' processes to be those before the run (${processes.join(" ")})`,
    });
  });

  it("votes edited by hand on the cluster: exit 1 with drift.votes naming the host and both numbers", async () => {
    const before = fs.readFileSync(tb.pvePath("corosync.conf"), "utf8");
    const edited = setVotes(before, { pve1: 2, pve2: 1, pve3: 1 }).text;
    await tb.writePveCorosyncConf(edited);
    try {
      await waitForVotes(tb, ALL, { pve1: 2, pve2: 1, pve3: 1 });
      const r = await runStatus(tb, dir, "tb", ["--json"]);
      assert.equal(r.code, 1, r.stderr);
      const doc = JSON.parse(r.stdout) as StatusJson;
      assert.deepEqual(
        doc.findings.map((f) => [f.level, f.code, f.path, f.message]),
        [["drift", "drift.votes", "pve1", "pve1 has 2 votes, the stack says 3"]],
      );
      const text = await runStatus(tb, dir, "tb");
      assert.equal(text.code, 1);
      assert.match(text.stdout, /drift: pve1: pve1 has 2 votes, the stack says 3 \[drift\.votes\]/);
      assert.match(text.stdout, /fix: `pulumi up` will push 3/);
    } finally {
      const restored = setVotes(fs.readFileSync(tb.pvePath("corosync.conf"), "utf8"), {
        pve1: 3,
        pve2: 1,
        pve3: 1,
      });
      await tb.writePveCorosyncConf(restored.text);
      await waitForVotes(tb, ALL, { pve1: 3, pve2: 1, pve3: 1 });
      assert.ok(readConfigVersion(restored.text) > readConfigVersion(before));
    }
  });

  it("the usually-off node stopped: shown off (usually-off), not drift, exit 0", async () => {
    await tb.stopNode("pve3");
    try {
      await tb.waitForQuorum({ nodes: ["pve1"], members: 2, timeoutMs: 30_000 });
      const r = await runStatus(tb, dir, "tb", ["--json"]);
      assert.equal(r.code, 0, r.stdout);
      const doc = JSON.parse(r.stdout) as StatusJson;
      assert.deepEqual(
        doc.hosts.map((h) => [h.name, h.state, h.online]),
        [
          ["pve1", "online", true],
          ["pve2", "online", true],
          ["pve3", "off (usually-off)", false],
        ],
      );
      assert.deepEqual(doc.findings, []);
    } finally {
      await tb.bootNode("pve3");
      await tb.waitForQuorum({ members: 3, timeoutMs: 30_000 });
    }
  });

  it("a wrong pinned host key: exit 3 naming the host key, and no command ran", async () => {
    const wrong = path.join(dir, "wrongkey");
    writeTestbedStack(tb, wrong, "tb", { hostKeys: [tb.node("pve2").hostKey] });
    const sessions = clientSessions(tb);
    const r = await runStatus(tb, wrong, "tb");
    assert.equal(r.code, 3, r.stdout);
    assert.match(
      r.stderr,
      /^status: could not read the cluster: host key mismatch: pve1 \(root@10\.213\.64\.11 port 22\): host key mismatch: the host did not present the pinned hosts\[0\]\.hostKey ssh-ed25519 /,
    );
    assert.match(r.stderr, /it presented SHA256:/);
    assert.equal(clientSessions(tb) - sessions, 0, "a login happened despite the wrong host key");
  });
});
