// Pulumi.yaml is valid for Pulumi itself (its own JSON Schema, pulumi/pulumi
// sdk/go/common/workspace/project.json, copied to test/fixtures), and the stack files agree with it.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { parse } from "yaml";
import { loadModel } from "../../core/config";
import { TEST_SECRET_KEYS } from "../fixtures/stacks";

const REPO = path.resolve(__dirname, "../..");
const readYaml = (file: string): unknown => parse(readFileSync(path.join(REPO, file), "utf8"));
const schema = JSON.parse(
  readFileSync(path.join(__dirname, "../fixtures/pulumi-project.schema.json"), "utf8"),
);

describe("Pulumi project and stack files", () => {
  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);

  it("Pulumi.yaml validates against Pulumi's project schema", () => {
    const ok = validate(readYaml("Pulumi.yaml"));
    assert.ok(ok, JSON.stringify(validate.errors, null, 2));
  });

  it("the schema check is real: a structured config type is rejected, as Pulumi rejects it", () => {
    const project = readYaml("Pulumi.yaml") as { config: Record<string, unknown> };
    const broken = { ...project, config: { ...project.config, hosts: { type: "object" } } };
    assert.equal(validate(broken), false);
  });

  it("declares the project name, the TypeScript runtime and the simple config keys", () => {
    const project = readYaml("Pulumi.yaml") as {
      name: string;
      runtime: { name: string; options: { typescript: boolean } };
      config: Record<string, { type: string }>;
    };
    assert.equal(project.name, "pve-homelab");
    assert.deepEqual([project.runtime.name, project.runtime.options.typescript], ["nodejs", true]);
    assert.deepEqual(Object.keys(project.config).sort(), [
      "acknowledgeQuorumRisk",
      "clusterName",
      "dismantleOnDestroy",
      "proxmoxInsecure",
      "sharedStorage",
      "sshUser",
    ]);
  });

  for (const stack of ["homelab", "rehearsal"]) {
    it(`Pulumi.${stack}.yaml holds a sound stack (secrets set as secrets)`, () => {
      const file = readYaml(`Pulumi.${stack}.yaml`) as { config: Record<string, unknown> };
      const values: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(file.config))
        values[key.replace(/^pve-homelab:/, "")] = value;
      for (const key of TEST_SECRET_KEYS) values[key] = "[secret]";
      const { model, findings } = loadModel({ values, secretKeys: TEST_SECRET_KEYS });
      assert.deepEqual(findings, []);
      assert.equal(model?.hosts.length, 3);
    });
  }
});
