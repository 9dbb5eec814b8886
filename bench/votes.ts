// Bench of the vote push and the rejoin step on the real corosync + sshd testbed (subnet 10.213.63.0/24); the
// testbed-side helpers live in test/integration/votes-harness.ts, shared with the integration tests.
//
// Prints `key: value` lines:
//   ssh_sessions_per_change  SSH sessions the testbed's sshds accepted from the client for one vote change
//                            (counted in their logs, not assumed); must be 1
//   votes_live_seconds       the new /etc/pve/corosync.conf written → new votes visible on every live node
//   vote_change_seconds      the whole change: SSH session start → script done
//   corosync_restarts        corosync (re)starts during the change (tb.counters()); must be 0: a reload suffices
//   rejoin_seconds           stale usually-off host started the systemd way (rejoin step, then corosync) → a
//                            member of the cluster with the new votes
//   rejoin_step_seconds      of which the rejoin step itself
// Run: npx tsx bench/votes.ts (root, corosync and openssh installed, as for the integration tests).
import { printFigures, round } from "./figures";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { proxmoxStyleConf, startTestbed } from "../test/integration/testbed";
import {
  captureRejoinGuard,
  captureVoteWeights,
  clientSessions,
  isolateNode,
  nodeExtras,
  readIfExists,
  rejoinStepSeconds,
  startCorosyncLikeSystemd,
  testbedModel,
  waitForVotes,
} from "../test/integration/votes-harness";

// ---------------------------------------------------------------------------------------------------------
// The bench.

export async function main(): Promise<Record<string, number>> {
  const tb = await startTestbed({
    subnet: "10.213.63.0/24",
    corosyncConf: (nodes) =>
      proxmoxStyleConf({ configVersion: 1, nodes: nodes.map((n) => ({ ...n, votes: 1 })) }),
  });
  try {
    for (const n of tb.nodes) await isolateNode(tb, n.name);
    const [low, , high] = tb.nodes.map((n) => n.name) as [string, string, string];
    const guard = await captureRejoinGuard(testbedModel(tb, [3, 1, 1]));
    const install = await tb.ssh(high, guard[high]!.create, { stdin: "" });
    if (install.code !== 0) throw new Error(`rejoin install failed: ${install.stderr}`);

    // One vote change, 1/1/1 → 3/1/1, all hosts up.
    const push = await captureVoteWeights(testbedModel(tb, [3, 1, 1]));
    const pveConf = tb.pvePath("corosync.conf");
    const before = readFileSync(pveConf, "utf8");
    const sessions0 = clientSessions(tb);
    tb.resetCounters();
    let writtenAt = 0;
    const watcher = setInterval(() => {
      if (!writtenAt && readFileSync(pveConf, "utf8") !== before) writtenAt = performance.now();
    }, 5);
    const t0 = performance.now();
    const liveAt = (async () => {
      await waitForVotes(
        tb,
        tb.nodes.map((n) => n.name),
        { pve1: 3, pve2: 1, pve3: 1 },
        60_000,
      );
      return performance.now();
    })();
    const r = await tb.ssh(low, push.create, { stdin: push.stdin, timeoutMs: 120_000 });
    const done = performance.now();
    if (r.code !== 0) throw new Error(`vote push failed (${r.code}): ${r.stderr}`);
    const live = await liveAt;
    clearInterval(watcher);
    const counters = tb.counters();
    const sessions = clientSessions(tb) - sessions0;

    // The usually-off host misses a change (3/1/1 → 4/1/1), then boots the systemd way.
    await tb.stopNode(high);
    await tb.waitForQuorum({ nodes: [low], members: 2, timeoutMs: 30_000 });
    const push2 = await captureVoteWeights(testbedModel(tb, [4, 1, 1]));
    const r2 = await tb.ssh(low, push2.create, { stdin: push2.stdin, timeoutMs: 120_000 });
    if (r2.code !== 0) throw new Error(`second vote push failed (${r2.code}): ${r2.stderr}`);
    await tb.bootNode(high, { corosync: false });
    await isolateNode(tb, high);
    const b0 = performance.now();
    const boot = await startCorosyncLikeSystemd(tb, high);
    if (boot.code !== 0) throw new Error(`systemctl start corosync on ${high} failed: ${boot.stderr}`);
    await tb.waitForQuorum({ members: 3, timeoutMs: 30_000 });
    await waitForVotes(tb, [high], { pve1: 4, pve2: 1, pve3: 1 }, 30_000);
    const rejoined = performance.now();

    return {
      ssh_sessions_per_change: sessions,
      votes_live_seconds: round((live - (writtenAt || t0)) / 1000),
      vote_change_seconds: round((done - t0) / 1000),
      corosync_restarts: counters.totalCorosyncStarts,
      rejoin_seconds: round((rejoined - b0) / 1000),
      rejoin_step_seconds: round(rejoinStepSeconds(readIfExists(nodeExtras(tb, high).journal))),
    };
  } finally {
    await tb.teardown();
  }
}

if (require.main === module)
  printFigures(main, (f) => f.ssh_sessions_per_change === 1 && f.corosync_restarts === 0);
