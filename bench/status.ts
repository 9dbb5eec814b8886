// Bench of `npm run status` on the real corosync + sshd testbed (subnet 10.213.65.0/24) with the pvesh stand-in,
// and of the plan on a 16-host, 100-VM stack. Run as root under the testbed lock:
//   flock /tmp/pve-netns.lock npx tsx bench/status.ts
//
// Prints `key: value` lines, every ratio from figures measured in this one run (medians of ROUNDS):
//   status_seconds          `npm run status` from the client namespace: collect (one SSH session) + compare +
//                           render, in a process that has already loaded the command (Node's own start is
//                           status_cli_seconds - status_seconds)
//   status_cli_seconds      the same as a fresh child process (`tsx status/cli.ts`), Node and tsx start included
//   status_ssh_sessions     SSH sessions the nodes' sshds accepted for one status run (from their logs); must be 1
//   ssh_true_seconds        one bare `ssh host true` with the same client options (tb.ssh), same namespace
//   status_over_ssh_ratio   status_seconds / ssh_true_seconds (goal <= 2)
//   plan_homelab_seconds, plan_16host_seconds, plan_16host_ratio   `tsx plan/cli.ts --json` on the homelab stack
//                           and on a generated 16-host, 100-VM stack (goal <= 2), fresh child processes
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { installStandin } from "../test/integration/pve-standin";
import { runStatus, writeTestbedStack } from "../test/integration/status-harness";
import { proxmoxStyleConf, startTestbed } from "../test/integration/testbed";
import { clientSessions } from "../test/integration/votes-harness";
import { writeBigStack } from "./plan";

const ROOT = path.resolve(__dirname, "..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");
const ROUNDS = 5;

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function time<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const r = await f();
  return [(performance.now() - t0) / 1000, r];
}

function child(args: readonly string[]): Promise<number> {
  const env = {
    ...process.env,
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`,
  };
  return new Promise((resolve, reject) => {
    const p = spawn(TSX, args, { cwd: ROOT, env, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
    p.on("error", reject);
    p.on("close", (code) =>
      code === 0 ? resolve(0) : reject(new Error(`tsx ${args.join(" ")} exited ${code}: ${err}`)),
    );
  });
}

/** The status command in-process (its modules loaded once, outside the timing), from the client namespace. */
const IN_PROCESS = `
const { main } = require(${JSON.stringify(path.join(ROOT, "status/cli.ts"))});
const args = JSON.parse(process.argv[process.argv.length - 1]);
(async () => {
  const times = [];
  for (let i = 0; i < args.rounds + 1; i++) {
    const t0 = performance.now();
    const r = await main(args.argv);
    if (r.code !== 0) { console.error(r.stderr || r.stdout); process.exit(1); }
    if (i > 0) times.push((performance.now() - t0) / 1000);
  }
  console.log(JSON.stringify(times));
})();
`;

async function statusFigures(): Promise<Record<string, number>> {
  const tb = await startTestbed({
    subnet: "10.213.65.0/24",
    corosyncConf: (nodes) =>
      proxmoxStyleConf({
        clusterName: "homelab",
        nodes: nodes.map((n, i) => ({ ...n, votes: i === 0 ? 3 : 1 })),
      }),
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-status-"));
  try {
    await installStandin(tb, { rootPassword: "unused", keepCluster: true });
    writeTestbedStack(tb, dir, "tb");
    const first = tb.nodes[0]!.name;
    // Warm-up (tsx's cache, the stand-in's first start), then the session count of one run.
    const warm = await runStatus(tb, dir, "tb");
    if (warm.code !== 0) throw new Error(`status exited ${warm.code}: ${warm.stderr}${warm.stdout}`);
    const s0 = clientSessions(tb);
    await runStatus(tb, dir, "tb");
    const sessions = clientSessions(tb) - s0;

    const cli: number[] = [];
    const ssh: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const [c] = await time(() => runStatus(tb, dir, "tb"));
      cli.push(c);
      const [t, r] = await time(() => tb.ssh(first, "true"));
      if (r.code !== 0) throw new Error(`ssh true failed: ${r.stderr}`);
      ssh.push(t);
    }
    const script = path.join(dir, "in-process.cjs");
    fs.writeFileSync(script, IN_PROCESS);
    const argv = ["--dir", dir, "--stack", "tb", "--identity", tb.clientKeyPath];
    const r = await tb.execNetns(tb.clientNetns, [
      process.execPath,
      "--require",
      require.resolve("tsx/cjs"),
      script,
      JSON.stringify({ rounds: ROUNDS, argv }),
    ]);
    if (r.code !== 0) throw new Error(`in-process status failed: ${r.stderr}`);
    const inProcess = JSON.parse(r.stdout.trim().split("\n").pop()!) as number[];
    const status = median(inProcess);
    const sshTrue = median(ssh);
    return {
      status_seconds: status,
      status_cli_seconds: median(cli),
      status_ssh_sessions: sessions,
      ssh_true_seconds: sshTrue,
      status_over_ssh_ratio: status / sshTrue,
    };
  } finally {
    await tb.teardown();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function planFigures(): Promise<Record<string, number>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-plan16-"));
  try {
    writeBigStack(dir, "big16", 16, 100);
    const homelab = ["plan/cli.ts", "--stack", "homelab", "--json"];
    const big = ["plan/cli.ts", "--dir", dir, "--stack", "big16", "--json"];
    const times: { homelab: number[]; big: number[] } = { homelab: [], big: [] };
    for (let round = -1; round < ROUNDS; round++) {
      const order = round % 2 ? (["homelab", "big"] as const) : (["big", "homelab"] as const);
      for (const kind of order) {
        const [t] = await time(() => child(kind === "big" ? big : homelab));
        if (round >= 0) times[kind].push(t);
      }
    }
    const h = median(times.homelab);
    const b = median(times.big);
    return { plan_homelab_seconds: h, plan_16host_seconds: b, plan_16host_ratio: b / h };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const figures = { ...(await statusFigures()), ...(await planFigures()) };
  for (const [k, v] of Object.entries(figures))
    console.log(`${k}: ${Number.isInteger(v) ? v : v.toFixed(3)}`);
  console.log(
    `status_method: median of ${ROUNDS} (status in-process after one warm-up; ssh true via tb.ssh)`,
  );
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(`bench/status: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  });
}
