// What the plan shows about VM protection, as data: backup jobs with the VMs they cover, replication pairs
// (which VM can move fast to which host), HA placement with the fencing consequence per candidate host, and
// start order per host. Rendered by plan/protection.ts (human) and plan/json.ts.
import { RETENTION_KEYS } from "../config/protection";
import type { BackupJobSpec, BackupRetention, Model, PowerProfile } from "../model";
import { coveredVms } from "./findings";
import { describeFencing, fencingCases, haCandidates, haResourceId, haRuleId, type FencingCase } from "./ha";

export interface BackupPlan {
  readonly id: string;
  readonly schedule: string;
  readonly storage: string;
  readonly storageHost: string | null;
  readonly mode: string;
  /** True for `vms: all` (Proxmox then also backs up guests this stack does not declare). */
  readonly all: boolean;
  /** Declared VMs covered, in config order. */
  readonly vms: readonly string[];
  readonly repeatMissed: boolean;
  /** Proxmox prune-backups, e.g. "keep-daily=7,keep-weekly=4"; null = the storage's own retention. */
  readonly retention: string | null;
  readonly enabled: boolean;
}

export interface ReplicationPair {
  readonly vm: string;
  /** Proxmox job id `<vmid>-<n>`. */
  readonly jobId: string;
  readonly from: string;
  readonly to: string;
  readonly toPower: PowerProfile;
  readonly schedule: string;
  /** MB/s; null = unlimited. */
  readonly rate: number | null;
}

export interface HaHostPlan {
  readonly host: string;
  readonly power: PowerProfile;
  /** 2 for the VM's own host, 1 for the others. */
  readonly priority: number;
  readonly fencing: readonly FencingCase[];
  /** The fencing consequence in words. */
  readonly consequence: string;
}

export interface HaPlan {
  readonly vm: string;
  readonly resource: string;
  /** PVE 9: a node-affinity rule; PVE 8: an HA group; null when proxmoxVersion is not declared. */
  readonly placement: { readonly kind: "rule" | "group"; readonly id: string } | null;
  readonly hosts: readonly HaHostPlan[];
}

export interface StartupPlan {
  readonly host: string;
  /** VMs with a start order on this host, in the order Proxmox starts them (order, then vmId). */
  readonly vms: readonly {
    readonly vm: string;
    readonly order: number | null;
    readonly upDelay: number | null;
    readonly downDelay: number | null;
  }[];
}

export interface ProtectionPlan {
  readonly backups: readonly BackupPlan[];
  readonly replication: readonly ReplicationPair[];
  readonly ha: readonly HaPlan[];
  readonly startup: readonly StartupPlan[];
}

export function protectionPlan(model: Model): ProtectionPlan {
  return {
    backups: (model.backups ?? []).map((job) => backupPlan(model, job)),
    replication: replicationPairs(model),
    ha: haPlan(model),
    startup: startupPlan(model),
  };
}

/** Proxmox prune-backups keys and values (strings, as the provider takes them); undefined = storage default. */
export function pruneBackups(retention: BackupRetention | undefined): Record<string, string> | undefined {
  if (!retention) return undefined;
  if (retention.keepAll) return { "keep-all": "1" };
  const out: Record<string, string> = {};
  for (const [key, proxmoxKey] of Object.entries(RETENTION_KEYS)) {
    const n = retention[key as keyof typeof RETENTION_KEYS];
    if (n !== undefined && n > 0) out[proxmoxKey] = String(n);
  }
  return out;
}

function backupPlan(model: Model, job: BackupJobSpec): BackupPlan {
  const prune = pruneBackups(job.retention);
  return {
    id: job.id,
    schedule: job.schedule,
    storage: job.storage,
    storageHost: job.storageHost ?? null,
    mode: job.mode,
    all: job.vms === "all",
    vms: coveredVms(model, job).map((vm) => vm.name),
    repeatMissed: job.repeatMissed,
    retention: prune
      ? Object.entries(prune)
          .map(([k, v]) => `${k}=${v}`)
          .join(",")
      : null,
    enabled: job.enabled,
  };
}

/** Proxmox replication job id: `<vmid>-<job number>`; the job number is the entry's position. */
export const replicationJobId = (vmId: number, position: number): string => `${vmId}-${position}`;

function replicationPairs(model: Model): ReplicationPair[] {
  return model.vms.flatMap((vm) =>
    (vm.replicateTo ?? []).map((job, n) => ({
      vm: vm.name,
      jobId: replicationJobId(vm.vmId, n),
      from: vm.host,
      to: job.host,
      toPower: model.hosts.find((h) => h.name === job.host)?.power ?? "always-on",
      schedule: job.schedule,
      rate: job.rate ?? null,
    })),
  );
}

function haPlan(model: Model): HaPlan[] {
  const kind = model.proxmoxVersion === 9 ? "rule" : model.proxmoxVersion === 8 ? "group" : undefined;
  return model.vms
    .filter((vm) => vm.ha)
    .map((vm) => ({
      vm: vm.name,
      resource: haResourceId(vm),
      placement: kind ? { kind, id: haRuleId(vm) } : null,
      hosts: haCandidates(model, vm).map((h) => {
        const fencing = fencingCases(model, h.name);
        return {
          host: h.name,
          power: h.power,
          priority: h.name === vm.host ? 2 : 1,
          fencing,
          consequence: describeFencing(fencing),
        };
      }),
    }));
}

function startupPlan(model: Model): StartupPlan[] {
  return model.hosts
    .map((h) => ({
      host: h.name,
      vms: model.vms
        .filter((vm) => vm.host === h.name && vm.startup)
        // Proxmox: guests with an order start first, by order then vmId; the rest after them.
        .sort((a, b) => (a.startup?.order ?? Infinity) - (b.startup?.order ?? Infinity) || a.vmId - b.vmId)
        .map((vm) => ({
          vm: vm.name,
          order: vm.startup?.order ?? null,
          upDelay: vm.startup?.upDelay ?? null,
          downDelay: vm.startup?.downDelay ?? null,
        })),
    }))
    .filter((h) => h.vms.length > 0);
}
