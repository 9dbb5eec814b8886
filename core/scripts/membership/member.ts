// The per-host "member" command runs on the ALWAYS-ON host, never on the member itself:
//   create: confirm from the always-on host that the member is in the nodelist as declared, cluster quorate;
//   delete: `pvecm delnode <member>` — refused while the member is online (Proxmox requires it powered off).
// pulumi-command runs a delete on the connection of the last create/update (pulumi-command #104), so keeping
// both on the always-on host means removing a powered-off host from the stack never has to reach it.
import type { HostSpec, Model } from "../../model";
import { raw, script, sh } from "../../shell";
import { prelude, requireNodeName, requireQuorate, waitUntil } from "../lib";
import { quorumWaitHint, requireNodelistEntry } from "./checks";
import { founderOf, MEMBERSHIP_TIMEOUTS } from "./plan";
import { pveshFunctions } from "./pvesh";

/** A wait condition: the always-on host's nodelist answers and the host is (or is not) in it. */
const nodelistHas = (host: Pick<HostSpec, "name">, present: boolean): string =>
  sh`{ pvehl_try /cluster/config/nodes && [ "$(pvehl_fields ${`nodelist.${host.name}.nodeid`})" ${raw(present ? "!=" : "=")} - ]; }`;

export function memberScript(model: Model, host: HostSpec): string {
  const f = founderOf(model);
  const name = model.clusterName;
  return script(
    ...prelude(`membership-member-${host.name}`),
    ...requireNodeName(f.name),
    ...pveshFunctions(),
    ...waitUntil(
      nodelistHas(host, true),
      MEMBERSHIP_TIMEOUTS.nodelist,
      `${host.name} in the nodelist of cluster ${name} as seen from ${f.name}`,
      `check 'pvesh get /cluster/config/nodes' on ${f.name}; the join of ${host.name} may not have finished`,
    ),
    ...requireNodelistEntry(model, host),
    ...waitUntil(
      "pvehl_quorate",
      MEMBERSHIP_TIMEOUTS.quorum,
      `cluster ${name} to be quorate on ${f.name}`,
      quorumWaitHint(model, f),
    ),
    sh`say "host "${host.name}" is a member of cluster "${name}" (nodeid "${host.nodeId}", link0 "${host.address}")"`,
  );
}

export function delnodeScript(model: Model, host: HostSpec): string {
  const f = founderOf(model);
  const name = model.clusterName;
  return script(
    ...prelude(`membership-delnode-${host.name}`),
    ...requireNodeName(f.name),
    ...pveshFunctions(),
    "pvehl_get /cluster/config/nodes",
    sh`if [ "$(pvehl_fields ${`nodelist.${host.name}.nodeid`})" = - ]; then`,
    sh`  say "host "${host.name}" is not in the nodelist of cluster "${name}": nothing to remove"`,
    "  exit 0",
    "fi",
    "pvehl_get /cluster/status",
    sh`if [ "$(pvehl_fields ${`node.${host.name}.online`})" = 1 ]; then`,
    sh`  fail "host "${host.name}" is still online in cluster "${name}". Proxmox requires a node to be powered off before 'pvecm delnode', and it must not come back with its old cluster configuration. Migrate its guests away, power it off (shutdown -h now on "${host.name}"), wait until 'pvecm nodes' on "${f.name}" no longer shows it, then re-run"`,
    "fi",
    // It runs on the always-on host: lowering expected votes there is safe with weighted votes only.
    ...requireQuorate(f.name, model.quorum.mode === "weighted"),
    sh`say "removing host "${host.name}" from cluster "${name}" (pvecm delnode on "${f.name}")"`,
    sh`pvecm delnode ${host.name} >&2 || fail "pvecm delnode failed (exit $?): see its output above"`,
    ...afterDelnodeWaits(model, host),
    sh`say "host "${host.name}" removed from cluster "${name}". Before it boots again, reinstall it or separate it (Proxmox docs: 'Separate a Node Without Reinstalling'): with its old configuration it would try to rejoin"`,
  );
}

/** After `pvecm delnode`: wait (bounded) until the always-on host's nodelist no longer lists the host, then
 *  until the cluster is quorate again. */
export function afterDelnodeWaits(model: Model, host: Pick<HostSpec, "name">): string[] {
  const f = founderOf(model);
  const name = model.clusterName;
  return [
    ...waitUntil(
      nodelistHas(host, false),
      MEMBERSHIP_TIMEOUTS.nodelist,
      `${host.name} to leave the nodelist of cluster ${name}`,
      `check 'pvesh get /cluster/config/nodes' and 'journalctl -b -u pve-cluster' on ${f.name}`,
    ),
    ...waitUntil(
      "pvehl_quorate",
      MEMBERSHIP_TIMEOUTS.quorum,
      `cluster ${name} to be quorate on ${f.name}`,
      quorumWaitHint(model, f),
    ),
  ];
}
