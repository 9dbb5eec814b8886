// Storage replication (issue 18): one proxmoxve Replication per `vms[].replicateTo` entry, id `<vmid>-<n>`
// with n its position. Proxmox replicates local ZFS volumes to the target on a schedule, so a migration (or
// an HA recovery) to the target only sends the changes since the last run. A run to a target that is off puts
// the job into an error state, retried every 30 min until it succeeds (pve-docs pvesr.adoc).
import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { Model, ReplicationSpec, VmSpec } from "../core/model";
import { replicationJobId } from "../core/protection";

export interface ReplicationArgs {
  /** The validated stack: every `vms[].replicateTo` entry becomes a job. */
  readonly model: Model;
  /** The explicit Proxmox provider (VirtualMachines builds it). */
  readonly provider: proxmoxve.Provider;
  /** The VM resources by VM name: a job waits for its VM. */
  readonly machines: Readonly<Record<string, pulumi.Resource>>;
  /** What every job waits for besides its VM (the cluster membership: the target must be a member). */
  readonly after?: readonly pulumi.Resource[];
}

/** The Replication inputs for the n-th job of a VM. */
export function replicationArgs(vm: VmSpec, job: ReplicationSpec, n: number): proxmoxve.ReplicationArgs {
  return {
    resourceId: replicationJobId(vm.vmId, n),
    target: job.host,
    // The only job type Proxmox has (pve-guest-common ReplicationConfig.pm: the `local` section type).
    type: "local",
    // Sent even when it is Proxmox's default (*/15), so the preview shows it.
    schedule: job.schedule,
    rate: job.rate,
  };
}

export class Replication extends pulumi.ComponentResource {
  /** The jobs by Proxmox job id (`<vmid>-<n>`). */
  public readonly jobs: Readonly<Record<string, proxmoxve.Replication>>;

  constructor(name: string, args: ReplicationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pve-homelab:vms:Replication", name, {}, opts);
    const jobs: Record<string, proxmoxve.Replication> = {};
    for (const vm of args.model.vms) {
      const machine = args.machines[vm.name];
      (vm.replicateTo ?? []).forEach((job, n) => {
        const id = replicationJobId(vm.vmId, n);
        // Named by VM and position, like the Proxmox id, so a host change of the VM keeps the resource.
        jobs[id] = new proxmoxve.Replication(`${name}-${vm.name}-${n}`, replicationArgs(vm, job, n), {
          parent: this,
          provider: args.provider,
          dependsOn: [...(args.after ?? []), ...(machine ? [machine] : [])],
        });
      });
    }
    this.jobs = jobs;
    this.registerOutputs({});
  }
}
