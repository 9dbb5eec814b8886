// The stack config's shape, as a zod schema: types, ranges, defaults and per-field messages that say how
// to fix the value. Cross-field rules (duplicates, references) live in rules.ts.
import { isIPv4 } from "node:net";
import { z } from "zod";
import { POWER_PROFILES } from "../model";
import { addressProblem, canonicalAddress } from "./address";
import {
  BRIDGE,
  CHECKSUM_ALGORITHMS,
  CHECKSUM_HEX_LENGTH,
  POSIX_USER,
  SAFE_URL_CHARS,
  shown,
  storageId,
  TAG,
  TAG_MAX,
  VOLUME_FILE,
  VOLUME_FILE_MAX,
} from "./formats";
import { CLUSTER_NAME_MAX, NODE_NAME, NODE_NAME_MAX, VMID_MAX, VMID_MIN } from "./names";
import { backupJobSchema, proxmoxVersionSchema, replicationSchema, startupSchema } from "./protection";
import { publicKeyProblem } from "./sshKey";

/** A unicast host address without zone id, canonicalized (IPv6: RFC 5952) so duplicates and scripts see one form. */
const ipAddress = z
  .string()
  .superRefine((s, ctx) => {
    const problem = addressProblem(s);
    if (problem) {
      ctx.addIssue({
        code: "custom",
        message: `${shown(s)} ${problem}; write the host's LAN address, e.g. 192.168.1.21`,
      });
    }
  })
  .transform(canonicalAddress);

/** Root only: every host script runs Proxmox's root-only tools (pvecm, /etc/pve, corosync), Proxmox's own
 *  node-to-node SSH logs in as root (PVE::SSHInfo `root@<ip>`, `pvecm qdevice setup -lroot`), and the provider's
 *  disk import runs `qm`/`pvesm` as its SSH user. A sudo-based login would be half support; refuse it. */
const rootUser = (what: string) =>
  z.string({ error: `${what} must be root` }).refine((s) => s === "root", {
    error: (i) =>
      `${what} is ${shown(i.input)}, but only root is supported: the host scripts run pvecm and edit /etc/pve as root, and Proxmox's own node-to-node SSH is root@ (PVE::SSHInfo); remove ${what} (key-only root login, PermitRootLogin prohibit-password, is the Proxmox default)`,
  });

/** Port 22 only: Proxmox's node-to-node SSH (migration, pvecm, the rejoin step) uses port 22 (pvecm.adoc:
 *  "SSH tunnel on TCP port 22 between nodes is required"; PVE::SSHInfo names no port). */
const port22 = (what: string) =>
  z.literal(22, {
    error: `${what} must be 22: a Proxmox cluster needs SSH on TCP port 22 between nodes (pvecm.adoc), and the rejoin step and Proxmox's own tools use it; remove ${what}`,
  });

const nodeName = (what: string) =>
  z
    .string()
    .max(NODE_NAME_MAX, { error: `${what} is longer than ${NODE_NAME_MAX} characters (a hostname label)` })
    .regex(NODE_NAME, {
      error: (i) =>
        `${JSON.stringify(i.input)} is not a valid Proxmox node name: letters, digits and inner '-' only (a hostname label)`,
    });

const publicKeyLine = z.string().superRefine((s, ctx) => {
  const problem = publicKeyProblem(s);
  if (problem) {
    ctx.addIssue({
      code: "custom",
      message: `not a valid SSH public key line: ${problem}; get the real one with \`ssh-keyscan -t ed25519 <address>\``,
    });
  }
});

const count = (what: string, min: number) =>
  z.int({ error: `${what} must be a whole number` }).min(min, { error: `${what} must be at least ${min}` });

// pve-common PVE/JSONSchema.pm: mac-addr (unicast: the I/G bit clear), pve-iface, ipv4.
const MAC = /^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$/i;
const IFACE = /^[a-z][a-z0-9_]{1,20}([:.]\d+)?$/i;

export const wakeOnLanSchema = z.strictObject({
  mac: z.string().regex(MAC, {
    error: (i) =>
      `${JSON.stringify(i.input)} is not a unicast MAC address; write the NIC's address as XX:XX:XX:XX:XX:XX (ip link show on the host), the second digit even`,
  }),
  bindInterface: z
    .string()
    .regex(IFACE, {
      error: (i) =>
        `${JSON.stringify(i.input)} is not a network interface name (Proxmox pve-iface); write e.g. vmbr0`,
    })
    .optional(),
  broadcastAddress: z
    .string()
    .refine((s) => isIPv4(s), {
      error: (i) =>
        `${JSON.stringify(i.input)} is not an IPv4 address; write the LAN's broadcast address, e.g. 192.168.1.255`,
    })
    .optional(),
});

export const hostSchema = z.strictObject({
  name: nodeName("host name"),
  address: ipAddress,
  power: z.enum(POWER_PROFILES, { error: `power must be one of ${POWER_PROFILES.join(" | ")}` }),
  votes: z
    .int({ error: "votes must be a whole number >= 0 (corosync quorum_votes)" })
    .min(0, { error: "votes must be >= 0 (corosync quorum_votes); use 0 for a host that never counts" })
    .max(255, { error: "votes must be <= 255; keep weights small, e.g. 3/1/1" }),
  nodeId: count("nodeId", 1).optional(),
  hostKey: publicKeyLine.optional(),
  sshUser: rootUser("hosts[].sshUser").optional(),
  sshPort: port22("hosts[].sshPort").optional(),
  cores: count("cores", 1).optional(),
  memoryMiB: count("memoryMiB", 256).optional(),
  wakeOnLan: wakeOnLanSchema.optional(),
  state: z
    .enum(["on", "off"], { error: "state must be on or off (or absent: power not managed)" })
    .optional(),
  guests: z
    .enum(["shutdown", "migrate"], { error: "guests must be shutdown or migrate (what state: off does)" })
    .optional(),
});

export const retiredHostSchema = z.strictObject({
  name: nodeName("retired host name"),
  nodeId: count("nodeId", 1).optional(),
});

const qdeviceSchema = z.strictObject({
  address: ipAddress,
  hostKey: publicKeyLine,
  // The QNetd host is not a Proxmox node: another user works there, every script runs through one sudo wrapper
  // (core/scripts/qdevice asRoot). The port is checked in core/scripts/qdevice (pvecm reaches it on 22).
  sshUser: z
    .string()
    .regex(POSIX_USER, {
      error: (i) => `quorum.device.sshUser ${shown(i.input)} is not a POSIX user name ([a-z_][a-z0-9_-]*)`,
    })
    .default("root"),
  sshPort: z.int().min(1).max(65535).default(22),
  algorithm: z.enum(["ffsplit", "lms"]).optional(),
  votes: count("quorum.device.votes", 1).optional(),
});

export const quorumSchema = z.strictObject({
  mode: z
    .enum(["weighted", "qdevice", "default"], {
      error: "quorum.mode must be one of weighted | qdevice | default",
    })
    .default("weighted"),
  expectedVotes: count("quorum.expectedVotes", 1).optional(),
  twoNode: z.boolean().default(false),
  lastManStanding: z.boolean().default(false),
  autoTieBreaker: z.boolean().default(false),
  waitForAll: z.boolean().default(false),
  device: qdeviceSchema.optional(),
});

/** An IPv4 host address with its prefix length (cloud-init ipv4), e.g. 192.168.1.50/24. */
const cidr = z.string().refine(
  (s) => {
    const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(s);
    return !!m && isIPv4(m[1]!) && addressProblem(m[1]!) === undefined && Number(m[2]) <= 32;
  },
  { error: (i) => `${shown(i.input)} is not a unicast IPv4 address in CIDR form, e.g. 192.168.1.50/24` },
);

const ipv4Address = ipAddress.refine((s) => isIPv4(s), {
  error: (i) => `${shown(i.input)} is not an IPv4 address (cloudInit.ipv4 configures IPv4)`,
});

const imageSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, error: "image.url must be an http(s) URL of a cloud image" })
      .max(2048, { error: "image.url is longer than 2048 characters" })
      .regex(SAFE_URL_CHARS, {
        error: "image.url must be printable ASCII without spaces, quotes, '\\' or '<>' (percent-encode them)",
      }),
    fileName: z
      .string()
      .max(VOLUME_FILE_MAX, { error: `image.fileName is longer than ${VOLUME_FILE_MAX} characters` })
      .regex(VOLUME_FILE, {
        error: (i) =>
          `image.fileName ${shown(i.input)} is not a safe volume file name: letters, digits, '-', '_', '.', '+', '=' (pve-storage SAFE_CHAR), not starting with '.' or '-', ending in .img, .iso, .qcow2 or .raw`,
      })
      .optional(),
    checksum: z
      .string()
      .regex(/^[0-9a-fA-F]+$/, { error: "image.checksum must be a hex digest" })
      .optional(),
    checksumAlgorithm: z
      .enum(CHECKSUM_ALGORITHMS, {
        error: `image.checksumAlgorithm must be one of ${CHECKSUM_ALGORITHMS.join(" | ")}`,
      })
      .optional(),
  })
  .superRefine((img, ctx) => {
    if ((img.checksum === undefined) !== (img.checksumAlgorithm === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [img.checksum === undefined ? "checksum" : "checksumAlgorithm"],
        message:
          "image.checksum and image.checksumAlgorithm go together; set both (e.g. sha256 and its digest)",
      });
    } else if (img.checksum !== undefined && img.checksumAlgorithm !== undefined) {
      const want = CHECKSUM_HEX_LENGTH[img.checksumAlgorithm];
      if (img.checksum.length !== want) {
        ctx.addIssue({
          code: "custom",
          path: ["checksum"],
          message: `image.checksum has ${img.checksum.length} hex digits, but a ${img.checksumAlgorithm} digest has ${want}; paste the whole ${img.checksumAlgorithm} sum`,
        });
      }
    }
  });

export const vmSchema = z.strictObject({
  name: nodeName("VM name"),
  host: nodeName("vms[].host"),
  vmId: z
    .int({ error: `vmId must be a whole number from ${VMID_MIN} to ${VMID_MAX}` })
    .min(VMID_MIN, { error: `vmId must be from ${VMID_MIN} to ${VMID_MAX} (Proxmox reserves 0-99)` })
    .max(VMID_MAX, { error: `vmId must be from ${VMID_MIN} to ${VMID_MAX}` }),
  cores: count("cores", 1).default(1),
  memoryMiB: count("memoryMiB", 16).default(1024),
  diskGiB: count("diskGiB", 1).default(8),
  datastore: storageId("datastore").default("local-lvm"),
  bridge: z
    .string()
    .regex(BRIDGE, {
      error: (i) =>
        `bridge ${shown(i.input)} is not a Linux bridge name: letters, digits, '_', '.', '-' (not first), at most 15 characters, e.g. vmbr0`,
    })
    .default("vmbr0"),
  vlan: z.int().min(1).max(4094, { error: "vlan must be from 1 to 4094" }).optional(),
  cloneFrom: z
    .strictObject({ vmId: z.int().min(VMID_MIN).max(VMID_MAX), node: nodeName("cloneFrom.node").optional() })
    .optional(),
  image: imageSchema.optional(),
  cloudInit: z
    .strictObject({
      user: z
        .string()
        .regex(POSIX_USER, {
          error: (i) =>
            `cloudInit.user ${shown(i.input)} is not a POSIX user name: a lower-case letter or '_', then lower-case letters, digits, '_' or '-', at most 32 characters`,
        })
        .optional(),
      sshKeys: z.array(publicKeyLine).default([]),
      ipv4: z
        .union([z.literal("dhcp"), z.strictObject({ address: cidr, gateway: ipv4Address.optional() })])
        .default("dhcp"),
      dns: z.array(ipAddress).default([]),
    })
    .optional(),
  tags: z
    .array(
      z
        .string()
        .max(TAG_MAX, { error: `a tag is at most ${TAG_MAX} characters` })
        .regex(TAG, {
          error: (i) =>
            `tag ${shown(i.input)} is not a Proxmox tag (pve-tag): letters, digits, '_', then also '.', '+', '-'`,
        }),
    )
    .default([]),
  onBoot: z.boolean().optional(),
  started: z.boolean().optional(),
  agent: z.boolean().default(false),
  protect: z.boolean().default(false),
  alwaysOn: z.boolean().default(false),
  ha: z.boolean().default(false),
  replicateTo: z.array(replicationSchema).default([]),
  startup: startupSchema.optional(),
});

/** Keys under the `pve-homelab:` namespace. Secret keys are read by the Pulumi shell, never into the Model. */
export const configSchema = z.strictObject({
  clusterName: z
    .string({ error: "clusterName is required: the Proxmox cluster name, e.g. homelab" })
    .max(CLUSTER_NAME_MAX, {
      error: `clusterName must be at most ${CLUSTER_NAME_MAX} characters (pvecm create)`,
    })
    .regex(NODE_NAME, { error: "clusterName: letters, digits and inner '-' only (pvecm create)" }),
  hosts: z
    .array(hostSchema, { error: "hosts is required: a list of {name, address, power, votes, hostKey}" })
    .min(1, {
      error: "hosts must list at least one host",
    }),
  retiredHosts: z
    .array(retiredHostSchema, { error: "retiredHosts must be a list of {name, nodeId}" })
    .default([]),
  sharedStorage: z.array(storageId("sharedStorage[]")).default([]),
  acknowledgeQuorumRisk: z.boolean().default(false),
  dismantleOnDestroy: z.boolean().default(false),
  quorum: quorumSchema.default({
    mode: "weighted",
    twoNode: false,
    lastManStanding: false,
    autoTieBreaker: false,
    waitForAll: false,
  }),
  vms: z.array(vmSchema).default([]),
  backups: z.array(backupJobSchema).default([]),
  proxmoxVersion: proxmoxVersionSchema.optional(),
  sshUser: rootUser("sshUser").default("root"),
  proxmoxEndpoint: z
    .url({
      protocol: /^https$/,
      error: "proxmoxEndpoint must be an https URL, e.g. https://192.168.1.21:8006/",
    })
    .regex(SAFE_URL_CHARS, {
      error: "proxmoxEndpoint must be printable ASCII without spaces, quotes, '\\' or '<>'",
    })
    .refine(
      (u) => {
        const url = new URL(u);
        return url.username === "" && url.password === "";
      },
      {
        error: "proxmoxEndpoint must not carry credentials; the API token is the secret proxmoxApiToken",
      },
    )
    .optional(),
  proxmoxInsecure: z.boolean().default(false),
});

export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;

/** Secret keys: must be set with `pulumi config set --secret`; the program reads them as Output secrets. */
export const SECRET_KEYS = ["sshPrivateKey", "proxmoxApiToken", "rootPassword"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];
