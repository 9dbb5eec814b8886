import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadModel } from "../../core/config";
import type { Model } from "../../core/model";
import { corosyncEdit } from "../../plan/corosync";
import { homelabValues, TEST_SECRET_KEYS } from "../fixtures/stacks";

const FILE = path.resolve(__dirname, "../fixtures/plan/corosync.conf");
const text = () => fs.readFileSync(FILE, "utf8");

function homelab(): Model {
  const { model, findings } = loadModel({ values: homelabValues(), secretKeys: TEST_SECRET_KEYS });
  assert.ok(model, JSON.stringify(findings));
  return model;
}

describe("plan --corosync: the vote edit pulumi up would make", () => {
  it("sets the declared votes and bumps config_version, nothing else", () => {
    const edit = corosyncEdit(homelab(), FILE, text());
    assert.ok(!("finding" in edit));
    assert.deepEqual(edit.votes, { "pve-low": 3, "pve-mid": 1, "pve-high": 1 });
    assert.deepEqual([edit.changed, edit.versionBefore, edit.versionAfter], [true, 3, 4]);
    const changed = edit.after.split("\n").filter((line, i) => line !== edit.before.split("\n")[i]);
    assert.deepEqual(changed, ["    quorum_votes: 3", "  config_version: 4"]);
  });

  it("changes nothing when the file already has the declared votes", () => {
    const once = corosyncEdit(homelab(), FILE, text());
    assert.ok(!("finding" in once));
    const again = corosyncEdit(homelab(), FILE, once.after);
    assert.ok(!("finding" in again));
    assert.deepEqual([again.changed, again.after === once.after, again.versionAfter], [false, true, 4]);
  });

  it("turns a refused edit into error findings, one per problem", () => {
    const drifted = text().replace("ring0_addr: 192.168.1.22", "ring0_addr: 10.0.0.22");
    const result = corosyncEdit(homelab(), FILE, drifted);
    assert.ok("finding" in result);
    assert.deepEqual(
      result.finding.map((f) => [f.level, f.code, f.path]),
      [["error", "corosync.nodelist-drift", "corosync.conf"]],
    );
    assert.match(result.finding[0]!.message, /pve-mid has ring0_addr 10\.0\.0\.22, expected 192\.168\.1\.22/);
  });

  it("reports a file corosync cannot parse with its line", () => {
    const result = corosyncEdit(homelab(), FILE, "totem {\n  config_version: 3\n");
    assert.ok("finding" in result);
    assert.deepEqual(
      result.finding.map((f) => [f.code, f.path]),
      [["corosync.missing-close-brace", "corosync.conf:2"]],
    );
    assert.equal(result.finding[0]!.fix, "add the '}' that closes the last open section");
  });
});
