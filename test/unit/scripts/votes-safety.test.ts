// The on-host quorum check decides as core/quorum does. For generated stacks (votes, always-on hosts, quorum
// options), files (device section or not) and live states (members corosync reports, device casting), the
// vote push's own shell steps run with bash: `pvehl_live_read` reads a stub `corosync-quorumtool -s` and the
// edit step judges the file it would write. The expected answer is computed in TypeScript straight from
// core/quorum (pushSafetyProblems on the layout), not through the TypeScript corosync engine.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { renderCorosyncConf, type QuorumOptions } from "../../../core/corosync";
import { pushSafetyProblems, type QuorumLayout } from "../../../core/quorum";
import {
  corosyncEditFunctions,
  liveMembershipFunctions,
  voteLayout,
  votesApplyScript,
  votesResetScript,
} from "../../../core/scripts/votes";

interface SafetyCase {
  readonly votes: readonly number[];
  /** Indexes of the always-on hosts; empty = not weighted mode. */
  readonly alwaysOn: readonly number[];
  readonly quorum: QuorumOptions;
  /** quorum.device.votes in the live file; undefined = no device section. */
  readonly deviceVotes?: number;
  /** Node ids corosync lists as members (nodeids are index + 1). */
  readonly members: readonly number[];
  readonly deviceCasting: boolean;
  readonly reset: boolean;
}

const names = (n: number) => Array.from({ length: n }, (_, i) => `pve${i + 1}`);

const caseArb: fc.Arbitrary<SafetyCase> = fc.integer({ min: 1, max: 5 }).chain((n) =>
  fc.record({
    votes: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: n, maxLength: n }),
    alwaysOn: fc.subarray(Array.from({ length: n }, (_, i) => i)),
    quorum: fc.record(
      {
        expected_votes: fc.integer({ min: 1, max: 12 }),
        two_node: fc.constant(1),
        auto_tie_breaker: fc.constant(1),
        wait_for_all: fc.constant(1),
      },
      { requiredKeys: [] },
    ),
    deviceVotes: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    members: fc.subarray(Array.from({ length: n }, (_, i) => i + 1)),
    deviceCasting: fc.boolean(),
    reset: fc.integer({ min: 0, max: 4 }).map((x) => x === 0),
  }),
);

/** The live file: every node at 1 vote, `expected_votes: 99` (so every push writes), maybe a device. */
function liveFile(c: SafetyCase): string {
  return renderCorosyncConf({
    clusterName: "homelab",
    configVersion: 7,
    nodes: c.votes.map((_, i) => ({
      name: `pve${i + 1}`,
      nodeId: i + 1,
      address: `10.0.0.${i + 1}`,
      votes: 1,
    })),
    quorum: {
      expectedVotes: 99,
      ...(c.deviceVotes === undefined
        ? {}
        : { device: { host: "10.0.0.50", algorithm: "ffsplit", votes: c.deviceVotes } }),
    },
  });
}

/** `corosync-quorumtool -s` as corosync 3 prints it (the lines the script reads). */
function quorumtoolStatus(c: SafetyCase): string {
  const device = c.deviceVotes !== undefined;
  const rows = c.members.map(
    (id) => `${String(id).padStart(10)} ${String(1).padStart(10)} ${device ? "   A,V,NMW " : ""}pve${id}`,
  );
  if (device && c.deviceCasting)
    rows.push(`${"0".padStart(10)} ${String(c.deviceVotes).padStart(10)}            Qdevice`);
  return [
    "Quorum information",
    "------------------",
    "Quorum provider:  corosync_votequorum",
    `Nodes:            ${c.members.length}`,
    "Node ID:          1",
    "Quorate:          Yes",
    "",
    "Membership information",
    "----------------------",
    `    Nodeid      Votes ${device ? "   Qdevice " : ""}Name`,
    ...rows,
    "",
  ].join("\n");
}

/** What core/quorum says: the refusal codes (weighted ones first, as both engines report them), or []. */
function expected(c: SafetyCase): string[] {
  const hosts = c.votes.map((v, i) => ({ name: `pve${i + 1}`, nodeId: i + 1, votes: c.reset ? 1 : v }));
  const q = c.reset ? {} : c.quorum;
  const layout: QuorumLayout = {
    hosts,
    ...(q.expected_votes ? { expectedVotes: q.expected_votes } : {}),
    twoNode: q.two_node === 1,
    waitForAll: q.wait_for_all === 1,
    autoTieBreaker: q.auto_tie_breaker === 1,
    ...(c.deviceVotes === undefined ? {} : { device: { votes: c.deviceVotes } }),
  };
  const alwaysOn = c.reset ? [] : c.alwaysOn.map((i) => `pve${i + 1}`);
  const weighted = pushSafetyProblems(layout, alwaysOn);
  if (weighted.length > 0) return weighted.map((p) => `${p.code}: ${p.message} Fix: ${p.fix}`);
  return pushSafetyProblems(layout, [], { members: c.members, deviceCasting: c.deviceCasting }).map(
    (p) => `${p.code}: ${p.message} Fix: ${p.fix}`,
  );
}

describe("vote push: the on-host quorum check decides as core/quorum does", () => {
  let scratch = "";
  before(() => {
    scratch = mkdtempSync(join(tmpdir(), "pvehl-safety-"));
    const bin = join(scratch, "bin");
    mkdirSync(bin);
    // TEST DOUBLE for corosync-quorumtool: prints the case's status file.
    writeFileSync(join(bin, "corosync-quorumtool"), '#!/bin/sh\ncat "$PVEHL_TEST_STATUS"\n');
    chmodSync(join(bin, "corosync-quorumtool"), 0o755);
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("uses the very functions the apply and reset scripts contain", () => {
    for (const text of [votesApplyScript("pve1", ["pve1"]), votesResetScript("pve1")]) {
      assert.ok(text.includes(liveMembershipFunctions().join("\n")));
      assert.ok(text.includes(corosyncEditFunctions().join("\n")));
      assert.match(text, /PVEHL_LIVE_MEMBERS="\$pvehl_members" PVEHL_LIVE_DEVICE="\$pvehl_device"/);
    }
  });

  it("agrees on 160 generated stacks, files and live states (write or refuse, same numbers)", function () {
    this.timeout(240_000);
    const cases = fc.sample(caseArb, { numRuns: 160, seed: Number(process.env.PVEHL_SEED ?? 1313) });
    const dirs = cases.map((c, i) => {
      const dir = join(scratch, `case-${i}`);
      mkdirSync(dir);
      const hosts = c.votes.map((v, j) => ({
        name: `pve${j + 1}`,
        nodeId: j + 1,
        address: `10.0.0.${j + 1}`,
        votes: v,
      }));
      writeFileSync(join(dir, "conf"), liveFile(c));
      writeFileSync(join(dir, "layout"), voteLayout(hosts, c.quorum));
      writeFileSync(join(dir, "status"), quorumtoolStatus(c));
      writeFileSync(join(dir, "mode"), c.reset ? "reset" : "set");
      writeFileSync(join(dir, "always"), c.alwaysOn.map((i) => names(c.votes.length)[i]).join(" "));
      return dir;
    });
    const driver = [
      "set -euo pipefail",
      "export LC_ALL=C",
      'fail() { echo "FAIL $*"; exit 1; }',
      ...liveMembershipFunctions(),
      ...corosyncEditFunctions(),
      "pvehl_load_awk",
      'for d in "$@"; do',
      '  ( export PVEHL_TEST_STATUS="$d/status"; pvehl_live_read; rc=0; mode=$(< "$d/mode"); always=$(< "$d/always")',
      '    PVEHL_LIVE_MEMBERS="$pvehl_members" PVEHL_LIVE_DEVICE="$pvehl_device" pvehl_edit "$mode" "$d/conf" "$d/layout" "$d/new" $always > "$d/out" || rc=$?',
      '    echo "$rc" > "$d/rc" ) > "$d/log" 2>&1 || true',
      "done",
    ].join("\n");
    const r = spawnSync("bash", ["-c", driver, "bash", ...dirs], {
      encoding: "utf8",
      env: { PATH: `${join(scratch, "bin")}:/usr/bin:/bin` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    assert.equal(r.status, 0, r.stderr);
    const tally = new Map<string, number>();
    cases.forEach((c, i) => {
      const dir = dirs[i]!;
      const read = (f: string) => readFileSync(join(dir, f), "utf8");
      const want = expected(c);
      if (c.members.length === 0) {
        // No member listed: the script stops before judging anything, nothing written.
        assert.match(read("log"), /FAIL corosync-quorumtool -s listed no members/, JSON.stringify(c));
        tally.set("no members", (tally.get("no members") ?? 0) + 1);
        return;
      }
      const [status = "", ...messages] = read("out").trimEnd().split("\n");
      const words = status.split(" ");
      const got = words[0] === "refused" ? messages.map((m, k) => `${k === 0 ? words[1] : "?"}: ${m}`) : [];
      if (want.length === 0) {
        assert.equal(words[0], "changed", `${JSON.stringify(c)}\n${read("out")}`);
        tally.set("write", (tally.get("write") ?? 0) + 1);
      } else {
        assert.equal(words[0], "refused", `${JSON.stringify(c)} want ${want.join("\n")}`);
        assert.equal(words[1], want[0]!.split(":")[0], JSON.stringify(c));
        assert.deepEqual(
          got.map((g) => g.replace(/^[^:]*: /, "")),
          want.map((w) => w.replace(/^[^:]*: /, "")),
          JSON.stringify(c),
        );
        tally.set(words[1]!, (tally.get(words[1]!) ?? 0) + 1);
      }
    });
    // The generator must reach every outcome, or the agreement proves little.
    for (const outcome of [
      "write",
      "always-on-not-quorate",
      "others-quorate-without-always-on",
      "live-members-not-quorate",
    ]) {
      assert.ok((tally.get(outcome) ?? 0) >= 5, `${outcome}: ${JSON.stringify([...tally])}`);
    }
  });
});
