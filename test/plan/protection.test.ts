// The plan's VM protection section: backups, replication pairs, HA placement with the fencing consequence per
// host and start order, in the text report and in --json, from `npm run plan` run as a child process.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { PlanJson } from "../../plan/json";
import { runCli } from "../helpers/cli";

const ROOT = path.resolve(__dirname, "../..");

const plan = (args: readonly string[]) => runCli("plan/cli.ts", args);

/** The text between a section's title line and the next blank line, runs of spaces collapsed. */
const section = (text: string, title: string): string[] => {
  const lines = text.split("\n");
  const start = lines.indexOf(title);
  assert.ok(start >= 0, `no section "${title}"`);
  const end = lines.indexOf("", start);
  return lines.slice(start + 1, end).map((l) => l.trim().replace(/\s+/g, " "));
};

describe("plan: VM protection", function () {
  this.timeout(180_000);
  let tmp: string;
  let runs: Record<
    "homelab" | "homelabJson" | "protected" | "protectedJson",
    { code: number; stdout: string }
  >;
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "plan-protection-"));
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(tmp, "Pulumi.yaml"));
    fs.copyFileSync(
      path.join(ROOT, "test/fixtures/plan/Pulumi.protected.yaml"),
      path.join(tmp, "Pulumi.protected.yaml"),
    );
    const [homelab, homelabJson, prot, protJson] = await Promise.all([
      plan(["--stack", "homelab"]),
      plan(["--stack", "homelab", "--json"]),
      plan(["--dir", tmp, "--stack", "protected"]),
      plan(["--dir", tmp, "--stack", "protected", "--json"]),
    ]);
    runs = { homelab: homelab!, homelabJson: homelabJson!, protected: prot!, protectedJson: protJson! };
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("shows the homelab's nightly backup of every VM, the media replication and dns's start order", () => {
    assert.equal(runs.homelab.code, 0);
    assert.deepEqual(section(runs.homelab.stdout, "VM protection"), [
      "Backups (each node backs up its own VMs at the scheduled time; a node that is off runs a missed job at boot only with repeat missed)",
      "job schedule storage mode vms retention when off",
      "nightly 02:30 local snapshot all (dns, home-assistant, media, build) keep-daily=7,keep-weekly=4,keep-monthly=3 repeat missed",
      "Replication (a migration or HA recovery to the target sends only the changes since the last run)",
      "job moves fast target schedule rate",
      "110-0 media: pve-mid → pve-low to always-on every */15 50 MB/s",
      "HA: none",
      "Start order (per host; Proxmox stops in reverse order)",
      "pve-low: dns #1 up +30s down 60s",
    ]);
  });

  it("puts the same into the homelab's JSON document", () => {
    const doc = JSON.parse(runs.homelabJson.stdout) as PlanJson;
    assert.equal(doc.ok, true);
    assert.deepEqual(doc.protection?.backups, [
      {
        id: "nightly",
        schedule: "02:30",
        storage: "local",
        storageHost: null,
        mode: "snapshot",
        all: true,
        vms: ["dns", "home-assistant", "media", "build"],
        repeatMissed: true,
        retention: "keep-daily=7,keep-weekly=4,keep-monthly=3",
        enabled: true,
      },
    ]);
    assert.deepEqual(doc.protection?.replication, [
      {
        vm: "media",
        jobId: "110-0",
        from: "pve-mid",
        to: "pve-low",
        toPower: "always-on",
        schedule: "*/15",
        rate: 50,
      },
    ]);
    assert.deepEqual(doc.protection?.ha, []);
    assert.deepEqual(doc.protection?.startup, [
      { host: "pve-low", vms: [{ vm: "dns", order: 1, upDelay: 30, downDelay: 60 }] },
    ]);
  });

  it("explains HA placement and the fencing consequence on each host that may run the VM", () => {
    assert.equal(runs.protected.code, 0);
    assert.deepEqual(section(runs.protected.stdout, "VM protection"), [
      "Backups (each node backs up its own VMs at the scheduled time; a node that is off runs a missed job at boot only with repeat missed)",
      "job schedule storage mode vms retention when off",
      "weekly sun 03:00 pbs-high on pve-high snapshot dns, mqtt keep-weekly=8 missed runs skipped",
      "Replication (a migration or HA recovery to the target sends only the changes since the last run)",
      "job moves fast target schedule rate",
      "101-0 dns: pve-low → pve-mid to sometimes-on every */5 20 MB/s",
      "HA (a host running HA services resets itself by watchdog ~60 s after losing quorum)",
      "dns (vm:101, rule pve-homelab-dns):",
      "pve-low (always-on, priority 2): self-fences (watchdog reset ~60 s after losing quorum) when the live hosts are at most: pve-low + pve-mid without the QDevice; pve-low + pve-high without the QDevice",
      "pve-mid (sometimes-on, priority 1): self-fences (watchdog reset ~60 s after losing quorum) when the live hosts are at most: pve-low + pve-mid without the QDevice; pve-mid + pve-high without the QDevice",
      "Start order (per host; Proxmox stops in reverse order)",
      "pve-low: mqtt #1 up +20s",
    ]);
    assert.match(runs.protected.stdout, /backups\.storage-on-sleeping-host/);
    assert.match(runs.protected.stdout, /ha\.groups-migration/);
  });

  it("puts HA placement with the fencing cases into JSON, and the HA resources among the resources", () => {
    const doc = JSON.parse(runs.protectedJson.stdout) as PlanJson;
    assert.deepEqual(
      doc.protection?.ha.map((h) => [
        h.vm,
        h.resource,
        h.placement,
        h.hosts.map((x) => [x.host, x.priority, x.fencing]),
      ]),
      [
        [
          "dns",
          "vm:101",
          { kind: "rule", id: "pve-homelab-dns" },
          [
            [
              "pve-low",
              2,
              [
                { up: ["pve-low", "pve-mid"], deviceUp: false },
                { up: ["pve-low", "pve-high"], deviceUp: false },
              ],
            ],
            [
              "pve-mid",
              1,
              [
                { up: ["pve-low", "pve-mid"], deviceUp: false },
                { up: ["pve-mid", "pve-high"], deviceUp: false },
              ],
            ],
          ],
        ],
      ],
    );
    assert.deepEqual(
      doc.resources
        .filter((r) => r.type.startsWith("proxmoxve:index/ha"))
        .map((r) => [r.type, r.name])
        .sort(),
      [
        ["proxmoxve:index/haresource:Haresource", "homelab-ha-dns"],
        ["proxmoxve:index/harule:Harule", "homelab-ha-dns-rule"],
      ],
    );
    assert.deepEqual(
      doc.findings
        .filter((f) => /^(backups|replication|ha|startup)\./.test(f.code))
        .map((f) => [f.level, f.code]),
      [
        ["warning", "backups.storage-on-sleeping-host"],
        ["warning", "ha.groups-migration"],
      ],
    );
  });
});
