// The vote push on real corosync + sshd nodes: the exact command VoteWeights registers (captured under the
// SDK's mocks) runs over SSH on the always-on node like remote.Command would run it, with the pmxcfs double
// propagating /etc/pve/corosync.conf. One testbed for the whole file; each test leaves the cluster with all
// three nodes up and says which votes it left. Needs root, corosync and openssh: a missing piece fails the
// before hook with a clear message (never a skip).
import { strict as assert } from "node:assert";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  captureVoteWeights,
  clientSessions,
  isolateNode,
  nodeExtras,
  testbedModel,
  waitForVotes,
  type CapturedCommand,
} from "./votes-harness";
import { readConfigVersion, resetVotes, setVotes } from "../../core/corosync";
import { assertCorosyncAccepts } from "../helpers/corosync-validate";
import { votedConf, startTestbed, type Testbed } from "./testbed";
import { pidsInNetns, procComm } from "./testbed/exec";

const ALL = ["pve1", "pve2", "pve3"];

describe("integration: vote push (VoteWeights' own script over SSH)", function () {
  this.timeout(120_000);
  let tb: Testbed;
  /** The component's command for each declared layout (default bounds unless noted). */
  let push311: CapturedCommand;
  let push411: CapturedCommand;
  let push511: CapturedCommand;
  /** Same stack, short bounds (lock 3 s, wait 8 s), for the fault tests. */
  let quick411: CapturedCommand;
  let quick511: CapturedCommand;
  let drifted: CapturedCommand;

  const pveConf = () => readFileSync(tb.pvePath("corosync.conf"), "utf8");
  const lockDir = () => tb.pvePath("priv/lock/file-corosync_conf");
  const backups = () => {
    const dir = path.join(nodeExtras(tb, "pve1").backupsDir, "pve-homelab");
    return existsSync(dir) ? readdirSync(dir).sort() : [];
  };
  const leftoverTemp = () => readdirSync(tmpdir()).filter((f) => f.startsWith("pve-homelab-votes."));
  const run = (cmd: CapturedCommand, which: "create" | "delete" = "create", timeoutMs = 120_000) =>
    tb.ssh("pve1", which === "create" ? cmd.create : (cmd.delete ?? ""), { stdin: cmd.stdin, timeoutMs });
  const expectNodes = () =>
    Object.fromEntries(tb.nodes.map((n) => [n.name, { nodeId: n.nodeId, address: n.address }]));

  before(async function () {
    this.timeout(90_000);
    tb = await startTestbed({
      subnet: "10.213.61.0/24",
      corosyncConf: votedConf([1, 1, 1]),
    });
    for (const n of ALL) await isolateNode(tb, n);
    push311 = await captureVoteWeights(testbedModel(tb, [3, 1, 1]));
    push411 = await captureVoteWeights(testbedModel(tb, [4, 1, 1]));
    push511 = await captureVoteWeights(testbedModel(tb, [5, 1, 1]));
    quick411 = await captureVoteWeights(testbedModel(tb, [4, 1, 1]), { lockSeconds: 3, waitSeconds: 8 });
    quick511 = await captureVoteWeights(testbedModel(tb, [5, 1, 1]), { lockSeconds: 3, waitSeconds: 8 });
    drifted = await captureVoteWeights(
      testbedModel(tb, [3, 1, 1], (h, i) => {
        if (i === 2) h.address = "10.213.61.99";
      }),
    );
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed" && tb) console.error(tb.dumpLogs());
  });

  after(async () => {
    await tb?.teardown();
  });

  it("sends the layout on stdin, the same script for every layout", () => {
    assert.equal(
      push311.stdin,
      [
        "pve1 nodeid=1 ring0_addr=10.213.61.11 votes=3",
        "pve2 nodeid=2 ring0_addr=10.213.61.12 votes=1",
        "pve3 nodeid=3 ring0_addr=10.213.61.13 votes=1",
        "",
      ].join("\n"),
    );
    assert.equal(push411.create, push311.create);
    assert.equal(push411.delete, push311.delete);
    assert.equal(push311.connection.host, "10.213.61.11");
    assert.equal(push311.connection.hostKey, tb.node("pve1").hostKey);
  });

  it("applies 1/1/1 → 3/1/1 in one SSH session: every node shows the new votes, no corosync restart", async () => {
    const before = pveConf();
    const sessions = clientSessions(tb);
    tb.resetCounters();
    const r = await run(push311);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "votes applied on pve1 (config_version 1 -> 2): pve1=3 pve2=1 pve3=1\n");
    assert.equal(clientSessions(tb) - sessions, 1, "one SSH session");
    // The file is byte for byte what the TypeScript engine makes of the old one.
    const after = pveConf();
    assert.equal(after, setVotes(before, { pve1: 3, pve2: 1, pve3: 1 }, { expectNodes: expectNodes() }).text);
    assertCorosyncAccepts(after);
    // The script returned only once corosync on pve1 reported the votes of every member.
    assert.deepEqual(await tb.votes("pve1"), { pve1: 3, pve2: 1, pve3: 1 });
    await waitForVotes(tb, ALL, { pve1: 3, pve2: 1, pve3: 1 }, 5000);
    for (const n of ALL) {
      const q = await tb.quorum(n);
      assert.equal(q.expectedVotes, 5, n);
      assert.equal(q.quorum, 3, n);
      assert.equal(await tb.readFile(n, "/etc/corosync/corosync.conf"), after, `${n} got the file`);
    }
    assert.equal(backups().length, 2);
    assert.match(backups()[0]!, /^corosync\.conf\.\d{8}T\d{6}Z\.v1$/);
    assert.equal(backups()[1], `${backups()[0]}.rollback`);
    const backup = backups()[0]!;
    assert.equal(
      readFileSync(path.join(nodeExtras(tb, "pve1").backupsDir, "pve-homelab", backup), "utf8"),
      before,
    );
    assert.equal(existsSync(lockDir()), false, "lock released");
    assert.deepEqual(leftoverTemp(), []);
    const c = tb.counters();
    assert.equal(c.totalCorosyncStarts, 0, "corosync reloaded, not restarted");
    assert.equal(c.pmxcfsReloads, 1);
  });

  it("a second run is a no-op: same bytes, same config_version, no backup, no reload", async () => {
    const before = pveConf();
    const kept = backups();
    tb.resetCounters();
    const r = await run(push311);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "votes already applied on pve1: pve1=3 pve2=1 pve3=1\n");
    assert.match(r.stderr, /already applied: the votes match, config_version 2 kept; nothing written/);
    assert.equal(pveConf(), before);
    assert.equal(readConfigVersion(pveConf()), 2);
    assert.deepEqual(backups(), kept);
    await tb.pmxcfs.settle();
    assert.equal(tb.counters().pmxcfsReloads, 0);
  });

  it("with 3/1/1, node 1 stays quorate when nodes 2 and 3 stop", async () => {
    await Promise.all([tb.stopCorosync("pve2"), tb.stopCorosync("pve3")]);
    const alone = await tb.waitForQuorum({ nodes: ["pve1"], members: 1, quorate: true, timeoutMs: 20_000 });
    assert.equal(alone.pve1?.totalVotes, 3);
    assert.equal(alone.pve1?.expectedVotes, 5);
    assert.equal(alone.pve1?.quorum, 3);
    await Promise.all([tb.startCorosync("pve2"), tb.startCorosync("pve3")]);
    await tb.waitForQuorum({ members: 3, timeoutMs: 30_000 });
  });

  it("refuses a nodelist that drifted from the stack, writing nothing", async () => {
    const before = pveConf();
    const kept = backups();
    const r = await run(drifted);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refusing to change \/etc\/pve\/corosync\.conf; nothing was written/);
    assert.match(
      r.stderr,
      /The cluster's nodelist differs from the stack: pve3 has ring0_addr 10\.213\.61\.13, expected 10\.213\.61\.99\. Fix: make the stack's hosts match the cluster/,
    );
    assert.equal(pveConf(), before);
    assert.deepEqual(backups(), kept);
    assert.equal(existsSync(lockDir()), false, "lock released");
    assertCorosyncAccepts(pveConf());
  });

  it("refuses a host whose key is not the pinned one, before any command runs", async () => {
    const before = pveConf();
    const sessions = clientSessions(tb);
    const r = await tb.ssh("pve1", push411.create, {
      stdin: push411.stdin,
      hostKey: tb.node("pve2").hostKey,
    });
    assert.equal(r.code, 255);
    assert.match(r.stderr, /Host key verification failed/);
    assert.equal(r.stdout, "");
    assert.equal(clientSessions(tb), sessions, "no session was opened");
    assert.equal(pveConf(), before);
  });

  it("takes Proxmox's corosync.conf lock: fails clearly after its bound while held, proceeds once released", async () => {
    const before = pveConf();
    mkdirSync(lockDir());
    const held = await run(quick411);
    assert.equal(held.code, 1);
    assert.match(
      held.stderr,
      /corosync\.conf is locked by another operation \(pvecm add\/delnode\?\) for 3s: \/etc\/pve\/priv\/lock\/file-corosync_conf\..*rmdir \/etc\/pve\/priv\/lock\/file-corosync_conf/,
    );
    assert.equal(pveConf(), before);
    assert.equal(existsSync(lockDir()), true, "someone else's lock is left alone");
    assertCorosyncAccepts(pveConf());

    // Released while the push retries: it goes ahead (2 → 3, 4/1/1).
    const release = setTimeout(() => rmdirSync(lockDir()), 1500);
    try {
      const r = await run(push411);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "votes applied on pve1 (config_version 2 -> 3): pve1=4 pve2=1 pve3=1\n");
    } finally {
      clearTimeout(release);
    }
    await waitForVotes(tb, ALL, { pve1: 4, pve2: 1, pve3: 1 }, 5000);
    assert.equal(existsSync(lockDir()), false);
  });

  it("an SSH session cut during the wait leaves the old or the new file, never a partial one; the lock is released", async () => {
    // Without the pmxcfs double nothing reloads corosync, so the script sits in its wait step (bound 8 s).
    await tb.pmxcfs.stop();
    const before = pveConf();
    const after = setVotes(before, { pve1: 5, pve2: 1, pve3: 1 }, { expectNodes: expectNodes() }).text;
    const t0 = Date.now();
    const session = run(quick511, "create", 60_000);
    // Cut the session (kill the ssh client, as a dying `pulumi up` would) once the rename has happened.
    await tb.waitFor(() => pveConf() !== before, { timeoutMs: 20_000, what: "the new file to be written" });
    const clients = pidsInNetns(tb.clientNetns).filter((pid) => procComm(pid) === "ssh");
    assert.equal(clients.length, 1, "one ssh client");
    process.kill(clients[0]!, "SIGKILL");
    const cut = await session;
    assert.equal(cut.signal, "SIGKILL");
    const now = pveConf();
    assert.ok(now === before || now === after, "old or new file, nothing else");
    assert.equal(now, after, "the cut came after the rename");
    assertCorosyncAccepts(now);
    assert.equal(existsSync(lockDir()), true, "the script on the host still holds the lock in its wait step");
    // The script on the host finishes its bounded wait, fails, and its exit trap releases the lock.
    await tb.waitFor(() => !existsSync(lockDir()), { timeoutMs: 20_000, what: "the lock to be released" });
    assert.ok(Date.now() - t0 < 20_000);
    await tb.waitFor(() => leftoverTemp().length === 0, { timeoutMs: 5000, what: "temp files to go" });
    // pmxcfs back: the file reaches every node; the push run again finds nothing to do.
    tb.pmxcfs.start();
    await waitForVotes(tb, ALL, { pve1: 5, pve2: 1, pve3: 1 }, 15_000);
    const again = await run(push511);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, "votes already applied on pve1: pve1=5 pve2=1 pve3=1\n");
  });

  it("when corosync does not confirm in time, it fails saying what to check and gives a rollback that works", async () => {
    await tb.pmxcfs.stop(); // nothing copies the file or reloads corosync: the new votes never show
    const before = pveConf();
    const r = await run(quick411);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /gave up after 8s waiting for corosync to report the new votes .*check `journalctl -b -u corosync -u pve-cluster` and `corosync-cfgtool -s` on each node/,
    );
    const hint =
      /the new \/etc\/pve\/corosync\.conf \(config_version 5\) is in place; to roll back, run: (cp \S+\.v4\.rollback \/etc\/pve\/corosync\.conf\.new && mv \/etc\/pve\/corosync\.conf\.new \/etc\/pve\/corosync\.conf) /.exec(
        r.stderr,
      );
    assert.ok(hint, r.stderr);
    assert.equal(existsSync(lockDir()), false, "lock released");
    const written = pveConf();
    assert.equal(
      written,
      setVotes(before, { pve1: 4, pve2: 1, pve3: 1 }, { expectNodes: expectNodes() }).text,
    );
    // The rollback it names: the previous votes (5/1/1) with config_version 6, so pmxcfs applies it.
    const back = await tb.ssh("pve1", hint[1]!);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(pveConf(), setVotes(written, { pve1: 5, pve2: 1, pve3: 1 }).text);
    assert.equal(readConfigVersion(pveConf()), 6);
    assertCorosyncAccepts(pveConf());
    tb.pmxcfs.start();
    await tb.pmxcfs.settle(15_000);
    await waitForVotes(tb, ALL, { pve1: 5, pve2: 1, pve3: 1 }, 10_000);
    for (const n of ALL)
      assert.equal(readConfigVersion(await tb.readFile(n, "/etc/corosync/corosync.conf")), 6);
  });

  it("succeeds for the live nodes while node 3 is powered off (node 3 keeps its old file)", async () => {
    await tb.stopNode("pve3");
    await tb.waitForQuorum({ nodes: ["pve1", "pve2"], members: 2, timeoutMs: 20_000 });
    const stale = await tb.readFile("pve3", "/etc/corosync/corosync.conf");
    const r = await run(push311);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "votes applied on pve1 (config_version 6 -> 7): pve1=3 pve2=1 pve3=1\n");
    await waitForVotes(tb, ["pve1", "pve2"], { pve1: 3, pve2: 1 }, 5000);
    assert.equal((await tb.quorum("pve1")).expectedVotes, 5);
    assert.equal(await tb.readFile("pve3", "/etc/corosync/corosync.conf"), stale);
    assert.equal(readConfigVersion(stale), 6);
    assertCorosyncAccepts(pveConf());
    // Bring node 3 back by hand here (test/integration/rejoin.test.ts shows it doing so by itself).
    await tb.bootNode("pve3", { corosync: false });
    await isolateNode(tb, "pve3");
    await tb.writeCorosyncConf(pveConf(), ["pve3"]);
    await tb.startCorosync("pve3");
    await tb.waitForQuorum({ members: 3, timeoutMs: 30_000 });
  });

  it("delete restores 1/1/1 the same safe way; node 1 alone is then not quorate and a push says how to recover", async () => {
    const before = pveConf();
    tb.resetCounters();
    const r = await run(push311, "delete");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      "votes reset to 1 per node on pve1 (config_version 7 -> 8): pve1=1 pve2=1 pve3=1\n",
    );
    assert.equal(pveConf(), resetVotes(before, { expectNodes: expectNodes() }).text);
    assertCorosyncAccepts(pveConf());
    await waitForVotes(tb, ALL, { pve1: 1, pve2: 1, pve3: 1 }, 5000);
    for (const n of ALL) assert.equal((await tb.quorum(n)).expectedVotes, 3, n);
    assert.equal(tb.counters().totalCorosyncStarts, 0);
    const again = await run(push311, "delete");
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, "votes already applied on pve1: pve1=1 pve2=1 pve3=1\n");

    await Promise.all([tb.stopCorosync("pve2"), tb.stopCorosync("pve3")]);
    await tb.waitForQuorum({ nodes: ["pve1"], members: 1, quorate: false, timeoutMs: 20_000 });
    const unchanged = pveConf();
    const refused = await run(push311);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /the cluster is not quorate, so \/etc\/pve is read-only/);
    // Weighted mode, on the always-on host: the only side where lowering expected votes is safe, and only
    // while the others are off.
    assert.match(
      refused.stderr,
      /on pve1, and on no other host, run 'pvecm expected' with the votes pve1 holds/,
    );
    assert.doesNotMatch(refused.stderr, /pvecm expected 1/);
    assert.equal(pveConf(), unchanged);
    assert.equal(existsSync(lockDir()), false);
  });
});
