// Formats of the values that reach a host or the Proxmox provider, after Proxmox's own (pve-common
// PVE::JSONSchema, pve-storage PVE::Storage). Where Proxmox is looser than what is safe in a shell (the bpg
// provider splices some of them unquoted into commands it runs as root on a node, e.g. `datastore_id_target=`
// in createCustomDisk), these are stricter: ASCII only, no leading '-' or '.', bounded length.
import { z } from "zod";

/** pve-common parse_id (format 'pve-storage-id'): `^[a-z][a-z0-9\-_.]*[a-z0-9]$`i, at least 2 characters. */
export const STORAGE_ID = /^[a-zA-Z][a-zA-Z0-9_.-]*[a-zA-Z0-9]$/;
export const STORAGE_ID_MAX = 64;

/** A storage id field (vms[].datastore, sharedStorage, backups[].storage). bpg's disk import puts storage ids
 *  into shell commands unquoted: never widen this. */
export const storageId = (field: string) =>
  z
    .string({ error: `${field} must be a Proxmox storage id, e.g. local-lvm` })
    .max(STORAGE_ID_MAX, { error: `${field} is longer than ${STORAGE_ID_MAX} characters` })
    .regex(STORAGE_ID, {
      error: (i) =>
        `${field} ${shown(i.input)} is not a Proxmox storage id: 2+ characters, a letter first, then letters, digits, - _ . (ending in a letter or digit); use the ID column of \`pvesm status\``,
    });

/** pve-common parse_bridge_id ('pve-bridge-id', `^[-_.\w\d]+$`), narrowed to ASCII, no leading '-' or '.',
 *  and the Linux interface-name limit (IFNAMSIZ - 1 = 15). */
export const BRIDGE = /^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,14}$/;

/** pve-common PVE_TAG_RE ('pve-tag'): `[a-z0-9_][a-z0-9_\-\+\.]*`i; bounded here. */
export const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9_+.-]*$/;
export const TAG_MAX = 64;

/** pve-storage SAFE_CHAR_CLASS_RE (`[a-zA-Z0-9\-\.\+\=\_]`) for volume file names, not starting with '.' or '-',
 *  ending in an image extension. */
export const VOLUME_FILE = /^[a-zA-Z0-9_+=][a-zA-Z0-9_.+=-]*\.(img|iso|qcow2|raw)$/;
export const VOLUME_FILE_MAX = 200;

/** Hex digest length per checksum algorithm (what Proxmox's download-url verifies). */
export const CHECKSUM_HEX_LENGTH = {
  md5: 32,
  sha1: 40,
  sha224: 56,
  sha256: 64,
  sha384: 96,
  sha512: 128,
} as const;
export type ChecksumAlgorithm = keyof typeof CHECKSUM_HEX_LENGTH;
export const CHECKSUM_ALGORITHMS = Object.keys(CHECKSUM_HEX_LENGTH) as ChecksumAlgorithm[];

/** POSIX portable user name (shadow's default NAME_REGEX, no trailing '$'), at most 32 characters. */
export const POSIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;

/** A URL handed to Proxmox: printable ASCII without spaces, quotes, backslashes or angle brackets. */
export const SAFE_URL_CHARS = /^[\x21\x23-\x26\x28-\x3b\x3d\x3f-\x5b\x5d-\x7e]+$/;

/** Describes a value for an error message without echoing control characters or an overlong input. */
export function shown(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 80 ? `${s.slice(0, 60)}…" (${String(value).length} characters)` : s;
}
