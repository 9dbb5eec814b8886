// Quorum safety on real corosync (issue 13): the vote push writes the stack's quorum section in the same
// locked edit as the votes and runs the quorum check on the host before every write, with the members
// corosync reports at that moment. The exact commands VoteWeights registers (captured under the SDK's mocks)
// run over SSH on the always-on node; the pmxcfs double propagates /etc/pve/corosync.conf. One testbed for
// the file; each test leaves all three nodes up. Needs root, corosync and openssh (a missing piece fails the
// before hook, never a skip).
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { loadModel } from "../../core/config";
import { readConfigVersion } from "../../core/corosync";
import type { Model, PowerProfile } from "../../core/model";
import { assertCorosyncAccepts } from "../helpers/corosync-validate";
import { votedConf, startTestbed, type Testbed } from "./testbed";
import { captureVoteWeights, isolateNode, waitForVotes, type CapturedCommand } from "./votes-harness";

const ALL = ["pve1", "pve2", "pve3"];

describe("integration: quorum safety of the vote push (real corosync)", function () {
  this.timeout(180_000);
  let tb: Testbed;
  let push311: CapturedCommand;
  let push311Wfa: CapturedCommand;
  let pushDefault: CapturedCommand;

  const pveConf = () => readFileSync(tb.pvePath("corosync.conf"), "utf8");
  const run = (cmd: CapturedCommand, which: "create" | "delete" = "create") =>
    tb.ssh("pve1", which === "create" ? cmd.create : (cmd.delete ?? ""), {
      stdin: cmd.stdin,
      timeoutMs: 120_000,
    });

  /** The testbed's nodes as a stack (pve1 always-on), with these votes and quorum settings. */
  function stack(votes: readonly number[], quorum: Record<string, unknown> = {}): Model {
    const powers: PowerProfile[] = ["always-on", "sometimes-on", "usually-off"];
    const loaded = loadModel({
      values: {
        clusterName: "homelab",
        hosts: tb.nodes.map((n, i) => ({
          name: n.name,
          address: n.address,
          power: powers[i],
          votes: votes[i],
          hostKey: n.hostKey,
        })),
        quorum,
        sshPrivateKey: "[secret]",
        rootPassword: "[secret]",
      },
      secretKeys: new Set(["sshPrivateKey", "rootPassword"]),
    });
    if (!loaded.model) throw new Error(`stack does not load: ${JSON.stringify(loaded.findings)}`);
    return loaded.model;
  }

  /** corosync's own view on `node`: cmap value of a key, or undefined when the key does not exist. */
  async function cmapValue(node: string, key: string): Promise<string | undefined> {
    const r = await tb.corosyncTool(node, "corosync-cmapctl", ["-g", key]);
    if (r.code !== 0) {
      // corosync-cmapctl -g exits 1 for a key that does not exist; anything else is a failure.
      if (/Failed to find|does not exist|CS_ERR_NOT_EXIST/i.test(r.stdout + r.stderr)) return undefined;
      throw new Error(`corosync-cmapctl -g ${key} on ${node}: exit ${r.code} ${r.stdout}${r.stderr}`);
    }
    return /= (.*)$/m.exec(r.stdout)?.[1];
  }

  before(async function () {
    this.timeout(120_000);
    // The live file carries expected_votes: 3, as a hand edit might have left it.
    tb = await startTestbed({
      subnet: "10.213.64.0/24",
      corosyncConf: votedConf([1, 1, 1], { extraQuorum: "  expected_votes: 3" }),
    });
    for (const n of ALL) await isolateNode(tb, n);
    push311 = await captureVoteWeights(stack([3, 1, 1]));
    push311Wfa = await captureVoteWeights(stack([3, 1, 1], { waitForAll: true }));
    pushDefault = await captureVoteWeights(stack([1, 1, 1], { mode: "default" }));
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed" && tb) console.error(tb.dumpLogs());
  });

  after(async () => {
    await tb?.teardown();
  });

  it("live expected_votes: 3 → the push writes the stack's quorum section; pve-mid + pve-high are never quorate", async () => {
    assert.match(pveConf(), /expected_votes: 3/);
    const r = await run(push311);
    assert.equal(r.code, 0, r.stderr);
    const after = pveConf();
    assert.doesNotMatch(after, /expected_votes/, "the stack sets no expected_votes: the line is gone");
    assert.match(after, /quorum_votes: 3/);
    assertCorosyncAccepts(after);
    await waitForVotes(tb, ALL, { pve1: 3, pve2: 1, pve3: 1 }, 10_000);
    for (const n of ALL) {
      const q = await tb.quorum(n);
      assert.deepEqual([q.expectedVotes, q.quorum], [5, 3], n);
      assert.equal(await cmapValue(n, "quorum.expected_votes"), undefined, n);
    }
    // The proof: without pve1, pve2 + pve3 (2 of 5) are not quorate.
    await tb.stopCorosync("pve1");
    const others = await tb.waitForQuorum({
      nodes: ["pve2", "pve3"],
      members: 2,
      quorate: false,
      timeoutMs: 30_000,
    });
    assert.equal(others.pve2?.totalVotes, 2);
    await tb.startCorosync("pve1");
    await tb.waitForQuorum({ members: 3, timeoutMs: 30_000 });
  });

  it("a stack that keeps expected_votes: 3 with 3/1/1 is refused before anything is written", async () => {
    // The config findings already flag this stack; the host check refuses it on its own too.
    const keeps = await captureVoteWeights(stack([3, 1, 1], { expectedVotes: 3 }));
    const before = pveConf();
    const r = await run(keeps);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refusing to change \/etc\/pve\/corosync\.conf; nothing was written/);
    assert.match(
      r.stderr,
      /Without the always-on hosts, the others \(pve2, pve3\) would hold 2 of 3 expected votes; quorum is 2 when they boot without the always-on hosts, so they could be quorate on their own/,
    );
    assert.equal(pveConf(), before);
  });

  it("waitForAll: true → wait_for_all: 1 on every node (corosync-cmapctl); dropped again when the stack drops it", async () => {
    const r = await run(push311Wfa);
    assert.equal(r.code, 0, r.stderr);
    assert.match(pveConf(), /\n {2}wait_for_all: 1\n/);
    assertCorosyncAccepts(pveConf());
    await tb.waitFor(
      async () => {
        for (const n of ALL) if ((await cmapValue(n, "quorum.wait_for_all")) !== "1") return false;
        return true;
      },
      { timeoutMs: 15_000, what: "quorum.wait_for_all = 1 on every node" },
    );
    const version = readConfigVersion(pveConf());
    const back = await run(push311);
    assert.equal(back.code, 0, back.stderr);
    assert.doesNotMatch(pveConf(), /wait_for_all/);
    assert.equal(readConfigVersion(pveConf()), version + 1);
    await tb.waitFor(
      async () => {
        for (const n of ALL) if ((await cmapValue(n, "quorum.wait_for_all")) !== undefined) return false;
        return true;
      },
      { timeoutMs: 15_000, what: "quorum.wait_for_all gone on every node" },
    );
  });

  it("nodes 2 and 3 stopped at 3/1/1: the delete (reset to 1/1/1) refuses, file unchanged, node 1 still quorate", async () => {
    await Promise.all([tb.stopCorosync("pve2"), tb.stopCorosync("pve3")]);
    await tb.waitForQuorum({ nodes: ["pve1"], members: 1, quorate: true, timeoutMs: 30_000 });
    const before = pveConf();
    const r = await run(push311, "delete");
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stderr,
      /The hosts corosync reports as members right now \(pve1\) would hold 1 of 3 expected votes under the new file; quorum would be 2, so they would lose quorum.*Fix: power on the other hosts/,
    );
    assert.equal(pveConf(), before);
    const q = await tb.quorum("pve1");
    assert.deepEqual([q.quorate, q.totalVotes, q.expectedVotes], [true, 3, 5]);
  });

  it("the same for a switch to default mode (1/1/1) with only node 1 up", async () => {
    const before = pveConf();
    const r = await run(pushDefault);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /\(pve1\) would hold 1 of 3 expected votes under the new file; quorum would be 2/);
    assert.equal(pveConf(), before);
    assert.equal((await tb.quorum("pve1")).quorate, true);
    // With the others back the very same switch goes through, and back to 3/1/1 again.
    await Promise.all([tb.startCorosync("pve2"), tb.startCorosync("pve3")]);
    await tb.waitForQuorum({ members: 3, timeoutMs: 30_000 });
    const ok = await run(pushDefault);
    assert.equal(ok.code, 0, ok.stderr);
    await waitForVotes(tb, ALL, { pve1: 1, pve2: 1, pve3: 1 }, 10_000);
    const weighted = await run(push311);
    assert.equal(weighted.code, 0, weighted.stderr);
    await waitForVotes(tb, ALL, { pve1: 3, pve2: 1, pve3: 1 }, 10_000);
  });

  it("counts a device section's votes: 3/1/1 + 1 device vote → pve1 alone 3 of 6 (quorum 4), refused", async () => {
    const plain = pveConf();
    const withDevice = plain
      .replace(
        "  provider: corosync_votequorum",
        "  device {\n    model: net\n    votes: 1\n  }\n  provider: corosync_votequorum",
      )
      .replace(/config_version: (\d+)/, (_, v: string) => `config_version: ${Number(v) + 1}`);
    await tb.writePveCorosyncConf(withDevice);
    await tb.waitFor(async () => (await tb.quorum("pve1")).expectedVotes === 6, {
      timeoutMs: 15_000,
      what: "corosync to count the device's vote in expected votes",
    });
    const r = await run(push311);
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stderr,
      /The always-on hosts \(pve1\) would hold 3 of 6 expected votes \(6 counts the quorum device's 1 vote\(s\)\); quorum is 4, so they could not stay quorate on their own/,
    );
    assert.equal(pveConf(), withDevice);
    // Back to no device (the testbed has no qnetd): the push is content again.
    await tb.writePveCorosyncConf(
      plain.replace(/config_version: (\d+)/, (_, v: string) => `config_version: ${Number(v) + 2}`),
    );
    await tb.waitFor(async () => (await tb.quorum("pve1")).expectedVotes === 5, {
      timeoutMs: 15_000,
      what: "expected votes back to 5",
    });
    const again = await run(push311);
    assert.equal(again.code, 0, again.stderr);
  });
});
