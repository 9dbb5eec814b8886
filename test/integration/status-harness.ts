// Testbed-side helpers for `npm run status` (test/integration/status.test.ts and bench/status.ts): a stack file
// of the testbed's nodes, running the CLI as a user would (a child process) from the testbed's client
// namespace, and the evidence that it changed nothing: checksums of /etc/pve and every node's /etc/corosync,
// the cluster lock directory, and the processes of every node.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import type { PowerProfile } from "../../core/model";
import type { Testbed } from "./testbed";
import { pidsInNetns, procComm, run, type RunResult } from "./testbed/exec";

const ROOT = path.resolve(__dirname, "../..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");
const POWERS: PowerProfile[] = ["always-on", "sometimes-on", "usually-off"];

/** Pulumi.yaml + Pulumi.<stack>.yaml in `dir` for the testbed's nodes (3/1/1 unless `votes` says otherwise). */
export function writeTestbedStack(
  tb: Testbed,
  dir: string,
  stack: string,
  opts: { votes?: number[]; hostKeys?: string[]; vms?: Record<string, unknown>[] } = {},
): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  const hosts = tb.nodes.map((n, i) => ({
    name: n.name,
    address: n.address,
    power: POWERS[i] ?? "usually-off",
    votes: opts.votes?.[i] ?? (i === 0 ? 3 : 1),
    nodeId: n.nodeId,
    hostKey: opts.hostKeys?.[i] ?? n.hostKey,
  }));
  const config = {
    "pve-homelab:clusterName": "homelab",
    "pve-homelab:hosts": hosts,
    "pve-homelab:vms": opts.vms ?? [],
  };
  fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stringify({ config }));
}

/** `npm run status -- --dir DIR --stack STACK --identity <client key> [extra]`, from the client namespace. */
export function runStatus(
  tb: Testbed,
  dir: string,
  stack: string,
  extra: readonly string[] = [],
): Promise<RunResult> {
  const env = `PATH=${path.dirname(process.execPath)}:${process.env.PATH}`;
  return run(
    "ip",
    [
      "netns",
      "exec",
      tb.clientNetns,
      "env",
      env,
      TSX,
      path.join(ROOT, "status/cli.ts"),
      "--dir",
      dir,
      "--stack",
      stack,
      "--identity",
      tb.clientKeyPath,
      ...extra,
    ],
    { timeoutMs: 120_000 },
  );
}

/** SHA-256 of every file under `dir` (path → digest), symlinks by target. */
export function treeDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p);
      if (e.isDirectory()) {
        out[`${rel}/`] = "dir";
        walk(p);
      } else if (e.isSymbolicLink()) out[rel] = `-> ${fs.readlinkSync(p)}`;
      else out[rel] = createHash("sha256").update(fs.readFileSync(p)).digest("hex");
    }
  };
  walk(dir);
  return out;
}

/** What must not change: /etc/pve (shared) and each node's /etc/corosync, with modes and mtimes left aside. */
export function clusterDigest(tb: Testbed): Record<string, Record<string, string>> {
  return {
    "/etc/pve": treeDigest(tb.pveDir),
    ...Object.fromEntries(
      tb.nodes.map((n) => [`${n.name}:/etc/corosync`, treeDigest(tb.hostPath(n.name, "/etc/corosync"))]),
    ),
  };
}

/** Processes of every node (pid:comm), for "nothing left running". */
export function nodeProcesses(tb: Testbed): string[] {
  return tb.nodes.flatMap((n) => pidsInNetns(n.netns).map((p) => `${n.name}:${p}:${procComm(p)}`)).sort();
}

/** Lock directories Proxmox tools take under /etc/pve/priv/lock. */
export function locks(tb: Testbed): string[] {
  const dir = tb.pvePath("priv/lock");
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}
