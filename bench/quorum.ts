// How fast is core/quorum? The plan and the program call whatIf() and quorumFindings() once per stack; both
// enumerate every subset of hosts (2^n). Prints, from one run of this script:
//   quorum_whatif_3_hosts_us     whatIf() of the 3/1/1 homelab, median of many calls, microseconds
//   quorum_findings_3_hosts_us   quorumFindings() of the same model
//   quorum_whatif_8_hosts_ms     whatIf() of an 8-host qdevice stack (512 rows), milliseconds
//   quorum_findings_8_hosts_ms   quorumFindings() of an 8-host weighted stack with a bad always-on vote
//   quorum_whatif_16_hosts_ms    whatIf() of 16 hosts (65536 rows), the largest table it builds
//   quorum_findings_16_hosts_ms  quorumFindings() of 16 hosts (the light-host subset check: 32767 subsets)
// Run: npx tsx bench/quorum.ts   (or `npm run bench` for every bench script)
import { performance } from "node:perf_hooks";
import type { Model } from "../core/model";
import { quorumFindings, whatIf } from "../core/quorum";
import { quorumModel } from "../test/fixtures/stacks";

function model(votes: readonly number[], qdevice = false): Model {
  if (!qdevice) return quorumModel(votes);
  const device = {
    address: "192.168.1.5",
    hostKey: "ssh-ed25519 AAAA",
    sshUser: "root",
    sshPort: 22,
  } as const;
  return quorumModel(votes, { quorum: { mode: "qdevice", device: { ...device, algorithm: "ffsplit" } } });
}

/** Median wall time of `fn` in milliseconds over `rounds` calls, after a few warm-up calls. */
function median(fn: () => unknown, rounds: number): number {
  for (let i = 0; i < Math.min(rounds, 5); i++) fn();
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const homelab = model([3, 1, 1]);
const eight = model([1, 1, 1, 1, 1, 1, 1, 1], true);
const eightBad = model([2, 1, 1, 1, 1, 1, 1, 1]);
const sixteen = model(Array.from({ length: 16 }, (_, i) => (i === 0 ? 16 : 1)));

console.log(`quorum_whatif_3_hosts_us: ${(median(() => whatIf(homelab), 2000) * 1000).toFixed(1)}`);
console.log(`quorum_findings_3_hosts_us: ${(median(() => quorumFindings(homelab), 2000) * 1000).toFixed(1)}`);
console.log(`quorum_whatif_8_hosts_ms: ${median(() => whatIf(eight), 200).toFixed(3)}`);
console.log(`quorum_findings_8_hosts_ms: ${median(() => quorumFindings(eightBad), 50).toFixed(3)}`);
console.log(`quorum_whatif_16_hosts_ms: ${median(() => whatIf(sixteen), 5).toFixed(1)}`);
console.log(`quorum_findings_16_hosts_ms: ${median(() => quorumFindings(sixteen), 5).toFixed(1)}`);
