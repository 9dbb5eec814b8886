// The stack's VMs on @muhlba91/pulumi-proxmoxve 8.x (bpg provider): one explicit provider, one shared cloud-image
// download per (host, image url), one VmLegacy per VM. Placement rules are core/placement's; this file only maps
// a valid Model to resource inputs, and each provider pitfall it works around is commented where it is handled.
import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { Model, VmSpec } from "../core/model";
import { pinProviderHostKeys } from "./knownHosts";
import { proxmoxProvider, type ProxmoxCredentials } from "./proxmoxProvider";

export type DiskFormat = "raw" | "qcow2";

export interface VirtualMachinesArgs {
  /** The validated stack: every `vms` entry becomes a VM; hosts and `proxmox` configure the provider. */
  readonly model: Model;
  /** Proxmox API token "USER@REALM!TOKENID=UUID" (secret). Defaults to none: the provider reads PROXMOX_VE_API_TOKEN. */
  readonly apiToken?: pulumi.Input<string>;
  /** SSH private key for the provider's node access (cloud-image disk import). Defaults to none (SSH agent/env). */
  readonly sshPrivateKey?: pulumi.Input<string>;
  /** File storage that holds downloaded cloud images (content type `iso` must be enabled). Defaults to "local". */
  readonly imageDatastore?: string;
  /** Disk format per datastore name. Defaults to "raw" for every datastore (valid on every storage type). */
  readonly diskFormats?: Readonly<Record<string, DiskFormat>>;
  /** Per host name: resources everything registered on that host waits for (its power step, HostPower). */
  readonly hostDependsOn?: Readonly<Record<string, readonly pulumi.Resource[]>>;
}

/** What a user checks after `pulumi up`, per VM name. */
export interface VmSummary {
  /** Provider id of the VM (its vmId as a string). */
  readonly id: string;
  /** Proxmox node the VM is on (nodeName). */
  readonly host: string;
  /** Guest IPv4 addresses reported by the QEMU agent (loopback dropped); empty when the agent is off. */
  readonly ipv4Addresses: string[];
}

/** Operation timeouts in seconds. The provider defaults most to 1800 s; these fail a stuck step sooner. */
export const VM_TIMEOUTS = {
  timeoutCreate: 900,
  // Full clones copy the whole disk, across nodes when the template lives elsewhere.
  timeoutClone: 1800,
  // Migrating VMs on local storage copies their disks over the network.
  timeoutMigrate: 1800,
  timeoutStartVm: 300,
  timeoutShutdownVm: 300,
  timeoutStopVm: 120,
  timeoutReboot: 300,
} as const;

/** A bounded agent wait: with the agent enabled but not running in the guest, create/refresh would hang 15 min (bpg #164). */
export const AGENT_TIMEOUT = "2m";

/** Full-clone retries: Proxmox times out now and then when several clones run at once. */
export const CLONE_RETRIES = 3;

// pulumi-proxmoxve #664: 8.6.0 reports an all-zero disk `speed` block on every preview whether or not one is set
// (a perpetual update). This component never manages disk throttling, so that one nested field is ignored.
export const VM_IGNORE_CHANGES = ["disks[*].speed"];

/** One download per (host, image url), shared by the VMs on that host. */
export interface ImageDownload {
  readonly key: string;
  readonly host: string;
  readonly url: string;
  readonly fileName: string;
  readonly checksum?: string;
  readonly checksumAlgorithm?: string;
}

export function imageKey(host: string, url: string): string {
  return `${host} ${url}`;
}

/** The downloads the Model needs, in first-use order. core/placement refuses conflicting image settings. */
export function imageDownloads(model: Model): ImageDownload[] {
  const out = new Map<string, ImageDownload>();
  for (const vm of model.vms) {
    if (!vm.image) continue;
    const key = imageKey(vm.host, vm.image.url);
    if (!out.has(key)) out.set(key, { key, host: vm.host, ...vm.image });
  }
  return [...out.values()];
}

/** `iso` storage content accepts only .img/.iso names; others (".qcow2") get ".img" appended (as the provider's own examples do). */
export function isoFileName(fileName: string): string {
  return /\.(img|iso)$/i.test(fileName) ? fileName : `${fileName}.img`;
}

export function imageDownloadArgs(image: ImageDownload, datastoreId: string): proxmoxve.download.FileArgs {
  return {
    nodeName: image.host,
    datastoreId,
    // `iso` + the disk's `fileId` (qm importdisk over the provider's SSH) rather than `import` + `importFrom`:
    // `import` content is not enabled on any storage by default (and needs PVE 8.4), while `iso` is on "local"
    // everywhere. The cost: the import runs `qm importdisk` over the provider's SSH, hence its ssh settings.
    contentType: "iso",
    url: image.url,
    fileName: isoFileName(image.fileName),
    checksum: image.checksum,
    checksumAlgorithm: image.checksumAlgorithm,
    // A "latest" URL changes size upstream; with overwrite the provider would replace the file on a later
    // `up`, and a create-before-delete replacement of the same file name deletes the new copy. The image only
    // matters when a VM is created, so keep the first download.
    overwrite: false,
    uploadTimeout: 1800,
  };
}

export interface VmInputs {
  /** The image download's file id ("local:iso/name.img"), for a cloud-image VM. */
  readonly imageFileId?: pulumi.Input<string>;
  readonly diskFormats: Readonly<Record<string, DiskFormat>>;
}

/** The VmLegacy inputs for one VM: a pure function of the VmSpec (and the image file id). */
export function vmArgs(vm: VmSpec, inputs: VmInputs): proxmoxve.VmLegacyArgs {
  // raw is the only format block storages (LVM, LVM-thin, ZFS, Ceph RBD) take, and dir/NFS storages take it
  // too; qcow2 (snapshots on file storage) only when declared for that datastore. Without it the provider
  // imports cloud images as qcow2, which fails on LVM-thin (the default local-lvm).
  const fileFormat = inputs.diskFormats[vm.datastore] ?? "raw";
  return {
    nodeName: vm.host,
    vmId: vm.vmId,
    name: vm.name,
    // bpg #2081: changing nodeName replaces the VM (destroying its disks) unless `migrate` is set; with it a
    // host change, and the nodeName diff left by an HA failover or a manual migration, is a migration to the
    // declared host. #1256/#2071 report replacements despite it; the VM therefore never gets
    // deleteBeforeReplace, so such a replacement fails creating a duplicate vmId instead of deleting first.
    // bpg #2545: the target needs a storage of the same name (vms[].datastore) unless it is shared.
    migrate: true,
    clone: vm.cloneFrom && {
      vmId: vm.cloneFrom.vmId,
      // The template's node must be named when it is not the VM's node (core/config defaults it to the host).
      nodeName: vm.cloneFrom.node,
      datastoreId: vm.datastore,
      // Linked clones tie the VM to the template's storage and node; migration needs independent disks.
      full: true,
      retries: CLONE_RETRIES,
    },
    cpu: { cores: vm.cores, type: "x86-64-v2-AES" },
    memory: { dedicated: vm.memoryMiB },
    disks: [
      {
        interface: "scsi0",
        datastoreId: vm.datastore,
        size: vm.diskGiB,
        fileFormat,
        fileId: inputs.imageFileId,
      },
    ],
    networkDevices: [{ bridge: vm.bridge, model: "virtio", vlanId: vm.vlan }],
    initialization: vm.cloudInit && {
      datastoreId: vm.datastore,
      userAccount:
        vm.cloudInit.user !== undefined || vm.cloudInit.sshKeys.length > 0
          ? { username: vm.cloudInit.user, keys: [...vm.cloudInit.sshKeys] }
          : undefined,
      ipConfigs: [
        {
          ipv4:
            vm.cloudInit.ipv4 === "dhcp"
              ? { address: "dhcp" }
              : { address: vm.cloudInit.ipv4.address, gateway: vm.cloudInit.ipv4.gateway },
        },
      ],
      dns: vm.cloudInit.dns.length > 0 ? { servers: [...vm.cloudInit.dns] } : undefined,
    },
    // Sent explicitly either way, so a clone never silently keeps an agent its template enabled. Enabled only
    // when asked, with a bounded wait (bpg #164: enabled without a running agent hangs create/refresh 15 min).
    agent: vm.agent ? { enabled: true, timeout: AGENT_TIMEOUT } : { enabled: false },
    started: vm.started,
    onBoot: vm.onBoot,
    // bpg #742: Proxmox lower-cases and sorts tags; any other order is a diff on every preview. core/config
    // already normalises them; sorted again here so this function alone guarantees it.
    tags: [...vm.tags].sort(),
    protection: vm.protect,
    // Start/stop order on its host (Proxmox skips HA-managed VMs here; core/protection warns about it).
    // Left out when undeclared: the provider then keeps Proxmox's default (no order).
    startup: vm.startup && {
      order: vm.startup.order,
      upDelay: vm.startup.upDelay,
      downDelay: vm.startup.downDelay,
    },
    // Destroying a VM whose guest ignores ACPI would wait out timeoutShutdownVm; it is being deleted anyway.
    stopOnDestroy: true,
    ...VM_TIMEOUTS,
  };
}

/** Agent-reported addresses per interface → a flat list without loopback. */
export function guestIpv4(perInterface: readonly (readonly string[])[] | undefined): string[] {
  return (perInterface ?? []).flat().filter((a) => a !== "" && !a.startsWith("127."));
}

export class VirtualMachines extends pulumi.ComponentResource {
  /** Per VM name: id, host and agent-reported IPv4 addresses. */
  public readonly vms: pulumi.Output<Record<string, VmSummary>>;
  /** The VM resources by VM name, for dependsOn. */
  public readonly machines: Readonly<Record<string, proxmoxve.VmLegacy>>;
  /** Cloud-image downloads by imageKey(host, url). */
  public readonly images: Readonly<Record<string, proxmoxve.download.File>>;
  /** The explicit provider; undefined when the stack declares no VMs and no backup jobs. */
  public readonly provider?: proxmoxve.Provider;

  constructor(name: string, args: VirtualMachinesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pve-homelab:vms:VirtualMachines", name, {}, opts);
    const built = createVirtualMachines(name, args, this);
    this.provider = built.provider;
    this.images = built.images;
    this.machines = built.machines;
    this.vms = built.vms;
    this.registerOutputs({ vms: this.vms });
  }
}

export interface BuiltVms {
  readonly provider?: proxmoxve.Provider;
  readonly images: Readonly<Record<string, proxmoxve.download.File>>;
  readonly machines: Readonly<Record<string, proxmoxve.VmLegacy>>;
  readonly vms: pulumi.Output<Record<string, VmSummary>>;
}

/** The work behind the component (children of `parent`), callable on its own. */
export function createVirtualMachines(
  name: string,
  args: VirtualMachinesArgs,
  parent: pulumi.Resource,
): BuiltVms {
  const { model } = args;
  const images: Record<string, proxmoxve.download.File> = {};
  const machines: Record<string, proxmoxve.VmLegacy> = {};
  if (model.vms.length === 0 && (model.backups ?? []).length === 0) {
    // No provider either: a provider is configured at registration, and without VMs or backup jobs (and
    // maybe without an API token) that would fail for nothing.
    return { images, machines, vms: pulumi.output<Record<string, VmSummary>>({}) };
  }
  const creds: ProxmoxCredentials = { apiToken: args.apiToken, sshPrivateKey: args.sshPrivateKey };
  // Before the provider exists: its first SSH connection to a node must find the pinned key (core/knownHosts).
  pinProviderHostKeys(model);
  const provider = proxmoxProvider(`${name}-provider`, model, creds, { parent });
  // bpg #692: reading a VM or file on a powered-off node fails with HTTP 595, so `pulumi refresh` /
  // `up --refresh` fails while a usually-off host is off. Nothing in the inputs can avoid it: run `up` without
  // --refresh then (a normal `up` does not read untouched resources), or wake the host first.
  const childOpts: pulumi.CustomResourceOptions = { parent, provider };
  const imageDatastore = args.imageDatastore ?? "local";
  // A VM or image on a managed host waits for that host's power step (which wakes it when declared on).
  const onHosts = (...hosts: string[]): pulumi.CustomResourceOptions => {
    const deps = [...new Set(hosts)].flatMap((h) => args.hostDependsOn?.[h] ?? []);
    return deps.length ? { ...childOpts, dependsOn: deps } : childOpts;
  };
  for (const image of imageDownloads(model)) {
    images[image.key] = new proxmoxve.download.File(
      `${name}-image-${image.host}-${image.fileName}`,
      imageDownloadArgs(image, imageDatastore),
      onHosts(image.host),
    );
  }
  const diskFormats = args.diskFormats ?? {};
  const summaries: Record<string, pulumi.Output<VmSummary>> = {};
  for (const vm of model.vms) {
    const image = vm.image && images[imageKey(vm.host, vm.image.url)];
    // The name leaves the host out on purpose: a host change must stay the same resource (a migration).
    const machine = new proxmoxve.VmLegacy(
      `${name}-${vm.name}`,
      vmArgs(vm, { imageFileId: image?.id, diskFormats }),
      { ...onHosts(vm.host, ...(vm.cloneFrom ? [vm.cloneFrom.node] : [])), ignoreChanges: VM_IGNORE_CHANGES },
    );
    machines[vm.name] = machine;
    summaries[vm.name] = pulumi.output({
      id: machine.id,
      host: machine.nodeName,
      ipv4Addresses: vm.agent ? machine.ipv4Addresses.apply(guestIpv4) : [],
    });
  }
  const vms: pulumi.Output<Record<string, VmSummary>> = pulumi.output(summaries);
  return { provider, images, machines, vms };
}
