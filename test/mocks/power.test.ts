// HostPower under the SDK's mocks, alone and inside HomelabCluster: what the power steps and the node config
// command are registered with, and that everything on a managed host waits for that host's power step.
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { HomelabCluster } from "../../components/HomelabCluster";
import { hostPowerPlan } from "../../components/HostPower";
import { loadModel } from "../../core/config";
import type { Model } from "../../core/model";
import { powerStepScript } from "../../core/scripts/power";
import { withEdit, TEST_SECRET_KEYS, type Values } from "../fixtures/stacks";

type Inputs = Record<string, unknown>;
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const unwrap = (v: unknown): unknown =>
  typeof v === "object" && v !== null && SECRET_SIG in v ? (v as unknown as { value: unknown }).value : v;

function model(high: Values, extraVms: Values[] = []): Model {
  const values = withEdit((v) => {
    v.hosts[0]!.wakeOnLan = { mac: "0a:00:00:00:00:01", broadcastAddress: "192.168.1.255" };
    v.hosts[1]!.wakeOnLan = { mac: "0a:00:00:00:00:02" };
    v.hosts[1]!.state = "off";
    Object.assign(v.hosts[2]!, { wakeOnLan: { mac: "0a:00:00:00:00:03" }, ...high });
    v.vms.push(...extraVms);
  });
  const loaded = loadModel({ values, secretKeys: TEST_SECRET_KEYS });
  assert.ok(loaded.model, JSON.stringify(loaded.findings));
  return loaded.model;
}

interface Seen {
  readonly inputs: Map<string, Inputs>;
  readonly types: Map<string, string>;
  readonly dependsOn: Map<string, string[]>;
}

async function runCluster(m: Model): Promise<Seen> {
  const inputs = new Map<string, Inputs>();
  const types = new Map<string, string>();
  const options = new Map<string, pulumi.ResourceOptions>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        inputs.set(args.name, args.inputs as Inputs);
        types.set(args.name, args.type);
        return { id: `${args.name}-id`, state: { ...args.inputs, stdout: "AA:BB\n", stderr: "" } };
      },
      call: (args) => args.inputs,
    },
    "pve-homelab",
    "test",
    false,
  );
  const secret = (s: string) => pulumi.secret(s);
  const cluster = new HomelabCluster(
    "homelab",
    {
      model: m,
      secrets: {
        sshPrivateKey: secret("k"),
        rootPassword: secret("p"),
        proxmoxApiToken: secret("a@pam!t=u"),
      },
    },
    { transformations: [(t) => (options.set(t.name, t.opts), undefined)] },
  );
  await new Promise((r) => cluster.urn.apply(r));
  await new Promise((r) => setTimeout(r, 200)); // let every child register
  const dependsOn = new Map<string, string[]>();
  for (const [name, o] of options) {
    const deps = o.dependsOn === undefined ? [] : Array.isArray(o.dependsOn) ? o.dependsOn : [o.dependsOn];
    const names = await Promise.all(
      (deps as pulumi.Resource[]).map(
        (d) => new Promise<string>((r) => d.urn.apply((u) => r(u.split("::").pop()!))),
      ),
    );
    dependsOn.set(name, names);
  }
  return { inputs, types, dependsOn };
}

describe("HostPower (mocks)", () => {
  it("registers the node config command and one step per managed host, on the always-on host", () => {
    const plan = hostPowerPlan({ model: model({ state: "on" }) });
    assert.equal(plan.sender.name, "pve-low");
    assert.equal(
      plan.wakeOnLan?.stdin,
      "pve-high 0a:00:00:00:00:03\npve-low 0a:00:00:00:00:01,broadcast-address=192.168.1.255\npve-mid 0a:00:00:00:00:02\n",
    );
    assert.deepEqual(
      plan.steps.map((s) => [s.host, s.stdin]),
      [
        ["pve-mid", "pve-mid state=off guests=shutdown\n"],
        ["pve-high", "pve-high state=on guests=shutdown\n"],
      ],
    );
    for (const s of plan.steps) assert.equal(s.create, powerStepScript("pve-low"));
  });

  it("a state change is a stdin diff only: the same script, so an update, never a replace", () => {
    const on = hostPowerPlan({ model: model({ state: "on" }) }).steps[1]!;
    const off = hostPowerPlan({ model: model({ state: "off", guests: "migrate" }) }).steps[1]!;
    assert.equal(on.create, off.create);
    assert.deepEqual(
      [on.stdin, off.stdin],
      ["pve-high state=on guests=shutdown\n", "pve-high state=off guests=migrate\n"],
    );
  });

  it("in the cluster: steps after membership and votes; VMs on a managed host wait for its step", async () => {
    const seen = await runCluster(
      model({ state: "on" }, [{ name: "build", host: "pve-high", vmId: 301, started: true }]),
    );
    const step = seen.inputs.get("homelab-power-pve-high")!;
    assert.equal(seen.types.get("homelab-power-pve-high"), "command:remote:Command");
    assert.equal(unwrap(step.stdin), "pve-high state=on guests=shutdown\n");
    assert.equal((unwrap(step.connection) as Inputs).host, "192.168.1.21", "runs on pve-low");
    assert.deepEqual(seen.dependsOn.get("homelab-vms-build"), ["homelab-power-pve-high"]);
    assert.deepEqual(
      seen.dependsOn.get("homelab-vms-dns") ?? [],
      [],
      "a VM on the always-on host waits for nothing",
    );
    const stepDeps = seen.dependsOn.get("homelab-power-pve-high")!;
    assert.ok(stepDeps.includes("homelab-votes"), stepDeps.join(", "));
    assert.ok(stepDeps.includes("homelab-power-wakeonlan"), stepDeps.join(", "));
    const guard = seen.dependsOn.get("homelab-rejoin-pve-high")!;
    assert.ok(guard.includes("homelab-power-pve-high"), guard.join(", "));
  });

  it("a stack without wakeOnLan or state registers no power component", async () => {
    const loaded = loadModel({ values: withEdit(() => {}), secretKeys: TEST_SECRET_KEYS });
    const seen = await runCluster(loaded.model!);
    assert.deepEqual(
      [...seen.types.values()].filter((t) => t.startsWith("pve-homelab:power")),
      [],
    );
  });
});
