# pve-homelab: set the `wakeonlan:` line of a Proxmox node config (/etc/pve/nodes/<node>/config) and keep every
# other line as it is. The same rule as core/scripts/power-nodeconfig.ts setWakeOnLanLine (unit-tested to give
# the same bytes). Lines are read the way pve-common PVE::JSONSchema::parse_config reads them: trimmed, `#...`
# is the description, `KEY: VALUE` with KEY the shortest run of non-blanks before the first ':'.
#   - the first `wakeonlan:` line is replaced in place, further ones are dropped (Proxmox keeps the last);
#   - without one, the line goes before the first key that sorts after `wakeonlan` (Proxmox writes keys
#     sorted), else at the end;
#   - every line ends with a newline, as Proxmox's write_node_config writes them.
# Input: the config on stdin or as the file argument. Environment: PVEHL_WOL = the value (one line).
BEGIN { want = ENVIRON["PVEHL_WOL"]; done = 0; n = 0 }
{ line[++n] = $0 }
END {
  for (i = 1; i <= n; i++) {
    k = config_key(line[i])
    if (k == "wakeonlan") {
      if (!done) print "wakeonlan: " want
      done = 1
      continue
    }
    if (!done && k != "" && k > "wakeonlan") { print "wakeonlan: " want; done = 1 }
    print line[i]
  }
  if (!done) print "wakeonlan: " want
}

function config_key(s,    p, k) {
  sub(/^[ \t\r\f\v]+/, "", s)
  if (s == "" || substr(s, 1, 1) == "#") return ""
  p = index(s, ":")
  if (p < 2) return ""
  k = substr(s, 1, p - 1)
  if (k ~ /[ \t\r\f\v]/) return ""
  return k
}
