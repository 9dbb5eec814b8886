{ line = $0; sub(/\r$/, "", line); sub(/^[ \t]+/, "", line); sub(/[ \t]+$/, "", line) }
line == "" || substr(line, 1, 1) == "#" { next }
line ~ /\{$/ {
  name = line; sub(/[ \t]*\{$/, "", name)
  if (name == "node") { nodes++; name = "node#" nodes }
  path = (path == "" ? name : path "." name); next
}
line == "}" { if (index(path, ".")) sub(/\.[^.]*$/, "", path); else path = ""; next }
{
  i = index(line, ":"); if (i == 0) next
  k = substr(line, 1, i - 1); v = substr(line, i + 1); sub(/[ \t]+$/, "", k); sub(/^[ \t]+/, "", v)
  print (path == "" ? k : path "." k) "=" v
}
