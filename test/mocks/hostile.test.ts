// The whole program (index.ts) under the SDK's mocks, fed each hostile value of test/fixtures/hostile.ts the
// way the Pulumi CLI hands config over (strings as text, the rest as JSON): it fails naming the field, and
// registers nothing but the stack itself.
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { runProgram } from "../../plan/engine";
import { HOSTILE } from "../fixtures/hostile";
import { TEST_SECRET_KEYS } from "../fixtures/stacks";

const REPO = path.resolve(__dirname, "../..");

describe("the program under mocks, with hostile config values", () => {
  for (const row of HOSTILE) {
    it(`fails before registering anything: ${row.why}`, async () => {
      const run = await runProgram({
        projectDir: REPO,
        stack: "hostile",
        config: row.values,
        secretKeys: [...TEST_SECRET_KEYS],
      });
      assert.ok(run.error, "the program must fail");
      const errors = (run.error as { errors?: { propertyPath: string; reason: string }[] }).errors ?? [];
      const named = errors.filter((e) => e.propertyPath === `pve-homelab:${row.path}`);
      assert.ok(
        named.some((e) => e.reason.includes(row.says)),
        `names pve-homelab:${row.path} saying "${row.says}": ${JSON.stringify(errors)}`,
      );
      assert.deepEqual(
        run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").map((r) => r.name),
        [],
        "nothing but the stack itself is registered",
      );
    });
  }
});
