// Shell building blocks shared by every host script (vote push, membership, rejoin, QDevice). Each returns
// script lines; values are quoted with sh``/quote() from core/shell. Scripts are pure functions of the Model,
// so the same stack always sends byte-identical text (no diff on a second `pulumi up`).
import { quote, sh } from "../shell";

/** Messages go to stderr with a prefix; fail exits 1 with the message (and the fix, written into it). */
export function prelude(tag: string): string[] {
  return [
    `PVEHL_TAG=${quote(tag)}`,
    'say() { printf "%s: %s\\n" "$PVEHL_TAG" "$*" >&2; }',
    'fail() { say "ERROR: $*"; exit 1; }',
  ];
}

/** Refuse to run on a host whose node name is not the declared one (wrong address in the stack). */
export function requireNodeName(name: string): string[] {
  return [
    sh`if [ "$(hostname)" != ${name} ]; then`,
    // The quoted value closes and reopens the double-quoted string: "…"'value'"…" is one shell word.
    sh`  fail "this host is '$(hostname)', expected "${name}": check hosts[].address and hosts[].name in the stack"`,
    "fi",
  ];
}

/**
 * What to do when the cluster is not quorate, right for the mode. `pvecm expected` lowers expected votes until
 * the others return: safe only on the side that holds an always-on host of a WEIGHTED cluster (the others can
 * never outvote it). In qdevice/default mode a minority partition must never do it (the majority may be up
 * and writing), so the advice there is only to bring hosts back. `alwaysOnHere` = this host is always-on in
 * weighted mode.
 */
export function inquorateAdvice(node: string, alwaysOnHere: boolean): string {
  return alwaysOnHere
    ? `Power on more hosts and re-run. Only if the other hosts are powered off (not merely unreachable) and /etc/pve must be writable now: on ${node}, and on no other host, run 'pvecm expected' with the votes ${node} holds ('pvecm status' shows them); it is temporary, corosync raises expected votes again when the others rejoin`
    : "Power on more hosts until they hold a majority of the votes, then re-run. Do not lower expected votes ('pvecm expected') here: without an always-on host holding the majority, another partition may be quorate and writing";
}

/**
 * Refuse unless corosync reports quorum. `corosync-quorumtool -s` exits 2 when not quorate: handled on
 * purpose, not swallowed by set -e. `alwaysOnHere`: see inquorateAdvice.
 */
export function requireQuorate(node: string, alwaysOnHere = false): string[] {
  return [
    "pvehl_q_rc=0; corosync-quorumtool -s >/dev/null 2>&1 || pvehl_q_rc=$?",
    'if [ "$pvehl_q_rc" -eq 2 ]; then',
    sh`  fail ${`the cluster is not quorate, so /etc/pve is read-only. ${inquorateAdvice(node, alwaysOnHere)}`}`,
    'elif [ "$pvehl_q_rc" -ne 0 ]; then',
    '  fail "corosync is not running or not answering (corosync-quorumtool exit $pvehl_q_rc): check journalctl -u corosync"',
    "fi",
  ];
}

export const CLUSTER_LOCK = "/etc/pve/priv/lock/file-corosync_conf";

/**
 * Take the cluster-wide lock Proxmox's own tools take for corosync.conf (PVE::Cluster::cfs_lock_file:
 * mkdir under /etc/pve/priv/lock), with a bounded retry, released on every exit path.
 */
export function takeCorosyncLock(seconds = 60): string[] {
  return [
    sh`pvehl_lock=${CLUSTER_LOCK}`,
    "pvehl_locked=0",
    'release_lock() { if [ "$pvehl_locked" = 1 ]; then rmdir "$pvehl_lock" 2>/dev/null || true; fi; }',
    "trap release_lock EXIT",
    'mkdir -p "$(dirname "$pvehl_lock")"',
    `for pvehl_i in $(seq 1 ${seconds}); do`,
    '  if mkdir "$pvehl_lock" 2>/dev/null; then pvehl_locked=1; break; fi',
    "  sleep 1",
    "done",
    `[ "$pvehl_locked" = 1 ] || fail "corosync.conf is locked by another operation (pvecm add/delnode?) for ${seconds}s: $pvehl_lock. Wait for it to finish; if no Proxmox task is running, remove the stale lock with: rmdir $pvehl_lock"`,
  ];
}

/**
 * Poll a shell condition until it holds, at most `seconds`; on timeout fail naming what was awaited.
 * `condition` is trusted shell text built by the caller (not user input).
 */
export function waitUntil(condition: string, seconds: number, what: string, hint: string): string[] {
  return [
    `pvehl_deadline=$(( $(date +%s) + ${seconds} ))`,
    `until ${condition}; do`,
    `  if [ "$(date +%s)" -ge "$pvehl_deadline" ]; then fail ${quote(`gave up after ${seconds}s waiting for ${what}: ${hint}`)}; fi`,
    "  sleep 0.5",
    "done",
  ];
}
