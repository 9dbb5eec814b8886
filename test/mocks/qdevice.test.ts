// QuorumDevice under the SDK's mocks: exactly which remote.Commands each mode registers, with which inputs
// (connections with pinned host keys, the exact generated scripts, the key piped from one command to the
// next), and the ordering against the vote push that makes mode switches safe.
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { orderQuorumSteps, QuorumDevice } from "../../components/QuorumDevice";
import type { Model } from "../../core/model";
import {
  deviceScript,
  qdevicePlan,
  qnetdScript,
  removeDeviceScript,
  rootKeyScript,
} from "../../core/scripts/qdevice";
import { KEY_HIGH, KEY_LOW, stackModel } from "../fixtures/stacks";
import { promiseOf, recordMocks, unwrap, type Inputs, type Registered } from "../helpers/mocks";

const COMMAND = "command:remote:Command";
const PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
const QNETD_KEY = KEY_HIGH.replace("AAAAIAaZ", "AAAAIAaY");
/** What the root-key command prints on the always-on host (its stdout, in the mock). */
const ROOT_RSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 root@pve1";

const stack = (n: number, quorum: Record<string, unknown>, votes?: readonly number[]): Model =>
  stackModel({ votes: votes ?? Array.from({ length: n }, () => 1), quorum });
const qdeviceStack = (n = 3, device: Record<string, unknown> = {}) =>
  stack(n, { mode: "qdevice", device: { address: "192.168.1.50", hostKey: QNETD_KEY, ...device } });
const weightedStack = () => stack(3, { mode: "weighted" }, [3, 1, 1]);

/** The mocked outputs of the commands whose stdout the component reads. */
function commandState(args: pulumi.runtime.MockResourceArgs): Inputs {
  const state = { ...(args.inputs as Inputs) };
  if (args.name.endsWith("-root-key")) state.stdout = `${ROOT_RSA}\n`;
  if (args.name.endsWith("-config")) state.stdout = "no qdevice\n";
  return state;
}

interface Run {
  readonly component: QuorumDevice;
  readonly commands: Registered[];
  readonly options: Map<string, pulumi.ResourceOptions>;
}

async function run(m: Model): Promise<Run> {
  const recorder = await recordMocks({ state: commandState });
  const options = recorder.options;
  const component = new QuorumDevice(
    "homelab-qdevice",
    { model: m, sshPrivateKey: pulumi.secret(PRIVATE_KEY) },
    { transformations: recorder.transformations },
  );
  const c = component.commands;
  await Promise.all(
    [c.config, c.qnetd, c.rootKey].filter((r) => r !== undefined).map((r) => promiseOf(r.urn)),
  );
  await promiseOf(component.status);
  const commands = recorder.ofType(COMMAND);
  return { component, commands, options };
}

const byName = (list: Registered[], name: string): Registered => {
  const found = list.find((r) => r.name === name);
  assert.ok(found, `no ${name} among ${list.map((r) => r.name).join(", ")}`);
  return found;
};
const connectionOf = (r: Registered) => {
  const c = unwrap(r.inputs.connection) as Inputs;
  return { ...c, privateKey: unwrap(c.privateKey) };
};
const sshTo = (host: string, hostKey: string) => ({
  host,
  port: 22,
  user: "root",
  privateKey: PRIVATE_KEY,
  hostKey,
  dialErrorLimit: 4,
  perDialTimeout: 15,
});

describe("QuorumDevice (mocks)", () => {
  it("qdevice mode, 3 hosts: root key on the always-on host, QNetd host, then the config command, with the exact scripts", async () => {
    const m = qdeviceStack();
    const plan = qdevicePlan(m)!;
    const { commands, options, component } = await run(m);
    assert.deepEqual(
      commands.map((c) => c.name),
      ["homelab-qdevice-config", "homelab-qdevice-qnetd", "homelab-qdevice-root-key"],
    );
    const [config, qnetd, rootKey] = commands as [Registered, Registered, Registered];

    assert.deepEqual(connectionOf(rootKey), sshTo("192.168.1.21", KEY_LOW));
    assert.equal(rootKey.inputs.create, rootKeyScript(plan));
    assert.equal(rootKey.inputs.delete, undefined);

    assert.deepEqual(connectionOf(qnetd), sshTo("192.168.1.50", QNETD_KEY));
    assert.equal(qnetd.inputs.create, qnetdScript(plan));
    assert.equal(qnetd.inputs.stdin, `${ROOT_RSA}\n`, "the root-key command's stdout");
    assert.equal(qnetd.inputs.delete, undefined, "no delete: a dead QNetd host must never block `pulumi up`");

    assert.deepEqual(connectionOf(config), sshTo("192.168.1.21", KEY_LOW));
    assert.equal(config.inputs.create, deviceScript(m));
    assert.equal(config.inputs.delete, removeDeviceScript(m));
    assert.equal(config.inputs.update, undefined, "an update runs create");
    assert.equal(config.inputs.stdin, undefined);
    for (const c of commands) {
      assert.equal(c.inputs.addPreviousOutputInEnv, false, c.name);
      assert.equal(c.inputs.logging, "stdoutAndStderr", c.name);
      assert.equal(
        c.inputs.triggers,
        undefined,
        `${c.name}: a triggers change would replace (create, then delete)`,
      );
    }
    const deps = options.get("homelab-qdevice-config")?.dependsOn as pulumi.Resource[];
    assert.deepEqual(deps, [component.commands.qnetd]);
    assert.equal(await promiseOf(component.deviceVotes), 2);
  });

  it("qdevice mode, 2 hosts: the config script expects ffsplit with 1 vote, without --force", async () => {
    const m = qdeviceStack(2);
    const { commands } = await run(m);
    const config = byName(commands, "homelab-qdevice-config");
    assert.equal(config.inputs.create, deviceScript(m));
    assert.ok((config.inputs.create as string).includes("pvecm qdevice setup 192.168.1.50 >&2"));
  });

  it("weighted mode: only the config command, which makes sure no device is configured (create, update and delete)", async () => {
    const m = weightedStack();
    const { commands, component } = await run(m);
    assert.deepEqual(
      commands.map((c) => c.name),
      ["homelab-qdevice-config"],
    );
    const config = commands[0]!;
    assert.deepEqual(connectionOf(config), sshTo("192.168.1.21", KEY_LOW));
    assert.equal(config.inputs.create, removeDeviceScript(m));
    assert.equal(config.inputs.delete, removeDeviceScript(m));
    assert.equal(await promiseOf(component.deviceVotes), 0);
  });

  it("a mode switch changes only the config command's create: Pulumi runs it as an update, never a replace", async () => {
    const q = (
      await run(stack(3, { mode: "qdevice", device: { address: "192.168.1.50", hostKey: QNETD_KEY } }))
    ).commands;
    const w = (await run(weightedStack())).commands;
    const [a, b] = [byName(q, "homelab-qdevice-config").inputs, byName(w, "homelab-qdevice-config").inputs];
    const changed = Object.keys({ ...a, ...b }).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
    assert.deepEqual(changed, ["create"]);
  });

  it("refuses, before registering anything, a device pvecm cannot set up, naming every problem", async () => {
    const { registered } = await recordMocks({ state: commandState });
    const m = qdeviceStack(4, { algorithm: "lms", sshPort: 2222 });
    assert.throws(
      () => new QuorumDevice("homelab-qdevice", { model: m, sshPrivateKey: "k" }),
      (e: unknown) => {
        assert.ok(pulumi.InputPropertiesError.isInstance(e));
        assert.deepEqual(
          e.errors.map((x) => x.propertyPath),
          ["quorum.device.algorithm", "quorum.device.sshPort"],
        );
        assert.match(e.errors[0]!.reason, /`pvecm qdevice setup` writes ffsplit for an even node count/);
        return true;
      },
    );
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      registered.filter((r) => r.type === COMMAND),
      [],
    );
  });
});

describe("orderQuorumSteps (the vote push against the device)", () => {
  class Step extends pulumi.CustomResource {
    constructor(name: string, opts: pulumi.CustomResourceOptions) {
      super("test:stub:Step", name, {}, opts);
    }
  }
  /** A stand-in for VoteWeights / ClusterMembership: a component with one custom child. */
  class Stub extends pulumi.ComponentResource {
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
      super("test:stub:Stub", name, {}, opts);
      new Step(`${name}-step`, { parent: this });
      this.registerOutputs({});
    }
  }

  /** Builds both under mocks where every step takes 30 ms; returns what each callback got and the order in
   *  which the custom resources started and finished (the engine sees a registration only when the SDK has
   *  awaited its dependencies, so this is the order `pulumi up` would run them in). */
  async function order(m: Model) {
    const events: string[] = [];
    await pulumi.runtime.setMocks(
      {
        async newResource(args) {
          events.push(`start ${args.name}`);
          await new Promise((r) => setTimeout(r, 30));
          events.push(`done ${args.name}`);
          return { id: `${args.name}-id`, state: commandState(args) };
        },
        call: (args) => args.inputs,
      },
      "pve-homelab",
      "test",
      false,
    );
    const membership = new Stub("membership");
    const seen: { votes?: pulumi.Resource[]; device?: pulumi.Resource[] } = {};
    const made = orderQuorumSteps(
      m,
      (dependsOn) => ((seen.votes = dependsOn), new Stub("votes", { dependsOn })),
      (dependsOn) => (
        (seen.device = dependsOn),
        new QuorumDevice("homelab-qdevice", { model: m, sshPrivateKey: "k" }, { dependsOn })
      ),
      [membership],
    );
    await promiseOf(made.device.status);
    await new Promise((r) => setTimeout(r, 200));
    const at = (e: string) => {
      const i = events.indexOf(e);
      assert.ok(i >= 0, `${e} not in ${events.join(", ")}`);
      return i;
    };
    return { membership, seen, at, ...made };
  }

  it("qdevice mode: the votes (reset to 1) first, then the device", async () => {
    const { membership, seen, votes, at } = await order(qdeviceStack());
    assert.deepEqual(seen.votes, [membership]);
    assert.deepEqual(seen.device, [membership, votes]);
    assert.ok(at("done membership-step") < at("start votes-step"));
    for (const c of ["root-key", "qnetd", "config"]) {
      assert.ok(at("done votes-step") < at(`start homelab-qdevice-${c}`), c);
    }
    assert.ok(at("done homelab-qdevice-qnetd") < at("start homelab-qdevice-config"));
  });

  it("weighted mode: the device's removal first, then the votes", async () => {
    const { membership, seen, device, at } = await order(weightedStack());
    assert.deepEqual(seen.device, [membership]);
    assert.deepEqual(seen.votes, [membership, device]);
    assert.ok(at("done membership-step") < at("start homelab-qdevice-config"));
    assert.ok(at("done homelab-qdevice-config") < at("start votes-step"));
  });
});
