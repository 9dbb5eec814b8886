// Reviewability and the usually-off host: every command shows where it runs (user, address, port, host key)
// outside the secret `connection`, and the rejoin guard ignores connection changes.
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { RejoinGuard } from "../../components/RejoinGuard";
import { connectionLabel, hostScript, withConnectionNote } from "../../components/ssh";
import { loadModel } from "../../core/config";
import type { Model } from "../../core/model";
import { KEY_HIGH, KEY_MID, TEST_SECRET_KEYS, withEdit } from "../fixtures/stacks";

type Inputs = Record<string, unknown>;

function model(): Model {
  const loaded = loadModel({ values: withEdit(() => {}), secretKeys: TEST_SECRET_KEYS });
  assert.ok(loaded.model, JSON.stringify(loaded.findings));
  return loaded.model;
}

async function register(build: (parent: pulumi.ComponentResource) => void) {
  const inputs = new Map<string, Inputs>();
  const options = new Map<string, pulumi.ResourceOptions>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        inputs.set(args.name, args.inputs as Inputs);
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    "pve-homelab",
    "test",
    true,
  );
  const parent = new pulumi.ComponentResource(
    "test:index:Parent",
    "parent",
    {},
    {
      transformations: [
        (a) => {
          options.set(a.name, a.opts);
          return undefined;
        },
      ],
    },
  );
  build(parent);
  await new Promise((resolve) => setTimeout(resolve, 100));
  return { inputs, options };
}

describe("command connections (mocks)", () => {
  const target = { address: "2001:db8::21", sshPort: 22, sshUser: "root", hostKey: KEY_MID, name: "pve-mid" };

  it("labels a connection with user, bracketed IPv6 address, port and host key, nothing secret", () => {
    assert.equal(connectionLabel(target), `root@[2001:db8::21] port 22, host key ${KEY_MID}`);
  });

  it("repeats the label as a comment right after the #! line of create, update and delete", async () => {
    const { inputs, options } = await register((parent) =>
      hostScript(
        "cmd",
        {
          target,
          privateKey: pulumi.secret("k"),
          create: "#!/bin/bash\ntrue\n",
          delete: "#!/bin/bash\nfalse\n",
        },
        { parent },
      ),
    );
    const cmd = inputs.get("cmd")!;
    assert.equal(cmd.create, `#!/bin/bash\n# pve-homelab connection: ${connectionLabel(target)}\ntrue\n`);
    assert.equal(cmd.delete, withConnectionNote("#!/bin/bash\nfalse\n", target));
    assert.equal(cmd.update, undefined);
    assert.equal(cmd.triggers, undefined);
    assert.equal(options.get("cmd")?.ignoreChanges, undefined, "connection changes run the command again");
  });

  it("the rejoin guard ignores connection changes and shows the stored connection in triggers", async () => {
    const m = model();
    const { inputs, options } = await register(
      (parent) =>
        new RejoinGuard("homelab-rejoin", { model: m, sshPrivateKey: pulumi.secret("k") }, { parent }),
    );
    const high = inputs.get("homelab-rejoin-pve-high")!;
    assert.deepEqual(high.triggers, [`root@192.168.1.23 port 22, host key ${KEY_HIGH}`]);
    assert.ok(
      !String(high.create).includes("# pve-homelab connection:"),
      "the script does not change with the key",
    );
    assert.deepEqual(options.get("homelab-rejoin-pve-high")?.ignoreChanges, ["connection", "triggers"]);
  });
});
