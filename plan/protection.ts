// The plan's "VM protection" section for a person: backup jobs, replication pairs (which VM can move fast to
// which host), HA placement with the fencing consequence on each candidate host, and start order per host.
import type { ProtectionPlan } from "../core/protection";
import { table } from "../cli/report";
import type { PlanReport } from "./report";

export function protection(r: PlanReport): string | undefined {
  const p = r.protection;
  if (!p || p.backups.length + p.replication.length + p.ha.length + p.startup.length === 0) return undefined;
  return ["VM protection", ...backups(p), ...replication(p), ...ha(p), ...startup(p)].join("\n");
}

function backups(p: ProtectionPlan): string[] {
  if (p.backups.length === 0) return ["  Backups: none declared"];
  const rows = p.backups.map((b) => [
    b.id,
    b.schedule,
    `${b.storage}${b.storageHost ? ` on ${b.storageHost}` : ""}`,
    b.mode,
    b.all ? `all (${b.vms.join(", ") || "no declared VMs"})` : b.vms.join(", "),
    b.retention ?? "storage's retention",
    b.repeatMissed ? "repeat missed" : "missed runs skipped",
    b.enabled ? "" : "disabled",
  ]);
  return [
    "  Backups (each node backs up its own VMs at the scheduled time; a node that is off runs a missed job at boot only with repeat missed)",
    ...table([["job", "schedule", "storage", "mode", "vms", "retention", "when off", ""], ...rows], []).map(
      (l) => `    ${l}`,
    ),
  ];
}

function replication(p: ProtectionPlan): string[] {
  if (p.replication.length === 0) return ["  Replication: none (a migration copies whole disks)"];
  const rows = p.replication.map((x) => [
    x.jobId,
    `${x.vm}: ${x.from} → ${x.to}`,
    `to ${x.toPower}`,
    `every ${x.schedule}`,
    x.rate === null ? "no rate limit" : `${x.rate} MB/s`,
  ]);
  return [
    "  Replication (a migration or HA recovery to the target sends only the changes since the last run)",
    ...table([["job", "moves fast", "target", "schedule", "rate"], ...rows], []).map((l) => `    ${l}`),
  ];
}

function ha(p: ProtectionPlan): string[] {
  if (p.ha.length === 0) return ["  HA: none"];
  const lines = ["  HA (a host running HA services resets itself by watchdog ~60 s after losing quorum)"];
  for (const vm of p.ha) {
    const where = vm.placement
      ? `${vm.placement.kind} ${vm.placement.id}`
      : "no rule/group (proxmoxVersion missing)";
    lines.push(`    ${vm.vm} (${vm.resource}, ${where}):`);
    for (const h of vm.hosts) {
      lines.push(`      ${h.host} (${h.power}, priority ${h.priority}): ${h.consequence}`);
    }
  }
  return lines;
}

function startup(p: ProtectionPlan): string[] {
  if (p.startup.length === 0) return ["  Start order: none declared"];
  const lines = ["  Start order (per host; Proxmox stops in reverse order)"];
  for (const h of p.startup) {
    const order = h.vms.map(
      (v) =>
        `${v.vm}${v.order === null ? "" : ` #${v.order}`}${v.upDelay === null ? "" : ` up +${v.upDelay}s`}${v.downDelay === null ? "" : ` down ${v.downDelay}s`}`,
    );
    lines.push(`    ${h.host}: ${order.join(" → ")}`);
  }
  return lines;
}
