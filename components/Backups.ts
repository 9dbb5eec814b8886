// Backup jobs (issue 18): one proxmoxve backup.Job (cluster-wide vzdump job, /cluster/backup) per `backups`
// entry. A job runs on every node for the guests on that node, so a node that is off at the scheduled time
// misses it; `repeatMissed` (Proxmox `repeat-missed`, pve-manager PVE/Jobs.pm) makes the node run the missed
// job as soon as it is up again, and core/config turns it on by default for jobs covering such nodes.
import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { BackupJobSpec, Model } from "../core/model";
import { coveredVms, pruneBackups } from "../core/protection";

export interface BackupsArgs {
  /** The validated stack: every `backups` entry becomes a job. */
  readonly model: Model;
  /** The explicit Proxmox provider (VirtualMachines builds it). */
  readonly provider: proxmoxve.Provider;
  /** The VM resources by VM name: a job waits for the VMs it covers (all of them for `vms: all`). */
  readonly machines: Readonly<Record<string, pulumi.Resource>>;
  /** What every job waits for besides its VMs (the cluster membership). Defaults to nothing. */
  readonly after?: readonly pulumi.Resource[];
}

/** The backup.Job inputs for one job: a pure function of the spec and the Model. */
export function backupJobArgs(model: Model, job: BackupJobSpec): proxmoxve.backup.JobArgs {
  const all = job.vms === "all";
  return {
    resourceId: job.id,
    schedule: job.schedule,
    storage: job.storage,
    mode: job.mode,
    compress: job.compress,
    all,
    // Ascending vmIds: the order Proxmox lists guests in, whatever the config order.
    vmids: all
      ? undefined
      : coveredVms(model, job)
          .map((vm) => vm.vmId)
          .sort((a, b) => a - b)
          .map(String),
    pruneBackups: pruneBackups(job.retention),
    repeatMissed: job.repeatMissed,
    bwlimit: job.bwlimit,
    enabled: job.enabled,
  };
}

export class Backups extends pulumi.ComponentResource {
  /** The jobs by id. */
  public readonly jobs: Readonly<Record<string, proxmoxve.backup.Job>>;

  constructor(name: string, args: BackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pve-homelab:vms:Backups", name, {}, opts);
    const { model } = args;
    const jobs: Record<string, proxmoxve.backup.Job> = {};
    for (const job of model.backups ?? []) {
      const vms = coveredVms(model, job).map((vm) => args.machines[vm.name]);
      jobs[job.id] = new proxmoxve.backup.Job(`${name}-${job.id}`, backupJobArgs(model, job), {
        parent: this,
        provider: args.provider,
        dependsOn: [...(args.after ?? []), ...vms.filter((r): r is pulumi.Resource => r !== undefined)],
      });
    }
    this.jobs = jobs;
    this.registerOutputs({});
  }
}
