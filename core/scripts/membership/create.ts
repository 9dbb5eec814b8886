// `pvecm create` on the always-on host, or nothing when it already runs the declared cluster. Its stdout is one
// line: the SHA-256 fingerprint of the certificate pveproxy serves there, which every join pins.
import type { Model } from "../../model";
import { script, sh } from "../../shell";
import { prelude, requireNodeName, waitUntil } from "../lib";
import { requireNodelistEntry, quorumWaitHint } from "./checks";
import { founderOf, MEMBERSHIP_TIMEOUTS } from "./plan";
import { pveshFunctions } from "./pvesh";

/** Format of `pvecm add --fingerprint` (pve-common's fingerprint-sha256). */
export const FINGERPRINT_RE = "^([0-9A-F]{2}:){31}[0-9A-F]{2}$";

export function createClusterScript(model: Model): string {
  const f = founderOf(model);
  const name = model.clusterName;
  const dir = `/etc/pve/nodes/${f.name}`;
  return script(
    ...prelude("membership-create"),
    ...requireNodeName(f.name),
    ...pveshFunctions(),
    "pvehl_get /cluster/status",
    "pvehl_cluster=$(pvehl_fields cluster.name)",
    'if [ "$pvehl_cluster" = - ]; then',
    sh`  say "creating cluster "${name}" on "${f.name}": nodeid "${f.nodeId}", votes "${f.votes}", link0 "${f.address}`,
    sh`  pvecm create ${name} --nodeid ${f.nodeId} --votes ${f.votes} --link0 ${`address=${f.address}`} >&2 ||`,
    '    fail "pvecm create failed (exit $?): see its output above"',
    sh`elif [ "$pvehl_cluster" != ${name} ]; then`,
    sh`  fail "host "${f.name}" is already in cluster '$pvehl_cluster', but the stack declares clusterName "${name}". A Proxmox cluster cannot be renamed in place: set clusterName to '$pvehl_cluster' to manage that cluster, or take "${f.name}" out of it first"`,
    "else",
    sh`  say "host "${f.name}" is already in cluster "${name}": nothing to create"`,
    "fi",
    ...waitUntil(
      "pvehl_quorate",
      MEMBERSHIP_TIMEOUTS.quorum,
      `cluster ${name} to be quorate on ${f.name}`,
      quorumWaitHint(model, f),
    ),
    ...requireNodelistEntry(model, f),
    // What pveproxy serves, as `pvecm add` checks it: pveproxy-ssl.pem (custom/ACME) if present, else pve-ssl.pem.
    sh`pvehl_cert=${`${dir}/pveproxy-ssl.pem`}`,
    sh`[ -f "$pvehl_cert" ] || pvehl_cert=${`${dir}/pve-ssl.pem`}`,
    sh`[ -f "$pvehl_cert" ] || fail "no certificate in "${dir}": run 'pvecm updatecerts' on "${f.name}" and re-run"`,
    'pvehl_fp=$(openssl x509 -in "$pvehl_cert" -noout -fingerprint -sha256) || fail "openssl cannot read $pvehl_cert"',
    "pvehl_fp=${pvehl_fp#*=}",
    `[[ $pvehl_fp =~ ${FINGERPRINT_RE} ]] || fail "unexpected fingerprint format from openssl: $pvehl_fp"`,
    sh`say "cluster "${name}" is quorate; certificate $pvehl_cert has fingerprint $pvehl_fp"`,
    'printf "%s\\n" "$pvehl_fp"',
  );
}
