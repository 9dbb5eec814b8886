// The QDevice on real corosync (issue 9): three testbed nodes, a QNetd host in its own namespace (sshd +
// corosync-qnetd as user coroqnetd), corosync-qdevice on every node, TLS certificates made the documented way.
// Everything is driven by the scripts core/scripts/qdevice generates, sent over SSH exactly as the
// remote.Commands of components/QuorumDevice would send them (pinned host keys, stdin):
//   root-key script on pve1 → its stdout is the QNetd script's stdin → QNetd script on the QNetd host →
//   device ("config") script on pve1, which runs `pvecm qdevice setup ADDRESS --force`.
// There is no Proxmox here, so pve1..pve3 get TEST DOUBLES (below, NOT Proxmox): `pvecm qdevice setup|remove`
// doing what pve-cluster's pvecm.pm does, step for step (online check, ssh-copy-id, corosync-qnetd-certutil -i
// and -s over ssh, corosync-qdevice-net-certutil -i/-r/-M/-m, scp, the device section written under the
// cluster lock with config_version + 1 and .new + rename, systemctl start corosync-qdevice on every node,
// corosync-cfgtool -R); `pvesh get /cluster/status --output-format json` from corosync's own state; and a
// corosync-qdevice unit for the testbed's systemctl stand-in. The QNetd host gets a systemctl stand-in for
// corosync-qnetd (running it as coroqnetd, as the Debian unit does).
//
// Needs root, corosync, corosync-qnetd, corosync-qdevice, openssh-server/client, perl: a missing piece fails
// the before hook with a clear message (never a skip).
import { strict as assert } from "node:assert";
import { existsSync, promises as fs, readFileSync } from "node:fs";
import * as path from "node:path";
import type { Model } from "../../core/model";
import {
  deviceScript,
  keyMarker,
  qdevicePlan,
  qnetdScript,
  removeDeviceScript,
  rootKeyScript,
  type QDevicePlan,
} from "../../core/scripts/qdevice";
import { stackModel } from "../fixtures/stacks";
import { configVersion, proxmoxStyleConf, startTestbed, waitFor, type Testbed } from "./testbed";
import { clientSshArgv, enterArgv } from "./testbed/testbed";
import { run, startDaemon, type RunResult } from "./testbed/exec";

const SUBNET = "10.213.81.0/24";

// ---------------------------------------------------------------------------------------------------------
// TEST DOUBLES installed on the nodes.

/** TEST DOUBLE of `pvesh get /cluster/status --output-format json` (pve-manager), NOT Proxmox: the cluster
 *  entry and one node entry per nodelist node, online = corosync's runtime.members status "joined". */
const PVESH_DOUBLE = String.raw`#!/bin/bash
# TEST DOUBLE of Proxmox VE's pvesh (NOT Proxmox): only 'get /cluster/status --output-format json'.
set -euo pipefail
[ "$*" = "get /cluster/status --output-format json" ] || { echo "pvesh test double: unsupported: $*" >&2; exit 2; }
members=$(corosync-cmapctl -b runtime.members 2>/dev/null) || members=""
self=$(corosync-cmapctl -g runtime.votequorum.this_node_id 2>/dev/null | awk '{ print $NF }') || self=""
rc=0; corosync-quorumtool -s >/dev/null 2>&1 || rc=$?
quorate=0; [ "$rc" = 0 ] && quorate=1
MEMBERS="$members" SELF="$self" QUORATE="$quorate" perl -MJSON::PP -e '
  open my $fh, "<", "/etc/corosync/corosync.conf" or die "no corosync.conf\n";
  my $t = do { local $/; <$fh> };
  my ($name) = $t =~ /cluster_name:\s*(\S+)/;
  my ($version) = $t =~ /config_version:\s*(\d+)/;
  my %status = $ENV{MEMBERS} =~ /runtime\.members\.(\d+)\.status \(str\) = (\w+)/g;
  my @nodes;
  while ($t =~ /\bnode \{(.*?)\}/sg) {
    my $b = $1;
    my ($n) = $b =~ /name:\s*(\S+)/; my ($id) = $b =~ /nodeid:\s*(\d+)/; my ($ip) = $b =~ /ring0_addr:\s*(\S+)/;
    push @nodes, { type => "node", id => "node/$n", name => $n, nodeid => $id + 0, ip => $ip, level => "",
      local => ($id eq $ENV{SELF} ? 1 : 0), online => (($status{$id} // "") eq "joined" ? 1 : 0) };
  }
  print JSON::PP->new->canonical->encode([{ type => "cluster", id => "cluster", name => $name,
    nodes => scalar(@nodes), quorate => $ENV{QUORATE} + 0, version => $version + 0 }, @nodes]), "\n";'
`;

/** TEST DOUBLE of `pvecm qdevice setup ADDRESS [--force]` and `pvecm qdevice remove` (pve-cluster
 *  src/PVE/CLI/pvecm.pm, 9.1.x), NOT Proxmox. Same checks, messages and steps, in the same order. */
const PVECM_DOUBLE = String.raw`#!/bin/bash
# TEST DOUBLE of Proxmox VE's 'pvecm qdevice setup|remove' (pve-cluster pvecm.pm), NOT Proxmox. Every call is
# appended to /root/pvecm-calls.log.
set -euo pipefail
export LC_ALL=C
echo "$*" >> /root/pvecm-calls.log
conf=/etc/pve/corosync.conf
lockdir=/etc/pve/priv/lock/file-corosync_conf
die() { echo "$*" >&2; exit 255; }
members() { # name ip online, sorted by name (pvecm: sort keys %$members)
  pvesh get /cluster/status --output-format json | perl -MJSON::PP -e '
    my $s = JSON::PP->new->decode(do { local $/; <STDIN> });
    printf "%s %s %d\n", $_->{name}, $_->{ip}, $_->{online} ? 1 : 0
      for sort { $a->{name} cmp $b->{name} } grep { $_->{type} eq "node" } @$s;'
}
check_online() {
  members | while read -r n ip on; do
    [ "$on" = 1 ] || die "All nodes must be online! Node $n is offline, aborting."
  done
}
node_ssh() { local n=$1 ip=$2; shift 2; ssh -e none -o BatchMode=yes -o "HostKeyAlias=$n" "root@$ip" -- "$@" </dev/null; }
for_each_member() { members | while read -r n ip on; do node_ssh "$n" "$ip" "$@"; done; }
has_device() { grep -q '^  device {$' "$conf"; }
cluster_name() { awk '$1 == "cluster_name:" { print $2; exit }' "$conf"; }
lock() {
  local i
  for i in $(seq 1 10); do
    if mkdir "$lockdir" 2>/dev/null; then trap 'rmdir "$lockdir" 2>/dev/null || true' EXIT; return 0; fi
    sleep 1
  done
  die "can't lock file '$lockdir' - got timeout"
}
unlock() { rmdir "$lockdir"; trap - EXIT; }
atomic_write() { # stdin: the new text, old config_version -> +1, write .new, rename (PVE::Corosync::atomic_write_conf)
  local v
  v=$(awk '$1 == "config_version:" { print $2; exit }' "$conf")
  sed "s/^  config_version: $v\$/  config_version: $((v + 1))/" > "$conf.new"
  mv "$conf.new" "$conf"
}
[ -f "$conf" ] || die "Error: Corosync config '$conf' does not exist - is this node part of a cluster?"
case "$1 $2" in
"qdevice setup")
  addr=$3; force=0; if [ "$#" -ge 4 ] && [ "$4" = --force ]; then force=1; fi
  check_online
  if has_device && [ "$force" = 0 ]; then die "QDevice already configured!"; fi
  algorithm=ffsplit
  if [ $(( $(members | wc -l) % 2 )) = 1 ]; then
    [ "$force" = 1 ] || die "Clusters with an odd node count are not officially supported!"
    algorithm=lms
  fi
  cluster=$(cluster_name)
  ssh-copy-id -i /root/.ssh/id_rsa "root@$addr"
  db=/etc/corosync/qdevice/net/nssdb
  if [ -d "$db" ]; then
    [ "$force" = 1 ] || die "QDevice certificate store already initialised, set force to delete!"
    rm -rf "$db"
  fi
  echo; echo "INFO: initializing qnetd server"
  ssh -o BatchMode=yes -lroot "$addr" corosync-qnetd-certutil -i || true
  echo; echo "INFO: copying CA cert and initializing on all nodes"
  scp -o BatchMode=yes "root@[$addr]:/etc/corosync/qnetd/nssdb/qnetd-cacert.crt" /etc/pve/qnetd-cacert.crt
  for_each_member corosync-qdevice-net-certutil -i -c /etc/pve/qnetd-cacert.crt || true
  rm -f /etc/pve/qnetd-cacert.crt
  echo; echo "INFO: generating cert request"
  corosync-qdevice-net-certutil -r -n "$cluster"
  echo; echo "INFO: copying exported cert request to qnetd server"
  scp -o BatchMode=yes "$db/qdevice-net-node.crq" "root@[$addr]:/tmp"
  echo; echo "INFO: sign and export cluster cert"
  ssh -o BatchMode=yes -lroot "$addr" corosync-qnetd-certutil -s -c /tmp/qdevice-net-node.crq -n "$cluster"
  echo; echo "INFO: copy exported CRT"
  scp -o BatchMode=yes "root@[$addr]:/etc/corosync/qnetd/nssdb/cluster-$cluster.crt" "$db"
  echo; echo "INFO: import certificate"
  corosync-qdevice-net-certutil -M -c "$db/cluster-$cluster.crt"
  echo; echo "INFO: copy and import pk12 cert to all nodes"
  scp -o BatchMode=yes "$db/qdevice-net-node.p12" /etc/pve/
  for_each_member corosync-qdevice-net-certutil -m -c /etc/pve/qdevice-net-node.p12
  rm -f /etc/pve/qdevice-net-node.p12
  echo; echo "INFO: add QDevice to cluster configuration"
  lock
  has_device && die "Qdevice already configured, must be removed before setting up new one!"
  votes=""; [ "$algorithm" = ffsplit ] && votes="    votes: 1"
  awk -v addr="$addr" -v alg="$algorithm" -v votes="$votes" '{ print }
    $0 == "quorum {" { print "  device {"; print "    model: net"; print "    net {"; print "      algorithm: " alg
      print "      host: " addr; print "      tls: on"; print "    }"; if (votes != "") print votes; print "  }" }' "$conf" | atomic_write
  unlock
  members | while read -r n ip on; do
    echo; echo "INFO: start and enable corosync qdevice daemon on node '$n'..."
    node_ssh "$n" "$ip" systemctl start corosync-qdevice
    node_ssh "$n" "$ip" systemctl enable corosync-qdevice
  done
  corosync-cfgtool -R
  ;;
"qdevice remove")
  check_online
  lock
  has_device || die "No QDevice configured!"
  awk 'skip && $0 == "  }" { skip = 0; next } skip { next } $0 == "  device {" { skip = 1; next } { print }' "$conf" | atomic_write
  for_each_member rm -rf /etc/corosync/qdevice
  unlock
  members | while read -r n ip on; do
    node_ssh "$n" "$ip" systemctl stop corosync-qdevice
    node_ssh "$n" "$ip" systemctl disable corosync-qdevice
  done
  corosync-cfgtool -R
  echo; echo "Removed Qdevice."
  ;;
*) die "pvecm test double: only 'qdevice setup|remove', got: $*" ;;
esac
`;

/** TEST DOUBLE: the corosync-qdevice unit for the testbed's systemctl stand-in (other units go to it). */
const NODE_SYSTEMCTL = String.raw`#!/bin/sh
# TEST DOUBLE of systemctl for the corosync-qdevice unit (NOT systemd); other units: the testbed's stand-in.
cmd=""; unit=""
for a in "$@"; do case "$a" in -*) ;; *) if [ -z "$cmd" ]; then cmd=$a; else unit=$(printf %s "$a" | sed "s/[.]service$//"); fi ;; esac; done
[ "$unit" = corosync-qdevice ] || exec /usr/local/sbin/systemctl-testbed "$@"
pidfile=/run/corosync-qdevice/corosync-qdevice.pid
running() {
  [ -f "$pidfile" ] || return 1
  p=$(cat "$pidfile"); kill -0 "$p" 2>/dev/null || return 1
  case "$(ps -o stat= -p "$p")" in Z*|"") return 1 ;; esac
}
case "$cmd" in
  start)
    running && exit 0
    # systemd restarts the unit (Restart=on-failure) until corosync has loaded the device section: wait for it.
    i=0; until corosync-cmapctl -g quorum.device.model >/dev/null 2>&1; do
      i=$((i + 1)); [ $i -ge 150 ] && { echo "Job for corosync-qdevice.service failed." >&2; exit 1; }; sleep 0.1
    done
    mkdir -p /run/corosync-qdevice
    setsid corosync-qdevice -f </dev/null >>/root/corosync-qdevice.log 2>&1 &
    i=0; until corosync-qdevice-tool -s >/dev/null 2>&1; do
      i=$((i + 1)); [ $i -ge 100 ] && { echo "Job for corosync-qdevice.service failed." >&2; exit 1; }; sleep 0.1
    done ;;
  stop)
    running || exit 0
    kill -TERM "$(cat "$pidfile")"
    i=0; while running && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done ;;
  enable|disable) ;;
  is-active|status) if running; then echo active; else echo inactive; exit 3; fi ;;
  *) echo "systemctl test double: unsupported $cmd for corosync-qdevice" >&2; exit 1 ;;
esac
`;

/** TEST DOUBLE of systemctl on the QNetd host: corosync-qnetd as user coroqnetd (like the Debian unit). */
const QNETD_SYSTEMCTL = String.raw`#!/bin/sh
# TEST DOUBLE of systemctl on the QNetd host (NOT systemd): the corosync-qnetd unit only.
cmd=""; unit=""
for a in "$@"; do case "$a" in -*) ;; *) if [ -z "$cmd" ]; then cmd=$a; else unit=$(printf %s "$a" | sed "s/[.]service$//"); fi ;; esac; done
[ "$unit" = corosync-qnetd ] || { echo "Unit $unit.service not found." >&2; exit 5; }
pidfile=/run/corosync-qnetd/corosync-qnetd.pid
running() {
  [ -f "$pidfile" ] || return 1
  p=$(cat "$pidfile"); kill -0 "$p" 2>/dev/null || return 1
  case "$(ps -o stat= -p "$p")" in Z*|"") return 1 ;; esac
}
start() {
  running && return 0
  mkdir -p /run/corosync-qnetd && chown coroqnetd:coroqnetd /run/corosync-qnetd && chmod 770 /run/corosync-qnetd
  setsid setpriv --reuid=coroqnetd --regid=coroqnetd --init-groups corosync-qnetd -f </dev/null >>/root/corosync-qnetd.log 2>&1 &
  i=0; until corosync-qnetd-tool -s >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -ge 100 ] && { echo "Job for corosync-qnetd.service failed." >&2; return 1; }; sleep 0.1
  done
}
stop() {
  running || return 0
  kill -TERM "$(cat "$pidfile")"
  i=0; while running && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}
case "$cmd" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  enable|disable) ;;
  is-active|status) if running; then echo active; else echo inactive; exit 3; fi ;;
  *) echo "systemctl test double: unsupported $cmd" >&2; exit 1 ;;
esac
`;

// ---------------------------------------------------------------------------------------------------------
// The QNetd host: an addHost() namespace with its own /etc/corosync, /run, /root, /etc/ssh, /tmp and sshd.

interface QnetdHost {
  readonly address: string;
  readonly hostKey: string;
  /** Run a bash command inside the QNetd host (its namespaces). */
  exec(command: string): Promise<RunResult>;
  /** SSH as root to the QNetd host exactly like remote.Command (pinned host key, key only), from the bridge. */
  ssh(command: string, stdin?: string): Promise<RunResult>;
  readonly dir: string;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function startQnetdHost(tb: Testbed): Promise<QnetdHost> {
  const host = await tb.addHost("qnetd");
  const dir = path.join(tb.root, "qnetd");
  for (const sub of ["etc-corosync/qnetd", "run/sshd", "root/.ssh", "etc-ssh", "sbin", "tmp"]) {
    await fs.mkdir(path.join(dir, sub), { recursive: true });
  }
  await fs.chmod(path.join(dir, "root"), 0o700);
  await fs.chmod(path.join(dir, "root", ".ssh"), 0o700);
  await fs.chmod(path.join(dir, "tmp"), 0o1777);
  // The corosync-qnetd package is "installed": the binaries are the host's; /etc/corosync/qnetd exists (it
  // ships it), its certificate database does not yet (the QNetd script must create it as postinst does).
  await run("ssh-keygen", [
    "-q",
    "-t",
    "ed25519",
    "-N",
    "",
    "-C",
    "root@qnetd",
    "-f",
    path.join(dir, "etc-ssh", "ssh_host_ed25519_key"),
  ]);
  const hostKey = (await fs.readFile(path.join(dir, "etc-ssh", "ssh_host_ed25519_key.pub"), "utf8"))
    .trim()
    .split(/\s+/)
    .slice(0, 2)
    .join(" ");
  const clientPub = (await fs.readFile(`${tb.clientKeyPath}.pub`, "utf8")).trim();
  await fs.writeFile(path.join(dir, "root", ".ssh", "authorized_keys"), `${clientPub}\n`, { mode: 0o600 });
  await fs.writeFile(
    path.join(dir, "etc-ssh", "sshd_config"),
    [
      `ListenAddress ${host.address}`,
      "HostKey /etc/ssh/ssh_host_ed25519_key",
      "PidFile /run/sshd.pid",
      "PermitRootLogin prohibit-password",
      "AuthenticationMethods publickey",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "UseDNS no",
      "StrictModes yes",
      "MaxStartups 100:30:200",
      "Subsystem sftp /usr/lib/openssh/sftp-server",
      "",
    ].join("\n"),
  );
  await fs.writeFile(path.join(dir, "shadow"), "root:*:19000:0:99999:7:::\n", { mode: 0o640 });
  await fs.writeFile(path.join(dir, "sbin", "systemctl"), QNETD_SYSTEMCTL, { mode: 0o755 });
  const enter = path.join(dir, "enter.sh");
  await fs.writeFile(
    enter,
    [
      "#!/bin/sh",
      "set -e",
      `mount --bind ${q(path.join(dir, "etc-corosync"))} /etc/corosync`,
      `mount --bind ${q(path.join(dir, "run"))} /run`,
      `mount --bind ${q(path.join(dir, "root"))} /root`,
      `mount --bind ${q(path.join(dir, "etc-ssh"))} /etc/ssh`,
      `mount --bind ${q(path.join(dir, "sbin"))} /usr/local/sbin`,
      `mount --bind ${q(path.join(dir, "shadow"))} /etc/shadow`,
      // Last: the testbed lives under /tmp, so nothing can be bound from there after this.
      `mount --bind ${q(path.join(dir, "tmp"))} /tmp`,
      "hostname qnetd",
      "cd /root",
      'exec "$@"',
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  const argv = (cmd: readonly string[]) => enterArgv(host.netns, enter, cmd);
  startDaemon(
    "ip",
    argv(["/usr/sbin/sshd", "-D", "-e", "-f", "/etc/ssh/sshd_config"]),
    path.join(dir, "sshd.log"),
  );
  await waitFor(
    async () =>
      (await run("ip", ["netns", "exec", host.netns, "ss", "-Hltn"])).stdout.includes(`${host.address}:22`),
    { timeoutMs: 10_000, what: "sshd on the QNetd host to listen", intervalMs: 50 },
  );
  const knownHosts = path.join(dir, "client-known_hosts");
  await fs.writeFile(knownHosts, `${host.address} ${hostKey}\n`);
  return {
    address: host.address,
    hostKey,
    dir,
    exec: (command) => run("ip", argv(["bash", "-c", command]), { timeoutMs: 30_000 }),
    ssh: (command, stdin) =>
      run(
        "ip",
        [
          "netns",
          "exec",
          tb.clientNetns,
          ...clientSshArgv(tb.clientKeyPath, knownHosts, host.address, command),
        ],
        { stdin: stdin ?? "", timeoutMs: 120_000 },
      ),
  };
}

/** The doubles on every node, and root's RSA key (Proxmox creates /root/.ssh/id_rsa on every node). */
async function installNodeDoubles(tb: Testbed): Promise<void> {
  for (const n of tb.nodes) {
    const sbin = path.join(n.dir, "sbin");
    await fs.rename(path.join(sbin, "systemctl"), path.join(sbin, "systemctl-testbed"));
    await fs.writeFile(path.join(sbin, "systemctl"), NODE_SYSTEMCTL, { mode: 0o755 });
    await fs.writeFile(path.join(sbin, "pvecm"), PVECM_DOUBLE, { mode: 0o755 });
    await fs.writeFile(path.join(sbin, "pvesh"), PVESH_DOUBLE, { mode: 0o755 });
    const r = await tb.shell(
      n.name,
      "ssh-keygen -q -t rsa -b 2048 -N '' -C \"root@$(hostname)\" -f /root/.ssh/id_rsa",
    );
    assert.equal(r.code, 0, r.stderr);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The stack as the tests declare it.

function stack(tb: Testbed, qnetd: QnetdHost, mode: "weighted" | "qdevice"): Model {
  return stackModel({
    nodes: tb.nodes,
    votes: mode === "weighted" ? [3, 1, 1] : [1, 1, 1],
    quorum:
      mode === "qdevice" ? { mode, device: { address: qnetd.address, hostKey: qnetd.hostKey } } : { mode },
  });
}

const conf = (nodes: Testbed["nodes"], votes: readonly number[], version: number) =>
  proxmoxStyleConf({
    clusterName: "homelab",
    configVersion: version,
    nodes: nodes.map((n, i) => ({ ...n, votes: votes[i] ?? 1 })),
  });

describe("integration: QDevice (qnetd + qdevice + pvecm qdevice setup, driven by core/scripts/qdevice)", function () {
  this.timeout(120_000);
  let tb: Testbed;
  let qnetd: QnetdHost;
  let qdeviceModel: Model;
  let plan: QDevicePlan;
  const pvecmCalls = () => {
    const file = tb.hostPath("pve1", "/root/pvecm-calls.log");
    return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
  };
  const pveConf = () => fs.readFile(tb.pvePath("corosync.conf"), "utf8");
  /** Every running node: Quorate, Qdevice flag, expected/total votes and the device's votes. */
  const quorumOf = async (node: string) => tb.quorum(node);

  before(async function () {
    this.timeout(60_000);
    tb = await startTestbed({
      subnet: SUBNET,
      prefix: "qdev",
      corosyncConf: (nodes) => conf(nodes, [3, 1, 1], 1),
    });
    qnetd = await startQnetdHost(tb);
    await installNodeDoubles(tb);
    qdeviceModel = stack(tb, qnetd, "qdevice");
    plan = qdevicePlan(qdeviceModel)!;
    assert.ok(plan);
  });

  afterEach(async function () {
    if (this.currentTest?.state !== "failed" || !tb) return;
    console.error(tb.dumpLogs());
    for (const f of ["sshd.log", "root/corosync-qnetd.log"]) {
      const p = path.join(tb.root, "qnetd", f);
      if (existsSync(p)) console.error(`== qnetd ${f} ==\n${readFileSync(p, "utf8").slice(-3000)}`);
    }
  });

  after(async () => {
    await tb?.teardown();
  });

  it("the stack's plan for 3 hosts: pvecm qdevice setup --force, lms, the device holding 2 votes", () => {
    assert.deepEqual(
      {
        algorithm: plan.algorithm,
        force: plan.force,
        writtenVotes: plan.writtenVotes,
        deviceVotes: plan.deviceVotes,
      },
      { algorithm: "lms", force: true, writtenVotes: undefined, deviceVotes: 2 },
    );
  });

  it("refuses while a host is offline, naming it: Proxmox needs every node online for the setup", async () => {
    await tb.stopCorosync("pve3");
    await tb.waitForQuorum({ nodes: ["pve1"], members: 2 });
    const r = await tb.ssh("pve1", deviceScript(qdeviceModel), { stdin: "" });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /All nodes must be online for `pvecm qdevice setup` \(Proxmox refuses otherwise\)\. Offline: pve3\. Power them on/,
    );
    assert.deepEqual(pvecmCalls(), [], "pvecm must not have run");
    await tb.startCorosync("pve3");
    await tb.waitForQuorum({ members: 3 });
  });

  it("refuses weighted node votes (3/1/1): the vote step must reset them to 1 before the device is added", async () => {
    const r = await tb.ssh("pve1", deviceScript(qdeviceModel), { stdin: "" });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /node votes in \/etc\/pve\/corosync\.conf are not all 1 \(pve1=3\): a QDevice needs 1 vote per node/,
    );
    assert.deepEqual(pvecmCalls(), []);
    // What VoteWeights does in qdevice mode before QuorumDevice runs (QuorumDevice dependsOn it): 1/1/1.
    await tb.writePveCorosyncConf(conf(tb.nodes, [1, 1, 1], 2));
    await tb.pmxcfs.settle();
    await waitFor(async () => (await quorumOf("pve1")).expectedVotes === 3, {
      timeoutMs: 10_000,
      what: "votes 1/1/1",
    });
  });

  it("prepares the QNetd host: CA as the package makes it, corosync-qnetd running as coroqnetd, pve1's root key authorized once", async () => {
    const key = await tb.ssh("pve1", rootKeyScript(plan), { stdin: "" });
    assert.equal(key.code, 0, key.stderr);
    const pub = (await tb.readFile("pve1", "/root/.ssh/id_rsa.pub"))
      .trim()
      .split(/\s+/)
      .slice(0, 2)
      .join(" ");
    assert.equal(key.stdout, `${pub}\n`);
    for (const round of [1, 2]) {
      const r = await qnetd.ssh(qnetdScript(plan), key.stdout);
      assert.equal(r.code, 0, `round ${round}: ${r.stderr}`);
      assert.equal(r.stdout, "corosync-qnetd running; root key authorized\n");
    }
    const authorized = await fs.readFile(path.join(qnetd.dir, "root", ".ssh", "authorized_keys"), "utf8");
    assert.equal(authorized.split("\n").filter((l) => l === `${pub} ${keyMarker("homelab")}`).length, 1);
    const db = await qnetd.exec(
      "stat -c '%G %A' /etc/corosync/qnetd/nssdb /etc/corosync/qnetd/nssdb/cert9.db; ps -o user= -C corosync-qnetd",
    );
    assert.equal(db.stdout, "coroqnetd drwxr-x---\ncoroqnetd -rw-r-----\ncoroqnetd\n");
  });

  it("sets the device up through pvecm qdevice setup --force: lms, every node Expected 5 with 2 device votes, TLS", async () => {
    const t0 = Date.now();
    const r = await tb.ssh("pve1", deviceScript(qdeviceModel), { stdin: "", timeoutMs: 110_000 });
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
    assert.equal(r.stdout, `qdevice ${qnetd.address} algorithm=lms votes=2\n`);
    assert.match(r.stderr, /--force: 3 nodes is an odd count, which Proxmox does not officially support/);
    assert.deepEqual(pvecmCalls(), [`qdevice setup ${qnetd.address} --force`]);
    const text = await pveConf();
    assert.equal(configVersion(text), 3);
    assert.match(
      text,
      new RegExp(
        `quorum \\{\n  device \\{\n    model: net\n    net \\{\n      algorithm: lms\n      host: ${qnetd.address.replace(/\./g, "\\.")}\n      tls: on\n    \\}\n  \\}\n  provider: corosync_votequorum\n\\}`,
      ),
    );
    await tb.pmxcfs.settle();
    for (const n of tb.nodes) {
      const s = await waitFor(
        async () => {
          const s = await quorumOf(n.name);
          return s.qdeviceVotes === 2 && s.totalVotes === 5 ? s : undefined;
        },
        { timeoutMs: 20_000, what: `${n.name} to count the device's 2 votes` },
      );
      assert.deepEqual(
        [s.quorate, s.expectedVotes, s.quorum, s.flags.includes("Qdevice")],
        [true, 5, 3, true],
        n.name,
      );
    }
    const l = await qnetd.exec("corosync-qnetd-tool -l -v");
    assert.match(l.stdout, /Cluster "homelab":[\s\S]*Algorithm:\s+LMS/);
    assert.equal(
      (l.stdout.match(/TLS active:\s+Yes \(client certificate verified\)/g) ?? []).length,
      3,
      l.stdout,
    );
    const kh = await tb.readFile("pve1", "/root/.ssh/known_hosts");
    assert.ok(kh.split("\n").includes(`${qnetd.address} ${qnetd.hostKey}`), "QNetd host key pinned for root");
    console.log(`      (device setup took ${Date.now() - t0} ms)`);
  });

  it("a second run changes nothing: no pvecm call, same config_version", async () => {
    const before = configVersion(await pveConf());
    const r = await tb.ssh("pve1", deviceScript(qdeviceModel), { stdin: "" });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /already configured/);
    assert.equal(pvecmCalls().length, 1);
    assert.equal(configVersion(await pveConf()), before);
  });

  it("hosts 2 and 3 stopped: host 1 + the device stay quorate (3 of 5); the QNetd stopped too: host 1 alone is not", async () => {
    await tb.stopCorosync("pve2");
    await tb.stopCorosync("pve3");
    const alone = await waitFor(
      async () => {
        const s = await quorumOf("pve1");
        return s.nodes.length === 1 ? s : undefined;
      },
      { timeoutMs: 20_000, what: "pve1 to see itself alone" },
    );
    assert.deepEqual([alone.quorate, alone.totalVotes, alone.expectedVotes, alone.quorum], [true, 3, 5, 3]);

    // With hosts 2 and 3 off, pvecm would refuse to remove the device (Proxmox: every node online); the script says so first.
    const refused = await tb.ssh("pve1", removeDeviceScript(stack(tb, qnetd, "weighted")), { stdin: "" });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /All nodes must be online for `pvecm qdevice remove`.*Offline: pve2, pve3\./,
    );
    assert.equal(pvecmCalls().length, 1);

    const stop = await qnetd.exec("systemctl stop corosync-qnetd");
    assert.equal(stop.code, 0, stop.stderr);
    const blocked = await waitFor(
      async () => {
        const s = await quorumOf("pve1");
        return s.quorate ? undefined : s;
      },
      { timeoutMs: 15_000, what: "pve1 to lose quorum without the device" },
    );
    assert.equal(blocked.totalVotes, 1);

    // Back: the QNetd and both hosts at once; each host's qdevice starts with it (systemd would start it).
    await Promise.all([
      qnetd.exec("systemctl start corosync-qnetd").then((r) => assert.equal(r.code, 0, r.stderr)),
      ...["pve2", "pve3"].map(async (n) => {
        await tb.startCorosync(n);
        const r = await tb.shell(n, "systemctl start corosync-qdevice");
        assert.equal(r.code, 0, r.stderr);
      }),
    ]);
    await waitFor(
      async () => {
        for (const n of tb.nodes) {
          const s = await quorumOf(n.name);
          if (s.nodes.length !== 3 || s.totalVotes !== 5) return false;
        }
        return true;
      },
      { timeoutMs: 30_000, what: "3 members and the device voting again" },
    );
  });

  it("switching back to weighted: the config command's script removes the device (pvecm qdevice remove), then 3/1/1 can be pushed", async () => {
    const weighted = stack(tb, qnetd, "weighted");
    // Outside qdevice mode the config command's create/update and every mode's delete are the same script.
    assert.equal(deviceScript(weighted), removeDeviceScript(weighted));
    const r = await tb.ssh("pve1", deviceScript(weighted), { stdin: "" });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "no qdevice\n");
    assert.deepEqual(pvecmCalls(), [`qdevice setup ${qnetd.address} --force`, "qdevice remove"]);
    const text = await pveConf();
    assert.doesNotMatch(text, /device/);
    assert.equal(configVersion(text), 4);
    for (const n of tb.nodes) {
      assert.equal(
        existsSync(tb.hostPath(n.name, "/etc/corosync/qdevice")),
        false,
        `${n.name} cert store removed`,
      );
      assert.equal((await tb.shell(n.name, "systemctl is-active corosync-qdevice")).stdout, "inactive\n");
    }
    // What VoteWeights then does (it dependsOn QuorumDevice outside qdevice mode).
    await tb.writePveCorosyncConf(conf(tb.nodes, [3, 1, 1], 5));
    await tb.pmxcfs.settle();
    const s = await waitFor(
      async () => {
        const s = await quorumOf("pve1");
        return s.expectedVotes === 5 && s.totalVotes === 5 ? s : undefined;
      },
      { timeoutMs: 10_000, what: "votes 3/1/1" },
    );
    assert.equal(s.flags.includes("Qdevice"), false);
    assert.equal(s.qdeviceVotes, undefined);
    // Idempotent: nothing to remove, pvecm not called again.
    const again = await tb.ssh("pve1", deviceScript(weighted), { stdin: "" });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /no QDevice configured/);
    assert.equal(pvecmCalls().length, 2);
  });
});
