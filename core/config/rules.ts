// Cross-field rules of the stack config, checked after the schema: duplicates, references, required keys
// that depend on other keys. Quorum and placement rules live in core/quorum and core/placement.
import type { Finding } from "../model";
import type { ParsedConfig } from "./schema";
import { error, warning } from "./findings";

type Host = ParsedConfig["hosts"][number];

function duplicates<T>(items: readonly T[], key: (t: T) => string | number | undefined): Map<number, number> {
  // index of a repeated item → index of its first occurrence
  const first = new Map<string | number, number>();
  const dups = new Map<number, number>();
  items.forEach((item, i) => {
    const k = key(item);
    if (k === undefined) return;
    const seen = first.get(k);
    if (seen === undefined) first.set(k, i);
    else dups.set(i, seen);
  });
  return dups;
}

export const effectiveNodeId = (host: Host, index: number): number => host.nodeId ?? index + 1;

export function hostRules(cfg: ParsedConfig): Finding[] {
  const out: Finding[] = [];
  const hosts = cfg.hosts;
  for (const [i, j] of duplicates(hosts, (h) => h.name.toLowerCase())) {
    out.push(
      error(
        "hosts.duplicate-name",
        `hosts[${i}].name`,
        `host name "${hosts[i]?.name}" is also used by hosts[${j}]`,
        "give every host its own Proxmox node name",
      ),
    );
  }
  for (const [i, j] of duplicates(hosts, (h) => h.address)) {
    out.push(
      error(
        "hosts.duplicate-address",
        `hosts[${i}].address`,
        `address ${hosts[i]?.address} is also used by hosts[${j}]`,
        "each host needs its own corosync link0 address",
      ),
    );
  }
  const ids = hosts.map(effectiveNodeId);
  for (const [i, j] of duplicates(ids, (id) => id)) {
    out.push(
      error(
        "hosts.duplicate-nodeid",
        `hosts[${i}].nodeId`,
        `nodeId ${ids[i]} is also used by hosts[${j}]`,
        "set a unique nodeId (default: position in the list, from 1)",
      ),
    );
  }
  if (!hosts.some((h) => h.power === "always-on")) {
    out.push(
      error(
        "hosts.no-always-on",
        "hosts",
        "no host has power: always-on",
        "mark the low-power host that never sleeps as power: always-on; the cluster is built around it",
      ),
    );
  }
  hosts.forEach((h, i) => {
    if (h.nodeId === undefined && hosts.length > 1) {
      out.push(
        warning(
          "hosts.implicit-nodeid",
          `hosts[${i}].nodeId`,
          `host ${h.name} has no explicit nodeId, so it is its position in the list (${i + 1}); removing a host above it would renumber it, which Proxmox cannot do in place`,
          `add nodeId: ${i + 1} to this host`,
        ),
      );
    }
    if (!h.hostKey) {
      out.push(
        error(
          "hosts.missing-host-key",
          `hosts[${i}].hostKey`,
          `host ${h.name} has no pinned SSH host key, and the program connects to it over SSH`,
          `run \`ssh-keyscan -t ed25519 ${h.address}\` on a trusted network and paste the "ssh-ed25519 AAAA..." part`,
        ),
      );
    }
  });
  return out;
}

export function vmReferenceRules(cfg: ParsedConfig): Finding[] {
  const out: Finding[] = [];
  const names = new Set(cfg.hosts.map((h) => h.name));
  cfg.vms.forEach((vm, i) => {
    if (!names.has(vm.host)) {
      out.push(
        error(
          "vms.unknown-host",
          `vms[${i}].host`,
          `VM ${vm.name} is placed on "${vm.host}", which is not a declared host`,
          `use one of: ${[...names].join(", ")}`,
        ),
      );
    }
    if (vm.cloneFrom && vm.image) {
      out.push(
        error(
          "vms.two-sources",
          `vms[${i}]`,
          `VM ${vm.name} sets both cloneFrom and image`,
          "keep one source: cloneFrom (a template) or image (a cloud image)",
        ),
      );
    }
    if (vm.cloneFrom?.node !== undefined && !names.has(vm.cloneFrom.node)) {
      out.push(
        error(
          "vms.unknown-template-node",
          `vms[${i}].cloneFrom.node`,
          `template node "${vm.cloneFrom.node}" is not a declared host`,
          `use one of: ${[...names].join(", ")}`,
        ),
      );
    }
  });
  for (const [i, j] of duplicates(cfg.vms, (vm) => vm.vmId)) {
    out.push(
      error(
        "vms.duplicate-vmid",
        `vms[${i}].vmId`,
        `vmId ${cfg.vms[i]?.vmId} is also used by vms[${j}]`,
        "vmIds are unique across the whole cluster; pick a free one",
      ),
    );
  }
  for (const [i, j] of duplicates(cfg.vms, (vm) => vm.name)) {
    out.push(
      error(
        "vms.duplicate-name",
        `vms[${i}].name`,
        `VM name "${cfg.vms[i]?.name}" is also used by vms[${j}]`,
        "give every VM its own name",
      ),
    );
  }
  return out;
}

export function quorumConfigRules(cfg: ParsedConfig): Finding[] {
  const q = cfg.quorum;
  if (q.mode === "qdevice" && !q.device) {
    return [
      error(
        "quorum.device-missing",
        "quorum.device",
        "quorum.mode is qdevice but no quorum.device is declared",
        "add quorum.device: {address, hostKey} of the QNetd host, or use mode: weighted",
      ),
    ];
  }
  if (q.mode !== "qdevice" && q.device) {
    return [
      error(
        "quorum.device-unused",
        "quorum.device",
        `quorum.device is declared but quorum.mode is ${q.mode}`,
        "set quorum.mode: qdevice to use it, or remove quorum.device",
      ),
    ];
  }
  return [];
}
