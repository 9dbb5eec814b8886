// Retiring a host (config `retiredHosts`): `pvecm delnode` on the ALWAYS-ON host, as a create step that runs in
// the same `pulumi up` BEFORE the vote push (which depends on it), so one run leaves the nodelist without the host
// and pushes the remaining votes. Pulumi would run a removed member command's delete only after every update, when
// the vote push has already refused the undeclared node; an explicit step has a place in the dependency graph.
//
// stdin is one readable line naming the host (what `pulumi preview` shows); the script checks it. The step
//   - does nothing when the host is not in the nodelist (already removed: idempotent, safe to re-run);
//   - refuses when the nodelist entry has another nodeid than the declared one (never removes the wrong node);
//   - refuses while the host is online (Proxmox requires it powered off before delnode);
//   - refuses unless the cluster is quorate now and the online members stay quorate without the host's votes;
//   - runs `pvecm delnode` bounded in time, then waits (bounded) until the nodelist no longer lists the host and
//     the cluster is quorate again.
import type { Model, RetiredHostSpec } from "../../model";
import { quote, script, sh } from "../../shell";
import { prelude, requireNodeName, requireQuorate } from "../lib";
import { hostProgramArgument } from "../programs";
import { afterDelnodeWaits } from "./member";
import { founderOf } from "./plan";
import { pveshFunctions } from "./pvesh";

/** Seconds `pvecm delnode` may take (it takes the cluster lock and rewrites corosync.conf: normally ~1 s). */
export const DELNODE_SECONDS = 120;

/** The retire step's stdin: one line saying what it removes, shown in `pulumi preview`. */
export function retireStdin(model: Model, host: RetiredHostSpec): string {
  const id = host.nodeId === undefined ? "" : ` (nodeid ${host.nodeId})`;
  return `remove ${host.name}${id} from cluster ${model.clusterName}: pvecm delnode ${host.name} on ${founderOf(model).name}\n`;
}

export function retireScript(model: Model, host: RetiredHostSpec): string {
  const f = founderOf(model);
  const name = model.clusterName;
  const expectedLine = retireStdin(model, host).trimEnd();
  return script(
    ...prelude(`membership-retire-${host.name}`),
    ...requireNodeName(f.name),
    ...pveshFunctions(),
    'IFS= read -r pvehl_line || pvehl_line=""',
    sh`[ "$pvehl_line" = ${expectedLine} ] || fail "stdin must be the line "${expectedLine}", got: $pvehl_line"`,
    "pvehl_get /cluster/config/nodes",
    "pvehl_nodes=$pvehl_json",
    sh`pvehl_id=$(pvehl_fields ${`nodelist.${host.name}.nodeid`})`,
    'if [ "$pvehl_id" = - ]; then',
    sh`  say "host "${host.name}" is not in the nodelist of cluster "${name}": nothing to remove"`,
    sh`  echo ${`${host.name}: not a member of cluster ${name}`}`,
    "  exit 0",
    "fi",
    ...(host.nodeId === undefined
      ? []
      : [
          sh`if [ "$pvehl_id" != ${host.nodeId} ]; then`,
          sh`  fail "host "${host.name}" has nodeid $pvehl_id in cluster "${name}", but retiredHosts declares nodeid "${host.nodeId}": nothing was removed. Check 'pvesh get /cluster/config/nodes' on "${f.name}" and fix the nodeId in retiredHosts (or drop it)"`,
          "fi",
        ]),
    "pvehl_get /cluster/status",
    "pvehl_status=$pvehl_json",
    sh`if [ "$(pvehl_fields ${`node.${host.name}.online`})" = 1 ]; then`,
    sh`  fail "host "${host.name}" is still online in cluster "${name}"; nothing was removed. Proxmox requires a node to be powered off before 'pvecm delnode', and it must not come back with its old cluster configuration. Migrate its guests away, power it off (shutdown -h now on "${host.name}"), wait until 'pvecm nodes' on "${f.name}" no longer shows it, then re-run"`,
    "fi",
    ...requireQuorate(f.name),
    // The live check: votes of the members online now against the quorum the nodelist will have without the host.
    "pvehl_override=$(corosync-cmapctl -g quorum.expected_votes 2>/dev/null) && pvehl_override=${pvehl_override##* } || pvehl_override=-",
    `pvehl_after=$(printf '%s\\n%s\\n' "$pvehl_nodes" "$pvehl_status" | perl -MJSON::PP -e ${quote(hostProgramArgument("retire-quorum.pl"))} ${quote(host.name)} "$pvehl_override") ||`,
    '  fail "could not compute the quorum without the host from pvesh output"',
    'read -r pvehl_expected pvehl_quorum pvehl_live <<<"$pvehl_after"',
    'if [ "$pvehl_live" -lt "$pvehl_quorum" ]; then',
    sh`  fail "removing "${host.name}" would leave the online members of cluster "${name}" with $pvehl_live of $pvehl_expected expected votes, below the quorum of $pvehl_quorum; nothing was removed. Power on more hosts and re-run"`,
    "fi",
    sh`say "removing host "${host.name}" (nodeid $pvehl_id) from cluster "${name}" with pvecm delnode on "${f.name}"; afterwards: expected $pvehl_expected, quorum $pvehl_quorum, online $pvehl_live"`,
    "pvehl_rc=0",
    sh`timeout --kill-after=10 ${DELNODE_SECONDS} pvecm delnode ${host.name} >&2 || pvehl_rc=$?`,
    'if [ "$pvehl_rc" -eq 124 ]; then',
    sh`  fail "pvecm delnode did not finish within "${DELNODE_SECONDS}"s: check 'journalctl -b -u pve-cluster -u corosync' on "${f.name}"; re-running is safe"`,
    'elif [ "$pvehl_rc" -ne 0 ]; then',
    '  fail "pvecm delnode failed (exit $pvehl_rc): see its output above; re-running is safe"',
    "fi",
    ...afterDelnodeWaits(model, host),
    sh`say "host "${host.name}" removed from cluster "${name}". Reinstall it (or separate it) before it boots on this network again"`,
    sh`echo ${`${host.name}: removed from cluster ${name}`}`,
  );
}
