// core/quorum's what-if table against corosync's own votequorum code, run by corosync-vqsim (Debian package
// corosync-vqsim). Layouts come from fast-check with a fixed seed (VQSIM_SEED overrides it; the seed is
// printed), every subset of every layout is driven through the simulator and compared with the table.
// Several simulators run at once: they mostly wait on their 10 ms sync timers.
import { strict as assert } from "node:assert";
import { accessSync, constants } from "node:fs";
import fc from "fast-check";
import { COROSYNC_REFUSES, quorumFindings, whatIf, type QuorumScenario } from "../../core/quorum";
import { VQSIM } from "./vqsim/driver";
import {
  describeLayout,
  layoutModel,
  optionsLayout,
  qdeviceLayout,
  votesOnlyLayout,
  type Layout,
} from "./vqsim/layouts";
import {
  coldStarts,
  deviceWalk,
  grayWalk,
  pool,
  splitsFromFull,
  type LayoutRun,
  type Observation,
} from "./vqsim/observe";

const SEED = Number(process.env.VQSIM_SEED ?? 20240611);
const CONCURRENCY = Number(process.env.VQSIM_CONCURRENCY ?? 4);

interface Outcome {
  readonly layout: Layout;
  readonly compared: number;
  readonly refusedBySim?: string;
  readonly problems: readonly string[];
  readonly upRetries?: number;
}

function key(up: readonly number[], deviceUp?: boolean): string {
  return `${up.join(",")}|${deviceUp ?? ""}`;
}

/** Compare a run with the table; also check vqsim refused exactly the layouts the findings say it refuses. */
function judge(layout: Layout, run: LayoutRun, expectSubsets: (n: number) => number): Outcome {
  const model = layoutModel(layout);
  const refusing = quorumFindings(model).filter((f) => f.level === "error" && COROSYNC_REFUSES.has(f.code));
  const problems: string[] = [];
  if (run.refused !== undefined || refusing.length > 0) {
    if (run.refused === undefined) {
      problems.push(
        `findings say corosync refuses (${refusing.map((f) => f.code).join(", ")}), vqsim started`,
      );
    } else if (refusing.length === 0) {
      problems.push(`vqsim refused ("${run.refused}"), no finding says so`);
    }
    return { layout, compared: 0, refusedBySim: run.refused, problems };
  }
  const table = whatIf(model);
  const byKey = new Map<string, QuorumScenario>();
  const index = new Map(model.hosts.map((h, i) => [h.name, i]));
  for (const s of table.scenarios)
    byKey.set(
      key(
        s.up.map((n) => index.get(n)!),
        s.deviceUp,
      ),
      s,
    );
  const seen = new Set<string>();
  for (const o of run.observations) {
    const s = byKey.get(key(o.up, o.deviceUp));
    if (!s) {
      problems.push(`no table row for ${describeObservation(model.hosts, o)}`);
      continue;
    }
    seen.add(`${o.kind}|${key(o.up, o.deviceUp)}`);
    const predicted = o.kind === "cold" ? s.coldStart : s.quorate;
    if (predicted !== o.quorate) {
      problems.push(
        `${describeObservation(model.hosts, o)}: vqsim quorate=${o.quorate}, table ${o.kind === "cold" ? "coldStart" : "quorate"}=${predicted} (votes ${s.votes}, expected ${table.expectedVotes}, quorum ${table.quorum})`,
      );
    }
  }
  const want = expectSubsets(layout.votes.length);
  if (seen.size !== want) problems.push(`covered ${seen.size} (kind, subset) pairs, expected ${want}`);
  const empty = table.scenarios.filter((s) => s.up.length === 0);
  if (empty.some((s) => s.quorate || s.coldStart)) problems.push("table calls the empty host set quorate");
  return { layout, compared: run.observations.length, problems, upRetries: run.upRetries };
}

function describeObservation(hosts: readonly { name: string; nodeId: number }[], o: Observation): string {
  const up = o.up.map((i) => `${hosts[i]!.name}#${hosts[i]!.nodeId}`).join("+");
  const device = o.deviceUp === undefined ? "" : o.deviceUp ? " with device" : " without device";
  return `${o.kind} {${up}}${device}`;
}

function report(name: string, outcomes: readonly Outcome[], started: number): void {
  const bad = outcomes.filter((o) => o.problems.length > 0);
  const refused = outcomes.filter((o) => o.refusedBySim !== undefined).length;
  const compared = outcomes.reduce((a, o) => a + o.compared, 0);
  const retries = outcomes.reduce((a, o) => a + (o.upRetries ?? 0), 0);
  console.log(
    `      ${name}: ${outcomes.length} layouts (seed ${SEED}), ${refused} refused by corosync (checked against the findings, not simulated), ` +
      `${compared} subsets compared, ${bad.length} with problems, ${((Date.now() - started) / 1000).toFixed(1)} s` +
      (retries ? ` (${retries} vqsim 'up' resent)` : ""),
  );
  assert.deepEqual(
    bad.slice(0, 10).map((o) => `${describeLayout(o.layout)}: ${o.problems.slice(0, 5).join("; ")}`),
    [],
  );
}

const sample = <T>(arb: fc.Arbitrary<T>, numRuns: number, offset: number): T[] =>
  fc.sample(arb, { seed: SEED + offset, numRuns });

describe("what-if table against corosync-vqsim", function () {
  this.timeout(600_000);

  before(() => {
    try {
      accessSync(VQSIM, constants.X_OK);
    } catch {
      throw new Error(
        `${VQSIM} is missing: install the Debian package corosync-vqsim (apt-get install corosync-vqsim); this test never skips`,
      );
    }
  });

  it("matches votequorum for every subset of 200 vote layouts (1-8 hosts, votes 0-5, Proxmox's defaults)", async () => {
    const started = Date.now();
    const layouts = sample(votesOnlyLayout(8, 5), 200, 0);
    const outcomes = await pool(layouts, CONCURRENCY, async (l) =>
      judge(l, await grayWalk(l), (n) => 2 ** n - 1),
    );
    report("vote layouts", outcomes, started);
    assert.equal(outcomes.length, 200);
  });

  it("matches votequorum with expected_votes, two_node, wait_for_all, auto_tie_breaker and last_man_standing", async () => {
    const started = Date.now();
    const layouts = sample(optionsLayout(5, 3), 60, 1);
    const outcomes = await pool(layouts, CONCURRENCY, async (l) => {
      const warm = await splitsFromFull(l);
      if (warm.refused !== undefined) return judge(l, warm, () => 0);
      const cold = await coldStarts(l);
      return judge(
        l,
        { observations: [...warm.observations, ...cold.observations], upRetries: cold.upRetries },
        (n) => 2 * (2 ** n - 1),
      );
    });
    report("option layouts", outcomes, started);
  });

  it("matches votequorum in qdevice mode (device up and down, cold starts without it) and refuses what corosync refuses", async () => {
    const started = Date.now();
    const layouts = sample(qdeviceLayout(4), 40, 2);
    const outcomes = await pool(layouts, CONCURRENCY, async (l) => {
      const warm = await deviceWalk(l);
      if (warm.refused !== undefined) return judge(l, warm, () => 0);
      const cold = await coldStarts(l, {}, true);
      return judge(
        l,
        { observations: [...warm.observations, ...cold.observations], upRetries: cold.upRetries },
        (n) => 3 * (2 ** n - 1),
      );
    });
    report("qdevice layouts", outcomes, started);
  });
});
