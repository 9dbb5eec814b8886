// retiredHosts under the SDK's mocks: the whole program registers one retire step per retired host on the
// always-on host, and the graph orders it before the vote push and the joins (so one `pulumi up` removes a host).
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { runProgram } from "../../plan/engine";
import { TEST_SECRET_KEYS, withEdit } from "../fixtures/stacks";
import { mustPrecede } from "../integration/engine-order";

const REPO = path.resolve(__dirname, "../..");
const M = "homelab-membership";

describe("retired hosts under mocks", () => {
  it("registers the retire step on the always-on host, before the vote push and every join", async () => {
    const values = withEdit((v) => {
      v.hosts.splice(2, 1);
      v.retiredHosts = [{ name: "pve-high", nodeId: 3 }];
      v.vms = [];
    });
    const run = await runProgram({
      projectDir: REPO,
      stack: "t",
      config: values,
      secretKeys: [...TEST_SECRET_KEYS],
    });
    assert.equal(run.error, undefined, String(run.error));
    const retire = run.resources.find((r) => r.name === `${M}-retire-pve-high`);
    assert.ok(retire);
    assert.equal(retire.type, "command:remote:Command");
    assert.equal(retire.parent, M);
    assert.equal((retire.plainInputs.connection as { host: string }).host, "192.168.1.21");
    assert.equal(
      retire.inputs.stdin,
      "remove pve-high (nodeid 3) from cluster homelab: pvecm delnode pve-high on pve-low\n",
    );
    assert.equal(retire.inputs.delete, undefined, "dropping it from retiredHosts later runs nothing");
    assert.match(String(retire.inputs.create), /pvecm delnode pve-high/);
    for (const later of [
      "homelab-votes-push",
      "homelab-qdevice-config",
      `${M}-join-pve-mid`,
      "homelab-rejoin-pve-mid",
    ]) {
      assert.ok(mustPrecede(run, `${M}-retire-pve-high`, later), `${later} depends on the retire step`);
    }
    assert.ok(!mustPrecede(run, "homelab-votes-push", `${M}-retire-pve-high`));
    assert.ok(!run.resources.some((r) => r.name.endsWith("-pve-high") && r.name !== `${M}-retire-pve-high`));
  });

  it("registers no retire step without retiredHosts", async () => {
    const run = await runProgram({
      projectDir: REPO,
      stack: "t",
      config: withEdit(() => {}),
      secretKeys: [...TEST_SECRET_KEYS],
    });
    assert.equal(run.error, undefined, String(run.error));
    assert.deepEqual(
      run.resources.filter((r) => r.name.includes("-retire-")),
      [],
    );
  });
});
