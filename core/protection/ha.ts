// Where an HA VM may run, and what losing quorum does on each of those hosts. Used by the findings, the plan
// and the HA component, so all three agree on the node set.
import type { HostSpec, Model, VmSpec } from "../model";
import { whatIf } from "../quorum";

/** Priority of the VM's own host in the node-affinity rule / HA group; every other candidate gets 1. */
export const HOME_PRIORITY = 2;

/** HA resource id (pve-ha-manager: `vm:<vmid>`). */
export const haResourceId = (vm: VmSpec): string => `vm:${vm.vmId}`;

/** HA rule (PVE 9) / group (PVE 8) id: pve-configid, always starting with a letter. */
export const haRuleId = (vm: VmSpec): string => `pve-homelab-${vm.name}`;

/**
 * Hosts where HA can start the VM, the VM's own host first: every host when its disk is on shared storage,
 * else its own host plus its replication targets (the only other hosts holding a copy of its disks).
 */
export function haCandidates(model: Model, vm: VmSpec): HostSpec[] {
  const own = model.hosts.filter((h) => h.name === vm.host);
  if (model.sharedStorage.includes(vm.datastore)) {
    return [...own, ...model.hosts.filter((h) => h.name !== vm.host)];
  }
  const targets = new Set((vm.replicateTo ?? []).map((r) => r.host));
  return [...own, ...model.hosts.filter((h) => targets.has(h.name) && h.name !== vm.host)];
}

/** Node → priority for the rule's or group's `nodes`. */
export function haNodes(model: Model, vm: VmSpec): Record<string, number> {
  return Object.fromEntries(
    haCandidates(model, vm).map((h) => [h.name, h.name === vm.host ? HOME_PRIORITY : 1]),
  );
}

/** A set of live hosts (and in qdevice mode the device's state) in which a host has no quorum. */
export interface FencingCase {
  readonly up: readonly string[];
  readonly deviceUp?: boolean;
}

/**
 * The largest sets of live hosts that include `host` and are NOT quorate: in each of them (and in every
 * smaller one), a host running HA services resets itself by watchdog about 60 s after losing quorum.
 * Empty when the host is quorate in every set it is part of (e.g. the 3-vote host of 3/1/1).
 */
export function fencingCases(model: Model, host: string): FencingCase[] {
  const lost = whatIf(model).scenarios.filter((s) => s.up.includes(host) && !s.quorate);
  const maximal = lost.filter(
    (s) =>
      !lost.some(
        (t) =>
          t !== s &&
          t.deviceUp === s.deviceUp &&
          t.up.length > s.up.length &&
          s.up.every((n) => t.up.includes(n)),
      ),
  );
  return maximal.map((s) => (s.deviceUp === undefined ? { up: s.up } : { up: s.up, deviceUp: s.deviceUp }));
}

/** One line per case: "only pve-mid + pve-high up (QDevice down)". */
export function describeFencing(cases: readonly FencingCase[]): string {
  if (cases.length === 0) return "keeps quorum whenever it runs: never self-fences";
  const sets = cases.map(
    (c) =>
      `${c.up.join(" + ")}${c.deviceUp === undefined ? "" : c.deviceUp ? " with the QDevice" : " without the QDevice"}`,
  );
  return `self-fences (watchdog reset ~60 s after losing quorum) when the live hosts are at most: ${sets.join("; ")}`;
}
