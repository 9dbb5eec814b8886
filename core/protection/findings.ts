// Findings about backups, replication, HA and start order on a cluster whose hosts sleep (issue 18).
// The HA-versus-weighted-votes refusal is core/placement's (placement.ha-with-weighted-votes); these add what
// HA, backups and replication need beyond it. Facts: pve-docs pvesr.adoc (replication error state, ZFS
// only), qm.adoc (HA guests skip start order), pve-ha-manager (groups → rules), pve-manager Jobs.pm
// (repeat-missed).
import { error, warning } from "../config/findings";
import type { BackupJobSpec, Finding, HostSpec, Model, VmSpec } from "../model";
import { haCandidates } from "./ha";

export function protectionFindings(model: Model): Finding[] {
  return [
    ...backupFindings(model),
    ...replicationFindings(model),
    ...haProtectionFindings(model),
    ...startupFindings(model),
  ];
}

const hostNamed = (model: Model, name: string | undefined): HostSpec | undefined =>
  model.hosts.find((h) => h.name === name);

/** The VMs a job covers ("all" = every declared VM; Proxmox also backs up guests it does not declare). */
export function coveredVms(model: Model, job: BackupJobSpec): VmSpec[] {
  const names = job.vms;
  return names === "all" ? [...model.vms] : model.vms.filter((vm) => names.includes(vm.name));
}

function backupFindings(model: Model): Finding[] {
  const out: Finding[] = [];
  (model.backups ?? []).forEach((job, i) => {
    const storageHost = hostNamed(model, job.storageHost);
    if (storageHost && storageHost.power !== "always-on") {
      out.push(
        warning(
          "backups.storage-on-sleeping-host",
          `backups[${i}].storageHost`,
          `backup job ${job.id} writes to ${job.storage} on ${storageHost.name}, which is ${storageHost.power}: every run while ${storageHost.name} is off fails, and the backups are out of reach exactly when that host is down`,
          `put the storage on an always-on host (${alwaysOnNames(model)}) or a NAS outside the cluster`,
        ),
      );
    }
    const sleeping = coveredVms(model, job).filter((vm) => hostNamed(model, vm.host)?.power !== "always-on");
    if (!job.repeatMissed && sleeping.length > 0) {
      out.push(
        warning(
          "backups.missed-not-repeated",
          `backups[${i}].repeatMissed`,
          `backup job ${job.id} covers ${sleeping.map((vm) => `${vm.name} (on ${vm.host})`).join(", ")}, but repeatMissed is false: a run scheduled while that host is off is skipped, not made up at its next boot`,
          "remove repeatMissed (it defaults to true for such jobs) or set repeatMissed: true",
        ),
      );
    }
  });
  const enabled = (model.backups ?? []).filter((job) => job.enabled);
  model.vms.forEach((vm, i) => {
    if (!vm.alwaysOn && !vm.protect) return;
    if (enabled.some((job) => coveredVms(model, job).includes(vm))) return;
    out.push(
      warning(
        "backups.important-vm-not-backed-up",
        `vms[${i}]`,
        `VM ${vm.name} is marked ${vm.alwaysOn ? "alwaysOn" : "protect"} but no enabled backup job covers it`,
        `add it to a job in backups (vms: [${vm.name}] or vms: all)`,
      ),
    );
  });
  return out;
}

function replicationFindings(model: Model): Finding[] {
  const out: Finding[] = [];
  model.vms.forEach((vm, i) => {
    if ((vm.replicateTo ?? []).length === 0) return;
    const shared = model.sharedStorage.includes(vm.datastore);
    // Proxmox's default storages: `local` is a directory, `local-lvm` LVM-thin; neither can replicate.
    if (shared || vm.datastore === "local" || vm.datastore === "local-lvm") {
      out.push(
        error(
          "replication.needs-zfs",
          `vms[${i}].datastore`,
          `VM ${vm.name} replicates its disks, but its datastore ${vm.datastore} ${shared ? "is shared storage (every host already sees it)" : "is not ZFS (Proxmox's default local is a directory, local-lvm LVM-thin)"}; Proxmox replicates only local ZFS (zfspool) storage`,
          shared
            ? "remove replicateTo: shared storage needs no replication"
            : "put the VM on a ZFS pool storage present under the same id on both hosts (e.g. local-zfs), or remove replicateTo",
        ),
      );
    }
    (vm.replicateTo ?? []).forEach((job, j) => {
      const target = hostNamed(model, job.host);
      if (target?.power !== "usually-off") return;
      out.push(
        warning(
          "replication.target-usually-off",
          `vms[${i}].replicateTo[${j}].host`,
          `VM ${vm.name} replicates to ${target.name}, which is usually off: while it is off every run fails, the job goes into an error state and Proxmox retries it every 30 minutes; the first run after ${target.name} is back sends every change since the last good run`,
          `replicate to a host that is on more often (${alwaysOnNames(model)}), or accept that the copy on ${target.name} is only as fresh as its last time on`,
        ),
      );
    });
  });
  return out;
}

function haProtectionFindings(model: Model): Finding[] {
  const out: Finding[] = [];
  const haVms = model.vms.map((vm, i) => ({ vm, i })).filter(({ vm }) => vm.ha);
  if (haVms.length === 0) return out;
  if (model.proxmoxVersion === undefined) {
    out.push(
      error(
        "ha.proxmox-version-missing",
        "proxmoxVersion",
        `${haVms.length} VM(s) ask for HA, and HA placement differs by version: node-affinity rules on Proxmox VE 9, HA groups on 8`,
        "set proxmoxVersion: 9 or 8 (the major version `pveversion` prints on every host)",
      ),
    );
  } else if (model.proxmoxVersion === 9 && model.hosts.some((h) => h.power !== "always-on")) {
    out.push(
      warning(
        "ha.groups-migration",
        "proxmoxVersion",
        'on Proxmox VE 9, HA groups left from version 8 become rules only once every node has been online with version 9; until then creating a rule fails ("ha groups have not been migrated yet")',
        "after upgrading from 8, wake every host once before `pulumi up` (a cluster that never had HA groups is not affected)",
      ),
    );
  }
  for (const { vm, i } of haVms) {
    if (haCandidates(model, vm).length > 1) continue;
    out.push(
      warning(
        "ha.no-failover-target",
        `vms[${i}].ha`,
        `VM ${vm.name} has HA, but its disks are on ${vm.datastore} on ${vm.host} only: HA can restart it there, never start it elsewhere`,
        "replicate it to another host (replicateTo, ZFS) or put its disk on a storage listed in sharedStorage",
      ),
    );
  }
  return out;
}

function startupFindings(model: Model): Finding[] {
  const out: Finding[] = [];
  model.vms.forEach((vm, i) => {
    if (!vm.ha || !vm.startup) return;
    out.push(
      warning(
        "startup.ignored-for-ha",
        `vms[${i}].startup`,
        `VM ${vm.name} has HA and a startup order, but Proxmox skips HA-managed VMs in its start and shutdown order (the HA manager starts and stops them)`,
        "remove startup from this VM, or remove ha if the order matters more",
      ),
    );
  });
  return out;
}

const alwaysOnNames = (model: Model) =>
  model.hosts
    .filter((h) => h.power === "always-on")
    .map((h) => h.name)
    .join(", ");
