import { strict as assert } from "node:assert";
import { loadModel } from "../../core/config";
import type { Model } from "../../core/model";
import { whatIf } from "../../core/quorum";
import type { RegisteredResource } from "../../plan/engine";
import { findings, previewRows } from "../../plan/human";
import { topologyMermaid } from "../../plan/mermaid";
import { oneLine } from "../../plan/report";
import { homelabValues, KEY_HIGH, KEY_MID, TEST_SECRET_KEYS, withEdit } from "../fixtures/stacks";

function resource(name: string, type: string, parent?: string): RegisteredResource {
  const urn = (n: string) => `urn:pulumi:s::p::t::${n}`;
  return {
    urn: urn(name),
    type,
    name,
    parent: parent ?? null,
    parentUrn: parent ? urn(parent) : null,
    custom: true,
    inputs: {},
    plainInputs: {},
    secretPaths: [],
    dependsOn: [],
    options: {
      protect: false,
      deleteBeforeReplace: false,
      ignoreChanges: [],
      replaceOnChanges: [],
      additionalSecretOutputs: [],
      aliases: 0,
    },
  };
}

function model(values: Record<string, unknown>): Model {
  const { model, findings } = loadModel({ values, secretKeys: TEST_SECRET_KEYS });
  assert.ok(model, JSON.stringify(findings));
  return model;
}

describe("plan rendering", () => {
  it("draws the resource tree the way pulumi preview does, children in registration order", () => {
    const rows = previewRows([
      resource("stack", "pulumi:pulumi:Stack"),
      resource("cluster", "pve-homelab:cluster:HomelabCluster", "stack"),
      resource("votes", "command:remote:Command", "cluster"),
      resource("vms", "pve-homelab:vms:VirtualMachines", "cluster"),
      resource("vm-a", "proxmoxve:index/vmLegacy:VmLegacy", "vms"),
      resource("vm-b", "proxmoxve:index/vmLegacy:VmLegacy", "vms"),
      resource("rejoin", "command:remote:Command", "cluster"),
    ]);
    assert.deepEqual(
      rows.map((r) => `${r.prefix}${r.resource.name}`),
      ["stack", "└─ cluster", "   ├─ votes", "   ├─ vms", "   │  ├─ vm-a", "   │  └─ vm-b", "   └─ rejoin"],
    );
  });

  it("lists each finding with its path, code and fix", () => {
    assert.equal(
      findings([
        { level: "error", code: "votes.x", path: "hosts[0].votes", message: "too few", fix: "set it to 3" },
        { level: "warning", code: "stack.y", path: "", message: "odd", fix: "look" },
      ]),
      [
        "Findings",
        "  error: hosts[0].votes: too few [votes.x]",
        "    fix: set it to 3",
        "  warning: (stack): odd [stack.y]",
        "    fix: look",
      ].join("\n"),
    );
  });

  it("puts a program's failure on one line, keeping the detail an introducing line points to", () => {
    assert.equal(
      oneLine('Transform failed with 1 error:\n/work/x.ts:4:1: ERROR: Expected ";"\n  more'),
      'Transform failed with 1 error: /work/x.ts:4:1: ERROR: Expected ";"',
    );
    assert.equal(oneLine("pve-homelab: 2 problem(s)\n  at loadStack"), "pve-homelab: 2 problem(s)");
  });

  it("draws a QDevice with a dotted link to every host in qdevice mode", () => {
    const m = model(
      withEdit((v) => {
        v.hosts.forEach((h) => (h.votes = 1));
        v.hosts.push({
          name: "pve-four",
          address: "192.168.1.24",
          power: "sometimes-on",
          votes: 1,
          hostKey: KEY_MID,
        });
        v.quorum = { mode: "qdevice", device: { address: "192.168.1.5", hostKey: KEY_HIGH } };
      }),
    );
    const text = topologyMermaid(m, whatIf(m));
    assert.match(text, /^ {2}qdevice\[\("QDevice 192\.168\.1\.5 · ffsplit · 1 vote"\)\]$/m);
    assert.deepEqual(
      text.split("\n").filter((l) => l.includes("-.-")),
      ["  qdevice -.- host0", "  qdevice -.- host1", "  qdevice -.- host2", "  qdevice -.- host3"],
    );
    assert.match(text, /subgraph cluster\["cluster homelab · expected 5, quorum 3"\]/);
  });

  it("marks hosts without VMs and styles the always-on and usually-off hosts", () => {
    const m = model(homelabValues());
    const text = topologyMermaid(m);
    assert.match(
      text,
      /subgraph host1\["pve-mid · sometimes-on · 1 vote"\]\n {6}empty1\["no VMs"\]\n {4}end/,
    );
    assert.match(text, /^ {2}style host0 stroke-width:3px$/m);
    assert.match(text, /^ {2}style host2 stroke-dasharray: 5 5$/m);
    assert.doesNotMatch(text, /style host1/);
  });
});
