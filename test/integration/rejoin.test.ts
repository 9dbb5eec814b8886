// The rejoin guard on real corosync + sshd nodes: RejoinGuard's own install command (captured under the SDK's
// mocks) runs over SSH on the hosts that are not always on; "booting" a host runs `systemctl start corosync`
// inside it through a systemd double that honours the installed drop-in (daemon-reload loads it; start runs
// its ExecStartPre= first), then the harness's corosync. One testbed for the file; tests run in order.
import { strict as assert } from "node:assert";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import {
  captureRejoinGuard,
  captureVoteWeights,
  isolateNode,
  nodeExec,
  nodeExtras,
  readIfExists,
  rejoinStepSeconds,
  startCorosyncLikeSystemd,
  testbedModel,
  waitForVotes,
  type CapturedCommand,
} from "./votes-harness";
import { readConfigVersion } from "../../core/corosync";
import {
  REJOIN_BOUNDS,
  REJOIN_SCRIPT,
  rejoinBootScript,
  rejoinDropIn,
  rejoinRemoveScript,
} from "../../core/scripts/rejoin";
import { votedConf, startTestbed, type Testbed } from "./testbed";

const ALL = ["pve1", "pve2", "pve3"];

describe("integration: rejoin guard (RejoinGuard's own commands, systemd-style boot)", function () {
  this.timeout(120_000);
  let tb: Testbed;
  let guard: Record<string, CapturedCommand>;
  let push311: CapturedCommand;
  let push411: CapturedCommand;

  const pveConf = () => readFileSync(tb.pvePath("corosync.conf"), "utf8");
  const localConf = (node: string) => tb.readFile(node, "/etc/corosync/corosync.conf");
  const dropIn = (node: string) =>
    path.join(nodeExtras(tb, node).systemdDir, "corosync.service.d", "pve-homelab-rejoin.conf");
  const journal = (node: string) => readIfExists(nodeExtras(tb, node).journal);
  const systemctlCalls = (node: string) =>
    readIfExists(nodeExtras(tb, node).systemctlLog)
      .split("\n")
      .filter(Boolean)
      .map((l) => l.replace(/^\S+ /, ""));
  const push = async (cmd: CapturedCommand) => {
    const r = await tb.ssh("pve1", cmd.create, { stdin: cmd.stdin, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
  };
  const sshdPid = (node: string) => Number(readFileSync(tb.hostPath(node, "/run/sshd.pid"), "utf8").trim());

  before(async function () {
    this.timeout(90_000);
    tb = await startTestbed({
      subnet: "10.213.62.0/24",
      corosyncConf: votedConf([1, 1, 1]),
    });
    for (const n of ALL) await isolateNode(tb, n);
    guard = await captureRejoinGuard(testbedModel(tb, [3, 1, 1]));
    push311 = await captureVoteWeights(testbedModel(tb, [3, 1, 1]));
    push411 = await captureVoteWeights(testbedModel(tb, [4, 1, 1]));
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed" && tb) {
      console.error(tb.dumpLogs());
      for (const n of ALL) console.error(`== ${n} journal ==\n${journal(n)}`);
    }
  });

  after(async () => {
    await tb?.teardown();
  });

  it("installs the boot step on every host that is not always on, idempotently", async () => {
    assert.deepEqual(Object.keys(guard).sort(), ["pve2", "pve3"]);
    for (const node of ["pve2", "pve3"]) {
      const r = await tb.ssh(node, guard[node]!.create, { stdin: guard[node]!.stdin });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stdout,
        `rejoin step installed on ${node}: /usr/local/sbin/pve-homelab-rejoin /etc/systemd/system/corosync.service.d/pve-homelab-rejoin.conf\n`,
      );
      const script = tb.hostPath(node, REJOIN_SCRIPT);
      assert.equal(readFileSync(script, "utf8"), rejoinBootScript());
      assert.equal(statSync(script).mode & 0o777, 0o755);
      assert.equal(readFileSync(dropIn(node), "utf8"), rejoinDropIn());
      assert.equal(statSync(dropIn(node)).mode & 0o777, 0o644);
      assert.deepEqual(systemctlCalls(node), ["systemctl daemon-reload"]);
      // Same bytes: nothing touched, no daemon-reload.
      const again = await tb.ssh(node, guard[node]!.create, { stdin: guard[node]!.stdin });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout, `rejoin step already installed on ${node}: no change\n`);
      assert.deepEqual(systemctlCalls(node), ["systemctl daemon-reload"]);
    }
    assert.equal(existsSync(tb.hostPath("pve1", REJOIN_SCRIPT)), false, "nothing on the always-on host");
  });

  it("a usually-off host that missed a change rejoins by itself, with the new votes", async () => {
    await tb.stopNode("pve3"); // powered off: corosync and sshd
    await tb.waitForQuorum({ nodes: ["pve1", "pve2"], members: 2, timeoutMs: 20_000 });
    await push(push311); // config_version 1 → 2 while pve3 is off
    const stale = await localConf("pve3");
    assert.equal(readConfigVersion(stale), 1);

    await tb.bootNode("pve3", { corosync: false }); // power on: network and sshd first
    await isolateNode(tb, "pve3");
    tb.resetCounters();
    const r = await startCorosyncLikeSystemd(tb, "pve3");
    assert.equal(r.code, 0, r.stderr);
    const all = await tb.waitForQuorum({ members: 3, timeoutMs: 30_000 });
    assert.deepEqual(await tb.votes("pve3"), { pve1: 3, pve2: 1, pve3: 1 });
    assert.equal(all.pve3?.expectedVotes, 5);
    assert.equal(await localConf("pve3"), pveConf());
    assert.match(
      journal("pve3"),
      /pve-homelab-rejoin: installed the corosync\.conf of pve[12]: config_version 1 -> 2\n/,
    );
    assert.match(journal("pve3"), /ExecStartPre exited 0\n$/);
    assert.ok(rejoinStepSeconds(journal("pve3")) < REJOIN_BOUNDS.total);
    // One start: corosync never had to exit and come back.
    assert.deepEqual(tb.counters().corosyncStarts, { pve1: 0, pve2: 0, pve3: 1 });
    const backups = path.join(nodeExtras(tb, "pve3").backupsDir, "pve-homelab");
    const [backup, ...more] = readdirSync(backups);
    assert.deepEqual(more, []);
    assert.match(backup!, /^corosync\.conf\.\d{8}T\d{6}Z\.v1\.before-rejoin$/);
    assert.equal(readFileSync(path.join(backups, backup!), "utf8"), stale);
  });

  it("with every peer unreachable, it starts with its own file within the bound; the next start catches up", async () => {
    await tb.stopCorosync("pve3");
    await tb.waitForQuorum({ nodes: ["pve1", "pve2"], members: 2, timeoutMs: 20_000 });
    await push(push411); // 2 → 3 while pve3 is down
    const own = await localConf("pve3");
    await tb.cutLink("pve3");
    try {
      const t0 = Date.now();
      const r = await startCorosyncLikeSystemd(tb, "pve3");
      const took = (Date.now() - t0) / 1000;
      assert.equal(r.code, 0, r.stderr);
      assert.ok(took < REJOIN_BOUNDS.total, `systemctl start took ${took} s`);
      assert.ok(tb.isRunning("pve3"), "corosync started");
      assert.equal(await localConf("pve3"), own, "own file kept");
      const j = journal("pve3");
      assert.match(
        j,
        /pve1 \(10\.213\.62\.11\): no answer \(exit 255: ssh: connect to host 10\.213\.62\.11 port 22: \w[^\n]*\w\)\n/,
      );
      assert.match(
        j,
        /pve2 \(10\.213\.62\.12\): no answer \(exit 255: ssh: connect to host 10\.213\.62\.12 port 22: \w[^\n]*\w\)\n/,
      );
      assert.match(j, /no peer answered: corosync starts with the local file \(config_version 2\)\n/);
      const alone = await tb.quorum("pve3");
      assert.equal(alone.quorate, false);
      assert.equal(alone.nodes.length, 1);
    } finally {
      await tb.stopCorosync("pve3");
      await tb.restoreLink("pve3");
    }
    // Once the peers are reachable, the next start fetches the newer file and joins.
    const r = await startCorosyncLikeSystemd(tb, "pve3");
    assert.equal(r.code, 0, r.stderr);
    await tb.waitForQuorum({ members: 3, timeoutMs: 30_000 });
    await waitForVotes(tb, ALL, { pve1: 4, pve2: 1, pve3: 1 }, 10_000);
    assert.match(journal("pve3"), /installed the corosync\.conf of pve[12]: config_version 2 -> 3\n/);
  });

  it("peers that accept connections but never answer cost at most the connect timeout", async () => {
    await tb.stopCorosync("pve3");
    const frozen = ["pve1", "pve2"].map(sshdPid);
    for (const pid of frozen) process.kill(pid, "SIGSTOP");
    try {
      const t0 = Date.now();
      const r = await startCorosyncLikeSystemd(tb, "pve3");
      const took = (Date.now() - t0) / 1000;
      assert.equal(r.code, 0, r.stderr);
      const step = rejoinStepSeconds(journal("pve3"));
      assert.ok(step >= REJOIN_BOUNDS.connect - 0.5, `the step waited ${step} s for the handshake`);
      assert.ok(step < REJOIN_BOUNDS.peer, `the step took ${step} s`);
      assert.ok(took < REJOIN_BOUNDS.total, `systemctl start took ${took} s`);
      assert.match(
        journal("pve3"),
        /pve1 \(10\.213\.62\.11\): no answer \(exit 255: Connection timed out during banner exchange/,
      );
      assert.match(
        journal("pve3"),
        /no peer answered: corosync starts with the local file \(config_version 3\)\n\S+ ExecStartPre exited 0\n$/,
      );
    } finally {
      for (const pid of frozen) process.kill(pid, "SIGCONT");
    }
    await tb.waitForQuorum({ members: 3, timeoutMs: 30_000 }); // its file was current
  });

  it("never installs a lower config_version than its own", async () => {
    const newer = pveConf().replace(/config_version: 3\n/, "config_version: 9\n");
    assert.notEqual(newer, pveConf());
    const original = await localConf("pve3");
    await tb.writeFile("pve3", "/etc/corosync/corosync.conf", newer);
    try {
      const r = await nodeExec(tb, "pve3", [REJOIN_SCRIPT], { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /pve1: config_version 3 \(local: 9\)/);
      assert.match(r.stderr, /the local file is current \(config_version 9\): nothing to do\n$/);
      assert.equal(await localConf("pve3"), newer);
    } finally {
      await tb.writeFile("pve3", "/etc/corosync/corosync.conf", original);
    }
  });

  /** Runs the installed step on pve3 with these peer files in place of pve1's and pve2's local ones. */
  const withPeerFiles = async (peers: Record<string, string>, check: (stderr: string) => Promise<void>) => {
    const saved: Record<string, string> = {};
    for (const node of ["pve1", "pve2", "pve3"]) saved[node] = await localConf(node);
    try {
      for (const [node, text] of Object.entries(peers))
        await tb.writeFile(node, "/etc/corosync/corosync.conf", text);
      const r = await nodeExec(tb, "pve3", [REJOIN_SCRIPT], { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      await check(r.stderr);
    } finally {
      for (const [node, text] of Object.entries(saved))
        await tb.writeFile(node, "/etc/corosync/corosync.conf", text);
    }
  };
  const version = (text: string, v: number) =>
    text.replace(/config_version: \d+\n/, `config_version: ${v}\n`);

  it("when the best peer file fails corosync -t, takes the next peer's valid file", async () => {
    const current = pveConf();
    const v = readConfigVersion(current);
    // Parses for the step's own reader, but corosync refuses it (an unknown link_mode).
    const broken = version(current, v + 2).replace("  link_mode: passive\n", "  link_mode: bogus\n");
    assert.notEqual(broken, version(current, v + 2));
    await withPeerFiles({ pve1: broken, pve2: version(current, v + 1) }, async (stderr) => {
      assert.match(stderr, new RegExp(`pve1: config_version ${v + 2} \\(local: ${v}\\)`));
      assert.match(
        stderr,
        /corosync -t rejects the file from pve1 \([^\n]*link mode "bogus"[^\n]*\); trying the next peer\n/,
      );
      assert.match(
        stderr,
        new RegExp(`installed the corosync\\.conf of pve2: config_version ${v} -> ${v + 1}\\n$`),
      );
      assert.equal(await localConf("pve3"), version(current, v + 1));
    });
  });

  it("refuses a peer file without the votequorum provider, and one that moves this node", async () => {
    const current = pveConf();
    const v = readConfigVersion(current);
    const own = await localConf("pve3");
    const noProvider = version(current, v + 5).replace("  provider: corosync_votequorum\n", "");
    assert.ok(!noProvider.includes("provider"));
    const address = tb.nodes.find((n) => n.name === "pve3")!.address;
    const moved = version(current, v + 4).replace(
      `nodeid: 3\n    quorum_votes: 1\n    ring0_addr: ${address}\n`,
      "nodeid: 7\n    quorum_votes: 1\n    ring0_addr: " + address + "\n",
    );
    assert.notEqual(moved, version(current, v + 4));
    await withPeerFiles({ pve1: noProvider, pve2: moved }, async (stderr) => {
      assert.match(stderr, /pve1: its quorum provider is '', not corosync_votequorum; ignored\n/);
      assert.match(
        stderr,
        new RegExp(
          `pve2: it moves this node \\('pve3 7 ${address.replace(/\./g, "\\.")}', here 'pve3 3 [^']+'; nodeid and ring0_addr must stay\\); ignored\n`,
        ),
      );
      assert.match(stderr, /the local file is current \(config_version \d+\): nothing to do\n$/);
      assert.equal(await localConf("pve3"), own);
    });
  });

  it("the manual removal script removes the step (and a second run finds nothing to remove)", async () => {
    const removal = rejoinRemoveScript("pve3");
    const r = await tb.ssh("pve3", removal);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      "rejoin step removed from pve3: /etc/systemd/system/corosync.service.d/pve-homelab-rejoin.conf /usr/local/sbin/pve-homelab-rejoin\n",
    );
    assert.equal(existsSync(tb.hostPath("pve3", REJOIN_SCRIPT)), false);
    assert.equal(existsSync(path.dirname(dropIn("pve3"))), false, "empty drop-in directory removed");
    assert.equal(systemctlCalls("pve3").at(-1), "systemctl daemon-reload");
    const again = await tb.ssh("pve3", removal);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, "rejoin step was not installed on pve3: nothing to remove\n");
    // Started now, corosync runs no pre-step any more.
    await tb.stopCorosync("pve3");
    const before = journal("pve3");
    const start = await startCorosyncLikeSystemd(tb, "pve3");
    assert.equal(start.code, 0, start.stderr);
    assert.equal(journal("pve3"), before);
    await tb.waitForQuorum({ members: 3, timeoutMs: 30_000 });
  });
});
