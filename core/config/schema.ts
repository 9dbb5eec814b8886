// The stack config's shape, as a zod schema: types, ranges, defaults and per-field messages that say how
// to fix the value. Cross-field rules (duplicates, references) live in rules.ts.
import { isIP } from "node:net";
import { z } from "zod";
import { POWER_PROFILES } from "../model";
import { CLUSTER_NAME_MAX, NODE_NAME, NODE_NAME_MAX, VMID_MAX, VMID_MIN } from "./names";
import { backupJobSchema, proxmoxVersionSchema, replicationSchema, startupSchema } from "./protection";
import { publicKeyProblem } from "./sshKey";

const ipAddress = z.string().refine((s) => isIP(s) !== 0, {
  error: (i) =>
    `${JSON.stringify(i.input)} is not an IPv4/IPv6 address; write the host's LAN address, e.g. 192.168.1.21`,
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
    .refine((s) => isIP(s) === 4, {
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
  sshUser: z.string().min(1).optional(),
  sshPort: z.int().min(1).max(65535).optional(),
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
  sshUser: z.string().min(1).default("root"),
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

const cidr = z.string().refine((s) => /^[^/]+\/\d{1,3}$/.test(s) && isIP(s.split("/")[0] ?? "") !== 0, {
  error: (i) => `${JSON.stringify(i.input)} is not an address in CIDR form, e.g. 192.168.1.50/24`,
});

export const vmSchema = z.strictObject({
  name: nodeName("VM name"),
  host: z.string(),
  vmId: z
    .int({ error: `vmId must be a whole number from ${VMID_MIN} to ${VMID_MAX}` })
    .min(VMID_MIN, { error: `vmId must be from ${VMID_MIN} to ${VMID_MAX} (Proxmox reserves 0-99)` })
    .max(VMID_MAX, { error: `vmId must be from ${VMID_MIN} to ${VMID_MAX}` }),
  cores: count("cores", 1).default(1),
  memoryMiB: count("memoryMiB", 16).default(1024),
  diskGiB: count("diskGiB", 1).default(8),
  datastore: z.string().min(1).default("local-lvm"),
  bridge: z.string().min(1).default("vmbr0"),
  vlan: z.int().min(1).max(4094, { error: "vlan must be from 1 to 4094" }).optional(),
  cloneFrom: z
    .strictObject({ vmId: z.int().min(VMID_MIN).max(VMID_MAX), node: z.string().optional() })
    .optional(),
  image: z
    .strictObject({
      url: z.url({ protocol: /^https?$/, error: "image.url must be an http(s) URL of a cloud image" }),
      fileName: z.string().optional(),
      checksum: z.string().optional(),
      checksumAlgorithm: z.enum(["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]).optional(),
    })
    .optional(),
  cloudInit: z
    .strictObject({
      user: z.string().optional(),
      sshKeys: z.array(publicKeyLine).default([]),
      ipv4: z
        .union([z.literal("dhcp"), z.strictObject({ address: cidr, gateway: ipAddress.optional() })])
        .default("dhcp"),
      dns: z.array(ipAddress).default([]),
    })
    .optional(),
  tags: z
    .array(
      z.string().regex(/^[a-zA-Z0-9_][a-zA-Z0-9_.+-]*$/, { error: "tags: letters, digits, _ . + - only" }),
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
  sharedStorage: z.array(z.string().min(1)).default([]),
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
  sshUser: z.string().min(1).default("root"),
  proxmoxEndpoint: z
    .url({
      protocol: /^https$/,
      error: "proxmoxEndpoint must be an https URL, e.g. https://192.168.1.21:8006/",
    })
    .optional(),
  proxmoxInsecure: z.boolean().default(false),
});

export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;

/** Secret keys: must be set with `pulumi config set --secret`; the program reads them as Output secrets. */
export const SECRET_KEYS = ["sshPrivateKey", "proxmoxApiToken", "rootPassword"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];
