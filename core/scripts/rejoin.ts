// The rejoin guard: a boot-time step for corosync on hosts that are often off.
//
// Seen on corosync 3.1.7: a node that was off while corosync.conf changed boots with its old
// /etc/corosync/corosync.conf, and its corosync exits as soon as it meets the others ("Received config
// version (2) is different than my config version (1)! Exiting"); pmxcfs cannot help, because it only syncs
// once corosync is up. The fix is what the public runbooks do by hand, done before corosync starts: fetch the
// newest corosync.conf from a peer over the cluster's own root SSH trust and install it.
//
// Installed as a systemd drop-in for corosync.service (ExecStartPre=, "-" so a failure never blocks
// corosync, wrapped in `timeout`) plus one script. The script reads its peers from the LOCAL corosync.conf
// nodelist, so the installed bytes are the same on every host and never change when hosts do: a usually-off
// host needs no SSH session for unrelated `pulumi up`s. It accepts a peer's file only when it parses (the
// same engine as the vote push), names the same cluster, lists this node with its nodeid and ring0_addr
// unchanged, keeps the votequorum provider, has a HIGHER config_version and passes `corosync -t` (required:
// without corosync nothing is installed). Candidates are tried best first (highest version) until one passes
// every check; it writes atomically and keeps the local file when no peer file qualifies.
import { createHash } from "node:crypto";
import type { Finding, Model } from "../model";
import { quote, script, sh } from "../shell";
import { prelude, requireNodeName } from "./lib";
import { BACKUP_DIR, corosyncEditFunctions, heredocFunction } from "./votes";

export const REJOIN_SCRIPT = "/usr/local/sbin/pve-homelab-rejoin";
export const REJOIN_DROPIN_DIR = "/etc/systemd/system/corosync.service.d";
export const REJOIN_DROPIN = `${REJOIN_DROPIN_DIR}/pve-homelab-rejoin.conf`;
export const LOCAL_COROSYNC_CONF = "/etc/corosync/corosync.conf";

/** Time bounds of the boot step, in seconds. */
export const REJOIN_BOUNDS = {
  /** ssh ConnectTimeout per peer (TCP connect and SSH handshake). */
  connect: 5,
  /** Whole fetch from one peer (`timeout`); peers are asked in parallel. */
  peer: 15,
  /** The whole step, enforced by `timeout` in the drop-in; well under corosync.service's start timeout. */
  total: 40,
} as const;

/** The script installed at REJOIN_SCRIPT. Constant: the same bytes on every host. */
export function rejoinBootScript(): string {
  const b = REJOIN_BOUNDS;
  return script(
    "# pve-homelab rejoin step: runs before corosync starts (ExecStartPre of corosync.service, drop-in",
    `# ${REJOIN_DROPIN}), installed by pve-homelab's RejoinGuard.`,
    "# A host that was off while corosync.conf changed would start with an older config_version and corosync",
    "# would exit on meeting the others. This fetches the newest corosync.conf from the peers listed in the",
    "# LOCAL nodelist (root SSH trust of the cluster, host keys checked) and installs it when it is newer, of",
    "# this cluster, lists this node and parses. Bounded; exits 0 unless something is truly broken, and a",
    '# failure never blocks corosync (the drop-in uses "-").',
    ...prelude("pve-homelab-rejoin"),
    "shopt -s nullglob",
    ...corosyncEditFunctions(),
    sh`pvehl_conf=${LOCAL_COROSYNC_CONF}`,
    "pvehl_self=$(uname -n); pvehl_self=${pvehl_self%%.*}",
    'if [ ! -s "$pvehl_conf" ]; then say "no $pvehl_conf: nothing to do"; exit 0; fi',
    "pvehl_tmp=$(mktemp -d /tmp/pve-homelab-rejoin.XXXXXX)",
    `trap 'rm -rf "$pvehl_tmp"' EXIT`,
    'if ! pvehl_edit inspect "$pvehl_conf" /dev/null /dev/null > "$pvehl_tmp/local"; then',
    '  say "the local $pvehl_conf cannot be read ($(sed -n 2p "$pvehl_tmp/local")); leaving it as it is"',
    "  exit 0",
    "fi",
    'read -r _ pvehl_version < "$pvehl_tmp/local"',
    "pvehl_cluster=$(sed -n 's/^cluster //p' \"$pvehl_tmp/local\")",
    'if ! PVEHL_SELF=$pvehl_self awk \'$1 == "node" && $2 == ENVIRON["PVEHL_SELF"] { found = 1 } END { exit !found }\' "$pvehl_tmp/local"; then',
    '  say "the local $pvehl_conf does not list this node ($pvehl_self): leaving it as it is"',
    "  exit 0",
    "fi",
    // Peers: every other node of the local nodelist, with its ring0 address.
    'PVEHL_SELF=$pvehl_self awk \'$1 == "node" && $2 != ENVIRON["PVEHL_SELF"] { print $2, $4 }\' "$pvehl_tmp/local" > "$pvehl_tmp/peers"',
    'if [ ! -s "$pvehl_tmp/peers" ]; then say "no other node in $pvehl_conf: nothing to fetch"; exit 0; fi',
    "# pvehl_fetch NAME ADDRESS OUT: the peer's own corosync.conf, over root SSH with its pinned host key.",
    "pvehl_fetch() {",
    "  local rc=0",
    '  printf "%s %s\\n" "$1" "$2" > "$3.peer"',
    `  timeout -k 2 ${b.peer} ssh -n -T -o BatchMode=yes -o ConnectTimeout=${b.connect} -o ServerAliveInterval=2 \\`,
    '    -o ServerAliveCountMax=2 -o StrictHostKeyChecking=yes -o HostKeyAlias="$1" \\',
    '    -o "UserKnownHostsFile=~/.ssh/known_hosts /etc/pve/nodes/$1/ssh_known_hosts" \\',
    sh`    -l root -- "$2" cat ${LOCAL_COROSYNC_CONF} > "$3" 2> "$3.err" || rc=$?`,
    '  echo "$rc" > "$3.rc"',
    "}",
    "pvehl_i=0",
    "while read -r pvehl_name pvehl_addr; do",
    "  pvehl_i=$((pvehl_i + 1))",
    '  pvehl_fetch "$pvehl_name" "$pvehl_addr" "$pvehl_tmp/peer.$pvehl_i" &',
    'done < "$pvehl_tmp/peers"',
    "wait",
    // This node's own entry ("node NAME NODEID RING0"): a peer file that moves it would break this node.
    'pvehl_self_entry=$(PVEHL_SELF=$pvehl_self awk \'$1 == "node" && $2 == ENVIRON["PVEHL_SELF"]\' "$pvehl_tmp/local")',
    'pvehl_answered=0; : > "$pvehl_tmp/candidates"',
    'for pvehl_rc_file in "$pvehl_tmp"/peer.*.rc; do',
    "  pvehl_file=${pvehl_rc_file%.rc}",
    '  read -r pvehl_name pvehl_addr < "$pvehl_file.peer"',
    '  read -r pvehl_rc < "$pvehl_rc_file"',
    '  if [ "$pvehl_rc" != 0 ]; then',
    "    say \"$pvehl_name ($pvehl_addr): no answer (exit $pvehl_rc: $(head -c 300 \"$pvehl_file.err\" | tr -s '\\r\\n' '  ' | sed 's/ $//'))\"",
    "    continue",
    "  fi",
    "  pvehl_answered=$((pvehl_answered + 1))",
    '  if ! pvehl_edit inspect "$pvehl_file" /dev/null /dev/null > "$pvehl_file.info"; then',
    '    say "$pvehl_name: its corosync.conf cannot be read ($(sed -n 2p "$pvehl_file.info")); ignored"',
    "    continue",
    "  fi",
    '  read -r _ pvehl_v < "$pvehl_file.info"',
    "  pvehl_c=$(sed -n 's/^cluster //p' \"$pvehl_file.info\")",
    '  if [ "$pvehl_c" != "$pvehl_cluster" ]; then',
    "    say \"$pvehl_name: cluster_name '$pvehl_c' is not this node's '$pvehl_cluster'; ignored\"",
    "    continue",
    "  fi",
    '  pvehl_entry=$(PVEHL_SELF=$pvehl_self awk \'$1 == "node" && $2 == ENVIRON["PVEHL_SELF"]\' "$pvehl_file.info")',
    '  if [ -z "$pvehl_entry" ]; then',
    '    say "$pvehl_name: its nodelist does not list $pvehl_self; ignored"',
    "    continue",
    "  fi",
    '  if [ "$pvehl_entry" != "$pvehl_self_entry" ]; then',
    "    say \"$pvehl_name: it moves this node ('${pvehl_entry#node }', here '${pvehl_self_entry#node }'; nodeid and ring0_addr must stay); ignored\"",
    "    continue",
    "  fi",
    // Without votequorum corosync counts no votes: every partition would call itself quorate.
    "  pvehl_p=$(sed -n 's/^provider //p' \"$pvehl_file.info\")",
    '  if [ "$pvehl_p" != corosync_votequorum ]; then',
    "    say \"$pvehl_name: its quorum provider is '$pvehl_p', not corosync_votequorum; ignored\"",
    "    continue",
    "  fi",
    '  say "$pvehl_name: config_version $pvehl_v (local: $pvehl_version)"',
    '  if [ "$pvehl_v" -gt "$pvehl_version" ]; then',
    '    printf "%s %s %s\\n" "$pvehl_v" "$pvehl_name" "$pvehl_file" >> "$pvehl_tmp/candidates"',
    "  fi",
    "done",
    'if [ ! -s "$pvehl_tmp/candidates" ]; then',
    '  if [ "$pvehl_answered" = 0 ]; then',
    '    say "no peer answered: corosync starts with the local file (config_version $pvehl_version)"',
    "  else",
    '    say "the local file is current (config_version $pvehl_version): nothing to do"',
    "  fi",
    "  exit 0",
    "fi",
    // corosync's own check is required (it also proves one nodelist address is local to this host).
    "if ! command -v corosync >/dev/null; then",
    '  say "corosync is not installed here, so no peer file can pass corosync -t; keeping the local file"',
    "  exit 0",
    "fi",
    // Best first (highest config_version, then node name); the first that corosync accepts wins.
    'sort -k1,1nr -k2,2 "$pvehl_tmp/candidates" > "$pvehl_tmp/ordered"',
    'pvehl_best=""',
    "while read -r pvehl_v pvehl_name pvehl_file; do",
    '  if corosync -t -c "$pvehl_file" > "$pvehl_tmp/check" 2>&1; then',
    "    pvehl_best=$pvehl_file; pvehl_best_version=$pvehl_v; pvehl_best_peer=$pvehl_name",
    "    break",
    "  fi",
    "  say \"corosync -t rejects the file from $pvehl_name ($(tr '\\n' ' ' < \"$pvehl_tmp/check\")); trying the next peer\"",
    'done < "$pvehl_tmp/ordered"',
    'if [ -z "$pvehl_best" ]; then',
    '  say "no newer peer file passed every check: keeping the local file (config_version $pvehl_version)"',
    "  exit 0",
    "fi",
    sh`install -d -m 0700 ${BACKUP_DIR}`,
    sh`cp "$pvehl_conf" ${BACKUP_DIR}/corosync.conf.$(date -u +%Y%m%dT%H%M%SZ).v$pvehl_version.before-rejoin`,
    'cat "$pvehl_best" > "$pvehl_conf.pve-homelab-new"',
    'chmod 0644 "$pvehl_conf.pve-homelab-new"',
    'mv -f "$pvehl_conf.pve-homelab-new" "$pvehl_conf"',
    'say "installed the corosync.conf of $pvehl_best_peer: config_version $pvehl_version -> $pvehl_best_version"',
  );
}

/** The systemd drop-in for corosync.service. */
export function rejoinDropIn(): string {
  return [
    "# pve-homelab (RejoinGuard): before corosync starts, fetch a newer corosync.conf from a peer, so a host that",
    "# was off during a change can rejoin. Bounded by timeout; '-': a failure never stops corosync from starting.",
    "[Service]",
    `ExecStartPre=-/usr/bin/timeout --kill-after=5 ${REJOIN_BOUNDS.total} ${REJOIN_SCRIPT}`,
    "",
  ].join("\n");
}

/** `systemctl daemon-reload`, only where systemd runs (sd_booted: /run/systemd/system exists). */
const daemonReload = [
  "pvehl_daemon_reload() {",
  "  if [ -d /run/systemd/system ]; then systemctl daemon-reload",
  '  else say "systemd is not running here: skipped systemctl daemon-reload"; fi',
  "}",
];

/** Create/update: install the script and the drop-in (atomically, only when bytes or mode differ). */
export function rejoinInstallScript(host: string): string {
  return script(
    "# pve-homelab rejoin guard (create/update): install the boot-time rejoin step for corosync.",
    ...prelude(`pve-homelab/rejoin@${host}`),
    ...requireNodeName(host),
    ...heredocFunction("pvehl_rejoin_script", "PVEHL_REJOIN_SCRIPT_END", rejoinBootScript()),
    ...heredocFunction("pvehl_rejoin_dropin", "PVEHL_REJOIN_DROPIN_END", rejoinDropIn()),
    ...daemonReload,
    "pvehl_tmp=$(mktemp -d /tmp/pve-homelab-rejoin-install.XXXXXX)",
    `trap 'rm -rf "$pvehl_tmp"' EXIT`,
    'pvehl_rejoin_script > "$pvehl_tmp/script"',
    'pvehl_rejoin_dropin > "$pvehl_tmp/dropin"',
    'bash -n "$pvehl_tmp/script" || fail "the rejoin script does not parse with this bash: nothing was installed"',
    'pvehl_changed=""',
    "# pvehl_install SRC DEST MODE: replace DEST atomically unless it already has these bytes and this mode.",
    "pvehl_install() {",
    '  if cmp -s "$1" "$2" && [ "$(stat -c %a "$2")" = "$3" ]; then return 0; fi',
    '  install -d -m 0755 "$(dirname "$2")"',
    '  cp "$1" "$2.pve-homelab-new"',
    '  chmod "$3" "$2.pve-homelab-new"',
    '  mv -f "$2.pve-homelab-new" "$2"',
    '  pvehl_changed="$pvehl_changed $2"',
    "}",
    sh`pvehl_install "$pvehl_tmp/script" ${REJOIN_SCRIPT} 755`,
    sh`pvehl_install "$pvehl_tmp/dropin" ${REJOIN_DROPIN} 644`,
    sh`case "$pvehl_changed " in *${` ${REJOIN_DROPIN} `}*) pvehl_daemon_reload ;; esac`,
    'if [ -n "$pvehl_changed" ]; then',
    '  echo "rejoin step installed on $(hostname):$pvehl_changed"',
    "else",
    '  echo "rejoin step already installed on $(hostname): no change"',
    "fi",
  );
}

/** Delete: remove the drop-in and the script (quietly when already gone). */
export function rejoinRemoveScript(host: string): string {
  return script(
    "# pve-homelab rejoin guard (delete): remove the boot-time rejoin step.",
    ...prelude(`pve-homelab/rejoin@${host}`),
    ...requireNodeName(host),
    ...daemonReload,
    'pvehl_removed=""',
    `for pvehl_f in ${quote(REJOIN_DROPIN)} ${quote(REJOIN_SCRIPT)}; do`,
    '  if [ -e "$pvehl_f" ]; then rm -f "$pvehl_f"; pvehl_removed="$pvehl_removed $pvehl_f"; fi',
    "done",
    sh`if [ -d ${REJOIN_DROPIN_DIR} ] && [ -z "$(ls -A ${REJOIN_DROPIN_DIR})" ]; then rmdir ${REJOIN_DROPIN_DIR}; fi`,
    sh`case "$pvehl_removed " in *${` ${REJOIN_DROPIN} `}*) pvehl_daemon_reload ;; esac`,
    'if [ -n "$pvehl_removed" ]; then',
    '  echo "rejoin step removed from $(hostname):$pvehl_removed"',
    "else",
    '  echo "rejoin step was not installed on $(hostname): nothing to remove"',
    "fi",
  );
}

/** Short version of the installed step (its bytes): the guard runs again over SSH only when this changes. */
export function rejoinStepVersion(): string {
  return createHash("sha256").update(rejoinInstallScript("<host>")).digest("hex").slice(0, 12);
}

/**
 * The one thing that makes `pulumi up` need a usually-off host after it joined: a project upgrade that changes
 * the rejoin step (connection changes are ignored by the guard). Named per host, with the step version, so a
 * plan before and after an upgrade shows the change.
 */
export function rejoinUpgradeFindings(model: Model): Finding[] {
  const version = rejoinStepVersion();
  return model.hosts.flatMap((h, i) =>
    h.power !== "usually-off"
      ? []
      : [
          {
            level: "info" as const,
            code: "rejoin.upgrade-needs-host",
            path: `hosts[${i}]`,
            message: `${h.name} is usually off: its rejoin step (version ${version}) is installed over SSH, and a project upgrade that changes that version makes \`pulumi up\` connect to ${h.name} again (key, address and hostKey changes do not)`,
            fix: `when this version changes, power ${h.name} on for that \`pulumi up\` (README: "Usually-off hosts")`,
          },
        ],
  );
}
