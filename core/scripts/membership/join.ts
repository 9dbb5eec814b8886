// `pvecm add` on a host that is not in a cluster yet; nothing when it already is a member of the declared one.
// stdin: line 1 the cluster certificate's fingerprint (the create command's stdout), line 2 the root password
// of the always-on host. The password only ever travels through a pipe into pvecm: never in an argument, the
// environment, a file, or any output.
import type { HostSpec, Model } from "../../model";
import { script, sh } from "../../shell";
import { prelude, requireNodeName, waitUntil } from "../lib";
import { quorumWaitHint } from "./checks";
import { FINGERPRINT_RE } from "./create";
import { founderOf, hostField, MEMBERSHIP_TIMEOUTS } from "./plan";
import { pveshFunctions } from "./pvesh";

/** What the join command's stdin holds: the fingerprint line, then the password line. */
export function joinStdin(fingerprint: string, rootPassword: string): string {
  if (/[\r\n]/.test(rootPassword)) {
    // Never echo the value itself.
    throw new Error("rootPassword contains a line break: pvecm add reads the password as one line");
  }
  return `${fingerprint.trim()}\n${rootPassword}\n`;
}

export function joinScript(model: Model, host: HostSpec): string {
  const f = founderOf(model);
  const name = model.clusterName;
  const T = MEMBERSHIP_TIMEOUTS;
  const vms = `/etc/pve/nodes/${host.name}/qemu-server`;
  const cts = `/etc/pve/nodes/${host.name}/lxc`;
  return script(
    ...prelude(`membership-join-${host.name}`),
    ...requireNodeName(host.name),
    ...pveshFunctions(),
    'IFS= read -r pvehl_fp || fail "stdin: expected the cluster certificate fingerprint on line 1"',
    'IFS= read -r pvehl_pw || fail "stdin: expected the root password on line 2"',
    "pvehl_get /cluster/status",
    sh`pvehl_v=$(pvehl_fields cluster.name ${`node.${host.name}.nodeid`})`,
    'read -r pvehl_cluster pvehl_id <<<"$pvehl_v"',
    sh`if [ "$pvehl_cluster" = ${name} ]; then`,
    sh`  if [ "$pvehl_id" != ${host.nodeId} ]; then`,
    sh`    fail "host "${host.name}" is in cluster "${name}" with nodeid $pvehl_id, but the stack declares "${host.nodeId}": set the "${hostField(host, "nodeId")}" in the stack to $pvehl_id (Proxmox cannot change a nodeid in place)"`,
    "  fi",
    sh`  say "host "${host.name}" is already a member of cluster "${name}": nothing to join"`,
    'elif [ "$pvehl_cluster" != - ]; then',
    sh`  fail "host "${host.name}" is already in cluster '$pvehl_cluster', not "${name}". Joining would overwrite its /etc/pve. Take it out of that cluster first (pvecm delnode on a member of it, then reinstall "${host.name}" or separate it as in the Proxmox docs 'Separate a Node Without Reinstalling'), or remove it from the stack"`,
    "else",
    // Proxmox refuses a node with guests (their configs live in the /etc/pve that the join replaces).
    "  shopt -s nullglob",
    sh`  pvehl_guests=(${vms}/*.conf ${cts}/*.conf)`,
    "  shopt -u nullglob",
    '  if [ "${#pvehl_guests[@]}" -gt 0 ]; then',
    '    pvehl_ids=$(for g in "${pvehl_guests[@]}"; do b=${g##*/}; printf "%s " "${b%.conf}"; done)',
    sh`    fail "host "${host.name}" holds \${#pvehl_guests[@]} guest(s) (VM/CT ids: \${pvehl_ids% }). Joining a cluster replaces /etc/pve, so Proxmox refuses a node with guests. Back them up (vzdump) and remove them (qm destroy / pct destroy), restore them once the host is in the cluster, then re-run"`,
    "  fi",
    `  [[ $pvehl_fp =~ ${FINGERPRINT_RE} ]] || fail "stdin line 1 is not a SHA-256 fingerprint (AA:BB:...): $pvehl_fp"`,
    sh`  say "joining "${host.name}" to cluster "${name}" through "${f.name}" ("${f.address}"): nodeid "${host.nodeId}", votes "${host.votes}", link0 "${host.address}`,
    "  pvehl_rc=0",
    sh`  printf '%s\\n' "$pvehl_pw" | timeout --kill-after=10 ${T.join} pvecm add ${f.address} --nodeid ${host.nodeId} --votes ${host.votes} --link0 ${`address=${host.address}`} --fingerprint "$pvehl_fp" >&2 || pvehl_rc=$?`,
    "  unset pvehl_pw",
    '  if [ "$pvehl_rc" -eq 124 ]; then',
    sh`    fail "pvecm add did not finish within "${T.join}"s. Check 'pvecm status' and 'journalctl -b -u corosync -u pve-cluster' on "${host.name}"; re-running is safe (a host that did join is only checked)"`,
    '  elif [ "$pvehl_rc" -ne 0 ]; then',
    sh`    fail "pvecm add failed (exit $pvehl_rc), see its output above. Usual causes: rootPassword is not the root password of "${f.name}"; the certificate of "${f.name}" changed since the cluster was created (a renewed pveproxy-ssl.pem): re-read it with 'pulumi up --replace' on the membership create command; nodeid "${host.nodeId}" or address "${host.address}" already used in the cluster; "${host.name}" still listed in the cluster (run 'pvecm delnode "${host.name}"' on "${f.name}" first)"`,
    "  fi",
    "fi",
    "unset pvehl_pw",
    sh`pvehl_joined() { pvehl_try /cluster/status && [ "$(pvehl_fields cluster.name ${`node.${host.name}.online`} cluster.quorate 2>/dev/null)" = ${`${name} 1 1`} ]; }`,
    ...waitUntil(
      "pvehl_joined",
      T.quorum,
      `${host.name} to be online in quorate cluster ${name}`,
      quorumWaitHint(model, host),
    ),
    sh`say "host "${host.name}" is online in cluster "${name}", which is quorate"`,
  );
}
