// The status command's ONE read-only script: everything `npm run status` compares, collected in one SSH session
// on one always-on host. It only reads: `pvesh get` (GET requests), `cat` of files under /etc/pve,
// corosync-quorumtool / corosync-qdevice-tool status queries. No write, no lock, nothing started; every
// command bounded by `timeout`.
//
// Output: one line per section, `PVEHL-STATUS <name> <exit status> <base64 of stdout>` ("-" when empty), then
// `PVEHL-STATUS-END` (so a cut session is noticed). A section that fails is reported with its exit status, not fatal: the comparison says
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

/**
 * The script, a pure function of whether the stack declares a QDevice (same stack → same bytes). The reads run
 * in parallel (each pvesh call starts Perl and takes a while): every section is a process substitution with its
 * own pipe, read back in order, so nothing is written anywhere, not even a temp file, and every reader has
 * finished when the script ends.
 */
export function statusScript(options: StatusScriptOptions): string {
  const t = `timeout ${STATUS_COMMAND_SECONDS}`;
  return script(
    "# pve-homelab status: read-only collection of the cluster's live state (nothing is written or locked).",
    // One section: its exit status (never fatal: || captures it) and its stdout in base64, on one line.
    "pvehl_capture() {",
    "  local rc=0 out",
    `  out=$(${t} "$@" | base64 -w0) || rc=$?`,
    `  printf '%s %s\n' "$rc" "\${out:--}"`,
    "}",
    "pvehl_names=() pvehl_fds=()",
    'pvehl_start() { local name=$1 fd; shift; exec {fd}< <(pvehl_capture "$@"); pvehl_names+=("$name"); pvehl_fds+=("$fd"); }',
    ...Object.entries(STATUS_SECTIONS).map(([name, cmd]) => `pvehl_start ${name} ${cmd}`),
    // QDevice state when the stack declares one or corosync has one configured (cmap, read only).
    `if [ ${options.qdevice ? 1 : 0} = 1 ] || ${t} corosync-cmapctl -g quorum.device.model >/dev/null 2>&1; then`,
    "  pvehl_start qdevice corosync-qdevice-tool -s",
    "fi",
    // Every node's config (wakeonlan MAC etc.); node names come from the directory names.
    "for pvehl_f in /etc/pve/nodes/*/config; do",
    '  [ -e "$pvehl_f" ] || continue',
    '  pvehl_n=$(basename "$(dirname "$pvehl_f")")',
    '  case "$pvehl_n" in *[!A-Za-z0-9.-]*) continue ;; esac',
    '  pvehl_start "node-config:$pvehl_n" cat "$pvehl_f"',
    "done",
    'for pvehl_i in "${!pvehl_names[@]}"; do',
    "  pvehl_fd=${pvehl_fds[$pvehl_i]}",
    "  pvehl_rc=255 pvehl_data=-",
    '  read -r pvehl_rc pvehl_data <&"$pvehl_fd" || true',
    `  printf '%s %s %s %s\n' ${quote(STATUS_MARK)} "\${pvehl_names[$pvehl_i]}" "$pvehl_rc" "$pvehl_data"`,
    "  exec {pvehl_fd}<&-",
    "done",
    `printf '%s\n' ${quote(STATUS_END)}`,
  );
}
