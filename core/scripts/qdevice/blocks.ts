// Shell blocks of the QDevice scripts (core/scripts/qdevice.ts): reading /etc/pve/corosync.conf, the "all
// nodes online" check that `pvecm qdevice setup/remove` make, root SSH to the other nodes the way pvecm does
// it, the QNetd host-key pin and the wait conditions. Each returns script lines; every value goes through
// sh``/quote() from core/shell; the awk and perl programs are fixed text, quoted once.
import { quote, raw, sh, type Raw } from "../../shell";
import { hostProgramArgument } from "../programs";

/** Paths used by pvecm and corosync-qdevice-net-certutil (pve-cluster src/PVE/CLI/pvecm.pm). */
export const PVE_COROSYNC_CONF = "/etc/pve/corosync.conf";
export const NODE_QDEVICE_DIR = "/etc/corosync/qdevice";
export const NODE_NSSDB = "/etc/corosync/qdevice/net/nssdb";
export const QNETD_DIR = "/etc/corosync/qnetd";
export const QNETD_NSSDB = "/etc/corosync/qnetd/nssdb";
/** pvecm qdevice setup runs `ssh-copy-id -i /root/.ssh/id_rsa root@ADDRESS`: this key must be authorized. */
export const ROOT_RSA_KEY = "/root/.ssh/id_rsa";

/** One node as the scripts address it: the Proxmox node name and its cluster (ring0) address. */
export interface NodeRef {
  readonly name: string;
  readonly address: string;
}

/**
 * corosync.conf → one `path=value` line per key (coroparse rules: `name {` opens, `}` closes, `key: value`
 * split on the first colon, whole-line `#` comments). Sections named `node` are numbered (`nodelist.node#2.`)
 * so the keys of one node stay together.
 */
const FLATTEN_AWK = hostProgramArgument("corosync-flatten.awk");

/** The last value of one flattened key; reads all its input (no SIGPIPE under pipefail). */
const GET_AWK =
  'index($0, k "=") == 1 { v = substr($0, length(k) + 2); found = 1 } END { if (found) print v }';

/** `name=votes` per nodelist node, in file order (no quorum_votes line counts 1, as in corosync). */
const NODE_VOTES_AWK = hostProgramArgument("corosync-node-votes.awk");

/**
 * Shell functions over /etc/pve/corosync.conf: pvehl_read_conf loads it into $pvehl_flat; pvehl_get KEY,
 * pvehl_node_votes and pvehl_has_device query that snapshot.
 */
export function confReader(): string[] {
  return [
    `pvehl_flatten() { awk ${quote(FLATTEN_AWK)} "$1"; }`,
    `pvehl_get() { printf '%s\\n' "$pvehl_flat" | awk -v k="$1" ${quote(GET_AWK)}; }`,
    `pvehl_node_votes() { printf '%s\\n' "$pvehl_flat" | awk ${quote(NODE_VOTES_AWK)}; }`,
    "pvehl_has_device() { printf '%s\\n' \"$pvehl_flat\" | awk '/^quorum\\.device\\./ { f = 1 } END { exit !f }'; }",
    sh`pvehl_read_conf() { pvehl_flat=$(pvehl_flatten ${PVE_COROSYNC_CONF}); }`,
  ];
}

/** `pvesh get /cluster/status` (JSON) → `name online` lines, parsed with Perl's core JSON::PP (Proxmox VE is
 *  written in Perl, so both are always there). */
const STATUS_PERL = hostProgramArgument("cluster-status-online.pl");

const words = (values: readonly string[]) => raw(values.map((v) => quote(v)).join(" "));

/**
 * Fail unless every declared host is a cluster member and every member is online: `pvecm qdevice setup` and
 * `remove` abort otherwise ("All nodes must be online!"), so say it first, naming the hosts and the fix.
 */
export function requireAllOnline(hosts: readonly string[], alwaysOn: string, action: string): string[] {
  const offline = `All nodes must be online for \`${action}\` (Proxmox refuses otherwise). Offline: `;
  const fix = `. Power them on (a sleeping host: \`pvenode wakeonlan NODE\` on ${alwaysOn}), wait until \`pvecm status\` lists them, then run \`pulumi up\` again`;
  return [
    'pvehl_status=$(timeout 30 pvesh get /cluster/status --output-format json) || fail "cannot read the cluster status (pvesh get /cluster/status): check that pve-cluster runs on this host"',
    `pvehl_members=$(printf '%s' "$pvehl_status" | perl -MJSON::PP -e ${quote(STATUS_PERL)})`,
    'pvehl_offline=$(printf \'%s\\n\' "$pvehl_members" | awk \'NF == 2 && $2 != 1 { printf "%s%s", sep, $1; sep = ", " }\')',
    'pvehl_missing=""',
    sh`for pvehl_h in ${words(hosts)}; do`,
    "  if ! printf '%s\\n' \"$pvehl_members\" | awk -v n=\"$pvehl_h\" '$1 == n { f = 1 } END { exit !f }'; then",
    '    pvehl_missing="$pvehl_missing${pvehl_missing:+, }$pvehl_h"',
    "  fi",
    "done",
    'if [ -n "$pvehl_missing" ]; then',
    `  fail ${quote("not cluster members yet: ")}"$pvehl_missing"${quote(". The membership step joins them before this one: run `pulumi up` again once they have joined")}`,
    "fi",
    'if [ -n "$pvehl_offline" ]; then',
    `  fail ${quote(offline)}"$pvehl_offline"${quote(fix)}`,
    "fi",
  ];
}

/**
 * `pvehl_node_run NAME ADDRESS COMMAND`: run COMMAND as root on another node the way pvecm does
 * (PVE::SSHInfo: BatchMode, HostKeyAlias=NAME, the cluster's known_hosts for that node when present), bounded.
 * `pvehl_on_node NAME ADDRESS COMMAND` does the same but runs COMMAND locally on `self`.
 */
export function nodeRunner(self: string): string[] {
  return [
    "pvehl_node_run() {",
    "  local name=$1 addr=$2 kh=()",
    '  if [ -f "/etc/pve/nodes/$name/ssh_known_hosts" ]; then',
    '    kh=(-o "UserKnownHostsFile=/etc/pve/nodes/$name/ssh_known_hosts" -o GlobalKnownHostsFile=none)',
    "  fi",
    '  timeout 900 ssh -e none -o BatchMode=yes -o ConnectTimeout=10 -o "HostKeyAlias=$name" "${kh[@]}" "root@$addr" -- "$3"',
    "}",
    "pvehl_on_node() {",
    sh`  if [ "$1" = ${self} ]; then timeout 900 bash -c "$3"; else pvehl_node_run "$1" "$2" "$3"; fi`,
    "}",
  ];
}

/** Run a command on every node (locally on `self`), failing with the node's name and `what`. A string is one
 *  quoted word; a Raw is spliced as is (e.g. a variable reference). */
export function onEveryNode(nodes: readonly NodeRef[], command: string | Raw, what: string): string[] {
  return nodes.flatMap((n) => [
    sh`pvehl_on_node ${n.name} ${n.address} ${command} >&2 || fail ${`${what} failed on ${n.name} (${n.address}); see the output above`}`,
  ]);
}

/**
 * Pin the QNetd host key for root, the account `pvecm qdevice setup` uses for ssh-copy-id, ssh and scp:
 * add it to root's known_hosts, refuse when a different key of the same type is already recorded.
 */
export function pinQnetdHostKey(address: string, hostKey: string): string[] {
  const [type = "", key = ""] = hostKey.trim().split(/\s+/);
  return [
    "pvehl_kh=/root/.ssh/known_hosts",
    'mkdir -p /root/.ssh && chmod 700 /root/.ssh && touch "$pvehl_kh"',
    sh`pvehl_known=$(ssh-keygen -F ${address} -f "$pvehl_kh" 2>/dev/null | awk '!/^#/ { print $2 " " $3 }') || pvehl_known=""`,
    sh`if printf '%s\\n' "$pvehl_known" | grep -qxF ${`${type} ${key}`}; then`,
    sh`  say ${`root's known_hosts already pins the QNetd host key of ${address}`}`,
    sh`elif printf '%s\\n' "$pvehl_known" | awk -v t=${type} '$1 == t { f = 1 } END { exit !f }'; then`,
    sh`  fail ${`root's known_hosts on this node holds a different ${type} host key for ${address}: the QNetd host was reinstalled, or the address is not the QNetd host. Compare with \`ssh-keyscan -t ed25519 ${address}\` on your LAN; if it was reinstalled, run \`ssh-keygen -R ${address}\` here and set quorum.device.hostKey to the new key`}`,
    "else",
    sh`  printf '%s %s %s\\n' ${address} ${type} ${key} >> "$pvehl_kh"`,
    sh`  say ${`pinned the QNetd host key of ${address} in root's known_hosts`}`,
    "fi",
  ];
}

/** Prove root here can log in to root@QNetd with /root/.ssh/id_rsa and that corosync-qnetd answers there. */
export function requireQnetdLogin(address: string, qnetdStep: string): string[] {
  return [
    sh`if ! timeout 60 ssh -o BatchMode=yes -o ConnectTimeout=10 -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -i ${ROOT_RSA_KEY} root@${address} -- corosync-qnetd-tool -s >/dev/null; then`,
    sh`  fail ${`root on this node cannot run corosync-qnetd-tool as root@${address} with ${ROOT_RSA_KEY}: either the key is not authorized there or corosync-qnetd is not running. The ${qnetdStep} authorizes the key and starts corosync-qnetd: check its output, and that ${address} accepts SSH on port 22 and TCP 5403`}`,
    "fi",
  ];
}

/**
 * `pvehl_device_voting HOST ALGORITHM`: true once this node's corosync runs a device section for HOST with
 * ALGORITHM (cmap) and the device casts votes (`corosync-quorumtool -s`: the row `0 <votes> Qdevice`).
 * Exit 2 from quorumtool (not quorate) is a plain "not yet".
 */
export function deviceVotingProbe(): string[] {
  return [
    "pvehl_cmap() { corosync-cmapctl -g \"$1\" 2>/dev/null | awk -F ' = ' 'NF >= 2 { print $2 }'; }",
    "pvehl_device_voting() {",
    '  [ "$(pvehl_cmap quorum.device.net.host)" = "$1" ] || return 1',
    '  [ "$(pvehl_cmap quorum.device.net.algorithm)" = "$2" ] || return 1',
    "  local out rc=0",
    "  out=$(corosync-quorumtool -s 2>/dev/null) || rc=$?",
    '  [ "$rc" -eq 0 ] || return 1',
    '  printf \'%s\\n\' "$out" | awk \'$1 == "0" && $3 == "Qdevice" && NF == 3 && $2 > 0 { f = 1 } END { exit !f }\'',
    "}",
    "pvehl_device_gone() {",
    "  ! corosync-cmapctl -g quorum.device.model >/dev/null 2>&1",
    "}",
  ];
}
