// Checks shared by the membership scripts that run on the always-on host.
import type { HostSpec, Model } from "../../model";
import { sh } from "../../shell";
import { hostField } from "./plan";

/**
 * The host's nodelist entry (`pvesh get /cluster/config/nodes`) must carry the declared nodeid and link0 address.
 * Neither can be changed in place (Proxmox has no command for it), so a mismatch stops with the way out.
 */
export function requireNodelistEntry(model: Model, host: HostSpec): string[] {
  const id = hostField(host, "nodeId");
  const address = hostField(host, "address");
  return [
    "pvehl_get /cluster/config/nodes",
    sh`pvehl_v=$(pvehl_fields ${`nodelist.${host.name}.nodeid`} ${`nodelist.${host.name}.ring0_addr`})`,
    'read -r pvehl_id pvehl_addr <<<"$pvehl_v"',
    sh`if [ "$pvehl_id" != ${host.nodeId} ] || [ "$pvehl_addr" != ${host.address} ]; then`,
    sh`  fail "in cluster "${model.clusterName}", "${host.name}" has nodeid $pvehl_id and link0 address $pvehl_addr ('-' = not in the nodelist), but the stack declares nodeid "${host.nodeId}" and address "${host.address}". Proxmox cannot change either in place: set the "${id}" and the "${address}" in the stack to the cluster's values (pvesh get /cluster/config/nodes), or remove the host from the cluster and the stack and add it back"`,
    "fi",
  ];
}

/** Wait (bounded) until corosync reports quorum on this host. */
export function quorumWaitHint(model: Model, host: HostSpec): string {
  return (
    `check 'corosync-quorumtool -s' and 'journalctl -b -u corosync' on ${host.name}; ` +
    `power on more hosts of cluster ${model.clusterName}, then re-run`
  );
}
