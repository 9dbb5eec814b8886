// The registry of finding codes: every code a finding can carry, under the one module that produces it.
// test/unit/finding-codes.test.ts walks it (no code under two modules) and the sources (each code literal is
// produced by exactly one file, of the module it is registered under; no unregistered code).
// Zod's own issue codes become `config.<zod code>` (core/config/findings.ts) and are not listed one by one.
import { DRIFT_CODES } from "./drift";
import { POWER_FINDING_CODES } from "./power";
import { QUORUM_FINDING_CODES } from "./quorum/findings/codes";

export const FINDING_CODES = {
  /** core/config: schema, secrets and cross-field rules. */
  config: [
    "config.missing",
    "config.type",
    "config.unknown-key",
    "config.secret-in-plain-text",
    "config.secret-missing",
    "hosts.duplicate-address",
    "hosts.duplicate-name",
    "hosts.duplicate-nodeid",
    "hosts.implicit-nodeid",
    "hosts.missing-host-key",
    "hosts.no-always-on",
    "quorum.device-missing",
    "quorum.device-unused",
    "vms.duplicate-name",
    "vms.duplicate-vmid",
    "vms.two-sources",
    "vms.unknown-host",
    "vms.unknown-template-node",
    "backups.duplicate-id",
    "backups.duplicate-vm",
    "backups.retention-keep-all-conflict",
    "backups.retention-keeps-nothing",
    "backups.unknown-storage-host",
    "backups.unknown-vm",
    "replication.duplicate-target",
    "replication.to-own-host",
    "replication.unknown-host",
    "retiredHosts.also-declared",
    "retiredHosts.duplicate-name",
    "retiredHosts.leftovers",
  ],
  /** core/quorum/findings: votequorum options, vote layout, always-on intent, weighted-vote risk. */
  quorum: QUORUM_FINDING_CODES,
  /** core/placement: VM rules. */
  placement: [
    "placement.always-on-vm-on-sleeping-host",
    "placement.cores-exceeded",
    "placement.ha-with-weighted-votes",
    "placement.image-conflict",
    "placement.memory-exceeded",
    "placement.started-on-usually-off-host",
  ],
  /** core/protection: backups, replication, HA and start order against the quorum and power facts. */
  protection: [
    "backups.important-vm-not-backed-up",
    "backups.missed-not-repeated",
    "backups.storage-on-sleeping-host",
    "ha.groups-migration",
    "ha.no-failover-target",
    "ha.proxmox-version-missing",
    "replication.needs-zfs",
    "replication.target-usually-off",
    "startup.ignored-for-ha",
  ],
  /** core/power: declared host power (state, wakeOnLan, guests) against the hosts, VMs and quorum. */
  power: POWER_FINDING_CODES,
  /** core/scripts/qdevice: what `pvecm qdevice setup` can and cannot produce. */
  qdevice: [
    "qdevice.algorithm-not-pvecm",
    "qdevice.node-votes",
    "qdevice.ssh-port",
    "qdevice.votes-not-pvecm",
  ],
  /** core/scripts/membership: cluster creation and joins. */
  membership: ["membership.founder-votes"],
  /** core/drift.ts: the live cluster (npm run status) against the stack. */
  drift: DRIFT_CODES,
  /** core/scripts/rejoin: what makes `pulumi up` need a usually-off host again. */
  rejoin: ["rejoin.upgrade-needs-host"],
  /** plan/: the offline plan's own findings. */
  plan: ["plan.corosync-skipped", "plan.program-error-log", "plan.program-failed"],
} as const satisfies Record<string, readonly string[]>;

export type FindingModule = keyof typeof FINDING_CODES;

/** Source folders (or files) of each module, for the registry test's source walk. */
export const FINDING_SOURCES: Record<FindingModule, readonly string[]> = {
  config: ["core/config"],
  quorum: ["core/quorum"],
  placement: ["core/placement.ts"],
  protection: ["core/protection"],
  power: ["core/power.ts"],
  qdevice: ["core/scripts/qdevice.ts", "core/scripts/qdevice"],
  membership: ["core/scripts/membership"],
  drift: ["core/drift.ts"],
  rejoin: ["core/scripts/rejoin.ts"],
  plan: ["plan"],
};

/** Codes registered under more than one module (or twice under one): empty when the registry is sound. */
export function duplicateFindingCodes(
  registry: Record<string, readonly string[]> = FINDING_CODES,
): { code: string; modules: string[] }[] {
  const seen = new Map<string, string[]>();
  for (const [module, codes] of Object.entries(registry)) {
    for (const code of codes) seen.set(code, [...(seen.get(code) ?? []), module]);
  }
  return [...seen].filter(([, modules]) => modules.length > 1).map(([code, modules]) => ({ code, modules }));
}
