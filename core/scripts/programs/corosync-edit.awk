# pve-homelab corosync.conf engine (awk port of core/corosync: parse, queries, setVotes/resetVotes, the quorum
# options edit, and core/quorum/safety's checks on the file about to be written)
BEGIN {
  U32 = "4294967295"; U8 = "255"; SAFE = "9007199254740991"
  MODE = ENVIRON["PVEHL_MODE"]; FINAL = ENVIRON["PVEHL_FINAL"]; NULLINE = ENVIRON["PVEHL_NUL"] + 0
  OUT = ENVIRON["PVEHL_OUT"]; UNDO = ENVIRON["PVEHL_UNDO"]; WANT = ENVIRON["PVEHL_WANT"]
  NAL = split(ENVIRON["PVEHL_ALWAYS"], ALW, " ")
  LIVE = ("PVEHL_LIVE_MEMBERS" in ENVIRON)
  NLM = LIVE ? split(ENVIRON["PVEHL_LIVE_MEMBERS"], LMEM, " ") : 0
  LDEV = (ENVIRON["PVEHL_LIVE_DEVICE"] == "1")
  NQK = split("expected_votes two_node last_man_standing auto_tie_breaker wait_for_all", QKEY, " ")
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
  PFIX["missing-section-name"] = "write the section name before '{', e.g. `totem {`"
  PFIX["extra-after-open-brace"] = "nothing may follow '{' on its line; move it to the next line"
  PFIX["section-path-too-long"] = "the dotted section path must stay under 254 bytes; shorten the names"
  PFIX["empty-key"] = "write a key before ':', e.g. `quorum_votes: 1`"
  PFIX["key-path-too-long"] = "the dotted key path must stay under 254 bytes; shorten the key"
  PFIX["extra-around-close-brace"] = "'}' must stand alone on its line (comments only on lines of their own)"
  PFIX["unexpected-close-brace"] = "remove the extra '}' or open the section it closes"
  PFIX["not-section-or-key"] = "each line must be `name {`, `}`, `key: value`, a `#` comment or blank"
  PFIX["missing-close-brace"] = "add the '}' that closes the last open section"
  PFIX["nul-byte"] = "remove the NUL byte (corosync would silently cut the line there)"
  ns = 0; ne = 0; n = 0; cur = 0; sbytes[0] = 0; PN = 0; DN = 0; perr = ""
  if (MODE != "set" && MODE != "reset" && MODE != "inspect") bad_input("unknown mode " MODE)
}

# ---- the layout (stdin of the vote push) ----
FILENAME == ARGV[1] && $0 ~ /^quorum / {
  if ($0 !~ /^quorum (expected_votes|two_node|last_man_standing|auto_tie_breaker|wait_for_all)=[0-9]+$/) bad_input("stdin line " (LN + QLN + 1) " is not \"quorum KEY=N\" with a quorum option this project writes: " json($0))
  QLN++
  split(substr($0, 8), f, "=")
  if (f[1] in QW) bad_input("stdin sets quorum option " f[1] " twice")
  if (!num_le(canon(f[2]), f[1] == "expected_votes" ? U32 : U8)) bad_input("stdin quorum option " f[1] " is out of range: " f[2])
  QW[f[1]] = canon(f[2])
  next
}

FILENAME == ARGV[1] {
  LN++
  if ($0 !~ /^[^ =]+ nodeid=[0-9]+ ring0_addr=[^ ]+ votes=[0-9]+$/) bad_input("stdin line " (LN + QLN) " is not \"NAME nodeid=N ring0_addr=ADDR votes=V\": " json($0))
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
      problem("node-missing-field", "The " where " has no " missing " line.", "give every node `name`, `nodeid` and `ring0_addr` lines, as pvecm writes them")
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
  if (!VENT) refuse("config-version-missing", "totem has no config_version line, so the change could not be announced to the other nodes.", "add `config_version: 1` to the totem section (pvecm always writes one)")
  v = evalue[VENT]
  if (v !~ /^[0-9]+$/ || num_le(SAFE, canon(v))) refuse("config-version-invalid", "totem.config_version on line " eline[VENT] " is " json(v) ", not a plain whole number.", "set it to a decimal number such as `config_version: 4`")
  VB = canon(v)
}

function read_quorum(    q, d, net, e, k) {
  HASDEV = 0; DVOTES = ""
  q = only_section(0, "quorum", "quorum")
  QSEC = q
  if (!q) return
  only_entry(q, "provider", "quorum")
  for (k = 1; k <= NQK; k++) {
    e = only_entry(q, QKEY[k], "quorum")
    QENT[QKEY[k]] = e
    if (e) QHAVE[QKEY[k]] = number_of(e, "quorum." QKEY[k], k == 1 ? U32 : U8)
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
    # Back to what Proxmox writes: none of the stack's quorum options, and no weighted checks.
    NAL = 0; split("", QW)
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
    if (!(nm in INFILE)) problem("unknown-node", "Node " nm " is not in the corosync nodelist (it has: " known ").", "join it to the cluster first (pvecm add), or correct the name to the node's `name:` line")
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
  if (und != "") problem("undeclared-node", "The nodelist has nodes the stack does not declare: " und ".", "declare them in the stack's hosts; to remove a host, power it off and list it in retiredHosts (the retire step runs pvecm delnode before this push, in the same pulumi up)")
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

function quorum_problems(    i, weighted) {
  weighted = 0
  for (i = 1; i <= DN; i++) if (DSET[DNAME[i]] != "1") weighted = 1
  if (weighted && HASDEV && DVOTES == "") problem("quorum-device-with-weighted-votes", "The file configures a quorum device without quorum.device.votes; corosync disables it when node votes are not all 1.", "use 1 vote per node with a QDevice, or remove the QDevice (pvecm qdevice remove) to use weighted votes")
  if (weighted && on("last_man_standing")) problem("last-man-standing-with-weighted-votes", "quorum.last_man_standing is on, and it needs every node to vote 1 (votequorum(5)).", "turn last_man_standing off, or keep 1 vote per node")
  arith()
  weighted_problems()
  throw_problems()
}

# ---- core/quorum: layoutArithmetic, evaluate, afterReload and safety.ts, on the file about to be written ----
function on(k) { return (k in QW) && QW[k] != "0" }
function max2(a, b) { return a > b ? a : b }
function thr(e, members) { return (A_TWO && members <= 2) ? 1 : (int(e / 2) + 1) % 256 }

function arith(    i, explicit) {
  A_SUM = 0; A_LOW = ""
  for (i = 1; i <= NN; i++) {
    A_SUM += DSET[NNAME[i]]
    if (A_LOW == "" || NID[i] + 0 < A_LOW + 0) A_LOW = NID[i]
  }
  A_DEV = HASDEV
  A_DV = !HASDEV ? 0 : (DVOTES != "" ? DVOTES + 0 : max2(A_SUM - 1, 0))
  explicit = on("expected_votes")
  A_CONF = explicit ? QW["expected_votes"] + 0 : A_SUM + ((HASDEV && DVOTES == "") ? A_DV : 0)
  A_WFA = on("wait_for_all") || on("two_node")
  A_TWO = on("two_node") && !on("auto_tie_breaker")
  A_ATB = on("auto_tie_breaker") && !(A_SUM % 2 == 1 && !A_WFA)
  A_EXP = max2(A_CONF, A_SUM + A_DV)
}

# The hosts named in UP (and the device when deviceUp): EV_VOTES, EV_Q, EV_QUORATE, EV_COLD (and the cold
# start's expected votes and quorum, EV_CEXP and EV_CQ).
function evaluate(deviceUp,    i, cnt, nt, casts, members, full, fq, q, quorate, low, ce) {
  cnt = 0; nt = 0; low = 0; EV_CEXP = 0; EV_CQ = 0
  for (i = 1; i <= NN; i++) if (NNAME[i] in UP) { cnt++; nt += DSET[NNAME[i]]; if (NID[i] == A_LOW) low = 1 }
  casts = A_DEV && deviceUp
  EV_VOTES = nt + (casts ? A_DV : 0)
  members = cnt + (casts ? 1 : 0)
  EV_Q = thr(A_EXP, members)
  EV_QUORATE = 0; EV_COLD = 0
  if (cnt == 0) return
  full = A_SUM + (A_DEV ? A_DV : 0)
  fq = (!A_WFA || full == A_EXP) && full >= thr(A_EXP, NN + (A_DEV ? 1 : 0))
  q = EV_Q
  quorate = (A_WFA && !fq) ? 0 : (EV_VOTES >= q)
  if (!quorate && A_ATB && fq) quorate = (EV_VOTES == int(A_EXP / 2) && NN - cnt < q && low)
  ce = max2(A_CONF, nt + A_DV)
  EV_CEXP = ce; EV_CQ = thr(ce, members)
  EV_COLD = A_WFA ? (EV_VOTES == ce && EV_VOTES >= EV_CQ) : (EV_VOTES >= EV_CQ)
  EV_QUORATE = quorate
}

function weighted_problems(    i, holders, held, others, fix, cold) {
  if (NHOLD == 0) return
  split("", UP); holders = ""
  for (i = 1; i <= NHOLD; i++) { UP[HOLD[i]] = 1; holders = holders (i > 1 ? ", " : "") HOLD[i] }
  evaluate(0)
  held = EV_VOTES
  if (!EV_QUORATE) {
    if (A_DEV) fix = "remove the quorum device (pvecm qdevice remove; quorum.mode: weighted does that first), or give the always-on hosts enough votes for quorum with the device down"
    else if (on("expected_votes")) fix = "give the always-on hosts at least " fmt(EV_Q) " votes, or lower quorum.expectedVotes"
    else fix = "give the always-on hosts more votes together than all other hosts (now " fmt(held) " against " fmt(A_SUM - held) ")"
    problem("always-on-not-quorate", "The always-on hosts (" holders ") would hold " fmt(held) " of " fmt(A_EXP) " expected votes" (A_DEV ? " (" fmt(A_EXP) " counts the quorum device's " fmt(A_DV) " vote(s))" : "") "; quorum is " fmt(EV_Q) ", so they could not stay quorate on their own.", fix)
  }
  split("", UP); others = ""
  for (i = 1; i <= NN; i++) if (!(NNAME[i] in ASEEN)) { UP[NNAME[i]] = 1; others = others (others == "" ? "" : ", ") NNAME[i] }
  if (others == "") return
  evaluate(1)
  if (EV_QUORATE || EV_COLD) {
    if (on("expected_votes")) fix = "remove quorum.expectedVotes (the node votes then set expected votes), or give the always-on hosts more votes than all other hosts together"
    else fix = "give the always-on hosts more votes than all other hosts together (and no twoNode/autoTieBreaker that hands the others quorum), or use quorum.mode: qdevice"
    cold = !EV_QUORATE
    problem("others-quorate-without-always-on", "Without the always-on hosts, the others (" others ") would hold " fmt(EV_VOTES) " of " fmt(cold ? EV_CEXP : A_EXP) " expected votes" (A_DEV ? " with the quorum device" : "") "; quorum is " fmt(cold ? EV_CQ : EV_Q) (cold ? " when they boot without the always-on hosts" : "") ", so they could be quorate on their own while the always-on hosts are too: two sides writing /etc/pve (split brain).", fix)
  }
}

# afterReload: the members corosync reports now, under the new file.
function live_problems(    i, k, m, seen, nt, who, byid, casts, expected, votes, count, q) {
  for (i = 1; i <= NN; i++) byid[NID[i]] = i
  nt = 0; who = ""; count = 0
  for (k = 1; k <= NLM; k++) {
    m = canon(LMEM[k])
    who = who (k > 1 ? ", " : "") ((m in byid) ? NNAME[byid[m]] : "nodeid " m)
    if (m in seen) continue
    seen[m] = 1; count++
    if (m in byid) nt += DSET[NNAME[byid[m]]]
  }
  casts = A_DEV && LDEV
  expected = max2(A_CONF, nt + A_DV)
  votes = nt + (casts ? A_DV : 0)
  count += casts ? 1 : 0
  q = (A_TWO && count <= 2) ? 1 : (int(expected / 2) + 1) % 256
  if (NLM > 0 && votes >= q) return
  refuse("live-members-not-quorate", "The hosts corosync reports as members right now (" (who == "" ? "none" : who) ") would hold " fmt(votes) " of " fmt(expected) " expected votes under the new file" (casts ? " (the quorum device's votes included)" : "") "; quorum would be " fmt(q) ", so they would lose quorum and /etc/pve would turn read-only.", "power on the other hosts and wait until `pvecm status` lists them as members, then re-run; the change itself is fine once they are up")
}

# core/corosync/quorum-options.ts editQuorumOptions: the managed keys become exactly QW. Returns the changes.
function quorum_edit(    k, key, e, i, anchor, direct, indent, cr, changes, want, prev) {
  changes = 0
  if (!QSEC) {
    for (key in QW) refuse("quorum-section-missing", "The file has no quorum section, so the quorum options of the stack have nowhere to go.", "add `quorum {` with `provider: corosync_votequorum` and `}` (pvecm always writes it)")
    return 0
  }
  direct = 0
  for (i = 1; i <= ne; i++) if (eparent[i] == QSEC) direct = i
  anchor = direct ? eline[direct] : sline[QSEC]
  indent = L[anchor]; sub(/[^ \t].*$/, "", indent)
  if (!direct) indent = indent "  "
  cr = (substr(L[anchor], length(L[anchor]), 1) == "\r") ? "\r" : ""
  for (k = 1; k <= NQK; k++) {
    key = QKEY[k]; e = QENT[key]; want = (key in QW) ? QW[key] : ""
    if (!e) {
      if (want == "") continue
      # (the old value is read first: awks create INS[anchor] before evaluating the right-hand side)
      prev = (anchor in INS) ? INS[anchor] "\n" : ""
      INS[anchor] = prev indent key ": " want cr
    } else if (want == "") {
      DEL[eline[e]] = 1
    } else if (QHAVE[key] != want) {
      REPL[eline[e]] = substr(L[eline[e]], 1, evs[e] - 1) want substr(L[eline[e]], eve[e] + 1)
    } else continue
    changes++
  }
  return changes
}

function edit(    i, want, have, stale, ln, anchor, indent, cr, VA, k, eol, qchanges) {
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
  if (UNDO != "") for (k = 1; k <= NQK; k++) if (QENT[QKEY[k]]) printf "quorum %s=%s\n", QKEY[k], QHAVE[QKEY[k]] > UNDO
  if (UNDO != "") close(UNDO)
  if (WANT != "") close(WANT)
  qchanges = quorum_edit()
  if (stale == 0 && qchanges == 0) { print "unchanged " VB; exit 0 }
  # Only a write can take quorum away: the live members are checked against the file about to be written.
  if (LIVE) live_problems()
  VA = incr(VB)
  ln = eline[VENT]
  REPL[ln] = substr(L[ln], 1, evs[VENT] - 1) VA substr(L[ln], eve[VENT] + 1)
  for (k = 1; k <= n; k++) {
    eol = (k < n || FINAL == "1") ? "\n" : ""
    if (!(k in DEL)) printf "%s%s", ((k in REPL) ? REPL[k] : L[k]), eol > OUT
    if (k in INS) printf "%s\n", INS[k] > OUT
  }
  close(OUT)
  print "changed " VB " " VA
  exit 0
}

function inspect(    t, cn, i, q, pv) {
  locate_nodes()
  locate_config_version()
  t = only_section(0, "totem", "totem")
  cn = t ? only_entry(t, "cluster_name", "totem") : 0
  q = only_section(0, "quorum", "quorum")
  pv = q ? only_entry(q, "provider", "quorum") : 0
  print "inspected " VB
  print "cluster " (cn ? evalue[cn] : "")
  print "provider " (pv ? evalue[pv] : "")
  for (i = 1; i <= NN; i++) print "node " NNAME[i] " " NID[i] " " NADDR[i]
  exit 0
}
