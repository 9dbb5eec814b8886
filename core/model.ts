// The validated, frozen description of one stack. Everything below core/ reads this, never raw config.
// No Pulumi import here or anywhere under core/: these are plain values, tested directly.

export type PowerProfile = "always-on" | "sometimes-on" | "usually-off";
export const POWER_PROFILES: readonly PowerProfile[] = ["always-on", "sometimes-on", "usually-off"];

/** Declared power of a host that is not always on: the power step wakes it (Wake-on-LAN) or shuts it down. */
export type PowerState = "on" | "off";
/** What `off` does with the host's running guests: Proxmox's own ordered stop, or migrate them first. */
export type GuestPolicy = "shutdown" | "migrate";

/** The host's `wakeonlan` line in /etc/pve/nodes/<node>/config (pve-manager PVE/NodeConfig.pm). */
export interface WakeOnLanSpec {
  /** Unicast MAC of the NIC that wakes the host (Proxmox format mac-addr). */
  readonly mac: string;
  /** Used when THIS host sends a packet (pve-manager >= 8.1.9): interface to bind to. */
  readonly bindInterface?: string;
  /** Used when THIS host sends a packet: IPv4 broadcast address (Proxmox default 255.255.255.255). */
  readonly broadcastAddress?: string;
}

/** weighted: uneven quorum_votes (the homelab trick); qdevice: 1 vote each plus an external QNetd vote;
 *  default: 1 vote each, plain corosync majority. */
export type QuorumMode = "weighted" | "qdevice" | "default";

export interface HostSpec {
  /** Proxmox node name (the host's hostname). */
  readonly name: string;
  /** corosync link0 address and SSH address. */
  readonly address: string;
  readonly power: PowerProfile;
  /** corosync quorum_votes for this node. */
  readonly votes: number;
  /** corosync nodeid; defaults to the 1-based position in the hosts list. */
  readonly nodeId: number;
  /** Pinned SSH host key line ("ssh-ed25519 AAAA..."); required for any SSH action on this host. */
  readonly hostKey?: string;
  readonly sshUser: string;
  readonly sshPort: number;
  /** Capacity for VM placement checks; undefined = not checked. */
  readonly cores?: number;
  readonly memoryMiB?: number;
  /** Wake-on-LAN settings, written to the node config through the always-on host. */
  readonly wakeOnLan?: WakeOnLanSpec;
  /** Declared power state; undefined = power not managed. Never set on an always-on host. */
  readonly state?: PowerState;
  /** What `state: off` does with running guests; undefined = "shutdown". */
  readonly guests?: GuestPolicy;
}

/** A host that leaves the cluster: `pvecm delnode` on the always-on host, before the votes are pushed. */
export interface RetiredHostSpec {
  /** Proxmox node name as in the cluster's nodelist. */
  readonly name: string;
  /** When set, the nodelist entry must carry this nodeid (a guard against removing the wrong node). */
  readonly nodeId?: number;
}

export interface QDeviceSpec {
  readonly address: string;
  readonly hostKey: string;
  readonly sshUser: string;
  readonly sshPort: number;
  readonly algorithm: "ffsplit" | "lms";
  /** quorum.device.votes; undefined = corosync's default for the algorithm. */
  readonly votes?: number;
}

export interface QuorumSpec {
  readonly mode: QuorumMode;
  /** quorum.expected_votes override; undefined = sum of votes (what Proxmox writes). */
  readonly expectedVotes?: number;
  readonly twoNode: boolean;
  readonly lastManStanding: boolean;
  readonly autoTieBreaker: boolean;
  readonly waitForAll: boolean;
  readonly device?: QDeviceSpec;
}

export interface VmSpec {
  readonly name: string;
  readonly host: string;
  readonly vmId: number;
  readonly cores: number;
  readonly memoryMiB: number;
  readonly diskGiB: number;
  readonly datastore: string;
  readonly bridge: string;
  readonly vlan?: number;
  readonly cloneFrom?: { readonly vmId: number; readonly node: string };
  readonly image?: {
    readonly url: string;
    readonly fileName: string;
    readonly checksum?: string;
    readonly checksumAlgorithm?: string;
  };
  readonly cloudInit?: {
    readonly user?: string;
    readonly sshKeys: readonly string[];
    readonly ipv4: "dhcp" | { readonly address: string; readonly gateway?: string };
    readonly dns: readonly string[];
  };
  readonly tags: readonly string[];
  readonly onBoot: boolean;
  readonly started: boolean;
  readonly agent: boolean;
  readonly protect: boolean;
  readonly alwaysOn: boolean;
  readonly ha: boolean;
  /** Storage replication jobs (local ZFS), job number = position: Proxmox id `<vmId>-<position>`.
   *  Always set by core/config; optional so hand-built models stay valid (undefined = none). */
  readonly replicateTo?: readonly ReplicationSpec[];
  /** Start/stop order on its host; undefined = Proxmox's default (no order). */
  readonly startup?: StartupSpec;
}

export interface ReplicationSpec {
  /** Target node. */
  readonly host: string;
  /** Proxmox calendar event; default "*\/15". */
  readonly schedule: string;
  /** MB/s; undefined = unlimited. */
  readonly rate?: number;
}

export interface StartupSpec {
  readonly order?: number;
  /** Seconds to wait after starting this VM before the next one starts. */
  readonly upDelay?: number;
  /** Seconds to wait after stopping this VM before the next one stops (also its shutdown timeout). */
  readonly downDelay?: number;
}

export interface BackupRetention {
  readonly keepAll?: boolean;
  readonly keepLast?: number;
  readonly keepHourly?: number;
  readonly keepDaily?: number;
  readonly keepWeekly?: number;
  readonly keepMonthly?: number;
  readonly keepYearly?: number;
}

export interface BackupJobSpec {
  /** Proxmox job id. */
  readonly id: string;
  /** Proxmox calendar event. */
  readonly schedule: string;
  readonly storage: string;
  /** The cluster host that serves the storage, when it is one. */
  readonly storageHost?: string;
  readonly mode: "snapshot" | "suspend" | "stop";
  readonly compress: "0" | "1" | "gzip" | "lzo" | "zstd";
  /** "all" guests, or the names of the VMs covered. */
  readonly vms: "all" | readonly string[];
  /** undefined = the storage's own retention. */
  readonly retention?: BackupRetention;
  /** Run a missed job at the next boot of the node; defaults to true when a covered VM's host is not always on. */
  readonly repeatMissed: boolean;
  /** KiB/s; undefined = Proxmox's default. */
  readonly bwlimit?: number;
  readonly enabled: boolean;
}

export interface ProxmoxApiSpec {
  /** https://host:8006/ ; undefined = the always-on host's address. */
  readonly endpoint: string;
  readonly insecure: boolean;
}

export interface Model {
  readonly clusterName: string;
  readonly hosts: readonly HostSpec[];
  /** Hosts to remove from the cluster (config `retiredHosts`); never also in `hosts`. */
  readonly retiredHosts: readonly RetiredHostSpec[];
  readonly sharedStorage: readonly string[];
  readonly acknowledgeQuorumRisk: boolean;
  /**
   * false or unset (default): `pulumi destroy` (or dropping a host) leaves cluster membership as it is (the membership
   * commands are retained); true: it runs `pvecm delnode` for every joined host, which is irreversible.
   */
  readonly dismantleOnDestroy?: boolean;
  readonly quorum: QuorumSpec;
  readonly vms: readonly VmSpec[];
  /** Backup jobs; always set by core/config (undefined = none, for hand-built models). */
  readonly backups?: readonly BackupJobSpec[];
  /** Major Proxmox VE version: 9 uses HA rules, 8 HA groups. Undefined = not declared. */
  readonly proxmoxVersion?: 8 | 9;
  readonly proxmox: ProxmoxApiSpec;
}

/**
 * A problem (error), a risk (warning) or a fact worth knowing with nothing to do now (info) found in a stack, as
 * data: rendered by the plan; the program throws the errors.
 */
export interface Finding {
  readonly level: "error" | "warning" | "info";
  /** Stable machine code, e.g. "votes.always-on-not-quorate". */
  readonly code: string;
  /** Config path, e.g. "hosts[1].votes"; "" for the stack as a whole. */
  readonly path: string;
  readonly message: string;
  /** What to change to fix it. */
  readonly fix: string;
}

export const hasErrors = (findings: readonly Finding[]): boolean => findings.some((f) => f.level === "error");
