import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildPlan } from "../../plan/report";
import {
  loadStackFiles,
  PLACEHOLDER_SECRET,
  programConfig,
  prefetchStackFiles,
  projectName,
  rawStackConfig,
  UsageError,
} from "../../plan/stack";

const PROJECT = `name: pve-homelab
runtime: nodejs
config:
  sshUser:
    type: string
    default: root
  proxmoxInsecure:
    type: boolean
    default: false
  clusterName:
    type: string
  sharedStorage: []
  proxmoxve:endpoint:
    value: https://10.0.0.1:8006/
`;

const made: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-stack-"));
  made.push(dir);
  return dir;
};

function projectDir(stacks: Record<string, string>, project = PROJECT): string {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), project);
  for (const [name, text] of Object.entries(stacks))
    fs.writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), text);
  return dir;
}

describe("plan stack files", () => {
  after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it("applies Pulumi.yaml defaults for declared keys the stack file does not set", () => {
    const dir = projectDir({ s: "config:\n  pve-homelab:clusterName: lab\n  pve-homelab:sshUser: admin\n" });
    const files = loadStackFiles(dir, "s");
    assert.equal(files.values.sshUser, "admin");
    assert.equal(files.values.proxmoxInsecure, false);
    assert.deepEqual(files.values.sharedStorage, []);
    assert.equal(files.values.clusterName, "lab");
    assert.deepEqual(files.otherConfig, { "proxmoxve:endpoint": "https://10.0.0.1:8006/" });
  });

  it("treats a secure value as a secret that is set, without decrypting it", () => {
    const dir = projectDir({ s: "config:\n  pve-homelab:sshPrivateKey:\n    secure: v1:abc:def\n" });
    const files = loadStackFiles(dir, "s");
    assert.equal(files.values.sshPrivateKey, PLACEHOLDER_SECRET);
    assert.ok(files.secretKeys.has("sshPrivateKey"));
    assert.deepEqual(files.secrets[0], { key: "sshPrivateKey", source: "stack file" });
  });

  it("makes a whole structured value secret when it holds a secure value", () => {
    const dir = projectDir({
      s: "config:\n  pve-homelab:quorum:\n    mode: weighted\n    token:\n      secure: v1:x:y\n",
    });
    const files = loadStackFiles(dir, "s");
    assert.deepEqual(files.values.quorum, { mode: "weighted", token: PLACEHOLDER_SECRET });
    assert.ok(files.secretKeys.has("quorum"));
  });

  it("fills absent secrets with a placeholder and reports a plain-text secret as such", () => {
    const dir = projectDir({ s: "config:\n  pve-homelab:rootPassword: hunter2\n" });
    const files = loadStackFiles(dir, "s");
    assert.deepEqual(files.secrets, [
      { key: "sshPrivateKey", source: "placeholder" },
      { key: "proxmoxApiToken", source: "placeholder" },
      { key: "rootPassword", source: "plain text" },
    ]);
    assert.ok(!files.secretKeys.has("rootPassword"));
    const { config, secretKeys } = programConfig(files);
    assert.equal(config["pve-homelab:sshPrivateKey"], PLACEHOLDER_SECRET);
    assert.deepEqual(secretKeys.sort(), ["pve-homelab:proxmoxApiToken", "pve-homelab:sshPrivateKey"]);
  });

  it("decodes values the way the program does (only structured keys are JSON)", () => {
    const dir = projectDir({
      s: 'config:\n  pve-homelab:clusterName: "123"\n  pve-homelab:hosts: []\n  pve-homelab:proxmoxInsecure: true\n',
    });
    const values = rawStackConfig(loadStackFiles(dir, "s")).values;
    assert.equal(values.clusterName, "123");
    assert.deepEqual(values.hosts, []);
    assert.equal(values.proxmoxInsecure, true);
  });

  it("accepts a stack file without config", () => {
    const files = loadStackFiles(projectDir({ empty: "" }), "empty");
    assert.equal(files.values.sshUser, "root");
  });

  it("reads stack files parsed in advance on a worker thread, unless they changed since", async () => {
    const dir = projectDir({ s: "config:\n  pve-homelab:clusterName: before\n" });
    await prefetchStackFiles(dir, "s");
    assert.equal(loadStackFiles(dir, "s").values.clusterName, "before");
    fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), "config:\n  pve-homelab:clusterName: after\n");
    assert.equal(loadStackFiles(dir, "s").values.clusterName, "after");
  });

  it("reports a YAML error found on the worker thread like one found on the main thread", async () => {
    const dir = projectDir({ s: "config: [\n" });
    const message = () => {
      try {
        loadStackFiles(dir, "s");
      } catch (e) {
        return e instanceof UsageError ? e.message : `not a usage error: ${String(e)}`;
      }
      return "no error";
    };
    const onMainThread = message();
    await prefetchStackFiles(dir, "s");
    assert.match(onMainThread, /Pulumi\.s\.yaml is not valid YAML: /);
    assert.equal(message(), onMainThread);
  });

  it("reads the project name", () => {
    assert.equal(projectName(projectDir({})), "pve-homelab");
  });

  it("refuses a stack of another project than the program's", async () => {
    const dir = projectDir({ s: "" }, PROJECT.replace("name: pve-homelab", "name: other"));
    await assert.rejects(
      buildPlan({ dir, stack: "s" }),
      (e: unknown) =>
        e instanceof UsageError && /is project "other", but the program is "pve-homelab"$/.test(e.message),
    );
  });

  const usage: [string, () => unknown, RegExp][] = [
    [
      "an unknown stack, naming the stacks there are",
      () => loadStackFiles(projectDir({ a: "", b: "" }), "c"),
      /^unknown stack "c": no Pulumi\.c\.yaml in .* \(stacks: a, b\)$/,
    ],
    [
      "a stack name with a path in it",
      () => loadStackFiles(projectDir({}), "../etc"),
      /^invalid stack name "\.\.\/etc"/,
    ],
    ["a directory without Pulumi.yaml", () => loadStackFiles(tempDir(), "x"), /^no Pulumi\.yaml in /],
    [
      "a stack file that is not YAML",
      () => loadStackFiles(projectDir({ s: "config: [\n" }), "s"),
      /Pulumi\.s\.yaml is not valid YAML: /,
    ],
    [
      "config that is not a mapping",
      () => loadStackFiles(projectDir({ s: "config: 3\n" }), "s"),
      /config: expected a mapping/,
    ],
  ];
  for (const [what, load, message] of usage) {
    it(`refuses ${what} with a usage error`, () => {
      assert.throws(load, (e: unknown) => e instanceof UsageError && message.test(e.message));
    });
  }
});
