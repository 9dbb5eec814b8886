// Proves the testbed harness itself: real corosync nodes in namespaces, SSH like remote.Command, the pmxcfs
// double, faults, and a teardown (and crash cleanup) that leaves nothing behind. Needs root + corosync and
// openssh packages: without them the before hook fails with a clear message (never skipped).

import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  cleanupStale,
  configVersion,
  liveTestbeds,
  proxmoxStyleConf,
  startTestbed,
  waitFor,
  type Testbed,
  type TestbedNode,
} from "./testbed";
import { isAlive, pidsInNetns, procCmdline, procComm, run } from "./testbed/exec";
import { hostAddress, parseSubnet } from "./testbed/net";

const conf = (nodes: readonly TestbedNode[], votes: readonly number[], version: number): string =>
  proxmoxStyleConf({
    clusterName: "homelab",
    configVersion: version,
    nodes: nodes.map((n, i) => ({ ...n, votes: votes[i] ?? 1 })),
  });

const votesOf = (tb: Testbed, node: string) => tb.votes(node);

/** Processes anywhere on the machine whose command line mentions the testbed's temp dir. */
function processesMentioning(dir: string): number[] {
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => isAlive(pid) && procCmdline(pid).some((a) => a.includes(dir)));
}

async function rootRoutes(): Promise<string> {
  return (await run("ip", ["-4", "route", "show", "table", "all"])).stdout;
}

describe("integration: testbed harness", function () {
  this.timeout(120_000);
  let tb: Testbed;
  let bringUpMs = 0;

  before(async function () {
    this.timeout(60_000);
    const t0 = Date.now();
    tb = await startTestbed({ corosyncConf: (nodes) => conf(nodes, [1, 1, 1], 1) });
    bringUpMs = Date.now() - t0;
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed" && tb) console.error(tb.dumpLogs());
  });

  after(async () => {
    await tb?.teardown();
  });

  it("brings 3 nodes (votes 1/1/1) up quorate, in a bounded time", async () => {
    const sn = parseSubnet(tb.subnet);
    assert.deepEqual(
      tb.nodes.map((n) => [n.name, n.nodeId, n.address]),
      [
        ["pve1", 1, hostAddress(sn, 11)],
        ["pve2", 2, hostAddress(sn, 12)],
        ["pve3", 3, hostAddress(sn, 13)],
      ],
    );
    assert.equal(tb.clientAddress, hostAddress(sn, 1));
    assert.ok(bringUpMs < 20_000, `bring-up took ${bringUpMs} ms`);
    for (const n of tb.nodes) {
      const q = await tb.quorum(n.name);
      assert.equal(q.quorate, true, n.name);
      assert.equal(q.expectedVotes, 3);
      assert.equal(q.totalVotes, 3);
      assert.equal(q.quorum, 2);
      assert.equal(q.nodeId, n.nodeId);
      assert.deepEqual(
        q.nodes.map((m) => [m.nodeId, m.votes, m.name]),
        [
          [1, 1, "pve1"],
          [2, 1, "pve2"],
          [3, 1, "pve3"],
        ],
      );
      assert.equal(tb.isRunning(n.name), true);
    }
    assert.ok((await rootRoutes()).includes(`unreachable ${tb.subnet}`), "guard route in the root namespace");
  });

  it("SSH with the pinned host key runs one command with stdin, on the node's own files and the shared /etc/pve", async () => {
    await tb.writeFile("pve1", "/etc/pve/marker", "shared-marker\n");
    for (const n of tb.nodes) {
      const r = await tb.ssh(
        n.name,
        "hostname; cat /etc/pve/marker; cat; grep -c ring0_addr /etc/corosync/corosync.conf",
        {
          stdin: `stdin-for-${n.name}\n`,
        },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${n.name}\nshared-marker\nstdin-for-${n.name}\n3\n`);
    }
    // A write through one node's session is visible to another node and on the host side.
    const w = await tb.ssh(
      "pve2",
      "echo from-pve2 > /etc/pve/nodes/pve2/note && echo local-pve2 > /root/only-here",
    );
    assert.equal(w.code, 0, w.stderr);
    assert.equal((await tb.ssh("pve3", "cat /etc/pve/nodes/pve2/note")).stdout, "from-pve2\n");
    assert.equal(await tb.readFile("pve1", "/etc/pve/nodes/pve2/note"), "from-pve2\n");
    assert.notEqual((await tb.ssh("pve3", "test -e /root/only-here")).code, 0, "/root must be per node");
    // Exit codes come back like remote.Command's.
    assert.equal((await tb.ssh("pve1", "exit 7")).code, 7);
    // The host key line is what a stack would pin.
    assert.match(tb.nodes[0]!.hostKey, /^ssh-ed25519 AAAA[0-9A-Za-z+/=]+$/);
  });

  it("refuses a wrong pinned host key", async () => {
    const other = await tb.ssh("pve1", "echo should-not-run", { hostKey: tb.node("pve2").hostKey });
    assert.equal(other.code, 255);
    assert.equal(other.stdout, "");
    assert.match(other.stderr, /Host key verification failed/);
    const right = await tb.ssh("pve1", "echo ok", { hostKey: tb.node("pve1").hostKey });
    assert.equal(right.stdout, "ok\n");
  });

  it("has Proxmox-style root SSH trust between nodes", async () => {
    for (const from of tb.nodes) {
      for (const to of tb.nodes) {
        if (from === to) continue;
        const r = await tb.sshBetween(from.name, to.name, "hostname");
        assert.equal(r.code, 0, `${from.name} → ${to.name}: ${r.stderr}`);
        assert.equal(r.stdout, `${to.name}\n`);
      }
    }
    // Another machine on the bridge (what a QNetd host would be) reaches the nodes too.
    const extra = await tb.addHost("qnetd");
    assert.equal(extra.address, hostAddress(parseSubnet(tb.subnet), 2));
    const fromExtra = await tb.ssh("pve2", "hostname", { fromNetns: extra.netns });
    assert.equal(fromExtra.stdout, "pve2\n", fromExtra.stderr);
    // exec() runs directly in the node's namespaces, with its hostname.
    const e = await tb.exec("pve3", ["hostname"]);
    assert.equal(e.stdout, "pve3\n");
  });

  it("pmxcfs double: a higher-version /etc/pve/corosync.conf reaches live nodes and is reloaded, no restart", async () => {
    tb.resetCounters();
    await tb.writePveCorosyncConf(conf(tb.nodes, [3, 1, 1], 2));
    await tb.waitFor(
      async () => {
        for (const n of tb.nodes) {
          const q = await tb.quorum(n.name);
          const v = await votesOf(tb, n.name);
          if (q.expectedVotes !== 5 || v.pve1 !== 3 || v.pve2 !== 1 || v.pve3 !== 1) return false;
        }
        return true;
      },
      { timeoutMs: 10_000, what: "all nodes to show votes 3/1/1 and expected 5" },
    );
    await tb.pmxcfs.settle();
    for (const n of tb.nodes) {
      assert.equal(configVersion(await tb.readFile(n.name, "/etc/corosync/corosync.conf")), 2, n.name);
      assert.equal((await tb.quorum(n.name)).quorum, 3);
    }
    const c = tb.counters();
    assert.equal(c.totalCorosyncStarts, 0, "no corosync restart");
    assert.equal(c.pmxcfsReloads, 1);
  });

  it("pmxcfs double: a node whose corosync is stopped keeps its old file (and then cannot rejoin with it)", async () => {
    tb.resetCounters();
    await tb.stopCorosync("pve3");
    assert.equal(tb.isRunning("pve3"), false);
    await tb.waitForQuorum({ nodes: ["pve1", "pve2"], members: 2, timeoutMs: 15_000 });
    await tb.writePveCorosyncConf(conf(tb.nodes, [2, 1, 1], 3));
    await tb.waitFor(async () => (await tb.quorum("pve1")).expectedVotes === 4, {
      timeoutMs: 10_000,
      what: "pve1 to reload to expected votes 4",
    });
    await tb.pmxcfs.settle();
    assert.equal(configVersion(await tb.readFile("pve1", "/etc/corosync/corosync.conf")), 3);
    assert.equal(configVersion(await tb.readFile("pve2", "/etc/corosync/corosync.conf")), 3);
    assert.equal(configVersion(await tb.readFile("pve3", "/etc/corosync/corosync.conf")), 2, "pve3 was off");
    assert.ok(
      tb.pmxcfs.events.some((e) => e.kind === "skipped-not-live" && e.node === "pve3" && e.version === 3),
    );
    assert.equal(tb.counters().pmxcfsReloads, 1);

    // Started with its stale file, corosync on pve3 leaves again by itself (what the rejoin step must fix).
    await tb.startCorosync("pve3", { wait: false });
    const exit = await tb.waitFor(() => tb.corosyncExit("pve3"), {
      timeoutMs: 20_000,
      what: "stale corosync on pve3 to exit",
    });
    assert.equal(tb.isRunning("pve3"), false);
    assert.match(
      tb.logTail("pve3", "corosync", 80),
      /Received config version \(3\) is different than my config version \(2\)/,
    );
    assert.notEqual(exit.code, null);
    await tb.waitForQuorum({ nodes: ["pve1", "pve2"], members: 2 });

    // With the current file it rejoins; started through the systemctl double over SSH this time.
    await tb.writeCorosyncConf(await tb.readFile("pve1", "/etc/corosync/corosync.conf"), ["pve3"]);
    const r = await tb.ssh("pve3", "systemctl start corosync && systemctl is-active corosync");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "active\n");
    const all = await tb.waitForQuorum({ members: 3, timeoutMs: 20_000 });
    assert.deepEqual(await votesOf(tb, "pve3"), { pve1: 2, pve2: 1, pve3: 1 });
    assert.equal(all.pve3?.expectedVotes, 4);
    assert.deepEqual(tb.counters().corosyncStarts, { pve1: 0, pve2: 0, pve3: 2 });
  });

  it("faults: power loss and a cut link break quorum (exit 2 parsed); restore and boot heal it", async () => {
    // Votes 2/1/1 (E=4, Q=3): pve1 alone has 2 → not quorate.
    await Promise.all([tb.killNode("pve3"), tb.cutLink("pve2")]);
    assert.equal(tb.isRunning("pve3"), false);
    assert.equal(tb.sshdRunning("pve3"), false);
    const alone = await tb.waitForQuorum({ nodes: ["pve1"], members: 1, quorate: false, timeoutMs: 20_000 });
    assert.equal(alone.pve1?.totalVotes, 2);
    assert.equal(alone.pve1?.quorum, 3);
    const cutSsh = await tb.ssh("pve2", "true", { timeoutMs: 20_000 });
    assert.equal(cutSsh.code, 255, "a cut node is unreachable");
    assert.notEqual((await tb.sshBetween("pve1", "pve2", "true")).code, 0);

    await tb.restoreLink("pve2");
    await tb.waitForQuorum({ nodes: ["pve1", "pve2"], members: 2, timeoutMs: 20_000 });
    await tb.bootNode("pve3");
    const healed = await tb.waitForQuorum({ members: 3, timeoutMs: 20_000 });
    for (const n of tb.nodes) assert.equal(healed[n.name]?.totalVotes, 4);
    assert.equal((await tb.ssh("pve3", "hostname")).stdout, "pve3\n");
  });

  it("teardown leaves no namespace, route, process or temp dir behind (and is idempotent)", async () => {
    const root = tb.root;
    const subnet = tb.subnet;
    const netns = [tb.clientNetns, ...tb.nodes.map((n) => n.netns)];
    const pids = netns.flatMap((ns) => pidsInNetns(ns));
    assert.ok(pids.length >= 6, "sanity: corosync and sshd run before teardown");
    await tb.teardown();
    await tb.teardown();
    assert.deepEqual(pids.filter(isAlive), []);
    for (const ns of netns) assert.equal(existsSync(`/run/netns/${ns}`), false, ns);
    if (!liveTestbeds().some((t) => t.subnet === subnet)) {
      // (kept while another live testbed, e.g. a parallel run, relies on the same guard route)
      assert.ok(!(await rootRoutes()).includes(subnet), "guard route removed");
    }
    assert.deepEqual(processesMentioning(root), []);
    assert.equal(existsSync(root), false);
  });
});

describe("integration: testbed cleanup after a crashed run", function () {
  this.timeout(60_000);
  const prefix = "pvetbcrash";
  const subnet = "10.213.48.0/24";
  let scratch = "";

  after(async () => {
    await cleanupStale(prefix);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("removes a SIGKILLed run's processes, namespaces, guard route, temp dir and /dev/shm files", async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), "testbed-crash-"));
    const script = path.join(scratch, "crash.ts");
    writeFileSync(
      script,
      [
        `import { startTestbed, proxmoxStyleConf } from ${JSON.stringify(path.join(__dirname, "testbed"))};`,
        `startTestbed({ nodes: ["solo"], prefix: ${JSON.stringify(prefix)}, subnet: ${JSON.stringify(subnet)},`,
        `  corosyncConf: (nodes) => proxmoxStyleConf({ nodes: nodes.map((n) => ({ ...n, votes: 1 })) }) })`,
        `  .then((tb) => { process.stdout.write("READY " + tb.root + " " + tb.nodes[0].netns + "\\n"); setInterval(() => {}, 1000); })`,
        `  .catch((e) => { console.error(e); process.exit(1); });`,
      ].join("\n"),
    );
    const child = spawn(process.execPath, ["--require", require.resolve("tsx/cjs"), script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    const ready = await waitFor(() => /READY (\S+) (\S+)\n/.exec(out), {
      timeoutMs: 40_000,
      what: "the crashing child's testbed to come up",
    });
    const [, root, netns] = ready;
    const corosyncPid = pidsInNetns(netns!).find((p) => procComm(p) === "corosync");
    assert.ok(corosyncPid, "child's corosync runs");
    child.kill("SIGKILL"); // no teardown, no exit hook: leftovers stay
    await new Promise((r) => child.once("exit", r));
    assert.ok(existsSync(`/run/netns/${netns}`));
    assert.ok(pidsInNetns(netns!).length >= 2, "orphaned corosync and sshd still run");
    assert.match(await rootRoutes(), /unreachable 10\.213\.48\.0\/24/);

    const removed = await cleanupStale(prefix);
    assert.ok(removed.length > 0);
    assert.equal(existsSync(`/run/netns/${netns}`), false);
    if (!liveTestbeds().some((t) => t.subnet === subnet)) {
      assert.doesNotMatch(await rootRoutes(), /10\.213\.48\.0\/24/);
    }
    assert.equal(existsSync(root!), false);
    assert.deepEqual(processesMentioning(root!), []);
    assert.equal(isAlive(corosyncPid), false);
    // Its blackbox files go once the orphan is reaped (PID 1 reaps slowly here: zombies count as dead).
    await waitFor(
      async () => {
        await cleanupStale(prefix);
        return readdirSync("/dev/shm").every((f) => !f.includes(`-${corosyncPid}-`));
      },
      { timeoutMs: 10_000, what: `/dev/shm/qb-* files of pid ${corosyncPid} to be removed` },
    );
    assert.deepEqual(await cleanupStale(prefix), [], "a second cleanup finds nothing");
  });
});
