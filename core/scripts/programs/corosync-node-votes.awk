match($0, /^nodelist\.node#[0-9]+\./) {
  id = substr($0, 1, RLENGTH); rest = substr($0, RLENGTH + 1); eq = index(rest, "=")
  key = substr(rest, 1, eq - 1); val = substr(rest, eq + 1)
  if (!(id in seen)) { seen[id] = 1; order[++n] = id }
  if (key == "name") name[id] = val; if (key == "quorum_votes") votes[id] = val
}
END { for (i = 1; i <= n; i++) { id = order[i]; print name[id] "=" (id in votes ? votes[id] : 1) } }
