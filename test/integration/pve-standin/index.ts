// Installs the Proxmox VE stand-in (a TEST DOUBLE, not Proxmox: see cli.ts and README.md) into a corosync
// testbed's nodes, and gives tests the few handles they need around it.
//
//   const pve = await installStandin(tb, { rootPassword });   // every node: fresh "Proxmox install" state
//   pve.calls(node)                 stand-in invocations on the node ({tool, args}), oldest first
//   pve.addGuest(node, "qemu", 100) / pve.removeGuests(node)
//   pve.leaveCluster(node)          back to a standalone node: corosync stopped, local config and authkey gone
//   pve.fingerprint(node)           SHA-256 of the certificate the node's pveproxy would serve (node:crypto)
//   pve.reinstall(node)             tb.reinstallNode (new host and root keys, no cluster) + a fresh stand-in install
//   pve.sshLikeProxmox(from, to, c) root SSH between nodes the way PVE::SSHInfo does it (HostKeyAlias=<to>,
//                                   /etc/pve/nodes/<to>/ssh_known_hosts, no global known_hosts)
//
// Each node gets /usr/local/sbin/pvecm and /usr/local/sbin/pvesh: small wrappers that run cli.ts with this
// process's Node inside the node's namespaces (so hostname, /etc/corosync, /root are the node's own). cli.ts is
// bundled once per testbed with esbuild (which comes with tsx): a call then costs ~0.2 s instead of ~0.8 s
// through the tsx loader, and the scripts under test poll pvesh. Without esbuild the wrappers use tsx.

import { spawnSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { existsSync, promises as fs, readFileSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { Testbed } from "../testbed";
import type { RunResult } from "../testbed/exec";
import { API_KEY, API_KNOWN_HOSTS, CALLS_FILE, PASSWORD_FILE, STATE_DIR } from "./cli";

export interface StandinCall {
  readonly at: number;
  readonly tool: string;
  readonly args: readonly string[];
}

export interface StandinOptions {
  /** The root password every node's stand-in API accepts (stored as a SHA-256). */
  readonly rootPassword: string;
  /**
   * Keep the cluster the testbed started (its corosync.conf, authkey, running corosync) instead of putting every
   * node back to a fresh, unclustered install. Default false.
   */
  readonly keepCluster?: boolean;
}

const CLI = path.join(__dirname, "cli.ts");

/** Fail clearly (never skip) when a tool the stand-in or the membership scripts need is missing. */
function checkTools(): void {
  const missing: string[] = [];
  const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
  if (!has("openssl", ["version"])) missing.push("openssl (apt-get install openssl)");
  if (!has("perl", ["-MJSON::PP", "-e", "1"])) missing.push("perl with JSON::PP (apt-get install perl)");
  if (!has("timeout", ["--version"])) missing.push("timeout (coreutils)");
  if (missing.length) throw new Error(`the Proxmox stand-in needs: ${missing.join(", ")}`);
}

interface Esbuild {
  buildSync(options: Record<string, unknown>): unknown;
}

/** argv (after the Node binary) that runs cli.ts: the esbuild bundle written to `dir`, else cli.ts via tsx. */
function standinProgram(dir: string): string[] {
  let esbuild: Esbuild | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    esbuild = require("esbuild") as Esbuild;
  } catch {
    esbuild = undefined;
  }
  if (!esbuild) return ["--import", pathToFileURL(require.resolve("tsx")).href, CLI];
  const bundle = path.join(dir, "pve-standin.cjs");
  esbuild.buildSync({
    entryPoints: [CLI],
    bundle: true,
    platform: "node",
    format: "cjs",
    outfile: bundle,
    logLevel: "warning",
  });
  return [bundle];
}

function wrapper(tool: "pvecm" | "pvesh" | "pvenode", program: readonly string[]): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    "#!/bin/sh",
    `# TEST DOUBLE of Proxmox VE's ${tool} for the pve-homelab testbed: NOT Proxmox. See ${CLI}.`,
    `exec ${[process.execPath, ...program].map(q).join(" ")} ${tool} "$@"`,
    "",
  ].join("\n");
}

export class Standin {
  constructor(
    private readonly tb: Testbed,
    private readonly passwordHash: string,
  ) {}

  /** The stand-in's per-node install: state dir, root password, the API transport's key and known hosts (every
   *  node's), its public key authorized for root. */
  async installOn(node: string): Promise<void> {
    const dir = this.tb.hostPath(node, STATE_DIR);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await fs.writeFile(this.tb.hostPath(node, PASSWORD_FILE), `${this.passwordHash}\n`, { mode: 0o600 });
    await fs.copyFile(apiKeyPath(this.tb), this.tb.hostPath(node, API_KEY));
    await fs.chmod(this.tb.hostPath(node, API_KEY), 0o600);
    const pub = readFileSync(`${apiKeyPath(this.tb)}.pub`, "utf8").trim();
    const authorized = this.tb.hostPath(node, "/root/.ssh/authorized_keys");
    const text = existsSync(authorized) ? readFileSync(authorized, "utf8") : "";
    if (!text.includes(pub)) await fs.appendFile(authorized, `${pub}\n`, { mode: 0o600 });
    await this.writeApiKnownHosts();
  }

  private async writeApiKnownHosts(): Promise<void> {
    const lines = this.tb.nodes.map((n) => `${n.name},${n.address} ${n.hostKey}`).join("\n") + "\n";
    for (const n of this.tb.nodes) {
      await fs.mkdir(this.tb.hostPath(n.name, STATE_DIR), { recursive: true, mode: 0o700 });
      await fs.writeFile(this.tb.hostPath(n.name, API_KNOWN_HOSTS), lines, { mode: 0o600 });
    }
  }

  /** A reinstalled node (see tb.reinstallNode) with the stand-in installed again. */
  async reinstall(node: string): Promise<void> {
    await this.tb.reinstallNode(node);
    await this.installOn(node);
  }

  /** Root SSH from `from` to `to` with the options PVE::SSHInfo::ssh_info_to_ssh_opts builds for Proxmox's own
   *  node-to-node SSH: BatchMode, HostKeyAlias=<to>, UserKnownHostsFile=/etc/pve/nodes/<to>/ssh_known_hosts and
   *  no global known_hosts. */
  sshLikeProxmox(from: string, to: string, command: string): Promise<RunResult> {
    const argv = [
      "ssh",
      "-o",
      "BatchMode=yes",
      "-o",
      `HostKeyAlias=${to}`,
      "-o",
      `UserKnownHostsFile=/etc/pve/nodes/${to}/ssh_known_hosts`,
      "-o",
      "GlobalKnownHostsFile=none",
      "-o",
      "ConnectTimeout=5",
      `root@${this.tb.node(to).address}`,
      "--",
      command,
    ];
    return this.tb.exec(from, argv, { timeoutMs: 30_000 });
  }

  calls(node: string): StandinCall[] {
    const file = this.tb.hostPath(node, CALLS_FILE);
    if (!existsSync(file)) return [];
    return readFileSync(file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as StandinCall);
  }

  /** Calls that change cluster state (create, add, delnode), as "pvecm <sub>" strings. */
  writes(node: string): string[] {
    return this.calls(node)
      .filter((c) => c.tool === "pvecm" && ["create", "add", "delnode"].includes(c.args[0] ?? ""))
      .map((c) => `pvecm ${c.args[0]}`);
  }

  async clearCalls(): Promise<void> {
    for (const n of this.tb.nodes) await fs.rm(this.tb.hostPath(n.name, CALLS_FILE), { force: true });
  }

  async addGuest(node: string, kind: "qemu" | "lxc", vmid: number): Promise<void> {
    const dir = this.tb.pvePath(`nodes/${node}/${kind === "qemu" ? "qemu-server" : "lxc"}`);
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, `${vmid}.conf`), `# stand-in guest ${vmid}\nmemory: 512\n`);
  }

  async removeGuests(node: string): Promise<void> {
    for (const kind of ["qemu-server", "lxc"]) {
      await fs.rm(this.tb.pvePath(`nodes/${node}/${kind}`), { recursive: true, force: true });
    }
  }

  /** A standalone Proxmox node: corosync stopped, no local corosync.conf, no authkey. */
  async leaveCluster(node: string): Promise<void> {
    if (this.tb.isRunning(node)) await this.tb.stopCorosync(node);
    for (const f of ["/etc/corosync/corosync.conf", "/etc/corosync/authkey"]) {
      await fs.rm(this.tb.hostPath(node, f), { force: true });
    }
  }

  /** What `pvecm add --fingerprint` must match for `node`: pveproxy-ssl.pem if present, else pve-ssl.pem. */
  fingerprint(node: string): string {
    const dir = this.tb.pvePath(`nodes/${node}`);
    const custom = path.join(dir, "pveproxy-ssl.pem");
    const file = existsSync(custom) ? custom : path.join(dir, "pve-ssl.pem");
    return new X509Certificate(readFileSync(file)).fingerprint256;
  }
}

/** Only the stand-in's tools (pvecm, pvesh, pvenode) on every node, leaving the cluster state as it is (the
 *  power tests start from a running cluster). */
export async function installStandinTools(tb: Testbed): Promise<void> {
  const program = standinProgram(tb.root);
  for (const n of tb.nodes) {
    await fs.mkdir(tb.hostPath(n.name, STATE_DIR), { recursive: true, mode: 0o700 });
    for (const tool of ["pvecm", "pvesh", "pvenode"] as const) {
      await fs.writeFile(tb.hostPath(n.name, `/usr/local/sbin/${tool}`), wrapper(tool, program), {
        mode: 0o755,
      });
    }
  }
}

/** The stand-in API transport's private key (host side, copied into each node). */
const apiKeyPath = (tb: Testbed) => path.join(tb.root, "pve-standin-api-key");

/** Install the stand-in on every node and put each node in the state of a fresh Proxmox install: no cluster
 *  config, no corosync authkey (the testbed pre-seeds one), corosync stopped, the given root password (with
 *  keepCluster: the testbed's running cluster stays as it is). */
export async function installStandin(tb: Testbed, opts: StandinOptions): Promise<Standin> {
  checkTools();
  const hash = createHash("sha256").update(opts.rootPassword).digest("hex");
  const standin = new Standin(tb, hash);
  const key = apiKeyPath(tb);
  if (!existsSync(key)) {
    const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "pve-standin-api", "-f", key]);
    if (r.status !== 0) throw new Error(`ssh-keygen for the stand-in API key failed: ${String(r.stderr)}`);
  }
  await installStandinTools(tb);
  for (const n of tb.nodes) {
    if (!opts.keepCluster) await standin.leaveCluster(n.name);
    await standin.installOn(n.name);
  }
  if (!opts.keepCluster) await fs.rm(tb.pvePath("corosync.conf"), { force: true });
  await standin.clearCalls();
  return standin;
}
