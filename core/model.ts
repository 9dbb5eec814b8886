// The validated, frozen description of one stack. Everything below core/ reads this, never raw config.
// No Pulumi import here or anywhere under core/: these are plain values, tested directly.

export type PowerProfile = "always-on" | "sometimes-on" | "usually-off";
export const POWER_PROFILES: readonly PowerProfile[] = ["always-on", "sometimes-on", "usually-off"];

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
}

export interface ProxmoxApiSpec {
  /** https://host:8006/ ; undefined = the always-on host's address. */
  readonly endpoint: string;
  readonly insecure: boolean;
}

export interface Model {
  readonly clusterName: string;
  readonly hosts: readonly HostSpec[];
  readonly sharedStorage: readonly string[];
  readonly acknowledgeQuorumRisk: boolean;
  /**
   * false or unset (default): `pulumi destroy` (or dropping a host) leaves cluster membership as it is (the membership
   * commands are retained); true: it runs `pvecm delnode` for every joined host, which is irreversible.
   */
  readonly dismantleOnDestroy?: boolean;
  readonly quorum: QuorumSpec;
  readonly vms: readonly VmSpec[];
  readonly proxmox: ProxmoxApiSpec;
}

/** A problem (error) or a risk (warning) found in a stack, as data: rendered by the plan, thrown by the program. */
export interface Finding {
  readonly level: "error" | "warning";
  /** Stable machine code, e.g. "votes.always-on-not-quorate". */
  readonly code: string;
  /** Config path, e.g. "hosts[1].votes"; "" for the stack as a whole. */
  readonly path: string;
  readonly message: string;
  /** What to change to fix it. */
  readonly fix: string;
}

export const hasErrors = (findings: readonly Finding[]): boolean => findings.some((f) => f.level === "error");
