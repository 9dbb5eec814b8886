// Testbed harness: real corosync + sshd "Proxmox nodes" on one machine, for integration tests and benches.
//
// Each node (pve1..pveN by default, addresses .11, .12, ... of the subnet) is a network namespace joined by a
// veth to a bridge in a further namespace, which also holds the SSH client's address (.1). Every process of a
// node runs as `ip netns exec NS unshare --mount --uts --propagation private` with per-node bind mounts over
// /etc/corosync, /var/lib/corosync, /var/log/corosync, /run, /root, /etc/ssh, /usr/local/sbin, /etc/hosts,
// /etc/shadow and the shared /etc/pve, and hostname = node name. Nodes have no default route; the root
// namespace gets `unreachable <subnet>` for the testbed's lifetime; nodes are reached only via `ip netns exec`.
//
//   startTestbed(opts?)                       → Testbed (3 nodes, sshd up; corosync too if corosyncConf given)
//   tb.nodes: {name, nodeId, address, netns, dir, hostKey, rootPublicKey}[]
//   tb.ssh(node, command, {stdin?, timeoutMs?, hostKey?, fromNetns?}) → {code, stdout, stderr, signal}
//       like Pulumi's remote.Command: `ssh -F /dev/null -i KEY -o IdentitiesOnly=yes -o UserKnownHostsFile=KH
//       -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5
//       root@ADDR -- COMMAND`, stdin piped, from the bridge namespace; code 255 = ssh itself failed
//   tb.sshBetween(from, to, command)          root SSH node → node with the nodes' own keys (Proxmox trust)
//   tb.exec(node, argv, {stdin?, timeoutMs?}) / tb.shell(node, script)   run inside the node's namespaces
//       (works whatever the node's "power" state: it is the harness's back door); tb.execNetns(netns, argv)
//   tb.hostPath(node, "/etc/corosync/corosync.conf"), tb.readFile / tb.writeFile(node, path, text)
//   tb.writeCorosyncConf(text, nodes?), tb.writePveCorosyncConf(text)  (/etc/pve via .new + rename)
//   tb.startCorosync(node, {wait?}) / stopCorosync(node) / killCorosync(node) / isRunning(node) (zombie =
//       dead) / corosyncExit(node) / corosyncTool(node, tool, args) / startSshd(node) / sshdRunning(node)
//   tb.killNode(node) (power loss) / stopNode(node) / bootNode(node, {corosync?})
//   tb.quorum(node) → {quorate, expectedVotes, totalVotes, quorum, flags, nodes:[{nodeId, votes, name}]}
//   tb.votes(node), tb.cmap(node, prefix), tb.waitForQuorum({nodes?, members?, quorate?, timeoutMs?})
//   tb.waitFor(probe, {timeoutMs, what}) / waitFor(...)   bounded polling, never fixed sleeps
//   tb.cutLink(node) / restoreLink(node)       blackhole routes (tc/iptables do not work here)
//   tb.pmxcfs: PmxcfsDouble                    TEST DOUBLE of pmxcfs for corosync.conf (start/stop/settle,
//                                              reloads, events)
//   tb.counters() / resetCounters()            corosync (re)starts per node, pmxcfs reloads
//   tb.logTail(node, "corosync"|"sshd") / dumpLogs()   for failure messages
//   tb.addHost(name) → {name, address, netns} another machine on the bridge (e.g. QNetd)
//   tb.teardown()                              idempotent; also runs from a process exit handler
//   cleanupStale(prefix?)                      remove leftovers of a crashed run (startTestbed calls it)
//   liveTestbeds()                             testbeds alive on this machine (any process), by state file
//   proxmoxStyleConf({clusterName?, configVersion?, nodes, extraQuorum?}), votedConf(votes, opts?) (the same
//   as startTestbed's corosyncConf, node i voting votes[i]), configVersion(text),
//   parseQuorumStatus(text)
// Inside a node, `systemctl start|stop|restart|is-active corosync` works (TEST DOUBLE; pve-cluster no-op).
//
// Example:
//   const tb = await startTestbed({
//     corosyncConf: (nodes) => proxmoxStyleConf({ nodes: nodes.map((n) => ({ ...n, votes: 1 })) }),
//   });
//   try {
//     const r = await tb.ssh("pve1", "corosync-quorumtool -s", { stdin: "" });
//     assert.equal((await tb.quorum("pve2")).expectedVotes, 3);
//   } finally {
//     await tb.teardown();
//   }
//
// Requires root and the Debian packages corosync, openssh-server, openssh-client, iproute2; a missing piece
// is a clear error, never a skip. Env: PVETB_SUBNET (default 10.213.47.0/24), PVETB_DEBUG=1 (progress on
// stderr), PVETB_KEEP=1 (keep the temp dir with logs after teardown).

export {
  startTestbed,
  cleanupStale,
  checkPrerequisites,
  liveTestbeds,
  Testbed,
  DEFAULT_SUBNET,
  DEFAULT_PREFIX,
  type TestbedNode,
  type TestbedOptions,
  type SshOptions,
  type ExecOptions,
  type ExtraHost,
} from "./testbed";
export { PmxcfsDouble, type PmxcfsEvent } from "./pmxcfs";
export {
  configVersion,
  proxmoxStyleConf,
  votedConf,
  parseQuorumStatus,
  type ConfNode,
  type QuorumStatus,
  type QuorumMember,
} from "./corosync";
export { waitFor, GiveUp, type WaitOptions } from "./wait";
export { type RunResult } from "./exec";
