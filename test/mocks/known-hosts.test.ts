// The Proxmox provider's known_hosts under the SDK's mocks: in an update run, $HOME/.ssh/known_hosts holds every
// pinned host key before the provider (and so before any VM or image resource) is registered; a preview never
// touches it; a conflicting line stops the run before the provider exists.
import { strict as assert } from "node:assert";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { VirtualMachines } from "../../components/VirtualMachines";
import { loadModel } from "../../core/config";
import type { Model } from "../../core/model";
import { KEY_HIGH, KEY_LOW, KEY_MID, TEST_SECRET_KEYS, withEdit } from "../fixtures/stacks";

const PINNED = [`192.168.1.21 ${KEY_LOW}`, `192.168.1.22 ${KEY_MID}`, `192.168.1.23 ${KEY_HIGH}`];
const DEBIAN = "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2";

function model(): Model {
  const loaded = loadModel({
    values: withEdit((v) => v.vms.push({ name: "web", host: "pve-mid", vmId: 120, image: { url: DEBIAN } })),
    secretKeys: TEST_SECRET_KEYS,
  });
  assert.ok(loaded.model, JSON.stringify(loaded.findings));
  return loaded.model;
}

interface Seen {
  readonly type: string;
  readonly name: string;
  /** known_hosts text at the moment the resource was registered. */
  readonly knownHosts: string | undefined;
}

/** Registers VirtualMachines under fresh mocks; records known_hosts as each resource registers. */
async function run(preview: boolean, file: string): Promise<{ seen: Seen[]; error?: unknown }> {
  const seen: Seen[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        seen.push({
          type: args.type,
          name: args.name,
          knownHosts: existsSync(file) ? readFileSync(file, "utf8") : undefined,
        });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    "pve-homelab",
    "test",
    preview,
  );
  try {
    const c = new VirtualMachines("homelab-vms", { model: model(), apiToken: "t", sshPrivateKey: "k" });
    await new Promise((resolve) => c.vms.apply(resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { seen };
  } catch (error) {
    return { seen, error };
  }
}

describe("the Proxmox provider's known_hosts (mocks)", () => {
  let home: string;
  let savedHome: string | undefined;
  let file: string;

  beforeEach(() => {
    savedHome = process.env.HOME;
    home = mkdtempSync(path.join(tmpdir(), "pve-homelab-home-"));
    process.env.HOME = home;
    file = path.join(home, ".ssh", "known_hosts");
  });
  afterEach(() => {
    process.env.HOME = savedHome;
    rmSync(home, { recursive: true, force: true });
  });

  it("in an update, holds every pinned key before the provider and any VM or image is registered", async () => {
    const { seen, error } = await run(false, file);
    assert.equal(error, undefined, String(error));
    const custom = seen.filter((s) => !s.type.startsWith("pve-homelab:"));
    assert.deepEqual(
      custom.map((s) => s.type),
      [
        "pulumi:providers:proxmoxve",
        "proxmoxve:download/file:File",
        "proxmoxve:index/vmLegacy:VmLegacy",
        "proxmoxve:index/vmLegacy:VmLegacy",
      ],
    );
    for (const s of custom)
      assert.equal(s.knownHosts, PINNED.join("\n") + "\n", `${s.name} sees the pinned keys`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    // A second run finds them and changes nothing.
    const again = await run(false, file);
    assert.equal(again.error, undefined);
    assert.equal(readFileSync(file, "utf8"), PINNED.join("\n") + "\n");
  });

  it("in a preview, leaves known_hosts alone", async () => {
    const { error } = await run(true, file);
    assert.equal(error, undefined, String(error));
    assert.equal(existsSync(file), false);
  });

  it("with another key for a node in known_hosts, fails naming the host key field before the provider exists", async () => {
    mkdirSync(path.dirname(file), { recursive: true });
    const before = `192.168.1.22 ${KEY_HIGH}\n`;
    writeFileSync(file, before);
    const { seen, error } = await run(false, file);
    assert.ok(error instanceof Error);
    const errors = (error as unknown as { errors: { propertyPath: string; reason: string }[] }).errors;
    assert.deepEqual(
      errors.map((e) => e.propertyPath),
      ["pve-homelab:hosts[1].hostKey"],
    );
    assert.match(
      errors[0]!.reason,
      /line 1 of .*known_hosts covers pve-mid \(192\.168\.1\.22\) with another key/,
    );
    assert.deepEqual(
      seen.filter((s) => !s.type.startsWith("pve-homelab:")),
      [],
      "no provider, no VM",
    );
    assert.equal(readFileSync(file, "utf8"), before, "file untouched");
  });
});
