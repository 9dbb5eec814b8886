// The vote push: one script, run over ONE SSH session on a quorate always-on host, that sets every node's
// quorum_votes in /etc/pve/corosync.conf the way Proxmox's own tools edit that file (cluster lock, copy to
// `.new`, config_version + 1, rename), then waits until corosync itself reports the new votes. pmxcfs copies
// the file to every live node and runs `corosync-cfgtool -R`; nothing else has to touch the other hosts.
//
// Inputs, split on purpose:
// - the script text is a pure function of the host it runs on, the always-on hosts and two time bounds: it
//   does not change when votes change. (It does not embed the nodelist: the stdin lines carry names, nodeids
//   and ring0 addresses, and the drift check compares the file against exactly those, so there is one source.)
// - the desired layout goes on stdin as sorted, readable lines (`voteLayout`), one per host, then one per
//   quorum option the stack sets (an option that is not listed is removed from the file):
//       pve-high nodeid=3 ring0_addr=192.168.1.23 votes=1
//       quorum wait_for_all=1
//   so `pulumi preview` shows a vote or option change as a diff of those lines, and it runs as an update
//   (never a replace, whose delete would reset the votes right after the new create).
// - before writing, the script asks corosync which hosts are members right now and refuses (nothing written)
//   when they would lose quorum under the new file, or, with weighted votes, when the always-on hosts alone
//   would not be quorate or the others could be (core/quorum/safety, the same check in awk).
//
// The edit itself runs on the host in awk (programs/corosync-edit.awk, on mawk, gawk and the one-true-awk
// alike) and is the TypeScript engine's setVotes/resetVotes rule for rule: same grammar (coroparse.c), same refusals in the same order
// (first problem's code), same output bytes. test/unit/scripts/votes.test.ts runs this very function
// against the engine on the fixtures and on generated files.
import { QUORUM_OPTION_KEYS, type QuorumOptions } from "../corosync/quorum-options";
import type { HostSpec } from "../model";
import { quote, raw, script, sh } from "../shell";
import { hostProgram } from "./programs";
import { CLUSTER_LOCK, prelude, requireNodeName, requireQuorate, takeCorosyncLock, waitUntil } from "./lib";

/** Where the vote push keeps timestamped copies of the replaced file (local disk of the host, not /etc/pve). */
export const BACKUP_DIR = "/var/backups/pve-homelab";
export const PVE_COROSYNC_CONF = "/etc/pve/corosync.conf";
/** Backup files kept (two per change: the old file and its ready-made rollback). */
export const BACKUPS_KEPT = 40;

export const DEFAULT_LOCK_SECONDS = 60;
export const DEFAULT_WAIT_SECONDS = 60;

export interface VotePushOptions {
  /** Seconds to retry the cluster lock for corosync.conf. Defaults to 60. */
  readonly lockSeconds?: number;
  /** Seconds to wait until corosync reports the new votes. Defaults to 60. */
  readonly waitSeconds?: number;
}

/** One stdin line's fields; names and addresses are single words, as corosync.conf values of the nodelist. */
const LAYOUT_WORD = /^[^\s=]+$/;
const LAYOUT_LINE = /^[^ =]+ nodeid=[0-9]+ ring0_addr=[^ ]+ votes=[0-9]+$/;

const QUORUM_LINE =
  /^quorum (expected_votes|two_node|last_man_standing|auto_tie_breaker|wait_for_all)=([0-9]+)$/;

/**
 * The desired layout: one `name nodeid=N ring0_addr=ADDR votes=V` line per host, sorted by name, then one
 * `quorum KEY=N` line per quorum option (in QUORUM_OPTION_KEYS order; flags are 1, expected_votes >= 1).
 */
export function voteLayout(
  hosts: readonly Pick<HostSpec, "name" | "nodeId" | "address" | "votes">[],
  quorum: QuorumOptions = {},
): string {
  const problems: string[] = [];
  for (const h of hosts) {
    if (!LAYOUT_WORD.test(h.name)) problems.push(`host name ${JSON.stringify(h.name)} is not a single word`);
    if (!LAYOUT_WORD.test(h.address))
      problems.push(`address ${JSON.stringify(h.address)} of ${h.name} is not a single word`);
    if (!Number.isInteger(h.nodeId) || h.nodeId < 0) problems.push(`nodeId of ${h.name} is ${h.nodeId}`);
    if (!Number.isInteger(h.votes) || h.votes < 0) problems.push(`votes of ${h.name} are ${h.votes}`);
  }
  const names = hosts.map((h) => h.name);
  if (new Set(names).size !== names.length) problems.push(`duplicate host names: ${names.join(", ")}`);
  if (hosts.length === 0) problems.push("no hosts");
  for (const [key, value] of Object.entries(quorum)) {
    const ok = key === "expected_votes" ? value >= 1 && value <= 4294967295 : value === 1;
    if (!Number.isInteger(value) || !ok) problems.push(`quorum option ${key} is ${value}`);
  }
  if (problems.length > 0) throw new Error(`cannot write the vote layout: ${problems.join("; ")}`);
  const lines = [...hosts]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((h) => `${h.name} nodeid=${h.nodeId} ring0_addr=${h.address} votes=${h.votes}`);
  for (const line of lines) if (!LAYOUT_LINE.test(line)) throw new Error(`bad layout line: ${line}`);
  for (const key of QUORUM_OPTION_KEYS) {
    if (quorum[key] !== undefined) lines.push(`quorum ${key}=${quorum[key]}`);
  }
  return lines.join("\n") + "\n";
}

/** The layout's hosts back as data (for tests and the plan): name → {nodeId, address, votes}. */
export function parseVoteLayout(
  text: string,
): { name: string; nodeId: number; address: string; votes: number }[] {
  return text
    .split("\n")
    .filter((l) => l !== "" && !QUORUM_LINE.test(l))
    .map((line) => {
      const m = /^([^ =]+) nodeid=([0-9]+) ring0_addr=([^ ]+) votes=([0-9]+)$/.exec(line);
      if (!m) throw new Error(`not a vote layout line: ${JSON.stringify(line)}`);
      return { name: m[1]!, nodeId: Number(m[2]), address: m[3]!, votes: Number(m[4]) };
    });
}

/** The layout's quorum options back as data. */
export function parseLayoutQuorum(text: string): QuorumOptions {
  const out: Partial<Record<string, number>> = {};
  for (const line of text.split("\n")) {
    const m = QUORUM_LINE.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out as QuorumOptions;
}

// ---------------------------------------------------------------------------------------------------------
// The on-host edit: an awk program (POSIX awk only: no gawk extensions, no length(array), no delete array,
// no regex intervals) plus a small shell wrapper. Protocol on stdout, first line:
//   changed VB VA | unchanged V | inspected V | refused CODE LINE
// then, after `refused`, one human line per problem ("... Fix: ..."); after `inspected`: `cluster NAME`, `provider NAME` and
// `node NAME NODEID RING0` lines. Exit 0 when answered (changed/unchanged/inspected), 3 when refused, 4 when
// the layout itself is malformed (code bad-input).
// Inputs (environment): PVEHL_MODE set|reset|inspect, PVEHL_FINAL 1|0 (file ends with "\n"), PVEHL_NUL (line
// number of the first NUL byte, 0 = none), PVEHL_OUT (new text), PVEHL_ALWAYS (always-on names, space
// separated), optional PVEHL_UNDO (the old votes and quorum options as layout lines), PVEHL_WANT ("nodeid
// votes name" lines), and PVEHL_LIVE_MEMBERS (node ids corosync reports as members, space separated; unset =
// no live check) with PVEHL_LIVE_DEVICE (1 when a quorum device casts votes).
// Files: the layout (the stdin lines: the desired votes for set, the expected nodelist for set and reset;
// /dev/null for inspect), then the corosync.conf.

/** The awk program (core/scripts/programs/corosync-edit.awk). */
export const VOTES_AWK = hostProgram("corosync-edit.awk");

/**
 * Lines that define `pvehl_edit MODE CONF LAYOUT OUT [ALWAYS_ON...]` (the corosync.conf edit, protocol on
 * stdout as described above VOTES_AWK) and `pvehl_load_awk` (reads the program into $PVEHL_AWK). Shell
 * builtins only, plus one awk process per call.
 */
export function corosyncEditFunctions(): string[] {
  return [
    ...heredocVariable("pvehl_load_awk", "PVEHL_AWK", "PVEHL_AWK_END", VOTES_AWK),
    "pvehl_edit() {",
    "  local mode=$1 conf=$2 layout=$3 out=$4 data= final=1 nul=0 lf",
    "  shift 4",
    '  [ -n "${PVEHL_AWK:-}" ] || pvehl_load_awk',
    // awk cannot tell whether the last line had a newline, and awks differ on NUL bytes (corosync would cut
    // the line there): bash's read stops at the first NUL (status 0) or at the end (status 1).
    "  if IFS= read -r -d '' data < \"$conf\"; then",
    "    lf=${data//[!$'\\n']/}",
    "    nul=$(( ${#lf} + 1 ))",
    '  elif [ -n "$data" ] && [ "${data: -1}" != $\'\\n\' ]; then',
    "    final=0",
    "  fi",
    '  PVEHL_MODE=$mode PVEHL_FINAL=$final PVEHL_NUL=$nul PVEHL_OUT=$out PVEHL_ALWAYS="$*" \\',
    '    LC_ALL=C awk "$PVEHL_AWK" "$layout" "$conf"',
    "}",
  ];
}

/** A shell function that prints `body` exactly, through a quoted heredoc (nothing in it is expanded). */
export function heredocFunction(name: string, delimiter: string, body: string): string[] {
  checkHeredoc(name, delimiter, body);
  return [`${name}() {`, `  cat <<'${delimiter}'`, body + delimiter, "}"];
}

/** A shell function that sets `variable` to `body` exactly (quoted heredoc, read builtin: no process). */
export function heredocVariable(name: string, variable: string, delimiter: string, body: string): string[] {
  checkHeredoc(name, delimiter, body);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) throw new Error(`bad variable name ${variable}`);
  // read -d '' stops at the end of the heredoc with status 1: the function's status says whether it read.
  return [
    `${name}() {`,
    `  IFS= read -r -d '' ${variable} <<'${delimiter}' || [ -n "$${variable}" ]`,
    body + delimiter,
    "}",
  ];
}

function checkHeredoc(name: string, delimiter: string, body: string): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad function name ${name}`);
  if (!/^[A-Z_]+$/.test(delimiter)) throw new Error(`bad heredoc delimiter ${delimiter}`);
  if (!body.endsWith("\n")) throw new Error(`heredoc body of ${name} must end with a newline`);
  if (body.split("\n").includes(delimiter)) throw new Error(`heredoc body of ${name} contains ${delimiter}`);
  if (body.includes("\0")) throw new Error(`heredoc body of ${name} contains a NUL byte`);
}

// ---------------------------------------------------------------------------------------------------------
// The whole vote push.

type PushMode = "set" | "reset";

function checkSeconds(what: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 3600) {
    throw new Error(`${what} must be a whole number of seconds from 1 to 3600, got ${value}`);
  }
  return value;
}

/**
 * The create/update script: set the votes of stdin's layout on `host` (which must be quorate). With weighted
 * votes `alwaysOn` lists the always-on hosts, which must stay quorate on their own with the new votes; in the
 * other modes (1 vote each, maybe plus a QDevice) it is empty and that check does not apply.
 */
export function votesApplyScript(
  host: string,
  alwaysOn: readonly string[],
  options: VotePushOptions = {},
): string {
  return votePush("set", host, alwaysOn, options);
}

/** The delete script: every node back to 1 vote (the same safe way), checked against stdin's nodelist. */
export function votesResetScript(host: string, options: VotePushOptions = {}): string {
  return votePush("reset", host, [], options);
}

function votePush(
  mode: PushMode,
  host: string,
  alwaysOn: readonly string[],
  options: VotePushOptions,
): string {
  const lockSeconds = checkSeconds("lockSeconds", options.lockSeconds ?? DEFAULT_LOCK_SECONDS);
  const waitSeconds = checkSeconds("waitSeconds", options.waitSeconds ?? DEFAULT_WAIT_SECONDS);
  for (const name of [host, ...alwaysOn]) {
    if (!LAYOUT_WORD.test(name)) throw new Error(`host name ${JSON.stringify(name)} is not a single word`);
  }
  const what = mode === "set" ? "set the declared votes" : "restore 1 vote per node";
  const alwaysArgs = alwaysOn.map((n) => quote(n)).join(" ");
  return script(
    `# pve-homelab vote push (${mode === "set" ? "create/update" : "delete"}): ${what} in ${PVE_COROSYNC_CONF}.`,
    "# stdin: the declared nodelist, one `NAME nodeid=N ring0_addr=ADDR votes=V` line per host.",
    ...prelude(`pve-homelab/votes@${host}`),
    // An SSH cut must still run the EXIT trap (lock release, temp cleanup); a closed pipe must not kill us
    // between writing the file and releasing the lock.
    "trap 'exit 129' HUP",
    "trap 'exit 130' INT",
    "trap 'exit 143' TERM",
    "trap '' PIPE",
    ...corosyncEditFunctions(),
    ...liveMembershipFunctions(),
    ...votesLiveCheck(),
    ...requireNodeName(host),
    // The vote push runs on an always-on host; alwaysOn is non-empty in weighted mode only.
    ...requireQuorate(host, alwaysOn.includes(host)),
    sh`[ -f ${PVE_COROSYNC_CONF} ] || fail ${`${PVE_COROSYNC_CONF} does not exist: this host is not in a cluster yet (pvecm status); create the cluster first`}`,
    ...takeCorosyncLock(lockSeconds),
    "pvehl_tmp=$(mktemp -d /tmp/pve-homelab-votes.XXXXXX)",
    // Replaces takeCorosyncLock's trap: both the lock and the temp dir go on every exit.
    `trap 'rm -rf "$pvehl_tmp"; release_lock' EXIT`,
    'cat > "$pvehl_tmp/layout"',
    sh`cp ${PVE_COROSYNC_CONF} "$pvehl_tmp/old"`,
    // Who is up right now, read under the lock, right before the file is judged and written.
    "pvehl_live_read",
    "pvehl_rc=0",
    `pvehl_result=$(PVEHL_LIVE_MEMBERS="$pvehl_members" PVEHL_LIVE_DEVICE="$pvehl_device" PVEHL_UNDO="$pvehl_tmp/undo" PVEHL_WANT="$pvehl_tmp/want" pvehl_edit ${mode} "$pvehl_tmp/old" "$pvehl_tmp/layout" "$pvehl_tmp/new"${alwaysArgs ? " " + alwaysArgs : ""}) || pvehl_rc=$?`,
    "pvehl_status=${pvehl_result%%$'\\n'*}",
    'case "$pvehl_rc $pvehl_status" in',
    '  "0 changed "*) ;;',
    '  "0 unchanged "*)',
    '    say "already applied: the votes match, config_version ${pvehl_status#unchanged } kept; nothing written"',
    '    echo "votes already applied on $(hostname): $(pvehl_votes_summary)"',
    "    exit 0 ;;",
    '  "3 refused "*|"4 refused "*)',
    "    pvehl_problems=${pvehl_result#*$'\\n'}",
    sh`    fail "refusing to change ${raw(PVE_COROSYNC_CONF)}; nothing was written. $pvehl_problems" ;;`,
    "  *)",
    '    fail "the corosync.conf edit step failed (exit $pvehl_rc): $pvehl_result" ;;',
    "esac",
    'read -r _ pvehl_before pvehl_after <<<"$pvehl_status"',
    // Backup on this host's own disk, and a ready rollback: the old votes with config_version after + 1
    // (pmxcfs ignores a file whose version is not higher than the nodes' own).
    sh`pvehl_backup=${BACKUP_DIR}/corosync.conf.$(date -u +%Y%m%dT%H%M%SZ).v$pvehl_before`,
    sh`install -d -m 0700 ${BACKUP_DIR}`,
    'cp "$pvehl_tmp/old" "$pvehl_backup"',
    'pvehl_rollback="$pvehl_backup.rollback"',
    'if pvehl_undo=$(pvehl_edit set "$pvehl_tmp/new" "$pvehl_tmp/undo" "$pvehl_rollback") && [ "${pvehl_undo%% *}" = changed ]; then',
    sh`  pvehl_undo_hint="to roll back, run: cp $pvehl_rollback ${raw(PVE_COROSYNC_CONF)}.new && mv ${raw(PVE_COROSYNC_CONF)}.new ${raw(PVE_COROSYNC_CONF)} (the previous votes with a higher config_version)"`,
    "else",
    sh`  pvehl_undo_hint="to roll back, copy $pvehl_backup to ${raw(PVE_COROSYNC_CONF)}.new, set its config_version above $pvehl_after, and mv it over ${raw(PVE_COROSYNC_CONF)}"`,
    "fi",
    sh`ls -1t ${BACKUP_DIR}/corosync.conf.* 2>/dev/null | tail -n +${BACKUPS_KEPT + 1} | xargs -r rm -f --`,
    // The documented Proxmox edit: write .new next to it, then rename over (atomic: old or new, never partial).
    sh`cat "$pvehl_tmp/new" > ${PVE_COROSYNC_CONF}.new`,
    sh`if ! cmp -s ${PVE_COROSYNC_CONF} "$pvehl_tmp/old"; then`,
    sh`  rm -f ${PVE_COROSYNC_CONF}.new`,
    sh`  fail "${raw(PVE_COROSYNC_CONF)} changed while the lock was held (edited without the lock?); nothing was written, re-run"`,
    "fi",
    sh`mv -f ${PVE_COROSYNC_CONF}.new ${PVE_COROSYNC_CONF}`,
    sh`say "wrote ${raw(PVE_COROSYNC_CONF)}: config_version $pvehl_before -> $pvehl_after; previous file kept at $pvehl_backup"`,
    // From here on the new file is in place: every failure says so and how to go back.
    sh`fail() { say "ERROR: $*"; say "the new ${raw(PVE_COROSYNC_CONF)} (config_version $pvehl_after) is in place; $pvehl_undo_hint"; exit 1; }`,
    ...waitUntil(
      "pvehl_votes_live",
      waitSeconds,
      "corosync to report the new votes (corosync-cmapctl totem.config_version, corosync-quorumtool -l)",
      "pmxcfs copies the file to every live node and reloads corosync; check `journalctl -b -u corosync -u pve-cluster` and `corosync-cfgtool -s` on each node",
    ),
    `echo "votes ${mode === "set" ? "applied" : "reset to 1 per node"} on $(hostname) (config_version $pvehl_before -> $pvehl_after): $(pvehl_votes_summary)"`,
    sh`say "done; lock ${raw(CLUSTER_LOCK)} released on exit"`,
  );
}

/**
 * `pvehl_live_read`: sets $pvehl_members (node ids corosync lists as members now, space separated) and
 * $pvehl_device (1 when a quorum device casts votes: the `0 <votes> Qdevice` row) from `corosync-quorumtool -s`.
 * Not quorate (exit 2) or no answer: fail, nothing written.
 */
export function liveMembershipFunctions(): string[] {
  return [
    "pvehl_live_read() {",
    "  local out rc=0",
    "  out=$(corosync-quorumtool -s 2>/dev/null) || rc=$?",
    '  [ "$rc" -eq 0 ] || fail "corosync-quorumtool -s exited $rc right before the write (2 = the cluster lost quorum meanwhile); nothing was written. Check pvecm status and re-run"',
    `  pvehl_members=$(printf '%s\\n' "$out" | LC_ALL=C awk '/^Membership information/ { m = 1; next } m && $1 ~ /^[0-9]+$/ && $1 != "0" { printf "%s%s", sep, $1; sep = " " }')`,
    `  pvehl_device=$(printf '%s\\n' "$out" | LC_ALL=C awk '$1 == "0" && $NF == "Qdevice" && $2 > 0 { f = 1 } END { print f ? 1 : 0 }')`,
    '  [ -n "$pvehl_members" ] || fail "corosync-quorumtool -s listed no members; nothing was written. Check pvecm status and re-run"',
    "}",
  ];
}

/** `pvehl_votes_live`: corosync on this host runs config_version $pvehl_after and every member it sees votes
 *  as wanted ("$pvehl_tmp/want": `nodeid votes` lines). corosync-quorumtool -p is its machine-readable form. */
function votesLiveCheck(): string[] {
  return [
    "# The votes asked for, as name=votes words (the edit wrote them as `nodeid votes name` lines).",
    'pvehl_votes_summary() { LC_ALL=C awk \'{ printf "%s%s=%s", (NR > 1 ? " " : ""), $3, $2 }\' "$pvehl_tmp/want"; }',
    "pvehl_votes_live() {",
    "  local v",
    "  v=$(corosync-cmapctl -g totem.config_version 2>/dev/null) || return 1",
    '  [ "${v##* }" = "$pvehl_after" ] || return 1',
    "  corosync-quorumtool -l -p 2>/dev/null | LC_ALL=C awk 'NR == FNR { want[$1] = $2; next } $1 ~ /^[0-9]+$/ { seen++; if (!($1 in want) || want[$1] != $2) bad = 1 } END { exit (bad || !seen) }' \"$pvehl_tmp/want\" -",
    "}",
  ];
}
