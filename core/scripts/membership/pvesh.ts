// Reading Proxmox's machine-readable cluster state in a host script: `pvesh get ... --output-format json`, parsed
// by Perl's core JSON::PP (Proxmox VE is written in Perl, so both are on every host; jq is not). Never human output.
import { quote } from "../../shell";
import { hostProgramArgument } from "../programs";

/**
 * Flattens the JSON arrays of `/cluster/status` and `/cluster/config/nodes` into keys and prints the values of the
 * keys given as arguments, space separated, "-" for an absent key:
 *   cluster.name cluster.quorate cluster.version cluster.nodes   (entry of type "cluster")
 *   node.<name>.nodeid node.<name>.online node.<name>.ip          (entries of type "node")
 *   local                                                         (name of the node answering)
 *   nodelist.<name>.nodeid nodelist.<name>.ring0_addr nodelist.<name>.quorum_votes   (/cluster/config/nodes)
 * JSON booleans and Perl's 1/0 both print as 1/0. Values are reduced to one plain token.
 */
export const PVESH_FIELDS_PERL = hostProgramArgument("pvesh-fields.pl");

/**
 * Shell functions for reading cluster state:
 *   pvehl_get PATH      → $pvehl_json = `pvesh get PATH --output-format json`; fails the script when pvesh fails
 *   pvehl_try PATH      → the same, but only returns non-zero (for wait conditions)
 *   pvehl_fields KEY... → the values of the keys in $pvehl_json (see PVESH_FIELDS_PERL)
 *   pvehl_quorate       → exit 0 only when corosync reports quorum (`corosync-quorumtool -s` exits 2 when not)
 */
export function pveshFunctions(): string[] {
  return [
    'pvehl_json=""',
    "pvehl_get() {",
    '  pvehl_json=$(pvesh get "$1" --output-format json) ||',
    '    fail "pvesh get $1 failed: is pve-cluster running on $(hostname)? (systemctl status pve-cluster)"',
    "}",
    'pvehl_try() { pvehl_json=$(pvesh get "$1" --output-format json 2>/dev/null); }',
    `pvehl_fields() { printf '%s' "$pvehl_json" | perl -MJSON::PP -e ${quote(PVESH_FIELDS_PERL)} "$@"; }`,
    "pvehl_quorate() { corosync-quorumtool -s >/dev/null 2>&1; }",
  ];
}
