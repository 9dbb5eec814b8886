// VoteWeights and RejoinGuard under the SDK's mocks: exact inputs of every command (connection, scripts, stdin,
// settings), how many and where, what a vote change changes, and the dependencies the engine is told about.
import { strict as assert } from "node:assert";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { RejoinGuard, rejoinGuardPlan } from "../../components/RejoinGuard";
import { VoteWeights, votePushPlan } from "../../components/VoteWeights";
import { loadModel } from "../../core/config";
import type { Model } from "../../core/model";
import { rejoinInstallScript } from "../../core/scripts/rejoin";
import { votesApplyScript, votesResetScript } from "../../core/scripts/votes";
import { KEY_HIGH, KEY_LOW, KEY_MID, TEST_SECRET_KEYS, withEdit } from "../fixtures/stacks";
import { isSecret, promiseOf, recordMocks, type Registered } from "../helpers/mocks";

type Edit = Parameters<typeof withEdit>[0];
type Inputs = Record<string, unknown>;

const COMMAND = "command:remote:Command";
const PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAmocks\n-----END OPENSSH PRIVATE KEY-----\n";

function model(edit: Edit = () => {}): Model {
  const loaded = loadModel({ values: withEdit(edit), secretKeys: TEST_SECRET_KEYS });
  assert.ok(loaded.model, JSON.stringify(loaded.findings));
  return loaded.model;
}

/** Fresh mocks; `build` constructs resources and returns outputs to await; every registration is recorded. */
async function run(
  build: () => pulumi.Output<unknown>[],
): Promise<{ registered: Registered[]; commands: Registered[] }> {
  const recorder = await recordMocks();
  await Promise.all(build().map(promiseOf));
  return { registered: recorder.registered, commands: recorder.ofType(COMMAND) };
}

const votesOf = (
  m: Model,
  opts: Partial<ConstructorParameters<typeof VoteWeights>[1]> = {},
  ro: pulumi.ComponentResourceOptions = {},
) =>
  run(() => {
    const c = new VoteWeights(
      "homelab-votes",
      { model: m, sshPrivateKey: pulumi.secret(PRIVATE_KEY), ...opts },
      ro,
    );
    return [c.command.urn, c.urn];
  });

const guardOf = (m: Model, hosts?: readonly string[], ro: pulumi.ComponentResourceOptions = {}) =>
  run(() => {
    const c = new RejoinGuard(
      "homelab-rejoin",
      { model: m, sshPrivateKey: pulumi.secret(PRIVATE_KEY), ...(hosts ? { hosts } : {}) },
      ro,
    );
    return [c.urn, ...Object.values(c.commands).map((cmd) => cmd.urn)];
  });

/** The connection as the provider gets it: the whole object is secret (it holds the private key). */
function connectionOf(cmd: Registered): Inputs {
  assert.ok(isSecret(cmd.inputs.connection), "connection must reach the engine as a secret");
  const conn = cmd.inputs.connection.value as Inputs;
  return conn;
}

const HOMELAB_LAYOUT = [
  "pve-high nodeid=3 ring0_addr=192.168.1.23 votes=1",
  "pve-low nodeid=1 ring0_addr=192.168.1.21 votes=3",
  "pve-mid nodeid=2 ring0_addr=192.168.1.22 votes=1",
  "",
].join("\n");

describe("VoteWeights (mocks)", () => {
  it("registers one command, on the always-on host, with the pinned host key, the scripts and the layout on stdin", async () => {
    const { registered, commands } = await votesOf(model());
    assert.deepEqual(registered.map((r) => [r.type, r.name]).sort(), [
      [COMMAND, "homelab-votes-push"],
      ["pve-homelab:cluster:VoteWeights", "homelab-votes"],
    ]);
    const [cmd] = commands;
    assert.ok(cmd);
    assert.deepEqual(connectionOf(cmd), {
      host: "192.168.1.21",
      port: 22,
      user: "root",
      privateKey: PRIVATE_KEY,
      hostKey: KEY_LOW,
      dialErrorLimit: 4,
      perDialTimeout: 15,
    });
    assert.deepEqual(
      { ...cmd.inputs, connection: "(checked above)" },
      {
        connection: "(checked above)",
        create: votesApplyScript("pve-low", ["pve-low"]),
        delete: votesResetScript("pve-low"),
        stdin: HOMELAB_LAYOUT,
        addPreviousOutputInEnv: false,
        logging: "stdoutAndStderr",
      },
    );
  });

  it("keeps the private key out of the scripts and stdin (it only travels in the secret connection)", async () => {
    const { commands } = await votesOf(model());
    for (const key of ["create", "update", "delete", "stdin"] as const) {
      const text = String(commands[0]?.inputs[key] ?? "");
      assert.ok(!text.includes("PRIVATE KEY") && !text.includes("b3BlbnNzaC1rZXktdjEAAAAAmocks"), key);
    }
  });

  it("a vote change changes only stdin: the same scripts, so it runs as an update with a readable diff", async () => {
    const before = (await votesOf(model())).commands[0]!;
    const after = (await votesOf(model((v) => (v.hosts[0]!.votes = 4)))).commands[0]!;
    assert.deepEqual({ ...after.inputs, stdin: "" }, { ...before.inputs, stdin: "" });
    assert.equal(after.inputs.stdin, HOMELAB_LAYOUT.replace("votes=3", "votes=4"));
    assert.equal(after.inputs.triggers, undefined, "no triggers: a change never replaces the command");
  });

  it("checks the always-on host alone only with weighted votes (not with 1 vote each plus a QDevice)", () => {
    const weighted = votePushPlan({ model: model() });
    assert.equal(weighted.create, votesApplyScript("pve-low", ["pve-low"]));
    const qdevice = votePushPlan({
      model: model((v) => {
        v.hosts[0]!.votes = 1;
        v.quorum = { mode: "qdevice", device: { address: "192.168.1.5", hostKey: KEY_HIGH } };
      }),
    });
    assert.equal(qdevice.create, votesApplyScript("pve-low", []));
    assert.notEqual(qdevice.create, weighted.create);
  });

  it("the script names the always-on hosts; another always-on host can run it", async () => {
    const m = model((v) => (v.hosts[1]!.power = "always-on"));
    const first = (await votesOf(m)).commands[0]!;
    assert.equal(first.inputs.create, votesApplyScript("pve-low", ["pve-low", "pve-mid"]));
    const mid = (await votesOf(m, { host: "pve-mid", lockSeconds: 5, waitSeconds: 9 })).commands[0]!;
    assert.equal(connectionOf(mid).host, "192.168.1.22");
    assert.equal(connectionOf(mid).hostKey, KEY_MID);
    assert.equal(
      mid.inputs.create,
      votesApplyScript("pve-mid", ["pve-low", "pve-mid"], { lockSeconds: 5, waitSeconds: 9 }),
    );
    assert.equal(mid.inputs.delete, votesResetScript("pve-mid", { lockSeconds: 5, waitSeconds: 9 }));
  });

  it("waits for what it is told to depend on (the membership component)", async () => {
    const { commands, registered } = await run(() => {
      const membership = new pulumi.ComponentResource(
        "pve-homelab:cluster:ClusterMembership",
        "homelab-members",
      );
      const join = new command.remote.Command(
        "homelab-members-join-pve-mid",
        { connection: { host: "192.168.1.22" }, create: "true" },
        { parent: membership },
      );
      const c = new VoteWeights(
        "homelab-votes",
        { model: model(), sshPrivateKey: pulumi.secret(PRIVATE_KEY) },
        { dependsOn: [membership] },
      );
      return [c.command.urn, join.urn];
    });
    const join = registered.find((r) => r.name === "homelab-members-join-pve-mid")!;
    const push = commands.find((c) => c.name === "homelab-votes-push")!;
    assert.ok(
      push.dependencies.some((u) => u.endsWith("::homelab-members-join-pve-mid")),
      `push depends on ${JSON.stringify(push.dependencies)}`,
    );
    assert.deepEqual(join.dependencies, []);
  });

  const bad: ReadonlyArray<readonly [string, Edit, { host?: string }, RegExp]> = [
    [
      "a host that is not always on",
      () => {},
      { host: "pve-high" },
      /host: pve-high is not an always-on host of the stack; use one of: pve-low/,
    ],
    ["an unknown host", () => {}, { host: "pve-zzz" }, /host: pve-zzz is not an always-on host/],
  ];
  for (const [what, edit, opts, message] of bad) {
    it(`refuses ${what} before registering anything`, () => {
      assert.throws(
        () => votePushPlan({ model: model(edit), ...opts }),
        (e: unknown) =>
          e instanceof pulumi.InputPropertiesError &&
          message.test(e.errors.map((x) => `${x.propertyPath}: ${x.reason}`).join("\n")),
      );
    });
  }
});

describe("RejoinGuard (mocks)", () => {
  it("registers one command per host that is not always on, each with its own pinned key, and none on the always-on host", async () => {
    const { registered, commands } = await guardOf(model());
    assert.deepEqual(registered.map((r) => [r.type, r.name]).sort(), [
      [COMMAND, "homelab-rejoin-pve-high"],
      [COMMAND, "homelab-rejoin-pve-mid"],
      ["pve-homelab:cluster:RejoinGuard", "homelab-rejoin"],
    ]);
    const expected: Record<string, [string, string]> = {
      "homelab-rejoin-pve-high": ["192.168.1.23", KEY_HIGH],
      "homelab-rejoin-pve-mid": ["192.168.1.22", KEY_MID],
    };
    for (const cmd of commands) {
      const [address, key] = expected[cmd.name]!;
      const host = cmd.name.replace("homelab-rejoin-", "");
      assert.deepEqual(connectionOf(cmd), {
        host: address,
        port: 22,
        user: "root",
        privateKey: PRIVATE_KEY,
        hostKey: key,
        dialErrorLimit: 4,
        perDialTimeout: 15,
      });
      assert.deepEqual(
        { ...cmd.inputs, connection: "(checked above)" },
        {
          connection: "(checked above)",
          create: rejoinInstallScript(host),
          addPreviousOutputInEnv: false,
          logging: "stdoutAndStderr",
        },
      );
      assert.equal(cmd.inputs.delete, undefined, "no delete: it would need the (powered-off) host");
      for (const text of [cmd.inputs.create].map(String)) {
        assert.ok(!text.includes("PRIVATE KEY"));
      }
    }
  });

  it("a guarded host's command depends on that host alone (votes, other hosts and new hosts change nothing)", async () => {
    const base = (await guardOf(model())).commands.find((c) => c.name === "homelab-rejoin-pve-high")!;
    const edits: Edit[] = [
      (v) => (v.hosts[0]!.votes = 5),
      (v) => (v.hosts[1]!.address = "192.168.1.42"),
      (v) =>
        v.hosts.push({
          name: "pve-new",
          address: "192.168.1.24",
          power: "usually-off",
          votes: 1,
          hostKey: KEY_MID,
        }),
    ];
    for (const edit of edits) {
      const other = (await guardOf(model(edit))).commands.find((c) => c.name === "homelab-rejoin-pve-high")!;
      assert.deepEqual(other.inputs, base.inputs);
    }
  });

  it("guards the hosts it is given, and waits for its dependencies", async () => {
    const { commands } = await run(() => {
      const membership = new command.remote.Command("homelab-members-create", {
        connection: { host: "192.168.1.21" },
        create: "true",
      });
      const c = new RejoinGuard(
        "homelab-rejoin",
        { model: model(), sshPrivateKey: pulumi.secret(PRIVATE_KEY), hosts: ["pve-high"] },
        { dependsOn: [membership] },
      );
      return [membership.urn, ...Object.values(c.commands).map((x) => x.urn)];
    });
    const guard = commands.filter((c) => c.name.startsWith("homelab-rejoin-"));
    assert.deepEqual(
      guard.map((c) => c.name),
      ["homelab-rejoin-pve-high"],
    );
    assert.ok(guard[0]!.dependencies.some((u) => u.endsWith("::homelab-members-create")));
  });

  it("registers nothing when every host is always on", async () => {
    const { commands } = await guardOf(model((v) => v.hosts.forEach((h) => (h.power = "always-on"))));
    assert.deepEqual(commands, []);
  });

  it("refuses unknown and repeated hosts, all at once", () => {
    assert.throws(
      () => rejoinGuardPlan({ model: model(), hosts: ["pve-zzz", "pve-high", "pve-high"] }),
      (e: unknown) =>
        e instanceof pulumi.InputPropertiesError &&
        e.errors.length === 2 &&
        /pve-zzz is not a host of the stack/.test(e.errors[0]!.reason) &&
        /a host is listed twice/.test(e.errors[1]!.reason),
    );
  });
});
