// Membership lifecycle on the real corosync + sshd testbed with the Proxmox stand-in (a TEST DOUBLE for
// pvecm/pvesh, test/integration/pve-standin): every `pulumi up` below is the whole program (index.ts) run under
// the SDK's mocks twice — the stack as deployed, the stack as edited — and the steps of that ONE update are
// derived from the two registered graphs in the engine's order (engine-order.ts), then run over SSH exactly as
// remote.Command would. In order, on four nodes:
//   the 3/1/1 cluster is built → pve-high stopped and retired in one up → pve-high reinstalled and re-added →
//   a fourth host joins and pve-low is raised to 4 (4/1/1/1).
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { analyzeStack } from "../../core/analyze";
import { readNodelist } from "../../core/corosync";
import { runProgram, type ProgramResult } from "../../plan/engine";
import { TEST_SECRET_KEYS } from "../fixtures/stacks";
import { mustPrecede, upSteps, type UpStep } from "./engine-order";
import { installStandin, type Standin } from "./pve-standin";
import { startTestbed, type Testbed } from "./testbed";
import { isolateNode } from "./votes-harness";

const REPO = path.resolve(__dirname, "../..");
const SUBNET = "10.213.83.0/24";
const NODES = ["pve-low", "pve-mid", "pve-high", "pve-four"];
const PASSWORD = "lifecycle-root-pw";
const M = "homelab-membership";

interface HostEntry {
  name: string;
  power: string;
  votes: number;
}

describe("integration: membership lifecycle in one `pulumi up` each (Proxmox stand-in on real corosync)", function () {
  this.timeout(180_000);
  let tb: Testbed;
  let pve: Standin;
  let fingerprint = "";
  let deployed: ProgramResult | undefined;

  /** The stack's config for these hosts (and retired hosts), as a stack file holds it. */
  function stackValues(hosts: HostEntry[], retiredHosts: { name: string; nodeId?: number }[] = []) {
    return {
      clusterName: "homelab",
      hosts: hosts.map((h) => {
        const n = tb.node(h.name);
        return { ...h, address: n.address, nodeId: NODES.indexOf(h.name) + 1, hostKey: n.hostKey };
      }),
      retiredHosts,
      sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-used-the-testbed-has-its-own\n",
      rootPassword: PASSWORD,
    };
  }

  const program = (values: Record<string, unknown>) =>
    runProgram({
      projectDir: REPO,
      stack: "lifecycle",
      config: values,
      secretKeys: [...TEST_SECRET_KEYS],
      preview: false,
      // What the create command printed on the cluster (the fingerprint joins pin).
      state: ({ name }) =>
        name === `${M}-create` ? { stdout: `${fingerprint}\n`, stderr: "" } : { stdout: "" },
    });

  const nodeAt = (address: string | undefined) => {
    const n = tb.nodes.find((x) => x.address === address);
    assert.ok(n, `no testbed node at ${address}`);
    return n.name;
  };

  /** Run the steps in order over SSH; quorum of `watch` is sampled every 100 ms meanwhile. */
  async function applyUp(steps: readonly UpStep[], watch: readonly string[]) {
    const samples: string[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        for (const n of watch) {
          const q = await tb.quorum(n).catch((e: Error) => ({ quorate: false, error: e.message }));
          if (!q.quorate) samples.push(`${n} not quorate: ${JSON.stringify(q)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const ran: string[] = [];
    try {
      for (const s of steps) {
        if (s.script === undefined) continue;
        const node = nodeAt(s.host);
        await isolateNode(tb, node);
        const r = await tb.ssh(node, s.script, { stdin: s.stdin ?? "", timeoutMs: 170_000 });
        assert.equal(r.code, 0, `${s.kind} ${s.name} on ${node}: ${r.stderr}`);
        ran.push(`${s.kind} ${s.name}`);
      }
    } finally {
      polling = false;
      await poller;
    }
    assert.deepEqual(samples, [], "the live members stayed quorate throughout");
    return ran;
  }

  /** The steps as "kind name", and a check that `first` comes before `then` in them. */
  const described = (steps: readonly UpStep[]) => steps.map((st) => `${st.kind} ${st.name}`);
  function assertBefore(steps: readonly UpStep[], first: string, then: string) {
    const d = described(steps);
    assert.ok(
      d.indexOf(first) >= 0 && d.indexOf(first) < d.indexOf(then),
      `${first} before ${then}: ${d.join(", ")}`,
    );
  }

  const nodelist = async () =>
    readNodelist(await tb.readFile("pve-low", "/etc/pve/corosync.conf")).map((n) => [n.name, n.quorumVotes]);

  before(async function () {
    this.timeout(120_000);
    tb = await startTestbed({ subnet: SUBNET, nodes: NODES });
    pve = await installStandin(tb, { rootPassword: PASSWORD });
    for (const n of NODES) await isolateNode(tb, n);
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed" && tb) console.error(tb.dumpLogs());
  });

  after(async () => {
    await tb?.teardown();
  });

  const HOMELAB: HostEntry[] = [
    { name: "pve-low", power: "always-on", votes: 3 },
    { name: "pve-mid", power: "sometimes-on", votes: 1 },
    { name: "pve-high", power: "usually-off", votes: 1 },
  ];

  it("builds the quorate 3/1/1 cluster with the first `pulumi up` (every step a create)", async () => {
    const create = await program(stackValues(HOMELAB));
    const first = upSteps(undefined, create);
    // The create runs alone first: its stdout (the fingerprint) feeds every join.
    const r = await tb.ssh("pve-low", first[0]!.script!, { stdin: "", timeoutMs: 170_000 });
    assert.equal(first[0]!.name, `${M}-create`);
    assert.equal(r.code, 0, r.stderr);
    fingerprint = r.stdout.trim();
    deployed = await program(stackValues(HOMELAB));
    const steps = upSteps(undefined, deployed).slice(1);
    assert.ok(steps.every((s) => s.kind === "create"));
    await applyUp(steps, ["pve-low"]);
    assert.deepEqual(await nodelist(), [
      ["pve-high", 1],
      ["pve-low", 3],
      ["pve-mid", 1],
    ]);
    assert.deepEqual(await tb.votes("pve-low"), { "pve-low": 3, "pve-mid": 1, "pve-high": 1 });
  });

  it("removes stopped pve-high in ONE `pulumi up`: delnode before the vote push, nodelist pve-low + pve-mid, votes 3/1, quorate throughout", async () => {
    await tb.stopNode("pve-high");
    await tb.waitForQuorum({ nodes: ["pve-low", "pve-mid"], members: 2 });
    const retired = await program(stackValues(HOMELAB.slice(0, 2), [{ name: "pve-high", nodeId: 3 }]));
    const steps = upSteps(deployed, retired);
    // How the order comes about: the retire step is new (a create), the vote push's stdin lost pve-high (an
    // update), the member/join/rejoin commands of pve-high left the program (deletes, which the engine runs last).
    assert.deepEqual(described(steps), [
      `create ${M}-retire-pve-high`,
      "update homelab-qdevice-config",
      "update homelab-votes-push",
      "delete homelab-rejoin-pve-high",
      `delete ${M}-member-pve-high`,
      `delete ${M}-join-pve-high`,
    ]);
    // Not just this schedule: the push depends on the retire step in the graph, so every schedule keeps it.
    assert.ok(mustPrecede(retired, `${M}-retire-pve-high`, "homelab-votes-push"));
    const retire = steps[0]!;
    assert.equal(nodeAt(retire.host), "pve-low");
    assert.equal(
      retire.stdin,
      "remove pve-high (nodeid 3) from cluster homelab: pvecm delnode pve-high on pve-low\n",
    );
    // Why the order matters: the push alone refuses the nodelist that still holds pve-high.
    const push = steps.find((st) => st.name === "homelab-votes-push")!;
    const early = await tb.ssh("pve-low", push.script!, { stdin: push.stdin ?? "" });
    assert.notEqual(early.code, 0);
    assert.match(early.stderr, /pve-high/);

    const ran = await applyUp(steps, ["pve-low", "pve-mid"]);
    assert.deepEqual(ran, [
      `create ${M}-retire-pve-high`,
      "update homelab-qdevice-config",
      "update homelab-votes-push",
      `delete ${M}-member-pve-high`,
    ]);
    assert.deepEqual(pve.writes("pve-low").filter((w) => w === "pvecm delnode").length, 1, "one delnode");
    await tb.pmxcfs.settle();
    assert.deepEqual(await nodelist(), [
      ["pve-low", 3],
      ["pve-mid", 1],
    ]);
    for (const n of ["pve-low", "pve-mid"]) {
      assert.deepEqual(await tb.votes(n), { "pve-low": 3, "pve-mid": 1 });
      const q = await tb.quorum(n);
      assert.equal(q.quorate, true);
      assert.equal(q.expectedVotes, 4);
    }
    // Re-running the retire step (e.g. the next `pulumi up --refresh`-less retry) finds nothing to do.
    const again = await tb.ssh("pve-low", retire.script!, { stdin: retire.stdin });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /pve-high: not a member of cluster homelab/);
    deployed = retired;
  });

  it("re-adds pve-high after a reinstall (new host key and certificate): join, declared votes, root SSH from the others works", async () => {
    const oldFingerprint = pve.fingerprint("pve-high");
    await pve.reinstall("pve-high");
    // The stale entry Proxmox keeps after delnode: /etc/pve/nodes/pve-high/ssh_known_hosts has the OLD key.
    const stale = await pve.sshLikeProxmox("pve-low", "pve-high", "hostname");
    assert.notEqual(stale.code, 0);
    assert.match(stale.stderr, /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);

    const readded = await program(stackValues(HOMELAB));
    const steps = upSteps(deployed, readded);
    // The join and member commands are new again (creates), the push and the QDevice step see pve-high back in
    // their stdin (updates), the retire step left the program (a delete without script: nothing runs).
    assert.deepEqual(described(steps).sort(), [
      `create ${M}-join-pve-high`,
      `create ${M}-member-pve-high`,
      "create homelab-rejoin-pve-high",
      `delete ${M}-retire-pve-high`,
      "update homelab-qdevice-config",
      "update homelab-votes-push",
    ]);
    assertBefore(steps, `create ${M}-join-pve-high`, `create ${M}-member-pve-high`);
    assertBefore(steps, `create ${M}-member-pve-high`, "update homelab-votes-push");
    assert.ok(mustPrecede(readded, `${M}-member-pve-high`, "homelab-votes-push"));
    assert.equal(steps.at(-1)!.kind, "delete");
    const join = steps.find((st) => st.name === `${M}-join-pve-high`)!;
    assert.equal(join.host, tb.node("pve-high").address, "the join connects to the reinstalled host");
    await applyUp(steps, ["pve-low", "pve-mid"]);
    await tb.pmxcfs.settle();
    assert.deepEqual(await tb.votes("pve-low"), { "pve-low": 3, "pve-mid": 1, "pve-high": 1 });
    assert.notEqual(pve.fingerprint("pve-high"), oldFingerprint, "pvecm add made a new node certificate");
    const known = await tb.readFile("pve-low", "/etc/pve/nodes/pve-high/ssh_known_hosts");
    assert.equal(known, `pve-high ${tb.node("pve-high").hostKey}`);
    for (const from of ["pve-low", "pve-mid"]) {
      const r = await pve.sshLikeProxmox(from, "pve-high", "hostname");
      assert.equal(r.code, 0, `${from} → pve-high: ${r.stderr}`);
      assert.equal(r.stdout.trim(), "pve-high");
      const back = await pve.sshLikeProxmox("pve-high", from, "hostname");
      assert.equal(back.code, 0, `pve-high → ${from}: ${back.stderr}`);
    }
    deployed = readded;
  });

  it("the plan refuses 3/1/1/1 for four hosts with the always-on intent finding, naming 4/1/1/1", () => {
    const hosts = [...HOMELAB, { name: "pve-four", power: "usually-off", votes: 1 }];
    const { findings } = analyzeStack({ values: stackValues(hosts), secretKeys: TEST_SECRET_KEYS });
    const intent = findings.find((f) => f.code === "votes.always-on-not-quorate");
    assert.ok(intent, JSON.stringify(findings));
    assert.equal(intent.level, "error");
    assert.equal(intent.path, "hosts[0].votes");
    assert.match(intent.message, /pve-low alone has 3 of 6 expected votes, below the quorum of 4/);
    assert.match(intent.fix, /set hosts\[0\]\.votes to 4: votes 4\/1\/1\/1 give expected 7, quorum 4/);
  });

  it("joins a fourth host with 1 vote and raises pve-low to 4 in ONE `pulumi up`: 4/1/1/1 live, quorate throughout, pve-low alone quorate", async () => {
    const hosts = [
      { ...HOMELAB[0]!, votes: 4 },
      ...HOMELAB.slice(1),
      { name: "pve-four", power: "usually-off", votes: 1 },
    ];
    const grown = await program(stackValues(hosts));
    const steps = upSteps(deployed, grown);
    // pve-low's votes are an input of the create command too (pvecm create --votes): it re-runs and finds the
    // cluster there ("nothing to create"). The fourth host's join and member check come before the push.
    assert.deepEqual(described(steps).sort(), [
      `create ${M}-join-pve-four`,
      `create ${M}-member-pve-four`,
      "create homelab-rejoin-pve-four",
      `update ${M}-create`,
      "update homelab-qdevice-config",
      "update homelab-votes-push",
    ]);
    assertBefore(steps, `create ${M}-join-pve-four`, `create ${M}-member-pve-four`);
    assertBefore(steps, `create ${M}-member-pve-four`, "update homelab-votes-push");
    assert.ok(mustPrecede(grown, `${M}-member-pve-four`, "homelab-votes-push"));
    const push = steps.find((st) => st.name === "homelab-votes-push")!;
    assert.match(push.stdin ?? "", /^pve-low nodeid=1 ring0_addr=\S+ votes=4$/m);
    await applyUp(steps, ["pve-low", "pve-mid", "pve-high"]);
    await tb.pmxcfs.settle();
    const all = { "pve-low": 4, "pve-mid": 1, "pve-high": 1, "pve-four": 1 };
    for (const n of NODES) assert.deepEqual(await tb.votes(n), all, n);
    const q = await tb.quorum("pve-low");
    assert.equal(q.expectedVotes, 7);
    assert.equal(q.quorum, 4);
    for (const n of ["pve-mid", "pve-high", "pve-four"]) await tb.stopNode(n);
    const alone = await tb.waitForQuorum({ nodes: ["pve-low"], members: 1, timeoutMs: 30_000 });
    assert.equal(alone["pve-low"]!.quorate, true);
    assert.equal(alone["pve-low"]!.totalVotes, 4);
  });
});
