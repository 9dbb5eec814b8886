// VM placement rules: capacity per host, always-on VMs on always-on hosts, HA versus weighted votes, VMs that
// only run while a usually-off host is on, and cloud images that would overwrite each other on a host.
// Host existence, vmId uniqueness/range and tag format are checked by core/config and not repeated here.
import type { Finding, HostSpec, Model, VmSpec } from "./model";

/** What one host carries, for the plan's capacity bars. Totals are undefined when the host declares none. */
export interface HostPlacement {
  readonly host: string;
  /** Names of the VMs placed on this host, in config order. */
  readonly vms: readonly string[];
  readonly coresUsed: number;
  readonly coresTotal: number | undefined;
  readonly memoryUsed: number;
  readonly memoryTotal: number | undefined;
}

/** One entry per declared host, in config order; every VM counts, started or not (it may start any time). */
export function placementByHost(model: Model): HostPlacement[] {
  return model.hosts.map((h) => {
    const vms = model.vms.filter((vm) => vm.host === h.name);
    return {
      host: h.name,
      vms: vms.map((vm) => vm.name),
      coresUsed: sum(vms.map((vm) => vm.cores)),
      coresTotal: h.cores,
      memoryUsed: sum(vms.map((vm) => vm.memoryMiB)),
      memoryTotal: h.memoryMiB,
    };
  });
}

export function placementFindings(model: Model): Finding[] {
  return [
    ...capacityFindings(model),
    ...alwaysOnFindings(model),
    ...haFindings(model),
    ...usuallyOffFindings(model),
    ...imageFindings(model),
  ];
}

function capacityFindings(model: Model): Finding[] {
  const out: Finding[] = [];
  const usage = placementByHost(model);
  model.hosts.forEach((h, i) => {
    const used = usage[i]!;
    const onHost = vmsOn(model, h.name);
    if (h.cores !== undefined && used.coresUsed > h.cores) {
      const over = used.coresUsed - h.cores;
      out.push({
        level: "error",
        code: "placement.cores-exceeded",
        path: `hosts[${i}].cores`,
        message: `VMs on ${h.name} need ${used.coresUsed} cores, ${over} more than the ${h.cores} it has (${list(onHost, (vm) => vm.cores)})`,
        fix: `move a VM to another host (vms[N].host), lower vms[N].cores, or raise hosts[${i}].cores if ${h.name} may hand out more vCPUs`,
      });
    }
    if (h.memoryMiB !== undefined && used.memoryUsed > h.memoryMiB) {
      const over = used.memoryUsed - h.memoryMiB;
      out.push({
        level: "error",
        code: "placement.memory-exceeded",
        path: `hosts[${i}].memoryMiB`,
        message: `VMs on ${h.name} need ${used.memoryUsed} MiB of memory, ${over} MiB more than the ${h.memoryMiB} MiB it has (${list(onHost, (vm) => `${vm.memoryMiB} MiB`)})`,
        fix: `move a VM to another host (vms[N].host) or lower vms[N].memoryMiB`,
      });
    }
  });
  return out;
}

function alwaysOnFindings(model: Model): Finding[] {
  const alwaysOnHosts = model.hosts.filter((h) => h.power === "always-on").map((h) => h.name);
  const out: Finding[] = [];
  model.vms.forEach((vm, i) => {
    const host = hostOf(model, vm);
    if (!vm.alwaysOn || !host || host.power === "always-on") return;
    out.push({
      level: "error",
      code: "placement.always-on-vm-on-sleeping-host",
      path: `vms[${i}].host`,
      message: `VM ${vm.name} is alwaysOn but its host ${host.name} is ${host.power}: the VM stops whenever ${host.name} is off`,
      fix: `place it on an always-on host (${alwaysOnHosts.join(", ")}), or remove alwaysOn`,
    });
  });
  return out;
}

function haFindings(model: Model): Finding[] {
  const votes = new Set(model.hosts.map((h) => h.votes));
  if (model.quorum.mode !== "weighted" || votes.size <= 1) return [];
  const weights = model.hosts.map((h) => `${h.name} ${h.votes}`).join(", ");
  const out: Finding[] = [];
  model.vms.forEach((vm, i) => {
    if (!vm.ha) return;
    const why =
      `with weighted votes (${weights}) the light hosts cannot keep quorum without the heavy one, so HA cannot ` +
      `fail over, and a host running HA guests self-fences (watchdog reboot) when it loses quorum`;
    out.push(
      model.acknowledgeQuorumRisk
        ? {
            level: "warning",
            code: "placement.ha-with-weighted-votes",
            path: `vms[${i}].ha`,
            message: `VM ${vm.name} asks for HA; ${why} (accepted by acknowledgeQuorumRisk)`,
            fix: "for HA that can fail over, use quorum.mode: qdevice (1 vote per host plus an external QNetd vote)",
          }
        : {
            level: "error",
            code: "placement.ha-with-weighted-votes",
            path: `vms[${i}].ha`,
            message: `VM ${vm.name} asks for HA, which weighted votes do not support: ${why}`,
            fix: "use quorum.mode: qdevice (1 vote per host plus an external QNetd vote), remove ha, or set acknowledgeQuorumRisk: true to accept the risk",
          },
    );
  });
  return out;
}

// core/config defaults `started` to false on usually-off hosts, so `started: true` there was written by the user.
function usuallyOffFindings(model: Model): Finding[] {
  const out: Finding[] = [];
  model.vms.forEach((vm, i) => {
    const host = hostOf(model, vm);
    if (!vm.started || host?.power !== "usually-off") return;
    out.push({
      level: "warning",
      code: "placement.started-on-usually-off-host",
      path: `vms[${i}].started`,
      message: `VM ${vm.name} has started: true on ${host.name}, which is usually off: it runs only while ${host.name} is on, and \`pulumi up\` fails to start it while ${host.name} is off`,
      fix: `place it on a host that is on more often, or remove started (defaults to false on usually-off hosts) and set onBoot: true so it starts with ${host.name}`,
    });
  });
  return out;
}

// Cloud images are downloaded once per (host, url) into the same image storage: two VMs on one host naming the
// same file for different images (or the same image with different checksums) would fight over that file.
function imageFindings(model: Model): Finding[] {
  const out: Finding[] = [];
  const seen = new Map<string, { index: number; vm: VmSpec }>();
  model.vms.forEach((vm, i) => {
    const image = vm.image;
    if (!image) return;
    for (const key of [`${vm.host}\0url\0${image.url}`, `${vm.host}\0file\0${image.fileName}`]) {
      const first = seen.get(key);
      if (!first) {
        seen.set(key, { index: i, vm });
        continue;
      }
      const a = first.vm.image!;
      if (
        a.url === image.url &&
        a.fileName === image.fileName &&
        a.checksum === image.checksum &&
        a.checksumAlgorithm === image.checksumAlgorithm
      ) {
        continue;
      }
      out.push({
        level: "error",
        code: "placement.image-conflict",
        path: `vms[${i}].image`,
        message: `VM ${vm.name} and VM ${first.vm.name} (vms[${first.index}]) both use the image file ${image.fileName === a.fileName ? `"${image.fileName}"` : `from ${image.url}`} on ${vm.host}, with different url, fileName or checksum`,
        fix: "write the same image the same way (url, fileName, checksum) in every VM, or give a different image its own fileName",
      });
      break;
    }
  });
  return out;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const vmsOn = (model: Model, host: string) => model.vms.filter((vm) => vm.host === host);
const hostOf = (model: Model, vm: VmSpec): HostSpec | undefined =>
  model.hosts.find((h) => h.name === vm.host);
const list = (vms: readonly VmSpec[], amount: (vm: VmSpec) => string | number) =>
  vms.map((vm) => `${vm.name} ${amount(vm)}`).join(", ");
