// Name rules Proxmox itself enforces, so a bad name fails here and not half-way through `pvecm create`.

/** pve-common PVE::JSONSchema pve_verify_node_name (format 'pve-node'): a hostname label. */
export const NODE_NAME = /^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)$/;
/** DNS label limit; Proxmox node names are hostnames. */
export const NODE_NAME_MAX = 63;
/** pvecm create: cluster names use the node-name format and are at most 15 characters (pve-cluster). */
export const CLUSTER_NAME_MAX = 15;
/** pve-common pve_verify_vmid: 100 ..= 999999999. */
export const VMID_MIN = 100;
export const VMID_MAX = 999_999_999;
