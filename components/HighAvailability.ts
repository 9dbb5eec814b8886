// HA (issue 18): for every `ha: true` VM a proxmoxve Haresource (`vm:<vmid>`) plus its placement: a strict
// node-affinity Harule on Proxmox VE 9, a restricted Hagroup on 8 (pve-ha-manager 5 replaced groups with
// rules). The placement lists only hosts that hold the VM's disks (core/protection haCandidates), so HA never
// tries to recover it where it cannot start. Registered only where HA is safe: core/placement refuses HA with
// weighted votes unless acknowledgeQuorumRisk, and this component refuses again before registering anything.
// Every HA resource waits for the quorum layout (vote push and QuorumDevice): a host running HA services
// fences itself when it loses quorum, so HA must never be armed before the votes it depends on are in place.
import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { Model, VmSpec } from "../core/model";
import { placementFindings } from "../core/placement";
import { haNodes, haResourceId, haRuleId, protectionFindings } from "../core/protection";

export interface HighAvailabilityArgs {
  /** The validated stack: every `ha: true` VM is put under HA. */
  readonly model: Model;
  /** The explicit Proxmox provider (VirtualMachines builds it). */
  readonly provider: proxmoxve.Provider;
  /** The VM resources by VM name: a VM's HA resources wait for it. */
  readonly machines: Readonly<Record<string, pulumi.Resource>>;
  /** The quorum steps (membership, vote push, QuorumDevice): every HA resource waits for them. */
  readonly after: readonly pulumi.Resource[];
}

/** The HA resource's inputs; PVE 8 names its group, PVE 9 leaves placement to the rule. */
export function haResourceArgs(model: Model, vm: VmSpec): proxmoxve.HaresourceArgs {
  return {
    resourceId: haResourceId(vm),
    // HA owns the run state from now on: it starts (or keeps stopped) the VM as declared.
    state: vm.started ? "started" : "stopped",
    group: model.proxmoxVersion === 8 ? haRuleId(vm) : undefined,
    comment: `pve-homelab: ${vm.name}`,
  };
}

/** PVE 9: a strict node-affinity rule over the hosts holding the VM's disks, its own host preferred. */
export function haRuleArgs(model: Model, vm: VmSpec): proxmoxve.HaruleArgs {
  return {
    rule: haRuleId(vm),
    type: "node-affinity",
    resources: [haResourceId(vm)],
    nodes: haNodes(model, vm),
    strict: true,
    comment: `pve-homelab: where ${vm.name} can run`,
  };
}

/** PVE 8: the same placement as a restricted group; failback keeps the VM's own host preferred. */
export function haGroupArgs(model: Model, vm: VmSpec): proxmoxve.HagroupArgs {
  return {
    group: haRuleId(vm),
    nodes: haNodes(model, vm),
    restricted: true,
    noFailback: false,
    comment: `pve-homelab: where ${vm.name} can run`,
  };
}

export interface HaResources {
  readonly resource: proxmoxve.Haresource;
  readonly rule?: proxmoxve.Harule;
  readonly group?: proxmoxve.Hagroup;
}

export class HighAvailability extends pulumi.ComponentResource {
  /** Per HA VM name: its HA resource and its rule (PVE 9) or group (PVE 8). */
  public readonly vms: Readonly<Record<string, HaResources>>;

  constructor(name: string, args: HighAvailabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pve-homelab:vms:HighAvailability", name, {}, opts);
    const { model } = args;
    refuseUnsafe(name, model);
    const vms: Record<string, HaResources> = {};
    for (const vm of model.vms.filter((v) => v.ha)) {
      const machine = args.machines[vm.name];
      const childOpts = (extra: pulumi.Resource[]): pulumi.CustomResourceOptions => ({
        parent: this,
        provider: args.provider,
        dependsOn: [...args.after, ...(machine ? [machine] : []), ...extra],
      });
      if (model.proxmoxVersion === 8) {
        // The group first: a resource naming a missing group is refused.
        const group = new proxmoxve.Hagroup(
          `${name}-${vm.name}-group`,
          haGroupArgs(model, vm),
          childOpts([]),
        );
        const resource = new proxmoxve.Haresource(
          `${name}-${vm.name}`,
          haResourceArgs(model, vm),
          childOpts([group]),
        );
        vms[vm.name] = { resource, group };
      } else {
        // The resource first: a rule may only name resources HA already manages.
        const resource = new proxmoxve.Haresource(
          `${name}-${vm.name}`,
          haResourceArgs(model, vm),
          childOpts([]),
        );
        const rule = new proxmoxve.Harule(
          `${name}-${vm.name}-rule`,
          haRuleArgs(model, vm),
          childOpts([resource]),
        );
        vms[vm.name] = { resource, rule };
      }
    }
    this.vms = vms;
    this.registerOutputs({});
  }
}

/** The program refuses these stacks already; a component used on its own must not arm HA on them either. */
function refuseUnsafe(name: string, model: Model): void {
  const problems = [...placementFindings(model), ...protectionFindings(model)].filter(
    (f) => f.level === "error" && (f.code.startsWith("placement.ha-") || f.code.startsWith("ha.")),
  );
  if (problems.length === 0) return;
  throw new pulumi.InputPropertiesError({
    message: `${name}: HA is not safe or not possible as declared (${problems.length} problem(s))`,
    errors: problems.map((f) => ({
      propertyPath: f.path,
      reason: `${f.message} (fix: ${f.fix}) [${f.code}]`,
    })),
  });
}
