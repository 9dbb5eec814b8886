// Cross-field rules of backups and replication, checked after the schema: references to VMs and hosts,
// duplicates Proxmox refuses, retention combinations Proxmox refuses or silently rewrites.
import type { Finding } from "../model";
import { error } from "./findings";
import type { ParsedConfig } from "./schema";

export function protectionRules(cfg: ParsedConfig): Finding[] {
  return [...backupRules(cfg), ...replicationRules(cfg)];
}

function backupRules(cfg: ParsedConfig): Finding[] {
  const out: Finding[] = [];
  const vmNames = new Set(cfg.vms.map((vm) => vm.name));
  const hostNames = cfg.hosts.map((h) => h.name);
  const ids = new Map<string, number>();
  cfg.backups.forEach((job, i) => {
    const at = `backups[${i}]`;
    const first = ids.get(job.id.toLowerCase());
    if (first !== undefined) {
      out.push(
        error(
          "backups.duplicate-id",
          `${at}.id`,
          `backup job id "${job.id}" is also used by backups[${first}]`,
          "give every backup job its own id",
        ),
      );
    } else {
      ids.set(job.id.toLowerCase(), i);
    }
    if (job.vms !== "all") {
      const seen = new Set<string>();
      job.vms.forEach((name, j) => {
        if (!vmNames.has(name)) {
          out.push(
            error(
              "backups.unknown-vm",
              `${at}.vms[${j}]`,
              `backup job ${job.id} names VM "${name}", which is not declared in vms`,
              vmNames.size > 0
                ? `use one of: ${[...vmNames].join(", ")}, or vms: all`
                : "declare the VM first",
            ),
          );
        } else if (seen.has(name)) {
          out.push(
            error(
              "backups.duplicate-vm",
              `${at}.vms[${j}]`,
              `backup job ${job.id} names VM "${name}" twice`,
              "list each VM once",
            ),
          );
        }
        seen.add(name);
      });
    }
    if (job.storageHost !== undefined && !hostNames.includes(job.storageHost)) {
      out.push(
        error(
          "backups.unknown-storage-host",
          `${at}.storageHost`,
          `storageHost "${job.storageHost}" is not a declared host`,
          `use one of: ${hostNames.join(", ")}, or leave storageHost out when the storage lives outside the cluster`,
        ),
      );
    }
    out.push(...retentionRules(job.retention, `${at}.retention`));
  });
  return out;
}

type Retention = NonNullable<ParsedConfig["backups"][number]["retention"]>;

// pve-storage validate_prune_backups: keep-all with any other option dies; no keep-* above 0 becomes keep-all.
function retentionRules(retention: Retention | undefined, at: string): Finding[] {
  if (!retention) return [];
  const { keepAll, ...keeps } = retention;
  const positive = Object.entries(keeps).filter(([, n]) => n !== undefined && n > 0);
  if (keepAll === true && Object.keys(keeps).length > 0) {
    return [
      error(
        "backups.retention-keep-all-conflict",
        `${at}.keepAll`,
        "retention.keepAll: true cannot be combined with keep* counts (Proxmox: keep-all cannot be set together with other options)",
        "remove keepAll, or remove the keep* counts",
      ),
    ];
  }
  if (keepAll !== true && positive.length === 0) {
    return [
      error(
        "backups.retention-keeps-nothing",
        at,
        "retention sets no keep* count above 0, which Proxmox silently turns into keep-all",
        "set e.g. keepDaily: 7, write keepAll: true to keep every backup, or remove retention to use the storage's own",
      ),
    ];
  }
  return [];
}

function replicationRules(cfg: ParsedConfig): Finding[] {
  const out: Finding[] = [];
  const hostNames = cfg.hosts.map((h) => h.name);
  cfg.vms.forEach((vm, i) => {
    const targets = new Map<string, number>();
    vm.replicateTo.forEach((job, j) => {
      const at = `vms[${i}].replicateTo[${j}].host`;
      if (!hostNames.includes(job.host)) {
        out.push(
          error(
            "replication.unknown-host",
            at,
            `VM ${vm.name} replicates to "${job.host}", which is not a declared host`,
            `use one of: ${hostNames.filter((h) => h !== vm.host).join(", ")}`,
          ),
        );
      } else if (job.host === vm.host) {
        out.push(
          error(
            "replication.to-own-host",
            at,
            `VM ${vm.name} replicates to ${job.host}, the host it runs on`,
            `replicate to another host (${hostNames.filter((h) => h !== vm.host).join(", ")}); a copy on the same host protects nothing`,
          ),
        );
      }
      const first = targets.get(job.host);
      if (first !== undefined) {
        out.push(
          error(
            "replication.duplicate-target",
            at,
            `VM ${vm.name} replicates to ${job.host} twice (replicateTo[${first}] too); Proxmox allows one job per target`,
            "keep one entry per target host",
          ),
        );
      } else {
        targets.set(job.host, j);
      }
    });
  });
  return out;
}
