// TEST DOUBLE — NOT Proxmox VE. A stand-in for the few `pvecm` and `pvesh` calls the membership scripts make,
// installed as /usr/local/sbin/pvecm and /usr/local/sbin/pvesh inside the corosync testbed's nodes (see
// index.ts and README.md beside this file). It implements their documented behaviour (pve-cluster
// PVE/CLI/pvecm.pm, PVE/API2/ClusterConfig.pm, PVE/Cluster/Setup.pm; pve-manager's GET /cluster/status) on real
// corosync, closely enough to run the exact scripts Pulumi would send:
//
//   pvecm create NAME [--nodeid N] [--votes V] [--link0 [address=]IP]
//       refuses when the node already has a cluster config; writes a Proxmox-shaped corosync.conf (config_version
//       1, core/corosync renderCorosyncConf) to /etc/pve and the local /etc/corosync, an authkey, a self-signed
//       /etc/pve/nodes/<node>/pve-ssl.pem and the SSH trust files (as updatecerts below: pveproxy's start runs
//       `pvecm updatecerts --silent`), then (re)starts corosync.
//   pvecm add HOST --fingerprint FP [--nodeid N] [--votes V] [--link0 [address=]IP]     password: first stdin line
//       the joinability checks of assert_joinable (authkey, cluster config, guests, corosync running, link0 local),
//       then the API join: checks the certificate HOST serves against FP (before sending the password), logs in with
//       the password (checked against the stand-in root password stored on HOST), and HOST's addnode: quorum check,
//       cluster lock, duplicate name/nodeid/address checks, node appended with config_version + 1, written to
//       /etc/pve by .new + rename (the pmxcfs double propagates it to live nodes and reloads). Then finish_join:
//       authkey + corosync.conf written locally, corosync started, bounded wait for quorum.
//       Then finish_join's updatecerts_and_ssh(force): node files with a NEW pve-ssl.pem, the cluster-wide root
//       SSH trust (setup_ssh_keys: /root/.ssh/authorized_keys becomes a link to /etc/pve/priv/authorized_keys, the
//       old file merged in by ssh_merge_keys with this node's root key) and /etc/pve/nodes/<node>/ssh_known_hosts
//       (ssh_create_node_known_hosts: "<node> <host key>", what PVE::SSHInfo pins with HostKeyAlias=<node>).
//   pvecm updatecerts [--force] [--silent] [--unmerge-known-hosts]
//       updatecerts_and_ssh: the same node files and SSH trust, a new certificate only with --force; refuses
//       without quorum unless --silent. This is how Proxmox replaces a reinstalled node's stale host key.
//   pvecm delnode NAME        quorum check, cluster lock, node removed (config_version + 1), `corosync-cfgtool -k`
//       (allowed to fail). Like Proxmox, it does NOT check that the node is offline: the scripts must.
//   pvesh get /cluster/status --output-format json        cluster entry {name, nodes, version, quorate} and node
//       entries {name, nodeid, ip, local, online} from the corosync config, corosync-quorumtool and cmap; a node
//       without a cluster gets Proxmox's single fake entry (nodeid 0, no cluster entry).
//   pvesh get /cluster/config/nodes --output-format json  the nodelist ({node, name, nodeid, quorum_votes,
//       ring0_addr}, values as strings, as Perl prints them).
//   pvesh get /cluster/resources --type vm --output-format json   the guests of /etc/pve/nodes/*/{qemu-server,lxc}
//       ({id, vmid, node, type, status, name, template, ...}; a guest of an offline node: status "unknown" only).
//
// Deviations, all forced by the testbed: /etc/pve is ONE directory shared by every node (the pmxcfs double), so
// a node's own cluster state is read from its LOCAL /etc/corosync/corosync.conf (present only on cluster nodes);
// the API join travels over SSH with the stand-in's own key and known hosts (/root/.pve-standin/api_*) instead of
// HTTPS on port 8006; Proxmox reads the RSA host and root keys (ssh_host_rsa_key.pub, id_rsa.pub), the testbed's
// nodes only have ed25519 keys, so those are used, and ssh_merge_keys' de-duplication applies to them too; the root password is a
// SHA-256 in /root/.pve-standin/ (not /etc/shadow); guests are /etc/pve/nodes/<node>/{qemu-server,lxc}/*.conf
// files; quorum_votes is always written (Proxmox omits a 0); --use_ssh and --force are not modelled. Every call
// is appended to /root/.pve-standin/calls.log (arguments only, never stdin).

import { spawnSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import { makeSelfSignedCert } from "../../helpers/certs";
import {
  readClusterName,
  readConfigVersion,
  readNodelist,
  readQuorum,
  renderCorosyncConf,
  type CorosyncNode,
  type RenderNode,
  type RenderQuorum,
} from "../../../core/corosync";
import { powerCommand } from "./power-cli";
import { clientSshArgv } from "../testbed/testbed";

const LOCAL_CONF = "/etc/corosync/corosync.conf";
const AUTHKEY = "/etc/corosync/authkey";
const PVE_CONF = "/etc/pve/corosync.conf";
const LOCK = "/etc/pve/priv/lock/file-corosync_conf";
export const STATE_DIR = "/root/.pve-standin";
export const PASSWORD_FILE = `${STATE_DIR}/root-password.sha256`;
export const CALLS_FILE = `${STATE_DIR}/calls.log`;
const SELF = "/usr/local/sbin/pvecm";
export const API_KEY = `${STATE_DIR}/api_key`;
export const API_KNOWN_HOSTS = `${STATE_DIR}/api_known_hosts`;
const CLUSTER_AUTHORIZED_KEYS = "/etc/pve/priv/authorized_keys";
const ROOT_AUTHORIZED_KEYS = "/root/.ssh/authorized_keys";
const ROOT_PUBLIC_KEY = "/root/.ssh/id_ed25519.pub";
const HOST_PUBLIC_KEY = "/etc/ssh/ssh_host_ed25519_key.pub";

class Die extends Error {
  constructor(
    message: string,
    readonly code = 255,
  ) {
    super(message);
  }
}

function die(message: string, code = 255): never {
  throw new Die(message, code);
}
const say = (line: string) => process.stdout.write(`${line}\n`);
const exists = (p: string) => fs.existsSync(p);

function run(cmd: string, args: readonly string[], input?: string) {
  const r = spawnSync(cmd, args, { input, encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

type Opts = Record<string, string | true>;

/** `pvecm`-style arguments: positionals and `--name value` / `--flag`; unknown options are refused. */
function parseArgs(args: readonly string[], known: Record<string, "value" | "flag">) {
  const positional: string[] = [];
  const opts: Opts = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("--")) {
      positional.push(a);
      continue;
    }
    const [key, inline] = a.slice(2).split("=", 2) as [string, string | undefined];
    const kind = known[key];
    if (!kind) die(`400 unable to parse option: unknown option '--${key}'`);
    if (kind === "flag") opts[key] = true;
    else {
      const v = inline ?? args[++i];
      if (v === undefined) die(`400 missing value for option '--${key}'`);
      opts[key] = v;
    }
  }
  return { positional, opts };
}

function int(opts: Opts, key: string, min: number): number | undefined {
  const v = opts[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !/^\d+$/.test(v) || Number(v) < min) {
    die(`400 Parameter verification failed.\n${key}: value must be an integer >= ${min}`);
  }
  return Number(v);
}

/** `--link0 [address=]IP[,priority=N]` → IP. */
function linkAddress(v: string | true | undefined): string | undefined {
  if (typeof v !== "string") return undefined;
  const first = v.split(",")[0]!;
  return first.startsWith("address=") ? first.slice("address=".length) : first;
}

/** The address /etc/hosts gives a name (Proxmox: remote_node_ip). */
function resolveHost(name: string): string {
  for (const line of fs.readFileSync("/etc/hosts", "utf8").split("\n")) {
    const [addr, ...names] = line.trim().split(/\s+/);
    if (addr && !addr.startsWith("#") && names.includes(name)) return addr;
  }
  return die(`unable to resolve node name '${name}' (/etc/hosts)`);
}

function localAddresses(): string[] {
  const r = run("ip", ["-o", "addr", "show"]);
  return [...r.stdout.matchAll(/\binet6? ([^/\s]+)\//g)].map((m) => m[1]!);
}

function guests(node: string): string[] {
  const out: string[] = [];
  for (const kind of ["qemu-server", "lxc"]) {
    const dir = `/etc/pve/nodes/${node}/${kind}`;
    if (exists(dir)) out.push(...fs.readdirSync(dir).filter((f) => f.endsWith(".conf")));
  }
  return out;
}

const quorumtool = () => run("corosync-quorumtool", ["-s"]).code;
const isQuorate = () => quorumtool() === 0;

/** Write like PVE::Corosync::atomic_write_conf: `.new`, then rename over (pmxcfs sees one change). */
function atomicWrite(path: string, text: string): void {
  fs.writeFileSync(`${path}.new`, text, { mode: 0o640 });
  fs.renameSync(`${path}.new`, path);
}

function withClusterLock<T>(fn: () => T): T {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch {
      if (Date.now() > deadline) die(`cfs-lock 'file-corosync_conf' error: got lock request timeout`);
      spawnSync("sleep", ["0.1"]);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmdirSync(LOCK);
  }
}

/** Proxmox's certificate files of a node: pve-ssl.pem is made at install/create time; pveproxy serves
 *  pveproxy-ssl.pem instead when one is installed (custom or ACME). */
function ensureNodeCert(node: string, address: string, force = false): void {
  const dir = `/etc/pve/nodes/${node}`;
  fs.mkdirSync(dir, { recursive: true });
  if (exists(`${dir}/pve-ssl.pem`) && !force) return;
  try {
    makeSelfSignedCert({
      keyFile: `${dir}/pve-ssl.key`,
      certFile: `${dir}/pve-ssl.pem`,
      days: 730,
      subject: `/OU=PVE Cluster Node/O=Proxmox Virtual Environment (stand-in)/CN=${node}.testbed.lan`,
      altName: `DNS:${node},IP:${address}`,
    });
  } catch (e) {
    die(`generating pve-ssl.pem failed: ${(e as Error).message}`);
  }
}

function servedCert(node: string): string {
  const dir = `/etc/pve/nodes/${node}`;
  const file = exists(`${dir}/pveproxy-ssl.pem`) ? `${dir}/pveproxy-ssl.pem` : `${dir}/pve-ssl.pem`;
  return fs.readFileSync(file, "utf8");
}

// ---------------------------------------------------------------------------------------------------------
// SSH trust, as PVE::Cluster::Setup does it.

/** setup_ssh_keys: the cluster-wide authorized_keys (seeded from root's file once), root's file kept as `.org`
 *  and replaced by a link to it. */
function setupSshKeys(): void {
  fs.mkdirSync("/etc/pve/priv", { recursive: true, mode: 0o700 });
  if (!exists(CLUSTER_AUTHORIZED_KEYS)) {
    const old = isPlainFile(ROOT_AUTHORIZED_KEYS) ? fs.readFileSync(ROOT_AUTHORIZED_KEYS, "utf8") : "";
    fs.writeFileSync(CLUSTER_AUTHORIZED_KEYS, old, { mode: 0o400, flag: "wx" });
  }
  if (isPlainFile(ROOT_AUTHORIZED_KEYS)) fs.renameSync(ROOT_AUTHORIZED_KEYS, `${ROOT_AUTHORIZED_KEYS}.org`);
  if (!isLink(ROOT_AUTHORIZED_KEYS)) fs.symlinkSync(CLUSTER_AUTHORIZED_KEYS, ROOT_AUTHORIZED_KEYS);
}

const isLink = (p: string) => fs.lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
const isPlainFile = (p: string) => fs.lstatSync(p, { throwIfNoEntry: false })?.isFile() ?? false;

/** ssh_merge_keys: the cluster file + root's old file (.org, removed afterwards) + this node's root key, each key
 *  once (Proxmox de-duplicates ssh-rsa/dsa lines; the testbed's keys are ed25519). */
function sshMergeKeys(): void {
  let data = exists(CLUSTER_AUTHORIZED_KEYS) ? fs.readFileSync(CLUSTER_AUTHORIZED_KEYS, "utf8") : "";
  const backup = `${ROOT_AUTHORIZED_KEYS}.org`;
  const hadBackup = exists(backup);
  if (hadBackup) data += `\n${fs.readFileSync(backup, "utf8")}`;
  if (exists(ROOT_PUBLIC_KEY)) data += `\n${fs.readFileSync(ROOT_PUBLIC_KEY, "utf8")}`;
  const seen = new Set<string>();
  const out: string[] = [];
  for (const line of data.split("\n")) {
    if (line.trim() === "") continue;
    const m = /(^|\s)ssh-(rsa|dsa|ed25519)\s+(\S+)(\s|$)/.exec(line);
    if (!line.startsWith("#") && m) {
      if (seen.has(m[3]!)) continue;
      seen.add(m[3]!);
    }
    out.push(line);
  }
  atomicWrite(CLUSTER_AUTHORIZED_KEYS, out.join("\n") + "\n");
  if (hadBackup && isLink(ROOT_AUTHORIZED_KEYS)) fs.rmSync(backup);
}

/** ssh_create_node_known_hosts: /etc/pve/nodes/<node>/ssh_known_hosts = "<node> <host key>" (overwritten, so a
 *  reinstalled node's new key replaces the stale one). */
function sshCreateNodeKnownHosts(node: string): void {
  const m = /^(ssh-\S+\s\S+)/m.exec(fs.readFileSync(HOST_PUBLIC_KEY, "utf8"));
  if (!m) die(`can't parse ${HOST_PUBLIC_KEY}`);
  fs.mkdirSync(`/etc/pve/nodes/${node}`, { recursive: true });
  atomicWrite(`/etc/pve/nodes/${node}/ssh_known_hosts`, `${node} ${m![1]}`);
}

/** updatecerts_and_ssh(force_new_cert, silent). */
function updatecertsAndSsh(forceNewCert: boolean, silent: boolean): void {
  const p = (line: string) => (silent ? undefined : say(line));
  if (!isQuorate()) {
    if (silent) return;
    die("no quorum - unable to update files");
  }
  setupSshKeys();
  const node = os.hostname();
  p("(re)generate node files");
  if (forceNewCert) p("generate new node certificate");
  ensureNodeCert(node, resolveHost(node), forceNewCert);
  p("merge authorized SSH keys");
  sshMergeKeys();
  sshCreateNodeKnownHosts(node);
}

function pvecmUpdatecerts(args: readonly string[]): void {
  const { opts } = parseArgs(args, { force: "flag", silent: "flag", "unmerge-known-hosts": "flag" });
  updatecertsAndSsh(opts.force === true, opts.silent === true);
}

const toRender = (n: CorosyncNode): RenderNode => ({
  name: n.name,
  nodeId: n.nodeId,
  address: n.ring0Addr,
  ...(n.ring1Addr === undefined ? {} : { address1: n.ring1Addr }),
  votes: n.quorumVotes ?? 1,
});

function carriedQuorum(text: string): RenderQuorum | undefined {
  const q = readQuorum(text);
  if (!q) return undefined;
  const d = q.device;
  return {
    expectedVotes: q.expectedVotes,
    twoNode: q.twoNode,
    lastManStanding: q.lastManStanding,
    autoTieBreaker: q.autoTieBreaker,
    waitForAll: q.waitForAll,
    device:
      d?.net?.host && (d.net.algorithm === "ffsplit" || d.net.algorithm === "lms")
        ? { host: d.net.host, algorithm: d.net.algorithm, votes: d.votes }
        : undefined,
  };
}

/** PVE::Corosync::update_nodelist: the same file with another nodelist and config_version + 1. */
function withNodelist(text: string, nodes: readonly RenderNode[]): string {
  return renderCorosyncConf({
    clusterName: readClusterName(text) ?? die("corosync.conf has no totem.cluster_name"),
    configVersion: readConfigVersion(text) + 1,
    nodes,
    quorum: carriedQuorum(text),
  });
}

// ---------------------------------------------------------------------------------------------------------
// pvecm

function pvecmCreate(args: readonly string[]): void {
  const { positional, opts } = parseArgs(args, { nodeid: "value", votes: "value", link0: "value" });
  const clusterName = positional[0] ?? die("400 not enough arguments\npvecm create <clustername> [OPTIONS]");
  if (!/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(clusterName) || clusterName.length > 15) {
    die(
      "400 Parameter verification failed.\nclustername: invalid format - value must be a node name of at most 15 characters",
    );
  }
  const votes = int(opts, "votes", 1) ?? 1;
  const nodeId = int(opts, "nodeid", 1) ?? 1;
  // Proxmox checks /etc/pve/corosync.conf; the testbed's /etc/pve is shared, so the local copy stands for it.
  if (exists(LOCAL_CONF)) die(`cluster config '${PVE_CONF}' already exists`);
  const node = os.hostname();
  const address = linkAddress(opts.link0) ?? resolveHost(node);
  if (!exists(AUTHKEY)) {
    const k = run("corosync-keygen", ["-k", AUTHKEY]);
    if (k.code !== 0) die(`corosync-keygen failed: ${k.stderr}`);
  }
  const conf = renderCorosyncConf({
    clusterName,
    configVersion: 1,
    nodes: [{ name: node, nodeId, address, votes }],
  });
  say(`Writing corosync config to ${PVE_CONF}`);
  atomicWrite(PVE_CONF, conf);
  // pmxcfs would copy it to the local file on this node; the double only serves nodes whose corosync runs.
  fs.writeFileSync(LOCAL_CONF, conf, { mode: 0o644 });
  setupSshKeys();
  sshMergeKeys();
  ensureNodeCert(node, address);
  say("Restart corosync and cluster filesystem");
  const r = run("systemctl", ["restart", "corosync"]);
  if (r.code !== 0) die(`command 'systemctl restart corosync pve-cluster' failed: ${r.stderr.trim()}`);
  // pveproxy's start runs `pvecm updatecerts --silent`: the node's ssh_known_hosts appears then.
  sshCreateNodeKnownHosts(node);
}

interface JoinRequest {
  readonly password: string;
  readonly node: string;
  readonly nodeid?: number;
  readonly votes?: number;
  readonly link0: string;
}

function readPasswordLine(): string {
  if (process.stdin.isTTY) die("the stand-in has no terminal prompt: give the password on stdin");
  const text = fs.readFileSync(0, "utf8");
  if (text === "") die("EOF while reading password");
  return text.split("\n")[0]!;
}

/** The API call, carried over the nodes' root SSH trust (Proxmox: HTTPS to HOST:8006). */
function api(host: string, op: string, input?: string) {
  return run(
    "ssh",
    clientSshArgv(API_KEY, API_KNOWN_HOSTS, host, `${SELF} __standin-api ${op}`).slice(1),
    input ?? "",
  );
}

function pvecmAdd(args: readonly string[]): void {
  const { positional, opts } = parseArgs(args, {
    nodeid: "value",
    votes: "value",
    link0: "value",
    fingerprint: "value",
    use_ssh: "flag",
    force: "flag",
  });
  const host = positional[0] ?? die("400 not enough arguments\npvecm add <hostname> [OPTIONS]");
  if (opts.use_ssh) die("stand-in (TEST DOUBLE): only the API join is modelled; --use_ssh is not");
  if (opts.force) die("stand-in (TEST DOUBLE): --force is not modelled");
  const nodeid = int(opts, "nodeid", 1);
  const votes = int(opts, "votes", 0);
  const password = readPasswordLine();
  const node = os.hostname();
  const link0 = linkAddress(opts.link0) ?? resolveHost(node);

  // PVE::Cluster::Setup::assert_joinable
  const errors: string[] = [];
  if (exists(AUTHKEY)) errors.push(`authentication key '${AUTHKEY}' already exists`);
  if (exists(LOCAL_CONF)) errors.push(`cluster config '${PVE_CONF}' already exists`);
  if (guests(node).length > 0) errors.push("this host already contains virtual guests");
  if (run("corosync-quorumtool", ["-l"]).code === 0) {
    errors.push("corosync is already running, is this node already in a cluster?!");
  }
  if (!localAddresses().includes(link0))
    errors.push(`link0: cannot use IP '${link0}', not found on local node!`);
  if (errors.length > 0) {
    process.stderr.write(`detected the following error(s):\n${errors.map((e) => `* ${e}\n`).join("")}`);
    die("Check if node may join a cluster failed!");
  }

  say(`Establishing API connection with host '${host}'`);
  const cert = api(host, "cert");
  if (cert.code !== 0) die(`500 Can't connect to ${host}:8006 (${cert.stderr.trim()})`);
  const served = new X509Certificate(cert.stdout).fingerprint256;
  const expected = typeof opts.fingerprint === "string" ? opts.fingerprint : undefined;
  if (!expected)
    die("stand-in (TEST DOUBLE): give --fingerprint (Proxmox would ask to verify it interactively)");
  if (served.toUpperCase() !== expected.toUpperCase()) {
    die(`500 Can't connect to ${host}:8006 (certificate fingerprint ${served} does not match ${expected})`);
  }
  const request: JoinRequest = { password, node, nodeid, votes, link0 };
  const res = api(host, "join", JSON.stringify(request));
  if (res.code !== 0) {
    process.stderr.write(res.stderr);
    die(res.code === 3 ? "authentication failure" : "Cluster join aborted!");
  }
  say("Login succeeded.");
  say("Request addition of this node");
  const { corosync_conf, corosync_authkey } = JSON.parse(res.stdout) as {
    corosync_conf: string;
    corosync_authkey: string;
  };
  say("Join request OK, finishing setup locally");
  // PVE::Cluster::Setup::finish_join
  fs.writeFileSync(AUTHKEY, Buffer.from(corosync_authkey, "base64"), { mode: 0o400 });
  fs.writeFileSync(LOCAL_CONF, corosync_conf, { mode: 0o644 });
  say("stopping pve-cluster service");
  const started = run("systemctl", ["start", "corosync"]);
  if (started.code !== 0) die(`starting pve-cluster failed: ${started.stderr.trim()}`);
  process.stdout.write("waiting for quorum...");
  const deadline = Date.now() + 60_000; // Proxmox waits without a bound; a test double must not hang
  while (!isQuorate()) {
    if (Date.now() > deadline) die("stand-in: no quorum within 60 s after starting corosync");
    spawnSync("sleep", ["0.2"]);
  }
  say("OK");
  updatecertsAndSsh(true, false);
  say("generated new node certificate, restart pveproxy and pvedaemon services");
  say(`successfully added node '${node}' to cluster.`);
}

/** The founder's side of the API join: login (exit 3 on a wrong password), then ClusterConfig addnode. */
function apiJoin(): void {
  const req = JSON.parse(fs.readFileSync(0, "utf8")) as JoinRequest;
  const stored = exists(PASSWORD_FILE) ? fs.readFileSync(PASSWORD_FILE, "utf8").trim() : "";
  if (stored === "" || createHash("sha256").update(req.password).digest("hex") !== stored) {
    die("401 authentication failure", 3);
  }
  if (!isQuorate()) die("cluster not ready - no quorum?");
  withClusterLock(() => {
    const text = fs.readFileSync(PVE_CONF, "utf8");
    const nodes = readNodelist(text);
    for (const n of nodes) {
      if (n.name !== req.node && (n.ring0Addr === req.link0 || n.ring1Addr === req.link0)) {
        die(`corosync: address '${req.link0}' already used on link ring0_addr by node '${n.name}'`);
      }
    }
    if (nodes.some((n) => n.name === req.node)) die(`can't add existing node '${req.node}'`);
    let nodeId = req.nodeid;
    if (nodeId === undefined) for (nodeId = 1; nodes.some((n) => n.nodeId === nodeId); nodeId++);
    const taken = nodes.find((n) => n.nodeId === nodeId);
    if (taken) die(`corosync: nodeid ${nodeId} already used by node '${taken.name}'`);
    const added: RenderNode = { name: req.node, nodeId, address: req.link0, votes: req.votes ?? 1 };
    atomicWrite(PVE_CONF, withNodelist(text, [...nodes.map(toRender), added]));
  });
  process.stdout.write(
    JSON.stringify({
      corosync_conf: fs.readFileSync(PVE_CONF, "utf8"),
      corosync_authkey: fs.readFileSync(AUTHKEY).toString("base64"),
    }),
  );
}

function pvecmDelnode(args: readonly string[]): void {
  const { positional } = parseArgs(args, {});
  const name = positional[0] ?? die("400 not enough arguments\npvecm delnode <node>");
  if (name === os.hostname()) die("Cannot delete myself from cluster!");
  if (!isQuorate()) die("cluster not ready - no quorum?");
  withClusterLock(() => {
    const text = fs.readFileSync(PVE_CONF, "utf8");
    const nodes = readNodelist(text);
    const gone = nodes.find((n) => n.name === name || n.ring0Addr === name || n.ring1Addr === name);
    if (!gone) die(`Node/IP: ${name} is not a known host of the cluster.`);
    // "allowed to fail when node is already shut down!"
    run("corosync-cfgtool", ["-k", String(gone!.nodeId)]);
    atomicWrite(PVE_CONF, withNodelist(text, nodes.filter((n) => n !== gone).map(toRender)));
  });
}

// ---------------------------------------------------------------------------------------------------------
// pvesh

/** Node ids corosync reports as joined (cmap runtime.members.<id>.status). */
function joinedNodeIds(): Set<number> {
  const r = run("corosync-cmapctl", ["runtime.members"]);
  const ids = [...r.stdout.matchAll(/^runtime\.members\.(\d+)\.status \(str\) = joined$/gm)].map((m) =>
    Number(m[1]),
  );
  return new Set(ids);
}

function fileConfigVersion(text: string): number | undefined {
  try {
    return readConfigVersion(text);
  } catch {
    return undefined;
  }
}

function runtimeConfigVersion(): number | undefined {
  const m = /= (\d+)$/m.exec(run("corosync-cmapctl", ["totem.config_version"]).stdout);
  return m ? Number(m[1]) : undefined;
}

function clusterStatus(): unknown[] {
  const node = os.hostname();
  if (!exists(LOCAL_CONF)) {
    // pve-manager: "fake entry for local node if no cluster defined"
    return [
      {
        type: "node",
        id: `node/${node}`,
        name: node,
        ip: resolveHost(node),
        local: 1,
        nodeid: 0,
        online: 1,
        level: "",
      },
    ];
  }
  const text = fs.readFileSync(LOCAL_CONF, "utf8");
  const nodes = readNodelist(text);
  const q = quorumtool();
  const running = q === 0 || q === 2;
  const online = running ? joinedNodeIds() : new Set<number>();
  return [
    {
      type: "cluster",
      id: "cluster",
      name: readClusterName(text),
      nodes: nodes.length,
      version: (running ? runtimeConfigVersion() : undefined) ?? fileConfigVersion(text),
      quorate: q === 0 ? 1 : 0,
    },
    ...nodes.map((n) => ({
      type: "node",
      id: `node/${n.name}`,
      name: n.name,
      nodeid: n.nodeId,
      ip: n.ring0Addr,
      local: n.name === node ? 1 : 0,
      online: online.has(n.nodeId) ? 1 : 0,
      level: "",
    })),
  ];
}

function configNodes(): unknown[] {
  if (!exists(LOCAL_CONF)) return [];
  return readNodelist(fs.readFileSync(LOCAL_CONF, "utf8")).map((n) => ({
    node: n.name,
    name: n.name,
    nodeid: String(n.nodeId),
    ...(n.quorumVotes === undefined ? {} : { quorum_votes: String(n.quorumVotes) }),
    ring0_addr: n.ring0Addr,
    ...(n.ring1Addr === undefined ? {} : { ring1_addr: n.ring1Addr }),
  }));
}

/**
 * GET /cluster/resources [--type vm]: the guests of every node as pve-manager lists them (PVE/API2/Cluster.pm,
 * PVE::API2Tools::extract_vm_stats): id "<type>/<vmid>", vmid, node, type, status; with current data (the node
 * is online) also name, template, maxcpu, maxmem from the guest config. A guest of a node that is off has no
 * current data: status "unknown" and nothing else. The stand-in runs no guests: status comes from a
 * `# stand-in status: running` line of the config (default "stopped"). Only `--type vm` is modelled.
 */
function clusterResources(type: string | undefined): unknown[] {
  if (type !== "vm") die("stand-in (TEST DOUBLE) pvesh: only /cluster/resources --type vm is modelled", 2);
  const text = exists(LOCAL_CONF) ? fs.readFileSync(LOCAL_CONF, "utf8") : "";
  const nodes = text ? readNodelist(text) : [];
  const q = quorumtool();
  const online = q === 0 || q === 2 ? joinedNodeIds() : new Set<number>();
  const out: Record<string, unknown>[] = [];
  const dirs = exists("/etc/pve/nodes") ? fs.readdirSync("/etc/pve/nodes").sort() : [];
  for (const node of dirs) {
    const member = nodes.find((n) => n.name === node);
    const up = member ? online.has(member.nodeId) : node === os.hostname();
    for (const [kind, type] of [
      ["qemu-server", "qemu"],
      ["lxc", "lxc"],
    ] as const) {
      const dir = `/etc/pve/nodes/${node}/${kind}`;
      if (!exists(dir)) continue;
      for (const f of fs.readdirSync(dir).filter((x) => /^\d+\.conf$/.test(x))) {
        const vmid = Number(f.slice(0, -5));
        const conf = fs.readFileSync(`${dir}/${f}`, "utf8");
        const key = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, "m").exec(conf)?.[1]?.trim();
        const entry: Record<string, unknown> = { id: `${type}/${vmid}`, vmid, node, type, status: "unknown" };
        if (up) {
          entry.status = /^# stand-in status: running$/m.test(conf) ? "running" : "stopped";
          entry.name =
            key(type === "qemu" ? "name" : "hostname") ?? `${type === "qemu" ? "VM" : "CT"} ${vmid}`;
          entry.template = key("template") === "1" ? 1 : 0;
          entry.maxcpu = Number(key("cores") ?? 1);
          entry.maxmem = Number(key("memory") ?? 512) * 1024 * 1024;
          entry.uptime = 0;
        }
        const tags = key("tags");
        if (tags) entry.tags = tags;
        out.push(entry);
      }
    }
  }
  return out.sort((a, b) => (a.vmid as number) - (b.vmid as number));
}

function pvesh(args: readonly string[]): void {
  const [verb, path, ...rest] = args;
  const opts: Record<string, string> = {};
  for (let i = 0; i < rest.length; i++) {
    const [k, inline] = rest[i]!.replace(/^--/, "").split("=", 2) as [string, string | undefined];
    if (!rest[i]!.startsWith("--")) die(`400 unable to parse option '${rest[i]}'`, 2);
    opts[k] = inline ?? rest[++i] ?? die(`400 missing value for '--${k}'`, 2);
  }
  const { "output-format": format, type, ...unknown } = opts;
  if (verb !== "get" || path === undefined || format !== "json" || Object.keys(unknown).length > 0) {
    die(
      "stand-in (TEST DOUBLE) pvesh: only `pvesh get <path> [--type vm] --output-format json` is modelled",
      2,
    );
  }
  const handlers: Record<string, () => unknown[]> = {
    "/cluster/status": clusterStatus,
    "/cluster/config/nodes": configNodes,
    "/cluster/resources": () => clusterResources(type),
  };
  const handler = handlers[path!.replace(/\/+$/, "")];
  if (!handler)
    die(`No 'get' handler defined for '${path}' (stand-in: only ${Object.keys(handlers).join(", ")})`, 2);
  if (type !== undefined && path!.replace(/\/+$/, "") !== "/cluster/resources")
    die(`400 unknown option 'type'`, 2);
  say(JSON.stringify(handler!()));
}

// ---------------------------------------------------------------------------------------------------------

function logCall(tool: string, args: readonly string[]): void {
  try {
    fs.mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
    fs.appendFileSync(CALLS_FILE, `${JSON.stringify({ at: Date.now(), tool, args })}\n`);
  } catch {
    // the log is for tests' assertions only
  }
}

function main(argv: readonly string[]): number {
  const [tool, sub, ...args] = argv;
  logCall(tool ?? "", [sub ?? "", ...args]);
  const power = powerCommand(tool ?? "", [sub ?? "", ...args]); // pvenode wakeonlan, pvesh /nodes/... (power-cli.ts)
  if (power !== undefined) return power;
  try {
    if (tool === "pvesh") pvesh([sub ?? "", ...args]);
    else if (tool === "pvecm" && sub === "create") pvecmCreate(args);
    else if (tool === "pvecm" && sub === "add") pvecmAdd(args);
    else if (tool === "pvecm" && sub === "delnode") pvecmDelnode(args);
    else if (tool === "pvecm" && sub === "updatecerts") pvecmUpdatecerts(args);
    else if (tool === "pvecm" && sub === "__standin-api" && args[0] === "cert")
      process.stdout.write(servedCert(os.hostname()));
    else if (tool === "pvecm" && sub === "__standin-api" && args[0] === "join") apiJoin();
    else die(`stand-in (TEST DOUBLE): '${tool} ${sub ?? ""}' is not modelled`, 2);
    return 0;
  } catch (e) {
    if (e instanceof Die) {
      process.stderr.write(`${e.message}\n`);
      return e.code;
    }
    process.stderr.write(
      `stand-in (TEST DOUBLE) internal error: ${e instanceof Error ? e.stack : String(e)}\n`,
    );
    return 70;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
