import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { PlanJson } from "../../plan/json";
import { PLACEHOLDER_SECRET } from "../../plan/stack";
import { runCli, type CliRun as Run } from "../helpers/cli";

// `npm run plan` as a user runs it: a child process (exit codes matter), on the repository's stacks and on
// fixture stacks copied next to the real Pulumi.yaml in a temp dir (--dir).
const ROOT = path.resolve(__dirname, "../..");
const FIXTURES = path.join(ROOT, "test/fixtures/plan");

const plan = (args: readonly string[]): Promise<Run> => runCli("plan/cli.ts", args);

/** Runs all plans up front, a few at a time (each is a Node process that loads the Pulumi SDK). */
async function runAll<K extends string>(
  jobs: Record<K, readonly string[]>,
  parallel = 3,
): Promise<Record<K, Run>> {
  const keys = Object.keys(jobs) as K[];
  const out = {} as Record<K, Run>;
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      out[key] = await plan(jobs[key]);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return out;
}

/** Lines with runs of spaces collapsed, so table assertions do not depend on column widths. */
const lines = (text: string) => text.split("\n").map((l) => l.trim().replace(/\s+/g, " "));
const json = (run: Run) => JSON.parse(run.stdout) as PlanJson;
const section = (text: string, title: string) => {
  const start = text.indexOf(`\n${title}`);
  assert.ok(start >= 0, `no section "${title}" in:\n${text}`);
  const end = text.indexOf("\n\n", start + 1);
  return text.slice(start + 1, end < 0 ? undefined : end);
};
const changedLines = (diff: string) =>
  diff.split("\n").filter((l) => /^[+-]/.test(l) && !l.startsWith("+++") && !l.startsWith("---"));

describe("npm run plan (child process)", function () {
  this.timeout(180_000);
  let tmp: string;
  let runs: Record<
    | "homelab"
    | "homelabJson"
    | "broken"
    | "brokenJson"
    | "unsound"
    | "unsoundJson"
    | "corosync"
    | "corosyncJson"
    | "unknownStack"
    | "badFlag"
    | "missingFile",
    Run
  >;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "plan-cli-"));
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(tmp, "Pulumi.yaml"));
    for (const stack of ["broken", "unsound"]) {
      fs.copyFileSync(path.join(FIXTURES, `Pulumi.${stack}.yaml`), path.join(tmp, `Pulumi.${stack}.yaml`));
    }
    const corosync = path.join(FIXTURES, "corosync.conf");
    runs = await runAll({
      homelab: ["--stack", "homelab"],
      homelabJson: ["--stack", "homelab", "--json"],
      broken: ["--dir", tmp, "--stack", "broken"],
      brokenJson: ["--dir", tmp, "--stack", "broken", "--json"],
      unsound: ["--dir", tmp, "--stack", "unsound"],
      unsoundJson: ["--dir", tmp, "--stack", "unsound", "--json"],
      corosync: ["--stack", "homelab", "--corosync", corosync],
      corosyncJson: ["--stack", "homelab", "--corosync", corosync, "--json"],
      unknownStack: ["--stack", "nope"],
      badFlag: ["--stack", "homelab", "--frobnicate"],
      missingFile: ["--stack", "homelab", "--corosync", path.join(tmp, "no-such.conf")],
    });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe("the homelab stack, as text", () => {
    it("exits 0 with nothing on stderr", () => {
      assert.equal(runs.homelab.stderr, "");
      assert.equal(runs.homelab.code, 0, runs.homelab.stdout);
    });

    it("lists the resources as a preview tree: the stack, the cluster component, the VMs under their component", () => {
      const tree = lines(section(runs.homelab.stdout, "Resources (pulumi preview)"));
      assert.equal(tree[1], "Type Name Plan");
      assert.equal(tree[2], "+ pulumi:pulumi:Stack pve-homelab-homelab create");
      assert.ok(tree.includes("+ └─ pve-homelab:cluster:HomelabCluster homelab create"), tree.join("\n"));
      for (const vm of ["dns", "home-assistant", "media", "build"]) {
        const row = tree.find((l) =>
          l.endsWith(` proxmoxve:index/vmLegacy:VmLegacy homelab-vms-${vm} create`),
        );
        assert.ok(row && /^\+ [│ ]*[├└]─ /.test(row), `no VM row for ${vm} in\n${tree.join("\n")}`);
      }
    });

    it("prints the vote layout and the full what-if table", () => {
      const text = lines(runs.homelab.stdout);
      for (const row of [
        "pve-low 192.168.1.21 always-on 3 1",
        "pve-mid 192.168.1.22 sometimes-on 1 2",
        "pve-high 192.168.1.23 usually-off 1 3",
        "Expected votes 5, quorum 3.",
        "pve-low pve-mid pve-high votes quorate cold start",
        "up up up 5 yes yes",
        "up up - 4 yes yes",
        "up - up 4 yes yes",
        "- up up 2 no no",
        "up - - 3 yes yes",
        "- up - 1 no no",
        "- - up 1 no no",
        "- - - 0 no no",
      ]) {
        assert.ok(text.includes(row), `missing line "${row}"`);
      }
    });

    it("checks the always-on intent both ways", () => {
      const text = lines(runs.homelab.stdout);
      assert.ok(text.includes("Always-on intent: pve-low alone: 3 of 5 votes, quorum 3: quorate — OK"));
      assert.ok(text.includes("pve-mid + pve-high without it: 2 votes: not quorate — OK"));
    });

    it("shows VM placement per host with capacity bars from the declared cores and memory", () => {
      const placement = lines(section(runs.homelab.stdout, "VM placement"));
      const at = (host: string) => placement.findIndex((l) => l.startsWith(`${host} (`));
      assert.deepEqual(placement.slice(at("pve-low"), at("pve-low") + 5), [
        "pve-low (always-on)",
        "cores [##################------] 3/4 75%",
        "memory [########----------------] 5120/16384 MiB 31%",
        "- dns vmId 101 1 core 1024 MiB 8 GiB alwaysOn, started, onBoot",
        "- home-assistant vmId 102 2 cores 4096 MiB 32 GiB alwaysOn, started, onBoot",
      ]);
      assert.ok(placement.includes("- build vmId 201 12 cores 49152 MiB 200 GiB stopped"));
    });

    it("draws the topology as Mermaid with hosts, votes and VMs under their hosts", () => {
      const mermaid = section(runs.homelab.stdout, "Topology (Mermaid)");
      assert.match(mermaid, /^flowchart TB$/m);
      assert.match(
        mermaid,
        /subgraph host0\["pve-low · always-on · 3 votes"\]\n\s+vm101\["dns · 101 · alwaysOn"\]/,
      );
      assert.match(mermaid, /subgraph host2\["pve-high · usually-off · 1 vote"\]\n\s+vm201\["build · 201"\]/);
      assert.doesNotMatch(mermaid, /qdevice/);
    });

    it("reports only the rejoin-step upgrade note, and the secrets as [secret] placeholders", () => {
      assert.match(
        runs.homelab.stdout,
        /\nFindings\n {2}info: hosts\[2\]: pve-high is usually off: its rejoin step \(version [0-9a-f]{12}\)/,
      );
      assert.match(
        runs.homelab.stdout,
        /sshPrivateKey: \[secret\] \(not set in the stack: a placeholder stands in\)/,
      );
      assert.match(
        runs.homelab.stdout,
        /\n0 error\(s\), 0 warning\(s\), \d+ resource\(s\) to create: ready for `pulumi up`\.\n$/,
      );
    });
  });

  describe("the homelab stack, as JSON", () => {
    let doc: PlanJson;
    before(() => {
      assert.equal(runs.homelabJson.code, 0, runs.homelabJson.stderr);
      doc = json(runs.homelabJson);
    });

    it("names the stack and every host with its power profile and votes", () => {
      assert.equal(doc.stack, "homelab");
      assert.equal(doc.ok, true);
      assert.deepEqual(doc.hosts, [
        { name: "pve-low", address: "192.168.1.21", power: "always-on", votes: 3, nodeId: 1 },
        { name: "pve-mid", address: "192.168.1.22", power: "sometimes-on", votes: 1, nodeId: 2 },
        { name: "pve-high", address: "192.168.1.23", power: "usually-off", votes: 1, nodeId: 3 },
      ]);
    });

    it("holds the quorum arithmetic and one scenario per subset of hosts", () => {
      assert.ok(doc.quorum);
      assert.equal(doc.quorum.expectedVotes, 5);
      assert.equal(doc.quorum.quorum, 3);
      assert.equal(doc.quorum.scenarios.length, 8);
      const row = (...up: string[]) => doc.quorum!.scenarios.find((s) => s.up.join() === up.join());
      assert.deepEqual(row("pve-low"), { up: ["pve-low"], votes: 3, quorate: true, coldStart: true });
      assert.deepEqual(row("pve-mid", "pve-high"), {
        up: ["pve-mid", "pve-high"],
        votes: 2,
        quorate: false,
        coldStart: false,
      });
      assert.deepEqual(doc.quorum.alwaysOn, {
        hosts: ["pve-low"],
        votes: 3,
        quorate: true,
        others: { hosts: ["pve-mid", "pve-high"], votes: 2, quorate: false },
      });
    });

    it("lists the VMs with their hosts and vmIds, and only the rejoin-step upgrade note", () => {
      assert.deepEqual(doc.vms, [
        { name: "dns", host: "pve-low", vmId: 101 },
        { name: "home-assistant", host: "pve-low", vmId: 102 },
        { name: "media", host: "pve-mid", vmId: 110 },
        { name: "build", host: "pve-high", vmId: 201 },
      ]);
      assert.deepEqual(
        doc.findings.map((f) => [f.level, f.code, f.path]),
        [["info", "rejoin.upgrade-needs-host", "hosts[2]"]],
      );
    });

    it("lists every registered resource with its parent and inputs as registered", () => {
      const [stack, ...rest] = doc.resources;
      assert.deepEqual(
        [stack?.type, stack?.name, stack?.parent],
        ["pulumi:pulumi:Stack", "pve-homelab-homelab", null],
      );
      const names = new Set(doc.resources.map((r) => r.name));
      for (const r of rest)
        assert.ok(r.parent !== null && names.has(r.parent), `${r.name}: parent ${r.parent}`);
      const cluster = doc.resources.find((r) => r.type === "pve-homelab:cluster:HomelabCluster");
      assert.equal(cluster?.parent, "pve-homelab-homelab");
      const build = doc.resources.find((r) => r.name === "homelab-vms-build");
      assert.equal(build?.type, "proxmoxve:index/vmLegacy:VmLegacy");
      assert.equal(build?.parent, "homelab-vms");
      assert.equal(build?.provider, "homelab-vms-provider");
      assert.deepEqual(
        [build?.inputs.nodeName, build?.inputs.vmId, build?.inputs.name],
        ["pve-high", 201, "build"],
      );
    });

    it("shows secret inputs as [secret] and preview unknowns as [unknown], never the placeholder", () => {
      const provider = doc.resources.find((r) => r.type === "pulumi:providers:proxmoxve");
      assert.equal(provider?.inputs.apiToken, "[secret]");
      const ha = doc.resources.find((r) => r.name === "homelab-vms-home-assistant");
      const disks = ha?.inputs.disks as { fileId?: unknown }[];
      assert.equal(disks[0]?.fileId, "[unknown]"); // the image download's id: not known before it exists
      assert.ok(!runs.homelabJson.stdout.includes(PLACEHOLDER_SECRET));
      assert.deepEqual(
        doc.secrets.map((s) => s.source),
        ["placeholder", "placeholder", "placeholder"],
      );
    });

    it("has no corosync key without --corosync", () => {
      assert.ok(!("corosync" in doc));
    });
  });

  describe("a stack whose config does not parse", () => {
    const EXPECTED: [string, string, string][] = [
      ["error", "config.secret-in-plain-text", "sshPrivateKey"],
      ["error", "config.too_small", "hosts[1].votes"],
      ["error", "config.custom", "hosts[2].address"],
      ["error", "config.invalid_value", "hosts[2].power"],
      ["error", "config.too_small", "vms[0].vmId"],
    ];

    it("exits 1 after printing every finding with its fix", () => {
      assert.equal(runs.broken.code, 1);
      assert.equal(runs.broken.stderr, "");
      const findings = section(runs.broken.stdout, "Findings").split("\n");
      assert.equal(findings.length, 1 + 2 * EXPECTED.length, findings.join("\n"));
      EXPECTED.forEach(([level, code, at], i) => {
        assert.ok(findings[1 + 2 * i]!.startsWith(`  ${level}: ${at}: `), findings[1 + 2 * i]);
        assert.ok(findings[1 + 2 * i]!.endsWith(`[${code}]`), findings[1 + 2 * i]);
        assert.match(findings[2 + 2 * i]!, /^ {4}fix: \S/);
      });
      assert.ok(
        findings.includes(
          "  error: hosts[1].votes: votes must be >= 0 (corosync quorum_votes); use 0 for a host that never counts [config.too_small]",
        ),
      );
    });

    it("still shows the hosts as far as they can be read, no what-if table and no resources", () => {
      const text = lines(runs.broken.stdout);
      assert.ok(text.includes("pve-mid 192.168.1.22 sometimes-on -1"));
      assert.ok(text.includes("pve-high 192.168.1.300 usualy-off 1"));
      assert.ok(text.includes("What-if table: not available (the config does not parse)."));
      assert.ok(text.includes("none: the program registered nothing"));
      assert.ok(
        text.includes(
          "5 error(s), 0 warning(s), 0 resource(s) to create: NOT READY: fix the errors above before `pulumi up`.",
        ),
      );
    });

    it("still prints one valid JSON document with all findings, readable hosts and an empty resource list", () => {
      assert.equal(runs.brokenJson.code, 1);
      const doc = json(runs.brokenJson);
      assert.equal(doc.ok, false);
      assert.deepEqual(
        doc.findings.map((f) => [f.level, f.code, f.path]),
        EXPECTED,
      );
      assert.ok(doc.findings.every((f) => f.message.length > 0 && f.fix.length > 0));
      assert.deepEqual(doc.hosts[1], {
        name: "pve-mid",
        address: "192.168.1.22",
        power: "sometimes-on",
        votes: -1,
        nodeId: null,
      });
      assert.deepEqual(doc.vms, [{ name: "dns", host: "pve-low", vmId: 42 }]);
      assert.equal(doc.quorum, null);
      assert.deepEqual(doc.resources, []);
      assert.match(doc.programError ?? "", /5 problem\(s\) in the stack config/);
    });

    it("never prints a secret stored in plain text", () => {
      assert.ok(!runs.broken.stdout.includes("not-a-secret-in-plain-text"));
      assert.ok(!runs.brokenJson.stdout.includes("not-a-secret-in-plain-text"));
      assert.equal(json(runs.brokenJson).config.sshPrivateKey, "[secret]");
    });
  });

  describe("a stack that parses but breaks the quorum and placement rules", () => {
    it("lists every quorum and placement finding in JSON and exits 1", () => {
      assert.equal(runs.unsoundJson.code, 1);
      const doc = json(runs.unsoundJson);
      assert.deepEqual(
        doc.findings.map((f) => [f.level, f.code, f.path]),
        [
          ["error", "votes.always-on-not-quorate", "hosts[0].votes"],
          ["error", "quorum.weighted-shared-storage", "sharedStorage"],
          ["error", "placement.cores-exceeded", "hosts[0].cores"],
          ["error", "placement.always-on-vm-on-sleeping-host", "vms[1].host"],
          ["warning", "placement.started-on-usually-off-host", "vms[2].started"],
          ["warning", "backups.important-vm-not-backed-up", "vms[0]"],
          ["warning", "backups.important-vm-not-backed-up", "vms[1]"],
          ["info", "rejoin.upgrade-needs-host", "hosts[2]"],
        ],
      );
      assert.equal(
        doc.findings[0]?.fix,
        "set hosts[0].votes to 3: votes 3/1/1 give expected 5, quorum 3, and pve-low alone then holds 3",
      );
      assert.deepEqual(doc.quorum?.alwaysOn?.votes, 2);
      assert.equal(doc.quorum?.alwaysOn?.quorate, false);
      assert.deepEqual(doc.resources, []);
      assert.deepEqual(
        doc.secrets.map((s) => s.source),
        ["stack file", "stack file", "placeholder"],
      );
    });

    it("shows the failed always-on intent and the over-committed host in the text report", () => {
      assert.equal(runs.unsound.code, 1);
      const text = lines(runs.unsound.stdout);
      assert.ok(
        text.includes("Always-on intent: pve-low alone: 2 of 4 votes, quorum 3: NOT quorate — FAILS"),
      );
      assert.ok(text.includes("up - - 2 no no"));
      assert.ok(text.includes("cores [########################] 6/4 150% OVER CAPACITY"));
      assert.ok(
        text.includes(
          "4 error(s), 3 warning(s), 0 resource(s) to create: NOT READY: fix the errors above before `pulumi up`.",
        ),
      );
    });
  });

  describe("--corosync with a Proxmox-written corosync.conf", () => {
    const before = () => fs.readFileSync(path.join(FIXTURES, "corosync.conf"), "utf8");

    it("shows a unified diff that changes only pve-low's vote and the config version", () => {
      assert.equal(runs.corosync.code, 0, runs.corosync.stdout);
      const diff = section(runs.corosync.stdout, "corosync.conf: what `pulumi up` would write");
      assert.deepEqual(changedLines(diff), [
        "-    quorum_votes: 1",
        "+    quorum_votes: 3",
        "-  config_version: 3",
        "+  config_version: 4",
      ]);
      assert.match(diff, /\n {5}name: pve-low\n {5}nodeid: 1\n-    quorum_votes: 1\n/);
      assert.match(diff, /^--- a\/etc\/pve\/corosync.conf\n\+\+\+ b\/etc\/pve\/corosync.conf$/m);
    });

    it("puts the file before and after the edit into the JSON document", () => {
      assert.equal(runs.corosyncJson.code, 0);
      const doc = json(runs.corosyncJson);
      const expected = before()
        .replace(
          "    name: pve-low\n    nodeid: 1\n    quorum_votes: 1",
          "    name: pve-low\n    nodeid: 1\n    quorum_votes: 3",
        )
        .replace("config_version: 3", "config_version: 4");
      assert.deepEqual(doc.corosync, {
        changed: true,
        before: before(),
        after: expected,
        versionBefore: 3,
        versionAfter: 4,
      });
    });
  });

  describe("usage errors", () => {
    const oneLine = (run: Run) => {
      assert.equal(run.code, 2);
      assert.equal(run.stdout, "");
      assert.match(run.stderr, /^plan: [^\n]+\n$/);
      assert.doesNotMatch(run.stderr, /\bat .*:\d+:\d+/); // no stack frame
    };

    it("an unknown stack exits 2 with one line naming the stacks there are", () => {
      oneLine(runs.unknownStack);
      assert.match(
        runs.unknownStack.stderr,
        /^plan: unknown stack "nope": no Pulumi\.nope\.yaml in .* \(stacks: homelab, rehearsal\)\n$/,
      );
    });

    it("an unknown flag exits 2 with one line and the usage", () => {
      oneLine(runs.badFlag);
      assert.match(runs.badFlag.stderr, /--frobnicate/);
      assert.match(runs.badFlag.stderr, /usage: npm run plan -- --stack <name>/);
    });

    it("an unreadable --corosync file exits 2 with one line", () => {
      oneLine(runs.missingFile);
      assert.match(runs.missingFile.stderr, /^plan: cannot read --corosync file .*no-such\.conf: ENOENT\n$/);
    });
  });
});
