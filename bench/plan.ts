// How fast is `npm run plan`? Prints, from one run of this script:
//   plan_seconds          the homelab stack: `tsx plan/cli.ts --stack homelab --json`, a fresh child process
//   floor_seconds         a bare program that only imports @pulumi/pulumi, @pulumi/command and
//                         @muhlba91/pulumi-proxmoxve, run by plan/engine.ts in a fresh child process the same way
//   plan_overhead_ratio   (plan - floor) / floor: what the plan adds on top of loading Pulumi (goal <= 0.20)
//   plan_500vm_seconds    a generated 3-host/500-VM stack (in a temp dir), same command as plan_seconds
//   plan_500vm_ratio      plan_500vm / plan (goal <= 3)
// Method: child processes, because loading the Pulumi SDK and the providers dominates and happens once per
// process; in-process timings would charge it to whichever run came first. Each figure is the median of
// ROUNDS interleaved runs after one warm-up of each (tsx's transform cache, the OS page cache).
// Run: npx tsx bench/plan.ts [rounds]   (or `npm run bench` for every bench script)
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";

const ROOT = path.resolve(__dirname, "..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");
const VMS = 500;

interface Timed {
  readonly seconds: number;
  /** User + system CPU of every Node process of the command (tsx runs the script in a child of its own). */
  readonly cpuSeconds: number;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

// Loaded into every Node process of a timed command (NODE_OPTIONS): appends its own CPU time at exit. CPU time
// is far less sensitive than wall time to other work on a shared machine, so it is printed as well.
// process.cpuUsage() covers every thread of the process, so only the main thread reports.
const CPU_HOOK = `const fs = require("node:fs");
if (require("node:worker_threads").isMainThread) process.on("exit", () => {
  const u = process.cpuUsage();
  fs.appendFileSync(process.env.BENCH_CPU_FILE, (u.user + u.system) / 1e6 + "\\n");
});
`;

let runs = 0;

function timed(tmp: string, args: readonly string[]): Promise<Timed> {
  const cpuFile = path.join(tmp, `cpu-${++runs}`);
  const env = {
    ...process.env,
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require ${path.join(tmp, "cpu-hook.cjs")}`.trim(),
    BENCH_CPU_FILE: cpuFile,
  };
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(TSX, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({
        seconds: (performance.now() - start) / 1000,
        cpuSeconds: fs.existsSync(cpuFile)
          ? fs
              .readFileSync(cpuFile, "utf8")
              .split("\n")
              .filter(Boolean)
              .map(Number)
              .reduce((a, b) => a + b, 0)
          : NaN,
        code: code ?? -1,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }),
    );
  });
}

/** The floor program: nothing but the three imports the real program has. */
export function writeFloorProject(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  // Resolve the packages from this repository (Node follows the link to the real path: one SDK instance).
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: floor\nruntime: nodejs\nmain: index.ts\n");
  fs.writeFileSync(
    path.join(dir, "index.ts"),
    'import "@pulumi/pulumi";\nimport "@pulumi/command";\nimport "@muhlba91/pulumi-proxmoxve";\n',
  );
}

/** A syntactically valid, random ed25519 host key line (ssh-ed25519 + base64 of the SSH wire format). */
function fakeHostKey(): string {
  const der = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" });
  const raw = der.subarray(der.length - 32);
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from("ssh-ed25519")), field(raw)]).toString("base64")}`;
}

/**
 * A generated stack `Pulumi.<name>.yaml` (next to a copy of Pulumi.yaml) with `hostCount` hosts and `vmCount`
 * VMs spread round-robin, no capacity limits. 3 hosts: the homelab's names, addresses and votes; more: the
 * first host always-on with enough votes to stay quorate alone, the others sometimes-on / usually-off, 1 vote.
 */
export function writeBigStack(dir: string, name = "big", hostCount = 3, vmCount = VMS): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  const homelab = fs.readFileSync(path.join(ROOT, "Pulumi.homelab.yaml"), "utf8");
  const keys = [...homelab.matchAll(/hostKey: (ssh-ed25519 \S+)/g)].map((m) => m[1]!);
  const hosts: (readonly [string, string, string, number])[] =
    hostCount === 3
      ? [
          ["pve-low", "192.168.1.21", "always-on", 3],
          ["pve-mid", "192.168.1.22", "sometimes-on", 1],
          ["pve-high", "192.168.1.23", "usually-off", 1],
        ]
      : Array.from({ length: hostCount }, (_, i) => [
          `pve-${String(i + 1).padStart(2, "0")}`,
          `192.168.1.${21 + i}`,
          i === 0 ? "always-on" : i % 2 ? "sometimes-on" : "usually-off",
          i === 0 ? hostCount : 1,
        ]);
  const lines = [
    "config:",
    `  pve-homelab:clusterName: ${name}`,
    "  pve-homelab:sshPrivateKey: { secure: v1:YmVuY2g=:YmVuY2g= }",
    "  pve-homelab:proxmoxApiToken: { secure: v1:YmVuY2g=:YmVuY2g= }",
    "  pve-homelab:rootPassword: { secure: v1:YmVuY2g=:YmVuY2g= }",
    "  pve-homelab:hosts:",
    ...hosts.flatMap(([host, address, power, votes], i) => [
      `    - name: ${host}`,
      `      address: ${address}`,
      `      power: ${power}`,
      `      votes: ${votes}`,
      `      nodeId: ${i + 1}`,
      `      hostKey: ${hostCount === 3 ? keys[i] : fakeHostKey()}`,
    ]),
    "  pve-homelab:vms:",
  ];
  const template = hosts[1]?.[0] ?? hosts[0]![0];
  for (let i = 0; i < vmCount; i++) {
    const host = hosts[i % hosts.length]![0];
    const source =
      i % 10 === 0
        ? "image: { url: https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2 }"
        : `cloneFrom: { vmId: 9000, node: ${template} }`;
    const net = `cloudInit: { user: ops, ipv4: { address: 10.${Math.floor(i / 250)}.${i % 250}.10/16, gateway: 10.0.0.1 } }`;
    lines.push(
      `    - { name: vm-${i}, host: ${host}, vmId: ${1000 + i}, cores: 2, memoryMiB: 2048, ${source}, ${net}, tags: [bench] }`,
    );
  }
  fs.writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), lines.join("\n") + "\n");
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function floorChild(dir: string): Promise<void> {
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded in this order, only in the floor child */
  require("../plan/boot"); // the CLI's process settings, so that floor and plan start alike
  const { runProgram } = require("../plan/engine") as typeof import("../plan/engine");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const run = await runProgram({ projectDir: dir, project: "floor", stack: "floor" });
  if (run.error) throw run.error;
}

async function main(rounds: number): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-plan-"));
  try {
    fs.writeFileSync(path.join(tmp, "cpu-hook.cjs"), CPU_HOOK);
    writeFloorProject(path.join(tmp, "floor"));
    writeBigStack(path.join(tmp, "big"));
    const commands = {
      floor: [path.join(ROOT, "bench/plan.ts"), "--floor", path.join(tmp, "floor")],
      plan: ["plan/cli.ts", "--stack", "homelab", "--json"],
      big: ["plan/cli.ts", "--dir", path.join(tmp, "big"), "--stack", "big", "--json"],
    } as const;
    const times: Record<keyof typeof commands, number[]> = { floor: [], plan: [], big: [] };
    const cpu: Record<keyof typeof commands, number[]> = { floor: [], plan: [], big: [] };
    const kinds = Object.keys(commands) as (keyof typeof commands)[];
    for (let round = -1; round < rounds; round++) {
      // Rotate the order so a slow moment of the machine does not always hit the same kind.
      const order = kinds.map((_, i) => kinds[(i + Math.max(round, 0)) % kinds.length]!);
      for (const kind of order) {
        const run = await timed(tmp, commands[kind]);
        if (run.code !== 0) throw new Error(`${kind} exited ${run.code}: ${run.stderr.split("\n")[0]}`);
        if (kind === "big") {
          const doc = JSON.parse(run.stdout) as { resources: { type: string }[] };
          const vms = doc.resources.filter((r) => r.type === "proxmoxve:index/vmLegacy:VmLegacy").length;
          if (vms !== VMS) throw new Error(`the ${VMS}-VM plan registered ${vms} VMs`);
        }
        if (round >= 0) {
          times[kind].push(run.seconds);
          cpu[kind].push(run.cpuSeconds);
        }
      }
    }
    const floor = median(times.floor);
    const plan = median(times.plan);
    const big = median(times.big);
    console.log(`plan_seconds: ${plan.toFixed(3)}`);
    console.log(`floor_seconds: ${floor.toFixed(3)}`);
    console.log(`plan_overhead_ratio: ${((plan - floor) / floor).toFixed(3)}`);
    console.log(`plan_500vm_seconds: ${big.toFixed(3)}`);
    console.log(`plan_500vm_ratio: ${(big / plan).toFixed(3)}`);
    console.log(`plan_method: child-process, median of ${rounds}`);
    const [cpuFloor, cpuPlan, cpuBig] = [median(cpu.floor), median(cpu.plan), median(cpu.big)];
    console.log(`plan_cpu_seconds: ${cpuPlan.toFixed(3)}`);
    console.log(`floor_cpu_seconds: ${cpuFloor.toFixed(3)}`);
    console.log(`plan_overhead_ratio_cpu: ${((cpuPlan - cpuFloor) / cpuFloor).toFixed(3)}`);
    console.log(`plan_500vm_ratio_cpu: ${(cpuBig / cpuPlan).toFixed(3)}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const [flag, arg] = process.argv.slice(2);
  const done = flag === "--floor" ? floorChild(arg!) : main(Number(flag ?? 5));
  done.catch((e: unknown) => {
    console.error(`bench/plan: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  });
}
