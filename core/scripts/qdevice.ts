// QDevice provisioning scripts (issue 9): a pure function of the Model each, so the same stack always sends
// byte-identical text and tests run exactly what Pulumi would send.
//
// What `pvecm qdevice setup ADDRESS [--force]` does (pve-cluster src/PVE/CLI/pvecm.pm, 9.1.x), which shapes
// these scripts:
// - aborts unless every cluster member is online ("All nodes must be online!"), and when a device section
//   exists ("QDevice already configured!", and even with --force inside the config lock);
// - algorithm ffsplit (device votes: 1) for an even member count; an odd count dies ("Clusters with an odd node
//   count are not officially supported!") unless --force, which selects lms and writes no `votes` (corosync
//   then gives the device node sum - 1, and refuses to start when node votes are not all 1);
// - `ssh-copy-id -i /root/.ssh/id_rsa root@ADDRESS` (so root's key must already be authorized there and the
//   QNetd host key known: there is no TTY to answer), `corosync-qnetd-certutil -i` on the QNetd host (errors
//   ignored: the package already made the CA), the CA copied to every node and `corosync-qdevice-net-certutil
//   -i -c` there, `-r -n CLUSTER` here, signed on the QNetd host with `corosync-qnetd-certutil -s`, `-M` here,
//   the .p12 imported with `-m` on every node; refuses a leftover local certificate store unless --force;
//   then the device section (model net, tls on, host, algorithm) is written through the cluster lock with
//   config_version + 1, `systemctl start/enable corosync-qdevice` runs on every node, then `corosync-cfgtool -R`.
// `pvecm qdevice remove` has the same online check, deletes the section (lock, version + 1), removes
// /etc/corosync/qdevice on every node, stops and disables corosync-qdevice, reloads.
//
// So this project provisions in three commands (components/QuorumDevice.ts):
//   1. rootKeyScript   on the always-on host: print root's /root/.ssh/id_rsa.pub
//   2. qnetdScript     on the QNetd host: install/verify corosync-qnetd, its CA, the daemon; authorize that key
//   3. deviceScript    on the always-on host: in qdevice mode ensure the device (checks, corosync-qdevice on
//                      every node, host-key pin, pvecm qdevice setup, wait until it votes); in any other mode
//                      ensure no device (pvecm qdevice remove when one is configured). Its delete is the latter.
import type { Finding, HostSpec, Model, QDeviceSpec } from "../model";
import { error } from "../config/findings";
import { pvecmAlgorithm } from "../quorum-modes";
import { quote, raw, script, sh } from "../shell";
import { prelude, requireNodeName, requireQuorate, waitUntil } from "./lib";
import {
  confReader,
  deviceVotingProbe,
  NODE_NSSDB,
  nodeRunner,
  onEveryNode,
  pinQnetdHostKey,
  QNETD_DIR,
  QNETD_NSSDB,
  requireAllOnline,
  requireQnetdLogin,
  ROOT_RSA_KEY,
  type NodeRef,
} from "./qdevice/blocks";

export { PVE_COROSYNC_CONF, NODE_NSSDB, QNETD_NSSDB, ROOT_RSA_KEY } from "./qdevice/blocks";
export { pvecmAlgorithm };

/** Port `pvecm qdevice setup` reaches the QNetd host on (plain `ssh root@ADDRESS`). */
export const PVECM_SSH_PORT = 22;
/** Comment that marks the authorized_keys line the QNetd step adds, per cluster. */
export const keyMarker = (clusterName: string): string => `pve-homelab-qdevice@${clusterName}`;

/** Bounds, in seconds. */
export const QDEVICE_TIMEOUTS = {
  /** pvecm qdevice setup: 2 x N ssh/scp round trips plus certutil runs. */
  setup: 600,
  remove: 300,
  /** Until the device casts its votes (qnetd reconnects after a random delay of up to ~6 s). */
  voting: 90,
  /** Until corosync has dropped a removed device section (pmxcfs reloads ~1 s after the write). */
  removed: 60,
  /** Until corosync-qnetd answers after a (re)start. */
  qnetd: 30,
} as const;

/** Everything the scripts need, derived from the Model: what `pvecm qdevice setup` will produce. */
export interface QDevicePlan {
  readonly clusterName: string;
  /** The host the device commands run on (pvecm runs there): the first always-on host. */
  readonly alwaysOn: HostSpec;
  readonly nodes: readonly NodeRef[];
  readonly device: QDeviceSpec;
  /** What pvecm writes: ffsplit for an even node count, lms for an odd one. */
  readonly algorithm: "ffsplit" | "lms";
  /** quorum.device.votes as pvecm writes it: 1 for ffsplit, none for lms. */
  readonly writtenVotes?: number;
  /** The device's votes once running: 1 (ffsplit) or node count - 1 (lms, every node voting 1). */
  readonly deviceVotes: number;
  /** `--force`: needed for an odd node count (Proxmox discourages a QDevice there and then uses lms). */
  readonly force: boolean;
}

function alwaysOnHost(model: Model): HostSpec {
  const host = model.hosts.find((h) => h.power === "always-on");
  if (!host) throw new Error("no host has power: always-on; the QDevice commands run on it");
  return host;
}

/** The plan in qdevice mode; undefined in every other mode (or without a declared device). */
export function qdevicePlan(model: Model): QDevicePlan | undefined {
  const device = model.quorum.mode === "qdevice" ? model.quorum.device : undefined;
  if (!device) return undefined;
  const n = model.hosts.length;
  const { algorithm, force } = pvecmAlgorithm(n);
  return {
    clusterName: model.clusterName,
    alwaysOn: alwaysOnHost(model),
    nodes: model.hosts.map((h) => ({ name: h.name, address: h.address })),
    device,
    algorithm,
    writtenVotes: algorithm === "ffsplit" ? 1 : undefined,
    deviceVotes: algorithm === "ffsplit" ? 1 : Math.max(n - 1, 0),
    force,
  };
}

/**
 * What this project cannot provision through `pvecm qdevice setup`, as findings (all errors). The corosync
 * rules themselves (ffsplit for even counts, votes required with uneven node votes, no auto_tie_breaker or
 * last_man_standing with a device, --force for odd counts) are core/quorum's findings.
 */
export function qdeviceFindings(model: Model): Finding[] {
  const device = model.quorum.mode === "qdevice" ? model.quorum.device : undefined;
  if (!device) return [];
  const out: Finding[] = [];
  const n = model.hosts.length;
  const { algorithm } = pvecmAlgorithm(n);
  if (device.algorithm !== algorithm) {
    out.push(
      error(
        "qdevice.algorithm-not-pvecm",
        "quorum.device.algorithm",
        `algorithm ${device.algorithm} with ${n} hosts: \`pvecm qdevice setup\` writes ${algorithm} for ${n % 2 === 0 ? "an even" : "an odd"} node count, and this project sets the device up through pvecm`,
        `remove quorum.device.algorithm (defaults to ${algorithm}) or set it to ${algorithm}`,
      ),
    );
  }
  const effective = algorithm === "ffsplit" ? 1 : Math.max(n - 1, 0);
  if (device.votes !== undefined && device.votes !== effective) {
    out.push(
      error(
        "qdevice.votes-not-pvecm",
        "quorum.device.votes",
        `quorum.device.votes is ${device.votes}, but the device \`pvecm qdevice setup\` writes holds ${effective} (${algorithm === "ffsplit" ? "ffsplit: 1" : `lms: node count - 1`})`,
        "remove quorum.device.votes",
      ),
    );
  }
  // Every valid qdevice stack therefore declares 1 vote per host, so the vote push can use the declared votes.
  model.hosts.forEach((h, i) => {
    if (h.votes !== 1) {
      out.push(
        error(
          "qdevice.node-votes",
          `hosts[${i}].votes`,
          `host ${h.name} has ${h.votes} votes, but the device \`pvecm qdevice setup\` writes needs 1 vote per node (${algorithm === "lms" ? "lms without device votes: corosync refuses to start otherwise" : "ffsplit: every node and the device vote 1"})`,
          `set hosts[${i}].votes: 1 (qdevice mode: 1 vote per host plus the device)`,
        ),
      );
    }
  });
  if (device.sshPort !== PVECM_SSH_PORT) {
    out.push(
      error(
        "qdevice.ssh-port",
        "quorum.device.sshPort",
        `quorum.device.sshPort is ${device.sshPort}, but \`pvecm qdevice setup\` reaches the QNetd host as root@${device.address} on port ${PVECM_SSH_PORT}`,
        `let the QNetd host accept SSH on port ${PVECM_SSH_PORT} and remove quorum.device.sshPort`,
      ),
    );
  }
  return out;
}

/** Run a script as root: unchanged for root, through `sudo -n bash -c` for another SSH user. */
export function asRoot(sshUser: string, text: string): string {
  return sshUser === "root" ? text : sh`sudo -n bash -c ${text}`;
}

// ---------------------------------------------------------------------------------------------------------
// 1. The always-on host's root key.

/** Prints root's RSA public key line ("ssh-rsa AAAA..."), the key `pvecm qdevice setup` logs in with. */
export function rootKeyScript(plan: QDevicePlan): string {
  const pub = `${ROOT_RSA_KEY}.pub`;
  return script(
    ...prelude("pve-homelab qdevice root key"),
    ...requireNodeName(plan.alwaysOn.name),
    sh`if [ ! -s ${pub} ]; then`,
    sh`  fail ${`${pub} is missing: \`pvecm qdevice setup\` logs in to the QNetd host with ${ROOT_RSA_KEY}. Proxmox creates it (\`pvecm updatecerts\` recreates root's SSH setup); then run \`pulumi up\` again`}`,
    "fi",
    sh`awk 'NR == 1 { print $1 " " $2 }' ${pub}`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// 2. The QNetd host.

/** Key types an authorized_keys line may start with (what root's key can be). */
const KEY_LINE = "^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}$";

/**
 * On the QNetd host, as root: install corosync-qnetd when missing; make sure its certificate database exists
 * as the Debian package's postinst leaves it (`corosync-qnetd-certutil -i -G`, group coroqnetd, so the daemon
 * running as coroqnetd can read it); enable and start the daemon and wait until it answers; authorize the
 * always-on host's root key (stdin: one key line) for root, marked with keyMarker(cluster); refuse when sshd
 * forbids root logins, because pvecm logs in as root.
 */
export function qnetdScript(plan: QDevicePlan): string {
  const marker = keyMarker(plan.clusterName);
  const t = QDEVICE_TIMEOUTS;
  return asRoot(
    plan.device.sshUser,
    script(
      ...prelude("pve-homelab qnetd"),
      "pvehl_key=$(head -n 1 | awk '{ print $1 \" \" $2 }')",
      `if ! printf '%s\\n' "$pvehl_key" | grep -Eq ${quote(KEY_LINE)}; then`,
      '  fail "stdin must be one SSH public key line (the always-on host\'s /root/.ssh/id_rsa.pub), got: $pvehl_key"',
      "fi",
      "if ! command -v corosync-qnetd >/dev/null 2>&1 || ! command -v corosync-qnetd-certutil >/dev/null 2>&1; then",
      '  say "installing corosync-qnetd"',
      "  pvehl_apt() { DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -o DPkg::Lock::Timeout=120 corosync-qnetd >&2; }",
      '  pvehl_apt || { timeout 600 apt-get update >&2 && pvehl_apt; } || fail "apt-get install corosync-qnetd failed (see above): install it by hand, then run \\`pulumi up\\` again"',
      "fi",
      "pvehl_restart=0",
      sh`if [ ! -f ${QNETD_NSSDB}/cert9.db ] && [ ! -f ${QNETD_NSSDB}/cert8.db ]; then`,
      '  say "creating the QNetd CA and server certificate (as the corosync-qnetd package does)"',
      sh`  mkdir -p ${QNETD_DIR}`,
      "  corosync-qnetd-certutil -i -G >&2",
      sh`  chgrp coroqnetd ${QNETD_NSSDB} ${QNETD_NSSDB}/cert9.db ${QNETD_NSSDB}/key4.db`,
      "  pvehl_restart=1",
      "fi",
      "if command -v systemctl >/dev/null 2>&1; then",
      "  systemctl enable corosync-qnetd >/dev/null 2>&1 || true # enabling is best effort; running is checked below",
      '  if [ "$pvehl_restart" = 1 ]; then systemctl restart corosync-qnetd; else systemctl start corosync-qnetd; fi',
      "fi",
      ...waitUntil(
        "corosync-qnetd-tool -s >/dev/null 2>&1",
        t.qnetd,
        "corosync-qnetd to answer",
        "see `journalctl -u corosync-qnetd` on this host",
      ),
      "if command -v sshd >/dev/null 2>&1; then",
      '  pvehl_prl=$(sshd -T 2>/dev/null | awk \'$1 == "permitrootlogin" { print $2 }\') || pvehl_prl=""',
      '  case "$pvehl_prl" in',
      `    no | forced-commands-only) fail "sshd here has PermitRootLogin $pvehl_prl, but \\\`pvecm qdevice setup\\\` logs in as root with a key: set PermitRootLogin prohibit-password and reload sshd" ;;`,
      "  esac",
      "fi",
      "mkdir -p /root/.ssh && chmod 700 /root/.ssh",
      "touch /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys",
      'if awk -v k="$pvehl_key" \'($1 " " $2) == k { f = 1 } END { exit !f }\' /root/.ssh/authorized_keys; then',
      '  say "the always-on host\'s root key is already authorized for root"',
      "else",
      sh`  printf '%s %s\\n' "$pvehl_key" ${marker} >> /root/.ssh/authorized_keys`,
      sh`  say ${`authorized the root key of ${plan.alwaysOn.name} for root (marked ${marker})`}`,
      "fi",
      'echo "corosync-qnetd running; root key authorized"',
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------
// 3. The device itself, on the always-on host.

/** pvecm's own ssh to every node: the command that makes corosync-qdevice present there. */
const INSTALL_QDEVICE =
  "if command -v corosync-qdevice >/dev/null 2>&1 && command -v corosync-qdevice-net-certutil >/dev/null 2>&1; then " +
  'echo "corosync-qdevice present on $(hostname)"; else ' +
  "pvehl_apt() { DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -o DPkg::Lock::Timeout=120 corosync-qdevice; }; " +
  "pvehl_apt || { timeout 600 apt-get update && pvehl_apt; } || exit 1; fi";

/** With no device section configured, a node's certificate store is a leftover: remove it, as
 *  `pvecm qdevice remove` would have (pvecm itself only checks this node's, and only refuses). */
const CLEAR_STALE_NSSDB = sh`if [ -d ${NODE_NSSDB} ]; then rm -rf ${NODE_NSSDB} && echo "removed a leftover QDevice certificate store on $(hostname)"; fi`;

function deviceHeader(model: Model, alwaysOn: HostSpec): string[] {
  return [
    ...prelude("pve-homelab qdevice"),
    ...requireNodeName(alwaysOn.name),
    'command -v pvecm >/dev/null 2>&1 || fail "pvecm not found: the QDevice step runs on a Proxmox VE node"',
    ...confReader(),
    ...deviceVotingProbe(),
  ];
}

const setupCommand = (plan: QDevicePlan) =>
  sh`pvecm qdevice setup ${plan.device.address}` + (plan.force ? " --force" : "");

/**
 * The device command's create/update script. qdevice mode: make the device section match the plan (nothing
 * to do when it does; `pvecm qdevice remove` first when a different one is there), then wait until the device
 * votes. Any other mode: removeDeviceScript.
 */
export function deviceScript(model: Model): string {
  const plan = qdevicePlan(model);
  if (!plan) return removeDeviceScript(model);
  const d = plan.device;
  const t = QDEVICE_TIMEOUTS;
  const self = plan.alwaysOn.name;
  const wantVotes = plan.writtenVotes === undefined ? "" : String(plan.writtenVotes);
  const describe = `${d.address} (algorithm ${plan.algorithm}, ${plan.deviceVotes} vote${plan.deviceVotes === 1 ? "" : "s"})`;
  return asRoot(
    plan.alwaysOn.sshUser,
    script(
      ...deviceHeader(model, plan.alwaysOn),
      sh`[ -f /etc/pve/corosync.conf ] || fail ${`/etc/pve/corosync.conf is missing: ${self} is not in a cluster yet (the membership step creates it before this one)`}`,
      "pvehl_read_conf",
      sh`if [ "$(pvehl_get totem.cluster_name)" != ${plan.clusterName} ]; then`,
      sh`  fail "this cluster is named '$(pvehl_get totem.cluster_name)', the stack says "${plan.clusterName}": check clusterName"`,
      "fi",
      'pvehl_have="$(pvehl_get quorum.device.model)|$(pvehl_get quorum.device.net.host)|$(pvehl_get quorum.device.net.algorithm)|$(pvehl_get quorum.device.votes)"',
      sh`pvehl_want=${`net|${d.address}|${plan.algorithm}|${wantVotes}`}`,
      'if [ "$pvehl_have" = "$pvehl_want" ]; then',
      sh`  say ${`QDevice ${describe} already configured`}`,
      "else",
      ...indent([
        ...requireQuorate(self),
        ...requireAllOnline(
          plan.nodes.map((n) => n.name),
          self,
          "pvecm qdevice setup",
        ),
        'pvehl_uneven=$(pvehl_node_votes | awk -F= \'$2 != 1 { printf "%s%s", sep, $0; sep = " " }\')',
        'if [ -n "$pvehl_uneven" ]; then',
        `  fail "node votes in /etc/pve/corosync.conf are not all 1 ($pvehl_uneven): a QDevice needs 1 vote per node (pvecm writes an lms device without votes, and corosync refuses that with other node votes). In qdevice mode the vote step resets every host to 1 before this step runs: check its output and run \\\`pulumi up\\\` again"`,
        "fi",
        ...nodeRunner(self),
        // One SSH session per node: install corosync-qdevice; with no device configured, also drop a leftover
        // certificate store (with one configured, `pvecm qdevice remove` below does that).
        sh`pvehl_prepare=${INSTALL_QDEVICE}`,
        sh`if ! pvehl_has_device; then pvehl_prepare="$pvehl_prepare; "${CLEAR_STALE_NSSDB}; fi`,
        ...onEveryNode(plan.nodes, raw('"$pvehl_prepare"'), "preparing corosync-qdevice"),
        ...pinQnetdHostKey(d.address, d.hostKey),
        ...requireQnetdLogin(d.address, "QNetd command (<component>-qnetd)"),
        "if pvehl_has_device; then",
        sh`  say "replacing the configured QDevice ($pvehl_have) with "${`net|${d.address}|${plan.algorithm}|${wantVotes}`}`,
        sh`  timeout ${t.remove} pvecm qdevice remove >&2 || fail "pvecm qdevice remove failed (see its output above)"`,
        ...indent(
          waitUntil(
            "pvehl_device_gone",
            t.removed,
            "corosync to drop the old device section",
            "check `journalctl -u corosync`",
          ),
        ),
        "fi",
        plan.force
          ? sh`say ${`running ${setupCommand(plan)}: ${plan.nodes.length} nodes is an odd count, which Proxmox does not officially support for a QDevice; --force makes it use lms (the device holds ${plan.deviceVotes} votes)`}`
          : sh`say ${`running ${setupCommand(plan)}`}`,
        `timeout ${t.setup} ${setupCommand(plan)} >&2 || fail ${quote("pvecm qdevice setup failed (see its output above); fix the cause and run `pulumi up` again")}`,
      ]),
      "fi",
      ...waitUntil(
        sh`pvehl_device_voting ${d.address} ${plan.algorithm}`,
        t.voting,
        `the QDevice ${d.address} to cast its votes on ${self}`,
        `check \`corosync-qdevice-tool -sv\` here and \`corosync-qnetd-tool -l\` on ${d.address} (TCP port 5403 must be open)`,
      ),
      sh`say ${`QDevice ${describe} votes; cluster quorate`}`,
      sh`echo ${`qdevice ${d.address} algorithm=${plan.algorithm} votes=${plan.deviceVotes}`}`,
    ),
  );
}

/**
 * Ensure no device: nothing to do when /etc/pve/corosync.conf has no device section (or no cluster exists);
 * else `pvecm qdevice remove` (all nodes online, checked first) and wait until corosync dropped the section.
 * The device command's delete, and its create/update outside qdevice mode.
 */
export function removeDeviceScript(model: Model): string {
  const alwaysOn = alwaysOnHost(model);
  const t = QDEVICE_TIMEOUTS;
  return asRoot(
    alwaysOn.sshUser,
    script(
      ...deviceHeader(model, alwaysOn),
      "if [ ! -f /etc/pve/corosync.conf ]; then",
      '  say "no cluster configuration: no QDevice to remove"',
      "  exit 0",
      "fi",
      "pvehl_read_conf",
      "if ! pvehl_has_device; then",
      '  say "no QDevice configured"',
      '  echo "no qdevice"',
      "  exit 0",
      "fi",
      ...requireQuorate(alwaysOn.name),
      ...requireAllOnline(
        model.hosts.map((h) => h.name),
        alwaysOn.name,
        "pvecm qdevice remove",
      ),
      'say "removing the QDevice $(pvehl_get quorum.device.net.host) (pvecm qdevice remove)"',
      sh`timeout ${t.remove} pvecm qdevice remove >&2 || fail "pvecm qdevice remove failed (see its output above)"`,
      ...waitUntil(
        "pvehl_device_gone",
        t.removed,
        "corosync to drop the device section",
        "check `journalctl -u corosync`",
      ),
      'say "QDevice removed; node votes are unchanged"',
      'echo "no qdevice"',
    ),
  );
}

const indent = (lines: readonly string[]): string[] => lines.map((l) => `  ${l}`);
