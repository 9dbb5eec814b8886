// The testbed: N real corosync + sshd "Proxmox nodes" on this machine, isolated by namespaces.
// See index.ts for the API overview and an example.
//
// Layout (all under one temp dir R = $TMPDIR/<prefix><pid>x<seq>-XXXXXX, removed on teardown):
//   R/state.json                 owner pid, subnet, namespaces: lets a later run clean up after a crash
//   R/client/                    SSH client key + known_hosts (used from the bridge namespace)
//   R/pve/                       the shared /etc/pve (pmxcfs TEST DOUBLE, see pmxcfs.ts)
//   R/nodes/<name>/etc-corosync  → /etc/corosync      (authkey shared by copy, corosync.conf per node)
//                 /var-lib-corosync → /var/lib/corosync
//                 /run          → /run                (corosync.pid, sshd.pid, /run/sshd)
//                 /root         → /root               (.ssh: id_ed25519, authorized_keys, known_hosts)
//                 /etc-ssh      → /etc/ssh            (sshd_config, host key, copy of the client config)
//                 /sbin         → /usr/local/sbin     (systemctl TEST DOUBLE, corosync launcher)
//                 /hosts        → /etc/hosts          (all node names)
//                 /shadow       → /etc/shadow         (root's field `*`: sshd without PAM needs it unlocked)
//                 enter.sh      does those bind mounts + hostname, then execs its arguments
//                 corosync.log, sshd.log, corosync-starts
// Namespaces: "<id>-br" holds bridge br0 and the client address (.1); "<id>-<node>" per node (eth0 = node
// address, no default route); "<id>-x-<name>" for extra hosts (addHost). Every process of a node runs as
// `ip netns exec <ns> unshare --mount --uts --propagation private /bin/sh enter.sh CMD...`.

import { execFileSync } from "node:child_process";
import {
  existsSync,
  promises as fs,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseQuorumStatus, type QuorumStatus } from "./corosync";
import {
  isAlive,
  pidsInNetns,
  procComm,
  removeDeadQbFiles,
  run,
  runOk,
  startDaemon,
  type Daemon,
  type RunResult,
} from "./exec";
import {
  addGuardRoute,
  assertSubnetFree,
  hostAddress,
  parseSubnet,
  removeGuardRoute,
  subnetHalves,
  type Subnet,
} from "./net";
import { PmxcfsDouble } from "./pmxcfs";
import { GiveUp, waitFor, type Truthy, type WaitOptions } from "./wait";

export const DEFAULT_SUBNET = "10.213.47.0/24";
export const DEFAULT_PREFIX = "pvetb";
const CLIENT_OFFSET = 1;
const EXTRA_OFFSET = 2; // .2 .. .10 for addHost()
const NODE_OFFSET = 11; // pve1 = .11

export interface TestbedNode {
  readonly name: string;
  /** 1-based position: the corosync nodeid a Proxmox-style conf would give it. */
  readonly nodeId: number;
  readonly address: string;
  readonly netns: string;
  /** Host directory holding this node's files (see the layout above). */
  readonly dir: string;
  /** sshd host key line "ssh-ed25519 AAAA..." (no comment): what a stack pins as `hostKey`. */
  readonly hostKey: string;
  /** Root's public key on this node (/root/.ssh/id_ed25519.pub). */
  readonly rootPublicKey: string;
}

export interface ExtraHost {
  readonly name: string;
  readonly address: string;
  readonly netns: string;
}

export interface TestbedOptions {
  /** Node names, or a count (→ pve1..pveN). Default 3. */
  readonly nodes?: number | readonly string[];
  /** Testbed subnet; must not overlap anything routed in the root namespace. Default 10.213.47.0/24
   *  (env PVETB_SUBNET overrides the default). */
  readonly subnet?: string;
  /** Name prefix of namespaces and temp dirs; stale resources with it are cleaned at start. Default "pvetb". */
  readonly prefix?: string;
  /** If given: written to every node's /etc/corosync/corosync.conf and to /etc/pve/corosync.conf. */
  readonly corosyncConf?: string | ((nodes: readonly TestbedNode[]) => string);
  /** Start corosync everywhere and wait for one quorate membership of all nodes. Default: true if
   *  corosyncConf is given. */
  readonly startCorosync?: boolean;
  /** Start the pmxcfs double's watcher. Default true. */
  readonly pmxcfs?: boolean;
  /** Progress lines (default: stderr when env PVETB_DEBUG is set). */
  readonly log?: (line: string) => void;
  /** Keep R on teardown (env PVETB_KEEP=1 too), for post-mortems. */
  readonly keepFiles?: boolean;
}

export interface SshOptions {
  readonly stdin?: string | Buffer;
  /** Default 60 s; the command is killed and the call rejects after it. */
  readonly timeoutMs?: number;
  /** Pin this host key line instead of the node's real one (e.g. to prove a wrong key is refused). */
  readonly hostKey?: string;
  /** Run the client in this testbed namespace (e.g. an addHost() one) instead of the bridge's. */
  readonly fromNetns?: string;
}

export interface ExecOptions {
  readonly stdin?: string | Buffer;
  /** Default 30 s; the command is killed and the call rejects after it. */
  readonly timeoutMs?: number;
}

interface State {
  readonly id: string;
  readonly ownerPid: number;
  readonly subnet: string;
  readonly netns: string[];
  routeAdded: boolean;
  pveDirCreated: boolean;
}

/** Paths inside a node that the harness maps to per-node host paths (plus /etc/pve → shared). */
const NODE_MOUNTS: ReadonlyArray<readonly [inNode: string, inDir: string]> = [
  ["/etc/corosync", "etc-corosync"],
  ["/var/lib/corosync", "var-lib-corosync"],
  ["/run", "run"],
  ["/root", "root"],
  ["/etc/ssh", "etc-ssh"],
  ["/usr/local/sbin", "sbin"],
];

const REQUIRED_TOOLS = [
  "ip",
  "unshare",
  "mount",
  "hostname",
  "corosync",
  "corosync-keygen",
  "corosync-quorumtool",
  "corosync-cfgtool",
  "corosync-cmapctl",
  "sshd",
  "ssh",
  "ssh-keygen",
  "pgrep",
  "ps",
  "ss",
  "setsid",
];

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const ip = (...args: string[]): Promise<string> => runOk("ip", args);

// ---------------------------------------------------------------------------------------------------------
// Registry of testbeds alive in this process (for stale detection and the emergency exit cleanup).

const active = new Map<string, Testbed>();
let seq = 0;
let exitHooked = false;

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on("exit", () => {
    for (const tb of active.values()) tb.emergencyCleanup();
  });
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      for (const tb of active.values()) tb.emergencyCleanup();
      if (process.listenerCount(sig) === 1) process.exit(sig === "SIGINT" ? 130 : 143);
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Preconditions and stale cleanup.

/** Throw a clear error (never skip) when the testbed cannot run here: not root, or a tool is missing. */
export async function checkPrerequisites(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error(
      "the corosync testbed needs root (network namespaces, bind mounts); run the tests as root",
    );
  }
  const missing: string[] = [];
  for (const tool of REQUIRED_TOOLS) {
    const r = await run("sh", ["-c", `command -v ${tool}`]);
    if (r.code !== 0) missing.push(tool);
  }
  if (missing.length) {
    throw new Error(
      `testbed tools missing: ${missing.join(", ")}. Install: apt-get install corosync openssh-server ` +
        "openssh-client iproute2 util-linux procps",
    );
  }
  for (const dir of ["/etc/corosync", "/var/lib/corosync", "/usr/local/sbin", "/etc/ssh"]) {
    if (!existsSync(dir)) throw new Error(`testbed needs ${dir} to exist on the host (a bind-mount target)`);
  }
  if (existsSync("/etc/pve/.members") || existsSync("/etc/pve/.version")) {
    throw new Error(
      "this looks like a real Proxmox host (/etc/pve is pmxcfs): refusing to run the testbed here",
    );
  }
}

const idPattern = (prefix: string): RegExp =>
  new RegExp(`^(${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(\\d+)x(\\d+))-`);

function ownerAlive(id: string, pid: number): boolean {
  if (pid === process.pid) return active.has(id);
  return isAlive(pid);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function killNetnsProcesses(netns: string, timeoutMs = 5000): Promise<void> {
  for (const pid of pidsInNetns(netns)) signal(pid, "SIGKILL");
  await waitFor(() => pidsInNetns(netns).length === 0, {
    timeoutMs,
    what: `processes in namespace ${netns} to die`,
    intervalMs: 50,
  }).catch(() => undefined);
}

/** Remove what a crashed earlier run (dead owner pid) left behind: its processes, namespaces, guard route
 *  (unless a live testbed uses the same subnet), temp dir, and libqb /dev/shm files of dead pids.
 *  Resources of live testbeds (this or other processes) are never touched. Returns what was removed. */
export async function cleanupStale(prefix = DEFAULT_PREFIX): Promise<string[]> {
  const removed: string[] = [];
  const pattern = idPattern(prefix);
  const netnsNames = existsSync("/run/netns") ? readdirSync("/run/netns") : [];
  for (const ns of netnsNames) {
    const m = pattern.exec(ns);
    if (!m || ownerAlive(m[1]!, Number(m[2]))) continue;
    await killNetnsProcesses(ns);
    await run("ip", ["netns", "del", ns]);
    removed.push(`netns ${ns}`);
  }
  const tmp = os.tmpdir();
  const liveSubnets = new Set<string>();
  const staleStates: State[] = [];
  for (const entry of readdirSync(tmp)) {
    const m = pattern.exec(entry);
    if (!m) continue;
    let state: State | undefined;
    try {
      state = JSON.parse(readFileSync(path.join(tmp, entry, "state.json"), "utf8")) as State;
    } catch {
      state = undefined;
    }
    if (ownerAlive(m[1]!, Number(m[2]))) {
      if (state) liveSubnets.add(state.subnet);
      continue;
    }
    if (state) staleStates.push(state);
    await fs.rm(path.join(tmp, entry), { recursive: true, force: true });
    removed.push(`dir ${path.join(tmp, entry)}`);
  }
  for (const s of staleStates) {
    if (s.routeAdded && !liveSubnets.has(s.subnet) && liveTestbedsUsing(s.subnet, s.id) === 0) {
      await removeGuardRoute(s.subnet);
      removed.push(`route unreachable ${s.subnet}`);
    }
    if (s.pveDirCreated) await removeEtcPve(s.id);
  }
  const qb = await removeDeadQbFiles();
  if (qb) removed.push(`${qb} /dev/shm/qb-* files`);
  return removed;
}

/** Testbed temp dirs of any prefix: <prefix><pid>x<seq>-XXXXXX. */
const ANY_ID = /^([a-z]+(\d+)x(\d+))-[A-Za-z0-9]{6}$/;

/** How many OTHER live testbeds (any prefix, any process) use `subnet` ("*" = any subnet). */
function liveTestbedsUsing(subnet: string, exceptId: string): number {
  let n = 0;
  for (const entry of readdirSync(os.tmpdir())) {
    const m = ANY_ID.exec(entry);
    if (!m || m[1] === exceptId || !ownerAlive(m[1]!, Number(m[2]))) continue;
    try {
      const s = JSON.parse(readFileSync(path.join(os.tmpdir(), entry, "state.json"), "utf8")) as State;
      if (subnet === "*" || s.subnet === subnet) n++;
    } catch {
      n++; // a testbed still writing its state: count it as using everything
    }
  }
  return n;
}

/** Live testbeds on this machine (any prefix, any process), from their state files. */
export function liveTestbeds(): { id: string; ownerPid: number; subnet: string; root: string }[] {
  const out: { id: string; ownerPid: number; subnet: string; root: string }[] = [];
  for (const entry of readdirSync(os.tmpdir())) {
    const m = ANY_ID.exec(entry);
    if (!m || !ownerAlive(m[1]!, Number(m[2]))) continue;
    const root = path.join(os.tmpdir(), entry);
    try {
      const s = JSON.parse(readFileSync(path.join(root, "state.json"), "utf8")) as State;
      out.push({ id: s.id, ownerPid: s.ownerPid, subnet: s.subnet, root });
    } catch {
      // still being created
    }
  }
  return out;
}

/** Is /etc/pve a mount point in any mount namespace? (rmdir would silently detach those mounts.) */
function etcPveMounted(): boolean {
  const seen = new Set<string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ns = readlinkSync(`/proc/${entry}/ns/mnt`);
      if (seen.has(ns)) continue;
      seen.add(ns);
      const info = readFileSync(`/proc/${entry}/mountinfo`, "utf8");
      if (info.split("\n").some((l) => l.split(" ")[4] === "/etc/pve")) return true;
    } catch {
      // gone
    }
  }
  return false;
}

/** Remove the empty /etc/pve mount point the testbed created, unless something still uses it. */
async function removeEtcPve(exceptId: string): Promise<void> {
  if (liveTestbedsUsing("*", exceptId) > 0 || etcPveMounted()) return;
  await fs.rmdir("/etc/pve").catch(() => undefined);
}

// ---------------------------------------------------------------------------------------------------------

/** Build and start a testbed. On any failure everything created so far is torn down before rethrowing. */
export async function startTestbed(opts: TestbedOptions = {}): Promise<Testbed> {
  await checkPrerequisites();
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  // Letters only: the pid follows it directly in every name.
  if (!/^[a-z]{1,12}$/.test(prefix)) throw new Error(`prefix must be 1-12 lower-case letters: ${prefix}`);
  const stale = await cleanupStale(prefix);
  const subnet = parseSubnet(opts.subnet ?? process.env.PVETB_SUBNET ?? DEFAULT_SUBNET);
  await assertSubnetFree(subnet);
  const names =
    typeof opts.nodes === "object"
      ? [...opts.nodes]
      : Array.from({ length: opts.nodes ?? 3 }, (_, i) => `pve${i + 1}`);
  if (names.length < 1) throw new Error("a testbed needs at least one node");
  for (const n of names) {
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(n)) throw new Error(`node name must be a simple hostname: ${n}`);
  }
  if (new Set(names).size !== names.length) throw new Error(`duplicate node names: ${names.join(", ")}`);
  hostAddress(subnet, NODE_OFFSET + names.length - 1); // throws if the subnet is too small

  const id = `${prefix}${process.pid}x${++seq}`;
  const tb = new Testbed(id, prefix, subnet, names, opts);
  active.set(id, tb);
  hookExit();
  try {
    if (stale.length) tb.log(`cleaned up after an earlier run: ${stale.join("; ")}`);
    await tb.build();
    return tb;
  } catch (e) {
    const logs = tb.dumpLogs();
    await tb.teardown().catch(() => undefined);
    if (e instanceof Error) e.message += logs ? `\n--- testbed logs ---\n${logs}` : "";
    throw e;
  }
}

/** `ip` argv that runs argv in a network namespace with a private mount and UTS namespace, through an enter
 *  script that sets up the host's file view (bind mounts, hostname) and then execs argv. */
export function enterArgv(netns: string, enterScript: string, argv: readonly string[]): string[] {
  return [
    "netns",
    "exec",
    netns,
    "unshare",
    "--mount",
    "--uts",
    "--propagation",
    "private",
    "/bin/sh",
    enterScript,
    ...argv,
  ];
}

/**
 * The OpenSSH client command line the testbed uses, as Pulumi's remote.Command connects: key only, only the
 * pinned host key counts (no global known_hosts), no prompts, bounded connect. Shared by tb.ssh and tests that
 * reach an extra host (e.g. the QNetd host).
 */
export function clientSshArgv(
  keyPath: string,
  knownHosts: string,
  address: string,
  command: string,
): string[] {
  return [
    "ssh",
    "-F",
    "/dev/null",
    "-i",
    keyPath,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    `UserKnownHostsFile=${knownHosts}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=5",
    `root@${address}`,
    "--",
    command,
  ];
}

export class Testbed {
  readonly root: string;
  readonly subnet: string;
  readonly nodes: readonly TestbedNode[];
  /** Namespace of the bridge; the SSH client runs here. */
  readonly clientNetns: string;
  readonly clientAddress: string;
  /** Private key file of the SSH client (its public key is in every node's root authorized_keys). */
  readonly clientKeyPath: string;
  /** Host path of the shared /etc/pve. */
  readonly pveDir: string;
  /** The pmxcfs TEST DOUBLE (started by default). */
  readonly pmxcfs: PmxcfsDouble;
  readonly extraHosts: ExtraHost[] = [];

  private readonly state: State;
  private readonly nodeByName = new Map<string, TestbedNode>();
  private readonly cut = new Set<string>();
  private readonly daemons = new Map<string, Daemon>();
  private readonly startBaseline = new Map<string, number>();
  private readonly lastExit = new Map<string, { code: number | null; signal: NodeJS.Signals | null }>();
  private reloadBaseline = 0;
  private torndown = false;
  private readonly sn: Subnet;
  private readonly logFn: ((line: string) => void) | undefined;

  /** @internal use startTestbed() */
  constructor(
    readonly id: string,
    readonly prefix: string,
    subnet: Subnet,
    names: readonly string[],
    private readonly opts: TestbedOptions,
  ) {
    this.sn = subnet;
    this.subnet = subnet.cidr;
    this.root = mkdtempSync(path.join(os.tmpdir(), `${id}-`));
    this.clientNetns = `${id}-br`;
    this.clientAddress = hostAddress(subnet, CLIENT_OFFSET);
    this.clientKeyPath = path.join(this.root, "client", "id_ed25519");
    this.pveDir = path.join(this.root, "pve");
    this.nodes = names.map((name, i) => ({
      name,
      nodeId: i + 1,
      address: hostAddress(subnet, NODE_OFFSET + i),
      netns: `${id}-${name}`,
      dir: path.join(this.root, "nodes", name),
      hostKey: "",
      rootPublicKey: "",
    }));
    for (const n of this.nodes) this.nodeByName.set(n.name, n);
    this.state = {
      id,
      ownerPid: process.pid,
      subnet: subnet.cidr,
      netns: [this.clientNetns, ...this.nodes.map((n) => n.netns)],
      routeAdded: false,
      pveDirCreated: false,
    };
    this.saveState();
    this.logFn =
      opts.log ?? (process.env.PVETB_DEBUG ? (l) => process.stderr.write(`[testbed] ${l}\n`) : undefined);
    this.pmxcfs = new PmxcfsDouble({
      sharedDir: this.pveDir,
      nodeNames: () => this.nodes.map((n) => n.name),
      isLive: (node) => this.isRunning(node) && !this.cut.has(node),
      localConfPath: (node) => this.hostPath(node, "/etc/corosync/corosync.conf"),
      reloadCorosync: (node) => this.corosyncTool(node, "corosync-cfgtool", ["-R"]),
    });
  }

  log(line: string): void {
    this.logFn?.(line);
  }

  private saveState(): void {
    writeFileSync(path.join(this.root, "state.json"), JSON.stringify(this.state, null, 2));
  }

  /** @internal */
  async build(): Promise<void> {
    const t0 = Date.now();
    // 1. Guard route first: from here on nothing in the root namespace can reach the subnet. It belongs to the
    //    testbeds (removed by the last one) unless it was there before any testbed used the subnet.
    const others = liveTestbedsUsing(this.subnet, this.id);
    this.state.routeAdded = (await addGuardRoute(this.sn)) || others > 0;
    // An empty mount point on the host (nodes mount the shared dir over it in their own namespaces); like the
    // route, it belongs to the testbeds if one of them made it, and the last one removes it.
    const created = await fs.mkdir("/etc/pve").then(
      () => true,
      () => false,
    );
    this.state.pveDirCreated = created || liveTestbedsUsing("*", this.id) > 0;
    this.saveState();
    // 2. Network: bridge namespace + one veth per node. Nothing is created in the root namespace.
    await this.createBridge();
    await Promise.all(this.nodes.map((n, i) => this.attach(n.netns, `vn${i + 1}`, n.address)));
    // 3. Files, keys, sshd.
    await this.writeFiles();
    await Promise.all(this.nodes.map((n) => this.startSshd(n.name)));
    this.log(`network, files and sshd ready in ${Date.now() - t0} ms`);
    // 4. Corosync + the pmxcfs double.
    const conf = this.opts.corosyncConf;
    if (conf !== undefined) {
      const text = typeof conf === "function" ? conf(this.nodes) : conf;
      await this.writeCorosyncConf(text);
      await fs.writeFile(path.join(this.pveDir, "corosync.conf"), text, { mode: 0o640 });
    }
    if (this.opts.pmxcfs !== false) this.pmxcfs.start();
    if (conf !== undefined && this.opts.startCorosync !== false) {
      await Promise.all(this.nodes.map((n) => this.startCorosync(n.name)));
      await this.waitForQuorum({ members: this.nodes.length, timeoutMs: 30_000 });
      this.log(`corosync quorate on ${this.nodes.length} nodes after ${Date.now() - t0} ms`);
    }
    this.resetCounters();
  }

  private async createBridge(): Promise<void> {
    const br = this.clientNetns;
    await ip("netns", "add", br);
    await ip("-n", br, "link", "set", "lo", "up");
    await ip("-n", br, "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0");
    await ip("-n", br, "addr", "add", `${this.clientAddress}/${this.sn.prefix}`, "dev", "br0");
    await ip("-n", br, "link", "set", "br0", "up");
  }

  /** New namespace `netns` with eth0 = `address`, joined to br0 by a veth pair whose bridge end is `port`. */
  private async attach(netns: string, port: string, address: string): Promise<void> {
    const br = this.clientNetns;
    await ip("netns", "add", netns);
    await ip("-n", netns, "link", "set", "lo", "up");
    await ip("-n", br, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", netns);
    await ip("-n", br, "link", "set", port, "master", "br0", "up");
    await ip("-n", netns, "addr", "add", `${address}/${this.sn.prefix}`, "dev", "eth0");
    await ip("-n", netns, "link", "set", "eth0", "up");
  }

  private async keygen(file: string, comment: string): Promise<string> {
    await runOk("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
    const [type, key] = (await fs.readFile(`${file}.pub`, "utf8")).trim().split(/\s+/);
    return `${type} ${key}`;
  }

  private async writeFiles(): Promise<void> {
    const R = this.root;
    await fs.mkdir(path.join(R, "client"), { mode: 0o700 });
    const clientPub = await this.keygen(this.clientKeyPath, "pvetb-client");
    // Shared /etc/pve skeleton (pmxcfs double).
    for (const d of ["priv", "priv/lock", ...this.nodes.map((n) => `nodes/${n.name}`)]) {
      await fs.mkdir(path.join(this.pveDir, d), {
        recursive: true,
        mode: d.startsWith("priv") ? 0o700 : 0o755,
      });
    }
    // One authkey for the cluster.
    const authkey = path.join(R, "authkey");
    await runOk("corosync-keygen", ["-k", authkey]);
    const hostsLines = [
      "127.0.0.1 localhost",
      "::1 localhost ip6-localhost ip6-loopback",
      ...this.nodes.map((n) => `${n.address} ${n.name}.testbed.lan ${n.name}`),
      "",
    ];
    const shadowRoot = this.rootShadowLine();
    const mutable = this.nodes as TestbedNode[];
    await Promise.all(
      this.nodes.map(async (n, i) => {
        const d = n.dir;
        for (const sub of [...NODE_MOUNTS.map(([, x]) => x), "var-log-corosync"]) {
          await fs.mkdir(path.join(d, sub), { recursive: true, mode: 0o755 });
        }
        await fs.chmod(path.join(d, "root"), 0o700);
        await fs.mkdir(path.join(d, "root", ".ssh"), { mode: 0o700 });
        await fs.mkdir(path.join(d, "run", "sshd"), { mode: 0o755 });
        await fs.copyFile(authkey, path.join(d, "etc-corosync", "authkey"));
        await fs.chmod(path.join(d, "etc-corosync", "authkey"), 0o400);
        await fs.writeFile(path.join(d, "hosts"), hostsLines.join("\n"));
        await fs.writeFile(path.join(d, "shadow"), shadowRoot, { mode: 0o640 });
        await fs.writeFile(path.join(d, "corosync-starts"), "");
        // /etc/ssh: the host's client config (no host keys), our sshd_config and this node's own host key.
        const etcSsh = path.join(d, "etc-ssh");
        for (const f of ["ssh_config", "moduli"]) {
          if (existsSync(`/etc/ssh/${f}`)) await fs.copyFile(`/etc/ssh/${f}`, path.join(etcSsh, f));
        }
        if (existsSync("/etc/ssh/ssh_config.d")) {
          await fs.cp("/etc/ssh/ssh_config.d", path.join(etcSsh, "ssh_config.d"), { recursive: true });
        }
        const hostKey = await this.keygen(path.join(etcSsh, "ssh_host_ed25519_key"), `root@${n.name}`);
        await fs.writeFile(path.join(etcSsh, "sshd_config"), this.sshdConfig(n));
        const rootPublicKey = await this.keygen(path.join(d, "root", ".ssh", "id_ed25519"), `root@${n.name}`);
        mutable[i] = { ...n, hostKey, rootPublicKey };
        await fs.writeFile(path.join(d, "enter.sh"), this.enterScript(n), { mode: 0o755 });
        await fs.writeFile(path.join(d, "sbin", "pvetb-corosync"), this.launcherScript(n), { mode: 0o755 });
        await fs.writeFile(path.join(d, "sbin", "systemctl"), this.systemctlScript(n), { mode: 0o755 });
      }),
    );
    for (const n of this.nodes) this.nodeByName.set(n.name, n);
    // Root SSH trust between nodes, the way a Proxmox cluster has it (+ the harness client's key).
    const authorized = [
      ...this.nodes.map((n) => `${n.rootPublicKey} root@${n.name}`),
      `${clientPub} pvetb-client`,
    ];
    const knownHosts = this.nodes.map((n) => `${n.name},${n.address} ${n.hostKey}`);
    for (const n of this.nodes) {
      const ssh = path.join(n.dir, "root", ".ssh");
      await fs.writeFile(path.join(ssh, "authorized_keys"), authorized.join("\n") + "\n", { mode: 0o600 });
      await fs.writeFile(path.join(ssh, "known_hosts"), knownHosts.join("\n") + "\n", { mode: 0o600 });
    }
    await fs.writeFile(
      path.join(R, "client", "known_hosts"),
      this.nodes.map((n) => `${n.address} ${n.hostKey}`).join("\n") + "\n",
      { mode: 0o600 },
    );
  }

  /** A one-line shadow for the node: root with password field `*` (sshd with UsePAM no refuses a locked `!`
   *  account even for keys). The host's hash is never copied. */
  private rootShadowLine(): string {
    let fields = ["root", "*", "19000", "0", "99999", "7", "", "", ""];
    try {
      const line = readFileSync("/etc/shadow", "utf8")
        .split("\n")
        .find((l) => l.startsWith("root:"));
      if (line) fields = line.split(":");
    } catch {
      // unreadable: use the default line
    }
    fields[1] = "*";
    return fields.join(":") + "\n";
  }

  private sshdConfig(n: TestbedNode): string {
    return [
      `# pve-homelab testbed: sshd of node ${n.name} (runs inside the node's namespaces)`,
      `ListenAddress ${n.address}`,
      "Port 22",
      "HostKey /etc/ssh/ssh_host_ed25519_key",
      "PidFile /run/sshd.pid",
      "PermitRootLogin prohibit-password",
      "PubkeyAuthentication yes",
      "AuthenticationMethods publickey",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "AuthorizedKeysFile .ssh/authorized_keys",
      "StrictModes yes",
      "UsePAM no",
      "UseDNS no",
      "X11Forwarding no",
      "PrintMotd no",
      "PrintLastLog no",
      "AcceptEnv LANG LC_*",
      "MaxStartups 100:30:200",
      "MaxSessions 100",
      "LogLevel VERBOSE",
      "Subsystem sftp /usr/lib/openssh/sftp-server",
      "",
    ].join("\n");
  }

  private enterScript(n: TestbedNode): string {
    const lines = [
      "#!/bin/sh",
      `# pve-homelab testbed: enter node ${n.name}'s file view (run under unshare --mount --uts), then exec "$@".`,
      "set -e",
      ...NODE_MOUNTS.map(([inNode, sub]) => `mount --bind ${q(path.join(n.dir, sub))} ${inNode}`),
      `mount --bind ${q(path.join(n.dir, "hosts"))} /etc/hosts`,
      `mount --bind ${q(path.join(n.dir, "shadow"))} /etc/shadow`,
      `mount --bind ${q(this.pveDir)} /etc/pve`,
      `if [ -d /var/log/corosync ]; then mount --bind ${q(path.join(n.dir, "var-log-corosync"))} /var/log/corosync; fi`,
      `hostname ${n.name}`,
      "cd /root",
      'exec "$@"',
      "",
    ];
    return lines.join("\n");
  }

  private launcherScript(n: TestbedNode): string {
    return [
      "#!/bin/sh",
      `# pve-homelab testbed: start corosync on ${n.name} in the foreground, counting the start.`,
      `echo "$(date +%s.%N) $$" >> ${q(path.join(n.dir, "corosync-starts"))}`,
      "exec /usr/sbin/corosync -f",
      "",
    ].join("\n");
  }

  /** TEST DOUBLE for systemctl on a node (there is no systemd here): the corosync unit only; pve-cluster
   *  (pmxcfs) is the testbed-wide double, so its start/stop/restart are no-ops. */
  private systemctlScript(n: TestbedNode): string {
    const starts = q(path.join(n.dir, "sbin", "pvetb-corosync"));
    const log = q(path.join(n.dir, "corosync.log"));
    return `#!/bin/sh
# TEST DOUBLE for systemctl on testbed node ${n.name} (no systemd in the testbed). Units: corosync, pve-cluster.
self=$(readlink /proc/self/ns/net)
pids() {
  for p in $(pgrep -x corosync); do
    [ "$(readlink /proc/$p/ns/net 2>/dev/null)" = "$self" ] || continue
    case "$(ps -o stat= -p "$p")" in Z*|"") continue ;; esac
    echo "$p"
  done
}
ready() { corosync-quorumtool -s >/dev/null 2>&1; rc=$?; [ $rc -eq 0 ] || [ $rc -eq 2 ]; }
start() {
  [ -n "$(pids)" ] && return 0
  setsid /bin/sh ${starts} </dev/null >>${log} 2>&1 &
  i=0; while [ $i -lt 100 ]; do ready && return 0; [ -z "$(pids)" ] && [ $i -gt 5 ] && break; sleep 0.1; i=$((i+1)); done
  echo "Job for corosync.service failed." >&2; return 1
}
stop() {
  p=$(pids); [ -z "$p" ] && return 0
  kill -TERM $p 2>/dev/null
  i=0; while [ $i -lt 150 ] && [ -n "$(pids)" ]; do sleep 0.1; i=$((i+1)); done
  p=$(pids); [ -n "$p" ] && kill -KILL $p 2>/dev/null
  return 0
}
cmd=""; unit=""
for a in "$@"; do case "$a" in -*) ;; *) if [ -z "$cmd" ]; then cmd=$a; else unit=\${a%.service}; fi ;; esac; done
case "$unit" in
  corosync)
    case "$cmd" in
      start) start ;;
      stop) stop ;;
      restart|try-restart|reload-or-restart) stop; start ;;
      is-active|status) if [ -n "$(pids)" ]; then echo active; exit 0; else echo inactive; exit 3; fi ;;
      *) echo "testbed systemctl: unsupported command $cmd" >&2; exit 1 ;;
    esac ;;
  pve-cluster)
    case "$cmd" in is-active|status) echo active ;; esac; exit 0 ;;
  *) echo "Unit $unit.service not found." >&2; exit 5 ;;
esac
`;
  }

  // -------------------------------------------------------------------------------------------------------
  // Node lookup, files.

  node(name: string): TestbedNode {
    const n = this.nodeByName.get(name);
    if (!n) throw new Error(`no testbed node ${name} (nodes: ${this.nodes.map((x) => x.name).join(", ")})`);
    return n;
  }

  /** Host path of a path inside a node: only the per-node mounts (/etc/corosync, /var/lib/corosync, /run,
   *  /root, /etc/ssh, /usr/local/sbin, /etc/hosts) and the shared /etc/pve are mapped. */
  hostPath(node: string, inNode: string): string {
    const n = this.node(node);
    const p = path.posix.normalize(inNode);
    if (p === "/etc/hosts") return path.join(n.dir, "hosts");
    if (p === "/var/log/corosync" || p.startsWith("/var/log/corosync/")) {
      return path.join(n.dir, "var-log-corosync", p.slice("/var/log/corosync".length));
    }
    if (p === "/etc/pve" || p.startsWith("/etc/pve/"))
      return path.join(this.pveDir, p.slice("/etc/pve".length));
    for (const [mount, sub] of NODE_MOUNTS) {
      if (p === mount || p.startsWith(mount + "/")) return path.join(n.dir, sub, p.slice(mount.length));
    }
    throw new Error(`${inNode} is not a per-node path of the testbed (use exec() to read other files)`);
  }

  /** Host path inside the shared /etc/pve. */
  pvePath(rel = ""): string {
    return path.join(this.pveDir, rel.replace(/^\/?(etc\/pve\/?)?/, ""));
  }

  async readFile(node: string, inNode: string): Promise<string> {
    return fs.readFile(this.hostPath(node, inNode), "utf8");
  }

  /** Write a node file from the host side (parents created). Atomic (temp + rename) except /etc/hosts, which
   *  is a bind-mounted file and must keep its inode. */
  async writeFile(node: string, inNode: string, content: string, mode = 0o644): Promise<void> {
    const target = this.hostPath(node, inNode);
    await fs.mkdir(path.dirname(target), { recursive: true });
    if (path.posix.normalize(inNode) === "/etc/hosts") return fs.writeFile(target, content);
    const tmp = `${target}.pvetb-tmp`;
    await fs.writeFile(tmp, content, { mode });
    await fs.chmod(tmp, mode);
    await fs.rename(tmp, target);
  }

  /** Write /etc/corosync/corosync.conf on the given nodes (default all). No reload. */
  async writeCorosyncConf(
    text: string,
    nodes: readonly string[] = this.nodes.map((n) => n.name),
  ): Promise<void> {
    for (const n of nodes) await this.writeFile(n, "/etc/corosync/corosync.conf", text);
  }

  /** Write /etc/pve/corosync.conf the way Proxmox does (write corosync.conf.new, rename over): the pmxcfs
   *  double then propagates it to live nodes and reloads. */
  async writePveCorosyncConf(text: string): Promise<void> {
    const target = this.pvePath("corosync.conf");
    await fs.writeFile(`${target}.new`, text, { mode: 0o640 });
    await fs.rename(`${target}.new`, target);
  }

  // -------------------------------------------------------------------------------------------------------
  // Running things.

  private nodeArgv(n: TestbedNode, argv: readonly string[]): string[] {
    return enterArgv(n.netns, path.join(n.dir, "enter.sh"), argv);
  }

  /** Run argv inside the node (its network namespace and its file view, hostname = node name). */
  exec(node: string, argv: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
    if (argv.length === 0) throw new Error("exec needs a command");
    return run("ip", this.nodeArgv(this.node(node), argv), opts);
  }

  /** Run a bash script inside the node. */
  shell(node: string, script: string, opts: ExecOptions = {}): Promise<RunResult> {
    return this.exec(node, ["bash", "-c", script], opts);
  }

  /** Run argv in an extra host's or the bridge's namespace (network only, host files). */
  execNetns(netns: string, argv: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
    if (!this.state.netns.includes(netns)) throw new Error(`${netns} is not a namespace of this testbed`);
    return run("ip", ["netns", "exec", netns, ...argv], opts);
  }

  /** SSH to the node exactly like Pulumi's remote.Command: one session running `command`, stdin piped, host key
   *  pinned, key-only, from the bridge namespace. Resolves with the exit code (255 = ssh itself failed). */
  async ssh(node: string, command: string, opts: SshOptions = {}): Promise<RunResult> {
    const n = this.node(node);
    const fromNetns = opts.fromNetns ?? this.clientNetns;
    if (!this.state.netns.includes(fromNetns))
      throw new Error(`${fromNetns} is not a namespace of this testbed`);
    let knownHosts = path.join(this.root, "client", "known_hosts");
    let tmpKh: string | undefined;
    if (opts.hostKey !== undefined) {
      tmpKh = path.join(this.root, "client", `kh-${process.hrtime.bigint()}`);
      await fs.writeFile(tmpKh, `${n.address} ${opts.hostKey.trim()}\n`);
      knownHosts = tmpKh;
    }
    try {
      return await run(
        "ip",
        ["netns", "exec", fromNetns, ...clientSshArgv(this.clientKeyPath, knownHosts, n.address, command)],
        { stdin: opts.stdin, timeoutMs: opts.timeoutMs ?? 60_000 },
      );
    } finally {
      if (tmpKh) await fs.rm(tmpKh, { force: true });
    }
  }

  /**
   * Reinstall a node, as from the Proxmox installer: every process stopped, a NEW SSH host key and root key,
   * /root/.ssh holding only the admin's key (this harness's client key) and no known_hosts, no corosync config or
   * authkey, nothing in /var/lib/corosync. The client's known_hosts pins the new key; sshd is started again
   * (corosync is not: a fresh node is in no cluster). Returns the node with its new keys.
   */
  async reinstallNode(name: string): Promise<TestbedNode> {
    const n = this.node(name);
    await this.stopCorosync(name).catch(() => undefined);
    await killNetnsProcesses(n.netns);
    const etcSsh = path.join(n.dir, "etc-ssh");
    const dotSsh = path.join(n.dir, "root", ".ssh");
    await fs.rm(path.join(etcSsh, "ssh_host_ed25519_key"), { force: true });
    await fs.rm(path.join(etcSsh, "ssh_host_ed25519_key.pub"), { force: true });
    await fs.rm(dotSsh, { recursive: true, force: true });
    await fs.mkdir(dotSsh, { mode: 0o700 });
    for (const sub of ["etc-corosync", "var-lib-corosync"]) {
      await fs.rm(path.join(n.dir, sub), { recursive: true, force: true });
      await fs.mkdir(path.join(n.dir, sub), { mode: 0o755 });
    }
    const hostKey = await this.keygen(path.join(etcSsh, "ssh_host_ed25519_key"), `root@${name}`);
    const rootPublicKey = await this.keygen(path.join(dotSsh, "id_ed25519"), `root@${name}`);
    const clientPub = (await fs.readFile(`${this.clientKeyPath}.pub`, "utf8")).trim();
    await fs.writeFile(path.join(dotSsh, "authorized_keys"), `${clientPub}\n`, { mode: 0o600 });
    const fresh: TestbedNode = { ...n, hostKey, rootPublicKey };
    (this.nodes as TestbedNode[])[this.nodes.indexOf(n)] = fresh;
    this.nodeByName.set(name, fresh);
    const kh = path.join(this.root, "client", "known_hosts");
    const lines = (await fs.readFile(kh, "utf8"))
      .split("\n")
      .filter((l) => l && !l.startsWith(`${n.address} `));
    await fs.writeFile(kh, [...lines, `${n.address} ${hostKey}`].join("\n") + "\n", { mode: 0o600 });
    await this.startSshd(name);
    return fresh;
  }

  /** Root SSH from one node to another by name, with the node's own key and known_hosts (Proxmox-style trust). */
  sshBetween(from: string, to: string, command: string, opts: ExecOptions = {}): Promise<RunResult> {
    this.node(to);
    return this.exec(
      from,
      ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", `root@${to}`, "--", command],
      {
        timeoutMs: 30_000,
        ...opts,
      },
    );
  }

  // -------------------------------------------------------------------------------------------------------
  // Daemons.

  private pidsOf(node: string, comm: string): number[] {
    return pidsInNetns(this.node(node).netns).filter((p) => procComm(p) === comm);
  }

  sshdRunning(node: string): boolean {
    return this.pidsOf(node, "sshd").length > 0;
  }

  /** Start the node's sshd (inside its namespaces) and wait until it listens. No-op if it runs. */
  async startSshd(node: string): Promise<void> {
    const n = this.node(node);
    if (this.sshdRunning(node)) return;
    const d = startDaemon(
      "ip",
      this.nodeArgv(n, ["/usr/sbin/sshd", "-D", "-e", "-f", "/etc/ssh/sshd_config"]),
      path.join(n.dir, "sshd.log"),
    );
    this.daemons.set(`sshd:${node}`, d);
    let exited: string | undefined;
    void d.exited.then((e) => (exited = `sshd exited (${e.code ?? e.signal})`));
    await waitFor(
      async () => {
        if (exited) throw new GiveUp(`${exited}: ${this.logTail(node, "sshd")}`);
        const r = await run("ip", ["netns", "exec", n.netns, "ss", "-Hltn", `src ${n.address}:22`]);
        return r.stdout.includes(`${n.address}:22`);
      },
      { timeoutMs: 10_000, what: `sshd on ${node} to listen`, intervalMs: 50 },
    );
  }

  /** Is corosync running on the node (a zombie counts as dead)? */
  isRunning(node: string): boolean {
    return this.pidsOf(node, "corosync").length > 0;
  }

  /** Start corosync (foreground mode, log → dir/corosync.log) and, unless wait=false, wait until its IPC
   *  answers. Rejects if it is already running or exits while starting (the log tail is in the error). */
  async startCorosync(node: string, opts: { wait?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const n = this.node(node);
    if (this.isRunning(node)) throw new Error(`corosync already runs on ${node}`);
    const logFile = path.join(n.dir, "corosync.log");
    await fs.appendFile(logFile, `--- ${new Date().toISOString()} testbed: starting corosync\n`);
    const d = startDaemon(
      "ip",
      this.nodeArgv(n, ["/bin/sh", path.join(n.dir, "sbin", "pvetb-corosync")]),
      logFile,
    );
    this.daemons.set(`corosync:${node}`, d);
    this.lastExit.delete(node);
    void d.exited.then((e) => {
      if (this.daemons.get(`corosync:${node}`) === d) this.lastExit.set(node, e);
    });
    if (opts.wait === false) return;
    let exited: string | undefined;
    void d.exited.then((e) => (exited = `corosync on ${node} exited (${e.code ?? e.signal}) while starting`));
    await waitFor(
      async () => {
        if (exited) throw new GiveUp(`${exited}:\n${this.logTail(node, "corosync")}`);
        const r = await this.corosyncTool(node, "corosync-quorumtool", ["-s"]);
        return r.code === 0 || r.code === 2;
      },
      { timeoutMs: opts.timeoutMs ?? 10_000, what: `corosync on ${node} to answer`, intervalMs: 50 },
    );
  }

  /** Exit status of the last corosync the harness started on the node; undefined while it runs (or if the
   *  harness never started one). E.g. {code: 0} after "Received config version ... Exiting". */
  corosyncExit(node: string): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    this.node(node);
    return this.lastExit.get(node);
  }

  /** Clean stop (SIGTERM, like systemd), waiting until it is gone; SIGKILL after timeoutMs. */
  async stopCorosync(node: string, timeoutMs = 15_000): Promise<void> {
    for (const p of this.pidsOf(node, "corosync")) signal(p, "SIGTERM");
    try {
      await waitFor(() => !this.isRunning(node), {
        timeoutMs,
        what: `corosync on ${node} to stop`,
        intervalMs: 50,
      });
    } catch (e) {
      for (const p of this.pidsOf(node, "corosync")) signal(p, "SIGKILL");
      throw e;
    }
  }

  /** Crash corosync alone (SIGKILL); sshd stays up. */
  async killCorosync(node: string): Promise<void> {
    for (const p of this.pidsOf(node, "corosync")) signal(p, "SIGKILL");
    await waitFor(() => !this.isRunning(node), { timeoutMs: 5000, what: `corosync on ${node} to die` });
  }

  /** Power loss: SIGKILL every process of the node (corosync, sshd, sessions). bootNode() brings it back. */
  async killNode(node: string): Promise<void> {
    await killNetnsProcesses(this.node(node).netns);
  }

  /** Clean shutdown: stop corosync, then everything else of the node. */
  async stopNode(node: string): Promise<void> {
    await this.stopCorosync(node);
    await killNetnsProcesses(this.node(node).netns);
  }

  /** Power on: sshd, then corosync unless corosync=false (e.g. to run a boot step before it). */
  async bootNode(node: string, opts: { corosync?: boolean } = {}): Promise<void> {
    await this.startSshd(node);
    if (opts.corosync !== false && !this.isRunning(node)) await this.startCorosync(node);
  }

  /** Run a corosync client tool against the node's corosync (abstract sockets are per network namespace). */
  corosyncTool(node: string, tool: string, args: readonly string[], timeoutMs = 15_000): Promise<RunResult> {
    return run("ip", ["netns", "exec", this.node(node).netns, tool, ...args], { timeoutMs });
  }

  /** `corosync-quorumtool -s` on the node, parsed (exit 2 = not quorate is a normal answer). Throws when
   *  corosync does not answer. */
  async quorum(node: string): Promise<QuorumStatus> {
    const r = await this.corosyncTool(node, "corosync-quorumtool", ["-s"]);
    if (r.code !== 0 && r.code !== 2) {
      throw new Error(
        `corosync-quorumtool -s on ${node} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout}`,
      );
    }
    return parseQuorumStatus(r.stdout);
  }

  /** Votes per member node name as `node` sees them (from quorum()). */
  async votes(node: string): Promise<Record<string, number>> {
    const s = await this.quorum(node);
    return Object.fromEntries(s.nodes.map((m) => [m.name, m.votes]));
  }

  /** `corosync-cmapctl [prefix]` on the node as key → value strings. */
  async cmap(node: string, prefix = ""): Promise<Map<string, string>> {
    const r = await this.corosyncTool(node, "corosync-cmapctl", prefix ? [prefix] : []);
    if (r.code !== 0)
      throw new Error(`corosync-cmapctl on ${node} failed (exit ${r.code}): ${r.stderr.trim()}`);
    const out = new Map<string, string>();
    for (const m of r.stdout.matchAll(/^(\S+) \([^)]*\) = (.*)$/gm)) out.set(m[1]!, m[2]!);
    return out;
  }

  /** Wait until every listed node (default: all with corosync running) reports `members` members (default
   *  all nodes) and the wanted quorate state (default true). Returns the statuses by node. */
  async waitForQuorum(
    opts: { nodes?: readonly string[]; members?: number; quorate?: boolean; timeoutMs?: number } = {},
  ): Promise<Record<string, QuorumStatus>> {
    const nodes = opts.nodes ?? this.nodes.map((n) => n.name).filter((n) => this.isRunning(n));
    if (nodes.length === 0) throw new Error("waitForQuorum: no node to ask (corosync runs nowhere)");
    const members = opts.members ?? this.nodes.length;
    const quorate = opts.quorate ?? true;
    return waitFor(
      async () => {
        const out: Record<string, QuorumStatus> = {};
        for (const n of nodes) {
          const s = await this.quorum(n);
          if (s.nodes.length !== members || s.quorate !== quorate) return undefined;
          out[n] = s;
        }
        return out;
      },
      {
        timeoutMs: opts.timeoutMs ?? 20_000,
        what: `${nodes.join(", ")} to see ${members} members, ${quorate ? "quorate" : "not quorate"}`,
        intervalMs: 100,
      },
    );
  }

  waitFor<T>(probe: () => T | Promise<T>, opts: WaitOptions): Promise<Truthy<T>> {
    return waitFor(probe, opts);
  }

  // -------------------------------------------------------------------------------------------------------
  // Faults.

  /** Pull the node's cable: blackhole routes so no packet flows between it and anything in the subnet
   *  (peers, client, extra hosts), in both directions. */
  async cutLink(node: string): Promise<void> {
    const n = this.node(node);
    if (this.cut.has(node)) return;
    this.cut.add(node);
    for (const half of subnetHalves(this.sn)) await ip("-n", n.netns, "route", "add", "blackhole", half);
    for (const other of this.otherNetns(n.netns)) {
      await ip("-n", other, "route", "add", "blackhole", `${n.address}/32`);
    }
  }

  async restoreLink(node: string): Promise<void> {
    const n = this.node(node);
    if (!this.cut.has(node)) return;
    for (const half of subnetHalves(this.sn))
      await run("ip", ["-n", n.netns, "route", "del", "blackhole", half]);
    for (const other of this.otherNetns(n.netns)) {
      await run("ip", ["-n", other, "route", "del", "blackhole", `${n.address}/32`]);
    }
    this.cut.delete(node);
  }

  isCut(node: string): boolean {
    return this.cut.has(node);
  }

  private otherNetns(netns: string): string[] {
    return this.state.netns.filter((x) => x !== netns);
  }

  /** Another machine on the bridge (e.g. a QNetd host): its own network namespace, address .2 upwards, host
   *  files (give it bind mounts yourself). Removed on teardown with everything in it. */
  async addHost(name: string): Promise<ExtraHost> {
    if (!/^[a-z][a-z0-9-]{0,20}$/.test(name) || this.extraHosts.some((h) => h.name === name)) {
      throw new Error(`bad or duplicate extra host name: ${name}`);
    }
    const i = this.extraHosts.length;
    if (EXTRA_OFFSET + i >= NODE_OFFSET) throw new Error("too many extra hosts");
    const host = { name, address: hostAddress(this.sn, EXTRA_OFFSET + i), netns: `${this.id}-x-${name}` };
    this.state.netns.push(host.netns);
    this.saveState();
    await this.attach(host.netns, `vx${i + 1}`, host.address);
    for (const c of this.cut) {
      await ip("-n", host.netns, "route", "add", "blackhole", `${this.node(c).address}/32`);
    }
    this.extraHosts.push(host);
    return host;
  }

  // -------------------------------------------------------------------------------------------------------
  // Counters and logs.

  /** Corosync starts on the node since the testbed came up (or resetCounters()), however started
   *  (startCorosync, bootNode, or the systemctl double inside the node). */
  corosyncStarts(node: string): number {
    return this.totalStarts(node) - (this.startBaseline.get(node) ?? 0);
  }

  /** For benches: (re)starts per node and in total, and pmxcfs-double reloads, since the last reset. */
  counters(): { corosyncStarts: Record<string, number>; totalCorosyncStarts: number; pmxcfsReloads: number } {
    const corosyncStarts = Object.fromEntries(this.nodes.map((n) => [n.name, this.corosyncStarts(n.name)]));
    const totalCorosyncStarts = Object.values(corosyncStarts).reduce((a, b) => a + b, 0);
    return { corosyncStarts, totalCorosyncStarts, pmxcfsReloads: this.pmxcfs.reloads - this.reloadBaseline };
  }

  /** Zero the counters (startTestbed does this after bring-up, so later starts are restarts). */
  resetCounters(): void {
    for (const n of this.nodes) this.startBaseline.set(n.name, this.totalStarts(n.name));
    this.reloadBaseline = this.pmxcfs.reloads;
  }

  private totalStarts(node: string): number {
    const file = path.join(this.node(node).dir, "corosync-starts");
    return readFileSync(file, "utf8").split("\n").filter(Boolean).length;
  }

  /** Last `lines` lines of a node's corosync or sshd log. */
  logTail(node: string, which: "corosync" | "sshd", lines = 40): string {
    try {
      const text = readFileSync(path.join(this.node(node).dir, `${which}.log`), "utf8");
      return text
        .split("\n")
        .slice(-lines - 1)
        .join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** All logs' tails, for a failed test's message. */
  dumpLogs(lines = 25): string {
    const parts: string[] = [];
    for (const n of this.nodes) {
      for (const which of ["corosync", "sshd"] as const) {
        if (existsSync(path.join(n.dir, `${which}.log`))) {
          parts.push(`== ${n.name} ${which}.log ==\n${this.logTail(n.name, which, lines)}`);
        }
      }
    }
    if (this.pmxcfs.events.length) {
      parts.push(
        `== pmxcfs double events ==\n${this.pmxcfs.events.map((e) => JSON.stringify(e)).join("\n")}`,
      );
    }
    return parts.join("\n");
  }

  // -------------------------------------------------------------------------------------------------------
  // Teardown.

  /** Stop everything and remove every trace (processes, namespaces, guard route, temp dir). Idempotent;
   *  safe after a failed start. */
  async teardown(): Promise<void> {
    if (this.torndown) return;
    this.torndown = true;
    await this.pmxcfs.stop().catch(() => undefined);
    for (const ns of [...this.state.netns].reverse()) {
      await killNetnsProcesses(ns);
      if (existsSync(`/run/netns/${ns}`)) await run("ip", ["netns", "del", ns]);
    }
    active.delete(this.id);
    // Remove the guard only if testbeds own it and no other live testbed relies on the same subnet.
    if (this.state.routeAdded && liveTestbedsUsing(this.subnet, this.id) === 0) {
      await removeGuardRoute(this.subnet);
    }
    if (this.state.pveDirCreated) await removeEtcPve(this.id);
    await removeDeadQbFiles();
    if (!(this.opts.keepFiles || process.env.PVETB_KEEP))
      await fs.rm(this.root, { recursive: true, force: true });
    else this.log(`kept ${this.root}`);
  }

  /** @internal Synchronous last-resort cleanup from a process exit handler. */
  emergencyCleanup(): void {
    if (this.torndown) return;
    this.torndown = true;
    for (const ns of this.state.netns) {
      for (const pid of pidsInNetns(ns)) signal(pid, "SIGKILL");
      try {
        execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
      } catch {
        // not there
      }
    }
    active.delete(this.id);
    if (this.state.routeAdded && liveTestbedsUsing(this.subnet, this.id) === 0) {
      try {
        execFileSync("ip", ["route", "del", "unreachable", this.subnet], { stdio: "ignore" });
      } catch {
        // not there
      }
    }
    if (this.state.pveDirCreated && liveTestbedsUsing("*", this.id) === 0 && !etcPveMounted()) {
      try {
        rmdirSync("/etc/pve");
      } catch {
        // not empty or gone
      }
    }
    if (!(this.opts.keepFiles || process.env.PVETB_KEEP)) rmSync(this.root, { recursive: true, force: true });
  }
}
