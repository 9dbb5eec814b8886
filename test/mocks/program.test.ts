// The whole program (index.ts) under the SDK's mocks: the homelab stack registers exactly the expected
// components and commands, and every bad config fails before a single resource is registered.
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { runProgram, SECRET } from "../../plan/engine";
import { loadStackFiles, PLACEHOLDER_SECRET, programConfig } from "../../plan/stack";
import { TEST_SECRET_KEYS } from "../fixtures/stacks";
import { BAD_CONFIGS } from "../unit/config.test";

const REPO = path.resolve(__dirname, "../..");

describe("the program under mocks", () => {
  it("registers the homelab stack's components, commands and VMs, and exports the quorum layout", async () => {
    const run = await runProgram({
      projectDir: REPO,
      stack: "homelab",
      ...programConfig(loadStackFiles(REPO, "homelab")),
    });
    assert.equal(run.error, undefined, String(run.error));
    const count = (type: string) => run.resources.filter((r) => r.type === type).map((r) => r.name);
    assert.deepEqual(count("pve-homelab:cluster:HomelabCluster"), ["homelab"]);
    assert.deepEqual(count("pve-homelab:cluster:ClusterMembership"), ["homelab-membership"]);
    assert.deepEqual(count("pve-homelab:cluster:VoteWeights"), ["homelab-votes"]);
    assert.deepEqual(count("pve-homelab:cluster:RejoinGuard"), ["homelab-rejoin"]);
    assert.deepEqual(count("pve-homelab:quorum:QuorumDevice"), ["homelab-qdevice"]);
    assert.deepEqual(count("pve-homelab:vms:VirtualMachines"), ["homelab-vms"]);
    assert.deepEqual(count("command:remote:Command").sort(), [
      "homelab-membership-create",
      "homelab-membership-join-pve-high",
      "homelab-membership-join-pve-mid",
      "homelab-membership-member-pve-high",
      "homelab-membership-member-pve-mid",
      "homelab-qdevice-config",
      "homelab-rejoin-pve-high",
      "homelab-rejoin-pve-mid",
      "homelab-votes-push",
    ]);
    assert.deepEqual(count("proxmoxve:index/vmLegacy:VmLegacy").sort(), [
      "homelab-vms-build",
      "homelab-vms-dns",
      "homelab-vms-home-assistant",
      "homelab-vms-media",
    ]);
    // Every SSH command pins a host key; the connection carries the private key, so it is secret as a whole.
    for (const cmd of run.resources.filter((r) => r.type === "command:remote:Command")) {
      assert.equal(cmd.inputs.connection, SECRET, `${cmd.name}: the connection (with its key) is a secret`);
      const connection = cmd.plainInputs.connection as Record<string, unknown>;
      assert.match(String(connection.hostKey), /^ssh-ed25519 AAAA/, `${cmd.name} pins a host key`);
      assert.equal(connection.privateKey, PLACEHOLDER_SECRET, `${cmd.name} uses the stack's key`);
      for (const field of ["create", "update", "delete"]) {
        assert.ok(!String(cmd.plainInputs[field] ?? "").includes(PLACEHOLDER_SECRET), `${cmd.name}.${field}`);
      }
      assert.equal(cmd.inputs.addPreviousOutputInEnv, false, cmd.name);
      // ... and its public part is visible: in the script (or, for commands that ignore connection changes, triggers).
      const label = `root@${String(connection.host)} port 22, host key ${String(connection.hostKey)}`;
      const visible = [cmd.inputs.create, ...((cmd.inputs.triggers as unknown[]) ?? [])].map(String);
      assert.ok(
        visible.some((t) => t.includes(label)),
        `${cmd.name} shows ${label}`,
      );
    }
    assert.deepEqual(run.outputs.votes, { "pve-low": 3, "pve-mid": 1, "pve-high": 1 });
    assert.equal(run.outputs.expectedVotes, 5);
    assert.equal(run.outputs.quorum, 3);
  });

  describe("each bad config fails with its message and registers nothing", () => {
    for (const row of BAD_CONFIGS) {
      it(row.why, async () => {
        const run = await runProgram({
          projectDir: REPO,
          stack: "bad",
          config: row.values,
          secretKeys: row.secretKeys ?? [...TEST_SECRET_KEYS],
        });
        assert.ok(run.error, "the program must fail");
        const text = String(
          (run.error as { errors?: unknown[] }).errors ? JSON.stringify(run.error) : run.error,
        );
        for (const [configPath, message] of row.expect) {
          assert.ok(text.includes(`pve-homelab:${configPath}`), `names pve-homelab:${configPath}: ${text}`);
          assert.ok(text.includes(JSON.stringify(message).slice(1, -1)), `says "${message}": ${text}`);
        }
        const registered = run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
        assert.deepEqual(
          registered.map((r) => r.name),
          [],
          "nothing but the stack itself is registered",
        );
      });
    }
  });
});
