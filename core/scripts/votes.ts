// The vote push: one script, run over ONE SSH session on a quorate always-on host, that sets every node's
// quorum_votes in /etc/pve/corosync.conf the way Proxmox's own tools edit that file (cluster lock, copy to
// `.new`, config_version + 1, rename), then waits until corosync itself reports the new votes. pmxcfs copies
// the file to every live node and runs `corosync-cfgtool -R`; nothing else has to touch the other hosts.
//
// Inputs, split on purpose:
// - the script text is a pure function of the host it runs on, the always-on hosts and two time bounds: it
//   does not change when votes change. (It does not embed the nodelist: the stdin lines carry names, nodeids
//   and ring0 addresses, and the drift check compares the file against exactly those, so there is one source.)
// - the desired layout goes on stdin as sorted, readable lines (`voteLayout`), one per host:
//       pve-high nodeid=3 ring0_addr=192.168.1.23 votes=1
//   so `pulumi preview` shows a vote change as a diff of those lines, and it runs as an update (never a
//   replace, whose delete would reset the votes right after the new create).
//
// The edit itself runs on the host in awk (mawk, gawk and the one-true-awk alike) and is the TypeScript
// engine's setVotes/resetVotes rule for rule: same grammar (coroparse.c), same refusals in the same order
// (first problem's code), same output bytes. test/unit/scripts/votes.test.ts runs this very function
// against the engine on the fixtures and on generated files.
import type { HostSpec } from "../model";
import { quote, raw, script, sh } from "../shell";
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

/** The desired layout: one `name nodeid=N ring0_addr=ADDR votes=V` line per host, sorted by name. */
export function voteLayout(
  hosts: readonly Pick<HostSpec, "name" | "nodeId" | "address" | "votes">[],
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
  if (problems.length > 0) throw new Error(`cannot write the vote layout: ${problems.join("; ")}`);
  const lines = [...hosts]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((h) => `${h.name} nodeid=${h.nodeId} ring0_addr=${h.address} votes=${h.votes}`);
  for (const line of lines) if (!LAYOUT_LINE.test(line)) throw new Error(`bad layout line: ${line}`);
  return lines.join("\n") + "\n";
}

/** The layout back as data (for tests and the plan): name → {nodeId, address, votes}. */
export function parseVoteLayout(
  text: string,
): { name: string; nodeId: number; address: string; votes: number }[] {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((line) => {
      const m = /^([^ =]+) nodeid=([0-9]+) ring0_addr=([^ ]+) votes=([0-9]+)$/.exec(line);
      if (!m) throw new Error(`not a vote layout line: ${JSON.stringify(line)}`);
      return { name: m[1]!, nodeId: Number(m[2]), address: m[3]!, votes: Number(m[4]) };
    });
}

// ---------------------------------------------------------------------------------------------------------
// The on-host edit: an awk program (POSIX awk only: no gawk extensions, no length(array), no delete array,
// no regex intervals) plus a small shell wrapper. Protocol on stdout, first line:
//   changed VB VA | unchanged V | inspected V | refused CODE LINE
// then, after `refused`, one human line per problem ("... Fix: ..."); after `inspected`: `cluster NAME` and
// `node NAME NODEID RING0` lines. Exit 0 when answered (changed/unchanged/inspected), 3 when refused, 4 when
// the layout itself is malformed (code bad-input).
// Inputs (environment): PVEHL_MODE set|reset|inspect, PVEHL_FINAL 1|0 (file ends with "\n"), PVEHL_NUL (line
// number of the first NUL byte, 0 = none), PVEHL_OUT (new text), PVEHL_ALWAYS (always-on names, space
// separated), optional PVEHL_UNDO (the old votes as layout lines) and PVEHL_WANT ("nodeid votes name" lines).
// Files: the layout (the stdin lines: the desired votes for set, the expected nodelist for set and reset;
// /dev/null for inspect), then the corosync.conf.

export const VOTES_AWK =
  String.raw`# pve-homelab corosync.conf engine (awk port of core/corosync: parse, queries, setVotes/resetVotes)
BEGIN {
  U32 = "4294967295"; U8 = "255"; SAFE = "9007199254740991"
  MODE = ENVIRON["PVEHL_MODE"]; FINAL = ENVIRON["PVEHL_FINAL"]; NULLINE = ENVIRON["PVEHL_NUL"] + 0
  OUT = ENVIRON["PVEHL_OUT"]; UNDO = ENVIRON["PVEHL_UNDO"]; WANT = ENVIRON["PVEHL_WANT"]
  NAL = split(ENVIRON["PVEHL_ALWAYS"], ALW, " ")
  NODEKEY["name"] = 1; NODEKEY["nodeid"] = 1; NODEKEY["ring0_addr"] = 1; NODEKEY["ring1_addr"] = 1
  NODEKEY["quorum_votes"] = 1
  REASON["line-too-long"] = "Line too long"
  REASON["missing-section-name"] = "Missing section name before opening bracket '{'"
  REASON["extra-after-open-brace"] = "Extra characters after opening bracket '{'"
  REASON["section-path-too-long"] = "Start of section makes total cmap path too long"
  REASON["empty-key"] = "Key name can't be empty"
  REASON["key-path-too-long"] = "New key makes total cmap path too long"
  REASON["extra-around-close-brace"] = "Extra characters before or after closing bracket '}'"
  REASON["unexpected-close-brace"] = "Unexpected closing brace"
  REASON["not-section-or-key"] = "Line is not opening or closing section or key value"
  REASON["missing-close-brace"] = "Missing closing brace"
  REASON["nul-byte"] = "NUL byte in line"
  PFIX["line-too-long"] = "corosync reads at most 510 bytes per line; shorten it"
  PFIX["missing-section-name"] = "write the section name before '{', e.g. ` +
  "`totem {`" +
  String.raw`"
  PFIX["extra-after-open-brace"] = "nothing may follow '{' on its line; move it to the next line"
  PFIX["section-path-too-long"] = "the dotted section path must stay under 254 bytes; shorten the names"
  PFIX["empty-key"] = "write a key before ':', e.g. ` +
  "`quorum_votes: 1`" +
  String.raw`"
  PFIX["key-path-too-long"] = "the dotted key path must stay under 254 bytes; shorten the key"
  PFIX["extra-around-close-brace"] = "'}' must stand alone on its line (comments only on lines of their own)"
  PFIX["unexpected-close-brace"] = "remove the extra '}' or open the section it closes"
  PFIX["not-section-or-key"] = "each line must be ` +
  "`name {`, `}`, `key: value`" +
  String.raw`, a ` +
  "`#`" +
  String.raw` comment or blank"
  PFIX["missing-close-brace"] = "add the '}' that closes the last open section"
  PFIX["nul-byte"] = "remove the NUL byte (corosync would silently cut the line there)"
  ns = 0; ne = 0; n = 0; cur = 0; sbytes[0] = 0; PN = 0; DN = 0; perr = ""
  if (MODE != "set" && MODE != "reset" && MODE != "inspect") bad_input("unknown mode " MODE)
}

# ---- the layout (stdin of the vote push) ----
FILENAME == ARGV[1] {
  LN++
  if ($0 !~ /^[^ =]+ nodeid=[0-9]+ ring0_addr=[^ ]+ votes=[0-9]+$/) bad_input("stdin line " LN " is not \"NAME nodeid=N ring0_addr=ADDR votes=V\": " json($0))
  split($0, f, " ")
  nm = f[1]
  if (nm in LSEEN) bad_input("stdin names host " nm " twice")
  LSEEN[nm] = 1; LNAME[LN] = nm
  LID[nm] = canon(substr(f[2], 8)); LADDR[nm] = substr(f[3], 12); LVOTES[nm] = canon(substr(f[4], 7))
  next
}

# ---- corosync.conf, line by line, as coroparse.c parse_section() reads it ----
{
  n++; L[n] = $0
  if (perr != "") next
  if (n == NULLINE) { parse_error("nul-byte", n, $0); next }
  read_line($0, n)
}

END {
  if (BADINPUT) exit 4
  if (perr != "") finish_parse_error()
  if (cur != 0) { parse_error("missing-close-brace", n, L[n]); finish_parse_error() }
  if (MODE == "inspect") inspect()
  locate_nodes()
  locate_config_version()
  read_quorum()
  nodelist_problems()
  desired()
  request_problems()
  quorum_problems()
  edit()
}

function bad_input(msg) {
  print "refused bad-input 0"
  print msg ". Fix: run this script through pve-homelab (it passes the layout on stdin)"
  BADINPUT = 1
  exit 4
}

function isblank(c) { return c == " " || c == "\t" }

# coroparse.c remove_whitespace(): trims blanks and trailing ':' / '{', never the first character left.
function remove_name(s,    st, e, len, c) {
  len = length(s); st = 1
  while (st <= len && isblank(substr(s, st, 1))) st++
  if (st > len) return ""
  e = len
  while (e > st) {
    c = substr(s, e, 1)
    if (isblank(c) || c == ":" || c == "{") e--
    else break
  }
  return substr(s, st, e - st + 1)
}

# Bytes corosync keeps of a name (it also strips trailing 0xA0 bytes).
function name_bytes(s,    len) {
  len = length(s)
  while (len > 1 && index(" \t\240:{", substr(s, len, 1)) > 0) len--
  return len
}

function read_line(raw, ln,    line, e, s, b, as, nm, c, vs, key, pb) {
  if (length(raw) > 510) return parse_error("line-too-long", ln, raw)
  line = raw
  if (substr(line, length(line), 1) == "\r") line = substr(line, 1, length(line) - 1)
  e = length(line)
  while (e > 0 && isblank(substr(line, e, 1))) e--
  s = 1
  while (s <= e && isblank(substr(line, s, 1))) s++
  if (s > e || substr(line, s, 1) == "#") return
  b = index(line, "{")
  if (b > 0 && b <= e) {
    as = b + 1
    while (as <= e && isblank(substr(line, as, 1))) as++
    nm = remove_name(substr(line, 1, as - 2))
    if (nm == "") return parse_error("missing-section-name", ln, raw)
    if (as <= e) return parse_error("extra-after-open-brace", ln, raw)
    pb = sbytes[cur]
    if (pb + name_bytes(nm) + 1 >= 255) return parse_error("section-path-too-long", ln, raw)
    ns++; sname[ns] = nm; sparent[ns] = cur; sline[ns] = ln
    sbytes[ns] = (cur == 0) ? name_bytes(nm) : pb + 1 + name_bytes(nm)
    cur = ns
    return
  }
  c = index(line, ":")
  if (c > 0 && c <= e) {
    vs = c + 1
    while (vs <= e && isblank(substr(line, vs, 1))) vs++
    key = remove_name(substr(line, 1, vs - 2))
    if (key == "") return parse_error("empty-key", ln, raw)
    if (sbytes[cur] + name_bytes(key) + 1 >= 255) return parse_error("key-path-too-long", ln, raw)
    ne++; ekey[ne] = key; eparent[ne] = cur; eline[ne] = ln; evs[ne] = vs; eve[ne] = e
    evalue[ne] = substr(line, vs, e - vs + 1)
    return
  }
  if (index(line, "}") > 0 && index(line, "}") <= e) {
    if (substr(line, s, e - s + 1) != "}") return parse_error("extra-around-close-brace", ln, raw)
    if (cur == 0) return parse_error("unexpected-close-brace", ln, raw)
    cur = sparent[cur]
    return
  }
  return parse_error("not-section-or-key", ln, raw)
}

function parse_error(code, ln, raw) {
  if (perr != "") return
  perr = code; perr_line = ln; perr_text = raw
}

function finish_parse_error(    t) {
  t = perr_text
  if (length(t) > 80) t = substr(t, 1, 77) "..."
  print "refused " perr " " perr_line
  print "corosync.conf line " perr_line ": " REASON[perr] ": " json(t) ". Fix: " PFIX[perr] "."
  exit 3
}

# JSON.stringify for a string (ASCII control characters escaped; other bytes as they are).
function json(s,    out, i, c, k) {
  if (!JSON_READY) {
    for (k = 1; k < 32; k++) JSON_ESC[sprintf("%c", k)] = sprintf("\\u%04x", k)
    JSON_ESC["\b"] = "\\b"; JSON_ESC["\f"] = "\\f"; JSON_ESC["\n"] = "\\n"; JSON_ESC["\r"] = "\\r"
    JSON_ESC["\t"] = "\\t"; JSON_ESC["\""] = "\\\""; JSON_ESC["\\"] = "\\\\"
    JSON_READY = 1
  }
  out = ""
  for (i = 1; i <= length(s); i++) {
    c = substr(s, i, 1)
    out = out ((c in JSON_ESC) ? JSON_ESC[c] : c)
  }
  return "\"" out "\""
}

# ---- numbers, as digit strings (awk doubles would round past 2^53) ----
function canon(s) {
  sub(/^[+-]/, "", s)
  sub(/^0+/, "", s)
  return s == "" ? "0" : s
}
function num_le(a, b) { return length(a) < length(b) || (length(a) == length(b) && a <= b) }
function incr(s,    i, d, out) {
  out = ""
  for (i = length(s); i >= 1; i--) {
    d = substr(s, i, 1)
    if (d != "9") return substr(s, 1, i - 1) (d + 1) out
    out = "0" out
  }
  return "1" out
}
function fmt(x) { return sprintf("%.0f", x) }

# corosync's safe_atoq() reading of an entry: canonical digits, or "" after recording a problem.
function number_of(e, what, max,    v) {
  v = evalue[e]
  if (v ~ /^[+-]?[0-9]+$/ && !(v ~ /^-/ && canon(v) != "0") && num_le(canon(v), max)) return canon(v)
  problem("invalid-number", "The " what " on line " eline[e] " is " json(v) ", not a whole number from 0 to " max ".", "write a plain number there (comments go on lines of their own)")
  return ""
}

# ---- problems: collected and reported together, or one refusal at once ----
function problem(code, msg, fix) { PN++; PCODE[PN] = code; PMSG[PN] = msg " Fix: " fix }
function throw_problems(    i) {
  if (PN == 0) return
  print "refused " PCODE[1] " 0"
  for (i = 1; i <= PN; i++) print PMSG[i]
  exit 3
}
function refuse(code, msg, fix) { PN = 0; problem(code, msg, fix); throw_problems() }

# The single child section with that name (0 if none); a repeated one is refused.
function only_section(parent, name, path,    i, k, lines, first) {
  k = 0; lines = ""; first = 0
  for (i = 1; i <= ns; i++) {
    if (sparent[i] != parent || sname[i] != name) continue
    k++; lines = lines (k > 1 ? ", " : "") sline[i]
    if (!first) first = i
  }
  if (k > 1) refuse("repeated-section", "Section " path " appears " k " times (lines " lines "); corosync would merge them.", "keep a single " name " section")
  return first
}

# The single entry with that key in a section (0 if none); a repeated one is refused.
function only_entry(sec, key, where,    i, found) {
  found = 0
  for (i = 1; i <= ne; i++) {
    if (eparent[i] != sec || ekey[i] != key) continue
    if (found) refuse("repeated-key", "Key " key " appears more than once in the " where " (lines " eline[found] " and " eline[i] "); corosync uses only the last.", "keep a single " key " line")
    found = i
  }
  return found
}

function locate_nodes(    nl, i, j, where, missing, nid, qv) {
  NN = 0
  nl = only_section(0, "nodelist", "nodelist")
  if (!nl) return
  for (i = 1; i <= ns; i++) {
    if (sparent[i] != nl || sname[i] != "node") continue
    where = "nodelist node at line " sline[i]
    split("", got)
    for (j = 1; j <= ne; j++) {
      if (eparent[j] != i || !(ekey[j] in NODEKEY)) continue
      if (ekey[j] in got) refuse("repeated-key", "Key " ekey[j] " appears more than once in the " where " (lines " eline[got[ekey[j]]] " and " eline[j] "); corosync uses only the last.", "keep a single " ekey[j] " line")
      got[ekey[j]] = j
    }
    if (!("name" in got) || !("nodeid" in got) || !("ring0_addr" in got)) {
      missing = ""
      if (!("name" in got)) missing = "name"
      if (!("nodeid" in got)) missing = missing (missing == "" ? "" : ", ") "nodeid"
      if (!("ring0_addr" in got)) missing = missing (missing == "" ? "" : ", ") "ring0_addr"
      problem("node-missing-field", "The " where " has no " missing " line.", "give every node ` +
  "`name`, `nodeid` and `ring0_addr`" +
  String.raw` lines, as pvecm writes them")
      continue
    }
    nid = number_of(got["nodeid"], "nodeid of node " evalue[got["name"]], U32)
    qv = ("quorum_votes" in got) ? number_of(got["quorum_votes"], "quorum_votes of node " evalue[got["name"]], U32) : ""
    if (nid == "") continue
    NN++
    NNAME[NN] = evalue[got["name"]]; NID[NN] = nid; NADDR[NN] = evalue[got["ring0_addr"]]; NVOTES[NN] = qv
    NSECLINE[NN] = sline[i]; NIDLINE[NN] = eline[got["nodeid"]]
    NVENT[NN] = ("quorum_votes" in got) ? got["quorum_votes"] : 0
  }
  throw_problems()
}

function locate_config_version(    t, v) {
  t = only_section(0, "totem", "totem")
  VENT = t ? only_entry(t, "config_version", "totem") : 0
  if (!VENT) refuse("config-version-missing", "totem has no config_version line, so the change could not be announced to the other nodes.", "add ` +
  "`config_version: 1`" +
  String.raw` to the totem section (pvecm always writes one)")
  v = evalue[VENT]
  if (v !~ /^[0-9]+$/ || num_le(SAFE, canon(v))) refuse("config-version-invalid", "totem.config_version on line " eline[VENT] " is " json(v) ", not a plain whole number.", "set it to a decimal number such as ` +
  "`config_version: 4`" +
  String.raw`")
  VB = canon(v)
}

function read_quorum(    q, d, net, e, k, v) {
  QEXP = ""; QLMS = 0; HASDEV = 0; DVOTES = ""
  q = only_section(0, "quorum", "quorum")
  if (!q) return
  only_entry(q, "provider", "quorum")
  e = only_entry(q, "expected_votes", "quorum")
  if (e) QEXP = number_of(e, "quorum.expected_votes", U32)
  split("two_node last_man_standing auto_tie_breaker wait_for_all", flags, " ")
  for (k = 1; k <= 4; k++) {
    e = only_entry(q, flags[k], "quorum")
    v = e ? number_of(e, "quorum." flags[k], U8) : ""
    if (flags[k] == "last_man_standing" && v != "" && v != "0") QLMS = 1
  }
  d = only_section(q, "device", "quorum.device")
  if (d) {
    HASDEV = 1
    net = only_section(d, "net", "quorum.device.net")
    only_entry(d, "model", "quorum.device")
    e = only_entry(d, "votes", "quorum.device")
    if (e) DVOTES = number_of(e, "quorum.device.votes", U32)
    if (net) {
      only_entry(net, "host", "quorum.device.net")
      only_entry(net, "algorithm", "quorum.device.net")
    }
  }
  throw_problems()
}

function nodelist_problems(    i, k, key, order, cnt, lines) {
  if (NN == 0) refuse("no-nodelist", "The file has no nodelist with node sections, so there are no votes to set.", "use the cluster's /etc/pve/corosync.conf (pvecm create writes the nodelist)")
  group_problems("duplicate-nodeid", "nodeid", NID)
  group_problems("duplicate-node-name", "name", NNAME)
  throw_problems()
}

function group_problems(code, what, keyof,    i, k, key, order, cnt, lines) {
  split("", cnt); split("", lines); k = 0
  for (i = 1; i <= NN; i++) {
    key = keyof[i]
    if (!(key in cnt)) { k++; order[k] = key; cnt[key] = 0; lines[key] = "" }
    cnt[key]++; lines[key] = lines[key] (cnt[key] > 1 ? ", " : "") NSECLINE[i]
  }
  for (i = 1; i <= k; i++) {
    key = order[i]
    if (cnt[key] > 1) problem(code, "Nodes at lines " lines[key] " share the " what " " key ".", "give every node its own name and nodeid (fix the file by hand, then retry)")
  }
}

# The votes asked for: the layout's (set), or 1 for every node in the file (reset, like resetVotes).
function desired(    i) {
  DN = 0
  if (MODE == "set") {
    for (i = 1; i <= LN; i++) { DN++; DNAME[DN] = LNAME[i]; DSET[LNAME[i]] = LVOTES[LNAME[i]] }
  } else {
    for (i = 1; i <= NN; i++) if (!(NNAME[i] in DSET)) { DN++; DNAME[DN] = NNAME[i]; DSET[NNAME[i]] = "1" }
    NAL = 0
  }
}

function request_problems(    i, nm, known, k, all, und, diffs, have) {
  known = ""; k = 0
  for (i = 1; i <= NN; i++) {
    if (NNAME[i] in INFILE) continue
    INFILE[NNAME[i]] = i; known = known (k++ ? ", " : "") NNAME[i]
  }
  for (i = 1; i <= DN; i++) {
    nm = DNAME[i]
    if (!num_le(DSET[nm], U32)) problem("invalid-votes", "Votes for node " nm " are " DSET[nm] ", not a whole number from 0 to " U32 ".", "declare a whole number of votes (e.g. 3 for the always-on host, 1 for the others)")
    if (!(nm in INFILE)) problem("unknown-node", "Node " nm " is not in the corosync nodelist (it has: " known ").", "join it to the cluster first (pvecm add), or correct the name to the node's ` +
  "`name:`" +
  String.raw` line")
  }
  all = ""
  for (i = 1; i <= DN; i++) all = all (i > 1 ? ", " : "") DNAME[i]
  for (i = 1; i <= NAL; i++) {
    if (ALW[i] in ASEEN) continue
    ASEEN[ALW[i]] = 1; NHOLD++; HOLD[NHOLD] = ALW[i]
    if (!(ALW[i] in DSET)) problem("unknown-node", "Always-on host " ALW[i] " is not among the nodes whose votes are set (" all ").", "list only declared hosts as always-on")
  }
  und = ""
  for (i = 1; i <= NN; i++) if (!(NNAME[i] in DSET)) und = und (und == "" ? "" : ", ") NNAME[i] " (nodeid " NID[i] ")"
  if (und != "") problem("undeclared-node", "The nodelist has nodes the stack does not declare: " und ".", "declare them in the stack's hosts; to remove a host, power it off, run pulumi up --target <URN of its membership-member command> first (pvecm delnode; pulumi stack --show-urns lists URNs), then pulumi up")
  # Drift: the file's nodelist against the layout (names, nodeids, ring0 addresses).
  for (i = 1; i <= NN; i++) BYNAME[NNAME[i]] = i
  diffs = ""
  for (i = 1; i <= LN; i++) {
    nm = LNAME[i]
    if (!(nm in BYNAME)) { diffs = diffs (diffs == "" ? "" : "; ") nm " is missing"; continue }
    have = BYNAME[nm]
    if (NID[have] != LID[nm]) diffs = diffs (diffs == "" ? "" : "; ") nm " has nodeid " NID[have] ", expected " LID[nm]
    if (NADDR[have] != LADDR[nm]) diffs = diffs (diffs == "" ? "" : "; ") nm " has ring0_addr " NADDR[have] ", expected " LADDR[nm]
  }
  for (i = 1; i <= NN; i++) {
    if (INFILE[NNAME[i]] != i) continue
    if (!(NNAME[i] in LSEEN)) diffs = diffs (diffs == "" ? "" : "; ") NNAME[i] " is not expected"
  }
  if (diffs != "") problem("nodelist-drift", "The cluster's nodelist differs from the stack: " diffs ".", "make the stack's hosts match the cluster (names, nodeids, addresses) or fix the cluster with pvecm first")
  throw_problems()
}

function quorum_problems(    i, weighted, total, expected, needed, held, holders, fix) {
  weighted = 0; total = 0
  for (i = 1; i <= DN; i++) { if (DSET[DNAME[i]] != "1") weighted = 1; total += DSET[DNAME[i]] }
  if (weighted && HASDEV && DVOTES == "") problem("quorum-device-with-weighted-votes", "The file configures a quorum device without quorum.device.votes; corosync disables it when node votes are not all 1.", "use 1 vote per node with a QDevice, or remove the QDevice (pvecm qdevice remove) to use weighted votes")
  if (weighted && QLMS) problem("last-man-standing-with-weighted-votes", "quorum.last_man_standing is on, and it needs every node to vote 1 (votequorum(5)).", "turn last_man_standing off, or keep 1 vote per node")
  if (NHOLD > 0) {
    expected = (QEXP == "") ? total : QEXP + 0
    needed = int(expected / 2) + 1
    held = 0; holders = ""
    for (i = 1; i <= NHOLD; i++) { held += (HOLD[i] in DSET) ? DSET[HOLD[i]] : 0; holders = holders (i > 1 ? ", " : "") HOLD[i] }
    if (held < needed) {
      if (QEXP == "") fix = "give the always-on hosts more votes together than all other hosts (now " fmt(held) " against " fmt(total - held) ")"
      else fix = "give the always-on hosts at least " fmt(needed) " votes, or lower quorum.expected_votes"
      problem("always-on-not-quorate", "The always-on hosts (" holders ") would hold " fmt(held) " of " fmt(expected) " expected votes; quorum is " fmt(needed) ", so they could not stay quorate on their own.", fix)
    }
  }
  throw_problems()
}

function edit(    i, want, have, stale, ln, anchor, indent, cr, VA, k, eol) {
  stale = 0
  for (i = 1; i <= NN; i++) {
    want = DSET[NNAME[i]]; have = (NVOTES[i] == "") ? "1" : NVOTES[i]
    if (UNDO != "") printf "%s nodeid=%s ring0_addr=%s votes=%s\n", NNAME[i], NID[i], NADDR[i], have > UNDO
    if (WANT != "") printf "%s %s %s\n", NID[i], want, NNAME[i] > WANT
    if (want == have) continue
    stale++
    if (NVENT[i]) {
      ln = eline[NVENT[i]]
      REPL[ln] = substr(L[ln], 1, evs[NVENT[i]] - 1) want substr(L[ln], eve[NVENT[i]] + 1)
    } else {
      anchor = L[NIDLINE[i]]
      indent = anchor; sub(/[^ \t].*$/, "", indent)
      cr = (substr(anchor, length(anchor), 1) == "\r") ? "\r" : ""
      INS[NIDLINE[i]] = indent "quorum_votes: " want cr
    }
  }
  if (UNDO != "") close(UNDO)
  if (WANT != "") close(WANT)
  if (stale == 0) { print "unchanged " VB; exit 0 }
  VA = incr(VB)
  ln = eline[VENT]
  REPL[ln] = substr(L[ln], 1, evs[VENT] - 1) VA substr(L[ln], eve[VENT] + 1)
  for (k = 1; k <= n; k++) {
    eol = (k < n || FINAL == "1") ? "\n" : ""
    printf "%s%s", ((k in REPL) ? REPL[k] : L[k]), eol > OUT
    if (k in INS) printf "%s\n", INS[k] > OUT
  }
  close(OUT)
  print "changed " VB " " VA
  exit 0
}

function inspect(    t, cn, i) {
  locate_nodes()
  locate_config_version()
  t = only_section(0, "totem", "totem")
  cn = t ? only_entry(t, "cluster_name", "totem") : 0
  print "inspected " VB
  print "cluster " (cn ? evalue[cn] : "")
  for (i = 1; i <= NN; i++) print "node " NNAME[i] " " NID[i] " " NADDR[i]
  exit 0
}
`;

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
    ...votesLiveCheck(),
    ...requireNodeName(host),
    ...requireQuorate(host),
    sh`[ -f ${PVE_COROSYNC_CONF} ] || fail ${`${PVE_COROSYNC_CONF} does not exist: this host is not in a cluster yet (pvecm status); create the cluster first`}`,
    ...takeCorosyncLock(lockSeconds),
    "pvehl_tmp=$(mktemp -d /tmp/pve-homelab-votes.XXXXXX)",
    // Replaces takeCorosyncLock's trap: both the lock and the temp dir go on every exit.
    `trap 'rm -rf "$pvehl_tmp"; release_lock' EXIT`,
    'cat > "$pvehl_tmp/layout"',
    sh`cp ${PVE_COROSYNC_CONF} "$pvehl_tmp/old"`,
    "pvehl_rc=0",
    `pvehl_result=$(PVEHL_UNDO="$pvehl_tmp/undo" PVEHL_WANT="$pvehl_tmp/want" pvehl_edit ${mode} "$pvehl_tmp/old" "$pvehl_tmp/layout" "$pvehl_tmp/new"${alwaysArgs ? " " + alwaysArgs : ""}) || pvehl_rc=$?`,
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
