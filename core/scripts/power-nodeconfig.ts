// The `wakeonlan` line of each declared host's Proxmox node config (/etc/pve/nodes/<node>/config), written
// through the always-on host: the file lives in the cluster file system, so a live member can write it while
// the target is off, and then the PVE UI's Wake-on-LAN button and `pvenode wakeonlan` work too.
//
// Format (pve-manager PVE/NodeConfig.pm): `wakeonlan: <mac>[,bind-interface=<iface>][,broadcast-address=<ipv4>]`
// (the default key `mac` printed first without its name, the others sorted, as print_property_string does).
// `pvenode wakeonlan X` reads the MAC from X's config and bind-interface / broadcast-address from the SENDING
// node's own config, which must then carry a MAC too (Proxmox's format requires it).
//
// Lock: Proxmox edits a node config under PVE::NodeConfig::lock_config, a flock on /var/lock/pvenode.lock
// (10 s) of the node doing the edit, then writes `<file>.tmp.<pid>` and renames it (PVE::File
// file_set_contents). The script does the same on the always-on host and re-reads the file before the rename:
// an edit made meanwhile elsewhere fails the run instead of being overwritten.
import type { HostSpec, WakeOnLanSpec } from "../model";
import { quote, raw, script, sh } from "../shell";
import { prelude, requireNodeName, requireQuorate } from "./lib";
import { hostProgramArgument } from "./programs";

export const NODE_CONFIG_LOCK = "/var/lock/pvenode.lock";
export const NODE_CONFIG_LOCK_SECONDS = 10;
export const nodeConfigPath = (node: string): string => `/etc/pve/nodes/${node}/config`;

/** The awk program that does the edit on the host (same rule as setWakeOnLanLine). */
export const nodeConfigAwk = (): string => hostProgramArgument("node-config-wakeonlan.awk");

/** The value Proxmox would print for these settings. */
export function wakeOnLanValue(w: WakeOnLanSpec): string {
  const parts = [w.mac];
  if (w.bindInterface !== undefined) parts.push(`bind-interface=${w.bindInterface}`);
  if (w.broadcastAddress !== undefined) parts.push(`broadcast-address=${w.broadcastAddress}`);
  const value = parts.join(",");
  if (!/^[0-9A-Za-z:.,=_-]+$/.test(value)) throw new Error(`not a wakeonlan value: ${JSON.stringify(value)}`);
  return value;
}

/** parse_config's key of one line, or "" for description comments, blanks and other lines. */
function configKey(line: string): string {
  const s = line.replace(/^[ \t\r\f\v]+/, "");
  if (s === "" || s.startsWith("#")) return "";
  const p = s.indexOf(":");
  if (p < 1) return "";
  const key = s.slice(0, p);
  return /[ \t\r\f\v]/.test(key) ? "" : key;
}

/**
 * The node config with its `wakeonlan:` line set to `value`, every other line kept: the first existing
 * wakeonlan line is replaced in place (later ones dropped), else the line goes before the first key sorting
 * after "wakeonlan", else at the end. Every line ends with "\n" (what write_node_config writes).
 */
export function setWakeOnLanLine(text: string, value: string): string {
  if (value.includes("\n")) throw new Error("a wakeonlan value is one line");
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const out: string[] = [];
  let done = false;
  for (const line of lines) {
    const key = configKey(line);
    if (key === "wakeonlan") {
      if (!done) out.push(`wakeonlan: ${value}`);
      done = true;
      continue;
    }
    if (!done && key !== "" && Buffer.compare(Buffer.from(key), Buffer.from("wakeonlan")) > 0) {
      out.push(`wakeonlan: ${value}`);
      done = true;
    }
    out.push(line);
  }
  if (!done) out.push(`wakeonlan: ${value}`);
  return out.map((l) => `${l}\n`).join("");
}

/** The MAC `pvenode wakeonlan` would read from a node config (its wakeonlan line's default key), if any. */
export function wakeOnLanMac(text: string): string | undefined {
  let value: string | undefined;
  for (const line of text.split("\n")) {
    if (configKey(line) !== "wakeonlan") continue;
    value = line.slice(line.indexOf(":") + 1).trim(); // parse_config: the last line wins
  }
  if (value === undefined) return undefined;
  const first = value.split(",").find((p) => !p.includes("=") || p.startsWith("mac="));
  return first?.replace(/^mac=/, "") || undefined;
}

const LINE = /^[a-zA-Z0-9][a-zA-Z0-9-]* [0-9A-Za-z:.,=_-]+$/;

/** stdin of the node config command: one `NAME VALUE` line per host that declares wakeOnLan, sorted. */
export function wakeOnLanLayout(hosts: readonly Pick<HostSpec, "name" | "wakeOnLan">[]): string {
  const lines = hosts
    .filter((h) => h.wakeOnLan !== undefined)
    .map((h) => `${h.name} ${wakeOnLanValue(h.wakeOnLan!)}`)
    .sort();
  for (const l of lines) if (!LINE.test(l)) throw new Error(`bad wakeonlan layout line: ${l}`);
  return lines.length ? lines.join("\n") + "\n" : "";
}

/**
 * Run on the always-on host `sender`: for every stdin line `NAME VALUE`, set NAME's wakeonlan line. Only
 * nodes of the cluster (their /etc/pve/nodes/NAME directory exists); unchanged files are not written.
 */
export function wakeOnLanConfigScript(sender: string): string {
  return script(
    "# pve-homelab: the wakeonlan line of each node config (stdin: `NAME VALUE` lines), through this host.",
    ...prelude(`pve-homelab/wakeonlan@${sender}`),
    ...requireNodeName(sender),
    ...requireQuorate(sender),
    `pvehl_awk=${quote(nodeConfigAwk())}`,
    sh`exec 9>>${NODE_CONFIG_LOCK}`,
    sh`flock -w ${NODE_CONFIG_LOCK_SECONDS} 9 || fail "the node config lock ${raw(NODE_CONFIG_LOCK)} is held for ${NODE_CONFIG_LOCK_SECONDS}s (pvenode config set running?); re-run"`,
    "pvehl_tmp=$(mktemp -d /tmp/pve-homelab-wol.XXXXXX)",
    `trap 'rm -rf "$pvehl_tmp"' EXIT`,
    'cat > "$pvehl_tmp/layout"',
    "pvehl_n=0",
    "while read -r pvehl_node pvehl_value; do",
    "  [[ $pvehl_node =~ ^[A-Za-z0-9][A-Za-z0-9-]*$ && $pvehl_value =~ ^[0-9A-Za-z:.,=_-]+$ ]] ||",
    '    fail "stdin line is not NAME VALUE: $pvehl_node $pvehl_value"',
    '  pvehl_dir="/etc/pve/nodes/$pvehl_node"',
    '  [ -d "$pvehl_dir" ] || fail "$pvehl_node is not a node of this cluster ($pvehl_dir is missing): join it first, or fix hosts[].name"',
    '  pvehl_conf="$pvehl_dir/config"',
    '  if [ -f "$pvehl_conf" ]; then cp "$pvehl_conf" "$pvehl_tmp/old"; else : > "$pvehl_tmp/old"; fi',
    '  PVEHL_WOL=$pvehl_value LC_ALL=C awk "$pvehl_awk" "$pvehl_tmp/old" > "$pvehl_tmp/new"',
    '  if [ -f "$pvehl_conf" ] && cmp -s "$pvehl_tmp/new" "$pvehl_conf"; then',
    '    echo "wakeonlan of $pvehl_node already set: $pvehl_value"',
    "    continue",
    "  fi",
    // PVE::File::file_set_contents: <file>.tmp.<pid>, then rename.
    '  cat "$pvehl_tmp/new" > "$pvehl_conf.tmp.$$"',
    '  if [ -f "$pvehl_conf" ] && ! cmp -s "$pvehl_conf" "$pvehl_tmp/old"; then',
    '    rm -f "$pvehl_conf.tmp.$$"',
    '    fail "$pvehl_conf changed while this run edited it; nothing written for $pvehl_node, re-run"',
    "  fi",
    '  mv -f "$pvehl_conf.tmp.$$" "$pvehl_conf"',
    "  pvehl_n=$((pvehl_n + 1))",
    '  echo "wakeonlan of $pvehl_node set: $pvehl_value ($pvehl_conf)"',
    'done < "$pvehl_tmp/layout"',
    'say "done: $pvehl_n node config(s) written"',
  );
}
