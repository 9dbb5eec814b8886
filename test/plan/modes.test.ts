// The plan shows, side by side, which sets of live hosts keep quorum under each quorum mode (issue 9).
import { strict as assert } from "node:assert";
import { renderHuman } from "../../plan/human";
import { toJson } from "../../plan/json";
import { buildPlan, REPO_ROOT } from "../../plan/report";

describe("plan: quorum modes side by side", () => {
  it("renders weighted, qdevice (device up and down) and default for every set of live hosts", async () => {
    const report = await buildPlan({ dir: REPO_ROOT, stack: "homelab" });
    const text = renderHuman(report);
    const section = text.slice(text.indexOf("Quorum modes side by side"), text.indexOf("VM placement"));
    assert.match(section, /\* weighted: votes 3\/1\/1, expected 5, quorum 3/);
    assert.match(section, / {4}qdevice: votes 1\/1\/1 \+ QDevice 2 \(lms\), expected 5, quorum 3/);
    assert.match(section, / {4}default: votes 1\/1\/1, expected 3, quorum 2/);
    assert.match(section, /--force/);
    const tableLines = section.slice(section.indexOf("live hosts")).split("\n");
    const cells = tableLines.map((l) => l.trim().split(/\s{2,}/));
    const row = (hosts: string) => cells.find((c) => c[0] === hosts);
    assert.deepEqual(row("pve-low"), ["pve-low", "yes", "yes", "no", "no"]);
    assert.deepEqual(row("pve-mid + pve-high"), ["pve-mid + pve-high", "no", "yes", "no", "yes"]);
    assert.deepEqual(row("pve-low + pve-mid + pve-high"), [
      "pve-low + pve-mid + pve-high",
      "yes",
      "yes",
      "yes",
      "yes",
    ]);
  });

  it("puts the same comparison into the JSON document", async () => {
    const json = toJson(await buildPlan({ dir: REPO_ROOT, stack: "homelab" }));
    const modes = json.quorum?.modes;
    assert.ok(modes);
    assert.deepEqual(modes.hosts, ["pve-low", "pve-mid", "pve-high"]);
    assert.equal(modes.rows.length, 7);
    assert.deepEqual(
      modes.rows.find((r) => r.up.length === 1 && r.up[0] === "pve-low"),
      {
        up: ["pve-low"],
        weighted: true,
        qdevice: true,
        qdeviceDeviceDown: false,
        default: false,
      },
    );
  });
});
