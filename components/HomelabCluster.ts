// The top component: one Proxmox VE cluster as declared in the stack. Thin wiring only; the decisions are in
// core/ (quorum math, placement, scripts) and each child component is one concern.
import * as pulumi from "@pulumi/pulumi";
import type { Model } from "../core/model";
import { quorumSummary, type QuorumSummary } from "../core/quorum";
import { ClusterMembership } from "./ClusterMembership";
import { HostPower, managesPower } from "./HostPower";
import { orderQuorumSteps, QuorumDevice } from "./QuorumDevice";
import { RejoinGuard } from "./RejoinGuard";
import { VoteWeights } from "./VoteWeights";
import type { StackSecrets } from "./stackConfig";
import { VirtualMachines, type VmSummary } from "./VirtualMachines";
import { Backups } from "./Backups";
import { HighAvailability } from "./HighAvailability";
import { Replication } from "./Replication";

export interface HomelabClusterArgs {
  /** The validated stack (core/config). */
  readonly model: Model;
  /** Secrets from `pulumi config set --secret`; core/config makes sure the needed ones are set. */
  readonly secrets: StackSecrets;
}

export class HomelabCluster extends pulumi.ComponentResource {
  /** Declared corosync quorum_votes per host name. */
  public readonly votes: pulumi.Output<Record<string, number>>;
  public readonly expectedVotes: pulumi.Output<number>;
  public readonly quorum: pulumi.Output<number>;
  /** Up to 5 hosts every set of live hosts → votes → quorate; beyond, the quorate/non-quorate boundary. */
  public readonly whatIf: pulumi.Output<QuorumSummary>;
  /** Per VM: id, host, agent-reported IPv4 addresses. */
  public readonly vms: pulumi.Output<Record<string, VmSummary>>;
  /** Host names confirmed as cluster members. */
  public readonly members: pulumi.Output<string[]>;

  constructor(name: string, args: HomelabClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pve-homelab:cluster:HomelabCluster", name, {}, opts);
    const { model } = args;
    const summary = quorumSummary(model);
    const table = summary.kind === "table" ? summary.table : summary;
    this.votes = pulumi.output(Object.fromEntries(model.hosts.map((h) => [h.name, h.votes])));
    this.expectedVotes = pulumi.output(table.expectedVotes);
    this.quorum = pulumi.output(table.quorum);
    this.whatIf = pulumi.output(summary);
    const sshPrivateKey = required(args.secrets.sshPrivateKey, "sshPrivateKey");
    const membership = new ClusterMembership(
      `${name}-membership`,
      { model, sshPrivateKey, rootPassword: args.secrets.rootPassword },
      { parent: this },
    );
    this.members = membership.ready;
    const afterMembership = [...membership.commands];
    // Votes and the quorum device run in the order the mode needs (see orderQuorumSteps): in qdevice mode the
    // votes go to 1 first; in the other modes a configured device is removed before the votes are weighted.
    const quorumSteps = orderQuorumSteps(
      model,
      (dependsOn) => new VoteWeights(`${name}-votes`, { model, sshPrivateKey }, { parent: this, dependsOn }),
      (dependsOn) =>
        new QuorumDevice(`${name}-qdevice`, { model, sshPrivateKey }, { parent: this, dependsOn }),
      afterMembership,
    );
    // Power steps after the votes (the off check reads the live votes) and the device; everything on a managed
    // host waits for its step, so a change there wakes it first.
    const power = managesPower(model)
      ? new HostPower(
          `${name}-power`,
          { model, sshPrivateKey },
          { parent: this, dependsOn: [...afterMembership, quorumSteps.votes, quorumSteps.device] },
        )
      : undefined;
    const steps = power?.steps ?? {};
    const powerSteps = Object.values(steps);
    new RejoinGuard(
      `${name}-rejoin`,
      { model, sshPrivateKey },
      { parent: this, dependsOn: [...afterMembership, ...powerSteps] },
    );
    const machines = new VirtualMachines(
      `${name}-vms`,
      {
        model,
        apiToken: args.secrets.proxmoxApiToken,
        sshPrivateKey,
        hostDependsOn: Object.fromEntries(Object.entries(steps).map(([h, step]) => [h, [step]])),
      },
      { parent: this, dependsOn: afterMembership },
    );
    this.vms = machines.vms;
    protectVms(name, model, machines, afterMembership, [quorumSteps.votes, quorumSteps.device], this);
    this.registerOutputs({
      votes: this.votes,
      expectedVotes: this.expectedVotes,
      quorum: this.quorum,
      whatIf: this.whatIf,
      vms: this.vms,
      members: this.members,
    });
  }
}

/**
 * Backups, replication and HA for the VMs (issue 18), each only when declared. All wait for the cluster
 * membership and for the VMs they cover; HA also for the quorum layout (votes and QuorumDevice).
 */
function protectVms(
  name: string,
  model: Model,
  machines: VirtualMachines,
  afterMembership: readonly pulumi.Resource[],
  quorumSteps: readonly pulumi.Resource[],
  parent: pulumi.Resource,
): void {
  const provider = machines.provider;
  if (!provider) return; // no VMs and no backup jobs: nothing to protect
  const common = { model, provider, machines: machines.machines, after: afterMembership };
  if ((model.backups ?? []).length > 0) new Backups(`${name}-backups`, common, { parent });
  if (model.vms.some((vm) => (vm.replicateTo ?? []).length > 0)) {
    new Replication(`${name}-replication`, common, { parent });
  }
  if (model.vms.some((vm) => vm.ha)) {
    new HighAvailability(
      `${name}-ha`,
      { ...common, after: [...afterMembership, ...quorumSteps] },
      { parent },
    );
  }
}

// core/config reports a missing secret as a finding first; this keeps the type honest.
function required<T>(value: T | undefined, key: string): T {
  if (value === undefined)
    throw new Error(`pve-homelab:${key} is not set: pulumi config set --secret ${key} ...`);
  return value;
}
