// The power step: ONE script, run over ONE SSH session on the always-on host (the sender), that brings one
// managed host to its declared state. stdin is one readable line, `pve-high state=on guests=shutdown`
// (core/power powerLine), so `pulumi preview` shows a state change as a stdin diff and runs it as an update;
// the script text does not change with the state. The `npm run power` CLI sends the very same script.
//
//   on:  nothing when the host is already an online member. Else the MAC must be in its node config (else a
//        clear error, nothing sent), `pvenode wakeonlan HOST` (pve-manager: sent BY this node), then a bounded
//        wait until HOST is an online member of the quorate cluster running this node's config_version
//        (cmap runtime.members.<id>.config_version; a host that missed a change catches up through the rejoin
//        step, RejoinGuard).
//   off: nothing when the host is not online. Refused, nothing done, when the live members without it would not
//        be quorate (core/power offDecision, same rule). Guests: `shutdown` leaves them to Proxmox's own ordered
//        stop (pve-guests.service, HA guests per datacenter.cfg ha: shutdown_policy); `migrate` first checks they
//        fit in this node's free memory, runs `pvesh create /nodes/HOST/migrateall --target SENDER` and refuses
//        to go on while any guest is left. Then `pvesh create /nodes/HOST/status --command shutdown`, a bounded
//        wait until corosync no longer lists HOST, and a final quorum check.
// HA fencing: a node with HA services fences when IT loses quorum; the refusal above keeps the rest quorate,
// and the host that goes off leaves cleanly (no fence).
import { raw, script, sh } from "../shell";
import { prelude, requireNodeName, requireQuorate } from "./lib";
import { pveshFunctions } from "./membership/pvesh";
import { nodeConfigPath } from "./power-nodeconfig";

export interface PowerBounds {
  /** Seconds from the Wake-on-LAN packet until the host must be a current, online member. */
  readonly wakeSeconds: number;
  /** Seconds from the shutdown request until corosync must no longer list the host. */
  readonly shutdownSeconds: number;
  /** Seconds for `migrate` to move every guest away. */
  readonly migrateSeconds: number;
}

export const DEFAULT_POWER_BOUNDS: PowerBounds = {
  wakeSeconds: 300,
  shutdownSeconds: 600,
  migrateSeconds: 1800,
};

function checkBound(what: string, v: number): number {
  if (!Number.isInteger(v) || v < 1 || v > 86400) {
    throw new Error(`${what} must be a whole number of seconds from 1 to 86400, got ${v}`);
  }
  return v;
}

/** Shell: `pvehl_guests HOST` lists the guest configs of HOST (cluster file system, as Proxmox keeps them). */
function guestFunctions(): string[] {
  return [
    "pvehl_guests() {",
    '  local d f; for d in qemu-server lxc; do for f in "/etc/pve/nodes/$1/$d"/*.conf; do',
    '    [ -e "$f" ] && printf "%s\\n" "$f"; done; done; return 0',
    "}",
    // memory: MiB from the guest config; Proxmox's default is 512 for both VMs and containers.
    "pvehl_guest_mib() {",
    '  local f total=0 m; while read -r f; do [ -n "$f" ] || continue',
    `    m=$(LC_ALL=C awk -F': *' '$1 == "memory" && $2 ~ /^[0-9]+$/ { v = $2 } END { print (v == "" ? 512 : v) }' "$f")`,
    '    total=$((total + m)); done <<<"$(pvehl_guests "$1")"; echo "$total"',
    "}",
  ];
}

/** Shell: live votequorum numbers from `corosync-quorumtool -s -p` (exit 2 = not quorate, handled). */
function quorumFunctions(): string[] {
  return [
    "pvehl_qnum() {",
    "  local out rc=0; out=$(corosync-quorumtool -s -p 2>/dev/null) || rc=$?",
    '  [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] || fail "corosync-quorumtool failed (exit $rc): is corosync running? (journalctl -u corosync)"',
    // prints: total quorum expected votes-of-node-$1 ; Membership rows are "nodeid votes [qdevice] name".
    `  printf '%s\\n' "$out" | LC_ALL=C awk -v id="$1" '/^Total votes:/ { t = $3 } /^Quorum:/ { q = $2 } /^Expected votes:/ { e = $3 } /^Membership information/ { m = 1 } m && $1 ~ /^[0-9]+$/ && $1 == id { v = $2 } END { print t + 0, q + 0, e + 0, v + 0 }'`,
    "}",
  ];
}

/**
 * The power step for any managed host, run on `sender`. stdin: one `NAME state=on|off guests=shutdown|migrate`
 * line. Bounds are part of the script text (a change re-runs the step once; the step is idempotent).
 */
export function powerStepScript(sender: string, bounds: PowerBounds = DEFAULT_POWER_BOUNDS): string {
  const wake = checkBound("wakeSeconds", bounds.wakeSeconds);
  const down = checkBound("shutdownSeconds", bounds.shutdownSeconds);
  const move = checkBound("migrateSeconds", bounds.migrateSeconds);
  // The name also appears inside double-quoted messages: a node name (letters, digits, inner '-') needs no quoting.
  if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(sender))
    throw new Error(`not a node name: ${JSON.stringify(sender)}`);
  return script(
    "# pve-homelab power step: bring one host to its declared state, through this always-on host.",
    "# stdin: `NAME state=on|off guests=shutdown|migrate`.",
    ...prelude(`pve-homelab/power@${sender}`),
    ...requireNodeName(sender),
    ...pveshFunctions(),
    ...guestFunctions(),
    ...quorumFunctions(),
    ...nodeStatusFunctions(),
    "IFS= read -r pvehl_line || true",
    "if ! [[ $pvehl_line =~ ^([A-Za-z0-9][A-Za-z0-9-]*)\\ state=(on|off)\\ guests=(shutdown|migrate)$ ]]; then",
    '  fail "stdin is not one line NAME state=on|off guests=shutdown|migrate: $pvehl_line"',
    "fi",
    "pvehl_host=${BASH_REMATCH[1]}; pvehl_state=${BASH_REMATCH[2]}; pvehl_guests_policy=${BASH_REMATCH[3]}",
    sh`[ "$pvehl_host" != ${sender} ] || fail "$pvehl_host is the always-on host that runs the power steps; its power is not managed"`,
    ...requireQuorate(sender),
    "pvehl_get /cluster/status",
    'read -r pvehl_id pvehl_online pvehl_version < <(pvehl_fields "node.$pvehl_host.nodeid" "node.$pvehl_host.online" cluster.version)',
    '[ "$pvehl_id" != - ] || fail "$pvehl_host is not a node of this cluster (pvesh get /cluster/status): it must have joined (pulumi up with it on) before its power is managed"',
    'if [ "$pvehl_state" = on ]; then',
    ...indent(onBranch(sender, wake)),
    "else",
    ...indent(offBranch(sender, down, move)),
    "fi",
  );
}

const indent = (lines: string[]) => lines.map((l) => `  ${l}`);

function onBranch(sender: string, wake: number): string[] {
  return [
    "pvehl_current() {",
    "  local v mine; pvehl_try /cluster/status || return 1",
    '  [ "$(pvehl_fields "node.$pvehl_host.online" cluster.quorate)" = "1 1" ] || return 1',
    "  mine=$(corosync-cmapctl -g totem.config_version 2>/dev/null) || return 1",
    '  v=$(corosync-cmapctl -g "runtime.members.$pvehl_id.config_version" 2>/dev/null) || return 1',
    '  [ "${v##* }" = "${mine##* }" ]',
    "}",
    'if [ "$pvehl_online" = 1 ] && pvehl_current; then',
    '  echo "$pvehl_host is on: already an online member of the quorate cluster (config_version $pvehl_version); nothing sent"',
    "  exit 0",
    "fi",
    'pvehl_conf="/etc/pve/nodes/$pvehl_host/config"',
    `pvehl_mac=$( [ -f "$pvehl_conf" ] && LC_ALL=C awk '{ sub(/^[ \\t]+/, "") } /^wakeonlan:/ { v = $0; sub(/^wakeonlan:[ \\t]*/, "", v); n = split(v, p, ","); m = ""; for (i = 1; i <= n; i++) if (p[i] !~ /=/ || p[i] ~ /^mac=/) { m = p[i]; sub(/^mac=/, "", m) } } END { print m }' "$pvehl_conf" )`,
    `[ -n "$pvehl_mac" ] || fail "No wake on LAN MAC address defined for '$pvehl_host' in $pvehl_conf; nothing was sent. Declare hosts[].wakeOnLan.mac for $pvehl_host and run pulumi up (it writes ${nodeConfigPath("<node>")} through this host)"`,
    sh`say "waking $pvehl_host: pvenode wakeonlan from "${sender}" (MAC $pvehl_mac)"`,
    'pvenode wakeonlan "$pvehl_host" >&2 || fail "pvenode wakeonlan $pvehl_host failed (exit $?): see its output above"',
    ...powerWait(
      "pvehl_current",
      wake,
      "$pvehl_host to be an online member of the quorate cluster at this node's config_version",
      `check that $pvehl_host powers on from Wake-on-LAN: WoL enabled in its BIOS/UEFI, the NIC armed (\`ethtool <nic>\` shows Wake-on: g; persist \`ethtool -s <nic> wol g\`), the MAC $pvehl_mac, and the broadcast address / bind interface of ${sender}'s wakeOnLan (the packet goes to 255.255.255.255 on the default route's interface unless set); if it booted, check \`journalctl -u corosync\` on it`,
    ),
    "echo \"$pvehl_host is on: online member of the quorate cluster at config_version $(corosync-cmapctl -g totem.config_version | sed 's/.* //')\"",
  ];
}

function offBranch(sender: string, down: number, move: number): string[] {
  return [
    'if [ "$pvehl_online" != 1 ]; then',
    '  echo "$pvehl_host is off: not an online member; nothing done"',
    "  exit 0",
    "fi",
    'read -r pvehl_total pvehl_quorum _ pvehl_hvotes < <(pvehl_qnum "$pvehl_id")',
    "pvehl_left=$((pvehl_total - pvehl_hvotes))",
    'if [ "$pvehl_left" -lt "$pvehl_quorum" ]; then',
    sh`  fail "refusing to power off $pvehl_host: the live members without it would hold $pvehl_left votes, and quorum is $pvehl_quorum (not quorate: /etc/pve read-only, HA nodes fence). Nothing was done. Power on another host first, or change the votes"`,
    "fi",
    'if [ "$pvehl_guests_policy" = migrate ] && [ -n "$(pvehl_guests "$pvehl_host")" ]; then',
    sh`  pvehl_need=$(pvehl_guest_mib "$pvehl_host")`,
    sh`  pvehl_free=$(pvehl_free_bytes /nodes/${sender}/status) || fail "cannot read the free memory of "${sender}" (pvesh get /nodes/"${sender}"/status)"`,
    "  pvehl_free=$((pvehl_free / 1048576))",
    '  if [ "$pvehl_need" -gt "$pvehl_free" ]; then',
    sh`    fail "refusing to power off $pvehl_host: its guests need $pvehl_need MiB and "${sender}" has $pvehl_free MiB free, so they do not fit. Nothing was done. Stop some guests, or use guests: shutdown"`,
    "  fi",
    sh`  say "migrating the guests of $pvehl_host to "${sender}" ($pvehl_need MiB, $pvehl_free MiB free)"`,
    sh`  pvesh create "/nodes/$pvehl_host/migrateall" --target ${sender} >&2 || fail "migrateall from $pvehl_host failed (exit $?); nothing was shut down"`,
    ...indent(
      powerWait(
        '[ -z "$(pvehl_guests "$pvehl_host")" ]',
        move,
        "every guest to leave $pvehl_host",
        "these could not move: $(pvehl_guests $pvehl_host | xargs); nothing was shut down (local disks? see pvesh get /cluster/tasks)",
      ),
    ),
    "fi",
    sh`say "shutting down $pvehl_host (guests: $pvehl_guests_policy; $pvehl_left of $pvehl_quorum votes stay)"`,
    'pvesh create "/nodes/$pvehl_host/status" --command shutdown >&2 || fail "the shutdown request for $pvehl_host failed (exit $?)"',
    'pvehl_gone() { pvehl_try /cluster/status && [ "$(pvehl_fields "node.$pvehl_host.online")" = 0 ]; }',
    ...powerWait(
      "pvehl_gone",
      down,
      "corosync to report $pvehl_host gone",
      "it may still be stopping guests (pve-guests.service); check its console or: pvesh get /nodes/$pvehl_host/tasks",
    ),
    ...requireQuorate(sender),
    "read -r pvehl_total pvehl_quorum pvehl_expected _ < <(pvehl_qnum 0)",
    'echo "$pvehl_host is off; the cluster stays quorate: $pvehl_total of $pvehl_expected votes (quorum $pvehl_quorum)"',
  ];
}

/**
 * Like lib.ts waitUntil, but `what` and `hint` are trusted double-quoted shell text, so they can name the host
 * ($pvehl_host) and run small commands; `"`, backquotes and backslashes in them are escaped here.
 */
function powerWait(condition: string, seconds: number, what: string, hint: string): string[] {
  const text = `gave up after ${seconds}s waiting for ${what}: ${hint}`.replace(/["`\\]/g, (c) => `\\${c}`);
  return [
    `pvehl_deadline=$(( $(date +%s) + ${seconds} ))`,
    `until ${condition}; do`,
    `  if [ "$(date +%s)" -ge "$pvehl_deadline" ]; then fail "${text}"; fi`,
    "  sleep 1",
    "done",
  ];
}

/** Shell: `pvehl_free_bytes PATH` prints memory.free of `pvesh get PATH` (a node status object). */
function nodeStatusFunctions(): string[] {
  return [
    "pvehl_free_bytes() {",
    '  pvesh get "$1" --output-format json | perl -MJSON::PP -e \'my $d = JSON::PP->new->decode(do { local $/; <STDIN> }); my $f = ref($d) eq "HASH" && ref($d->{memory}) eq "HASH" ? $d->{memory}{free} : undef; defined $f && $f =~ /^[0-9]+$/ or die "no memory.free in the node status\\n"; print "$f\\n"\'',
    "}",
  ];
}

/**
 * One script that runs registered scripts one after the other in ONE session, each with its own stdin, as
 * remote.Command would run them (the CLI's SSH path feeds the whole session to `bash -s`, so the scripts
 * cannot read the session's stdin themselves). Stops at the first failure with its exit status.
 */
export function sessionScript(steps: readonly { readonly script: string; readonly stdin: string }[]): string {
  const lines = ["#!/bin/bash", "set -euo pipefail"];
  steps.forEach((step, i) => {
    const end = `PVEHL_STEP_${i}_END`;
    if (step.script.split("\n").includes(end)) throw new Error(`script ${i} contains ${end}`);
    lines.push(
      `IFS= read -r -d '' pvehl_step_${i} <<'${end}' || true`,
      step.script.replace(/\n$/, ""),
      end,
      sh`printf '%s' ${step.stdin} | bash -c "$pvehl_step_${raw(String(i))}" pve-homelab-step-${raw(String(i))}`,
    );
  });
  return lines.join("\n") + "\n";
}
