// The status command's ONE read-only script: everything `npm run status` compares, collected in one SSH session
// on one always-on host. It only reads: `pvesh get` (GET requests), `cat` of files under /etc/pve,
// corosync-quorumtool / corosync-qdevice-tool status queries. No write, no lock, nothing started; every
// command bounded by `timeout`.
//
// Output: one line per section, `PVEHL-STATUS <name> <exit status> <base64 of stdout>` ("-" when empty), then
// `PVEHL-STATUS-END`. A section that fails is reported with its exit status, not fatal: the comparison says
// what it could not read. Its stderr goes to the session's stderr. core/live/facts.ts parses the lines.
import { quote, script } from "../shell";

export const STATUS_MARK = "PVEHL-STATUS";
export const STATUS_END = "PVEHL-STATUS-END";
/** Seconds any one command of the script may take. */
export const STATUS_COMMAND_SECONDS = 20;

/** The sections, in output order, and the read-only command behind each. */
export const STATUS_SECTIONS = {
  node: "hostname",
  "cluster-status": "pvesh get /cluster/status --output-format json",
  "config-nodes": "pvesh get /cluster/config/nodes --output-format json",
  resources: "pvesh get /cluster/resources --type vm --output-format json",
  "corosync-conf": "cat /etc/pve/corosync.conf",
  "quorum-status": "corosync-quorumtool -s",
  "quorum-list": "corosync-quorumtool -l",
} as const;

export type StatusSection = keyof typeof STATUS_SECTIONS | "qdevice" | `node-config:${string}`;

export interface StatusScriptOptions {
  /** The stack declares a QDevice: read its state even if corosync has none configured (then it is drift). */
  readonly qdevice: boolean;
}

/** The script, a pure function of whether the stack declares a QDevice (same stack → same bytes). */
export function statusScript(options: StatusScriptOptions): string {
  const t = `timeout ${STATUS_COMMAND_SECONDS}`;
  return script(
    "# pve-homelab status: read-only collection of the cluster's live state (nothing is written or locked).",
    `pvehl_emit() { printf '%s %s %s %s\\n' ${quote(STATUS_MARK)} "$1" "$2" "\${3:--}"; }`,
    // $1 = section name; the rest = the command. Its exit status is reported, never fatal (|| captures it).
    "pvehl_section() {",
    "  local name=$1 rc=0 out",
    "  shift",
    `  out=$(${t} "$@" | base64 -w0) || rc=$?`,
    '  pvehl_emit "$name" "$rc" "$out"',
    "}",
    ...Object.entries(STATUS_SECTIONS).map(([name, cmd]) => `pvehl_section ${name} ${cmd}`),
    // QDevice state when the stack declares one or corosync has one configured (cmap, read only).
    `if [ ${options.qdevice ? 1 : 0} = 1 ] || ${t} corosync-cmapctl -g quorum.device.model >/dev/null 2>&1; then`,
    "  pvehl_section qdevice corosync-qdevice-tool -s",
    "fi",
    // Every node's config (wakeonlan MAC etc.); node names come from the directory names, base64 like the rest.
    "for pvehl_f in /etc/pve/nodes/*/config; do",
    '  [ -e "$pvehl_f" ] || continue',
    '  pvehl_n=$(basename "$(dirname "$pvehl_f")")',
    '  case "$pvehl_n" in *[!A-Za-z0-9.-]*) continue ;; esac',
    '  pvehl_section "node-config:$pvehl_n" cat "$pvehl_f"',
    "done",
    `printf '%s\\n' ${quote(STATUS_END)}`,
  );
}
