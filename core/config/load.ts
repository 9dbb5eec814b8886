// Reads the raw stack config once into a frozen Model, or into findings naming config paths.
import type { Finding, HostSpec, Model, VmSpec } from "../model";
import { bracketed } from "./address";
import { error, issueToFindings } from "./findings";
import { shown, VOLUME_FILE, VOLUME_FILE_MAX } from "./formats";
import { keyWithoutComment } from "./sshKey";
import { retiredHostRules } from "./retired";
import { effectiveNodeId, hostRules, quorumConfigRules, vmReferenceRules } from "./rules";
import { protectionRules } from "./protection-rules";
import { configSchema, SECRET_KEYS, type ParsedConfig, type SecretKey } from "./schema";

/** One stack's config: key (without the "pve-homelab:" namespace) → value, JSON already parsed. */
export interface RawStackConfig {
  readonly values: Readonly<Record<string, unknown>>;
  /** Keys whose values are stored encrypted (`pulumi config set --secret`). */
  readonly secretKeys: ReadonlySet<string>;
}

export interface LoadResult {
  /** Present when there is no error finding. */
  readonly model?: Model;
  readonly findings: readonly Finding[];
}

export function loadModel(raw: RawStackConfig): LoadResult {
  const plain: Record<string, unknown> = {};
  const findings: Finding[] = [];
  for (const [key, value] of Object.entries(raw.values)) {
    if ((SECRET_KEYS as readonly string[]).includes(key)) {
      if (!raw.secretKeys.has(key)) {
        findings.push(
          error(
            "config.secret-in-plain-text",
            key,
            `${key} is stored in plain text in the stack file`,
            `remove it and run \`pulumi config set --secret ${key} ...\` (it must stay a Pulumi secret)`,
          ),
        );
      }
      continue;
    }
    plain[key] = value;
  }
  const parsed = configSchema.safeParse(plain, { reportInput: true });
  if (!parsed.success) {
    return { findings: [...findings, ...parsed.error.issues.flatMap(issueToFindings)] };
  }
  const cfg = parsed.data;
  findings.push(
    ...missingSecrets(raw, cfg),
    ...hostRules(cfg),
    ...retiredHostRules(cfg),
    ...vmReferenceRules(cfg),
    ...quorumConfigRules(cfg),
    ...protectionRules(cfg),
    ...derivedFileNameRules(cfg),
  );
  if (findings.some((f) => f.level === "error")) return { findings };
  return { model: deepFreeze(toModel(cfg)), findings };
}

/** Secrets the program cannot work without: the SSH key always, the root password to join a second host, the
 *  API token as soon as VMs are declared. */
function missingSecrets(raw: RawStackConfig, cfg: ParsedConfig): Finding[] {
  const needed: [SecretKey, string][] = [["sshPrivateKey", "every host action runs over SSH"]];
  if (cfg.hosts.length > 1) needed.push(["rootPassword", "`pvecm add` joins hosts with the root password"]);
  if (cfg.vms.length > 0) needed.push(["proxmoxApiToken", "VMs are created through the Proxmox API"]);
  else if (cfg.backups.length > 0) {
    needed.push(["proxmoxApiToken", "backup jobs are created through the Proxmox API"]);
  }
  return needed
    .filter(([key]) => !(key in raw.values))
    .map(([key, why]) =>
      error(
        "config.secret-missing",
        key,
        `${key} is not set, and ${why}`,
        `run \`pulumi config set --secret ${key} ...\` (see README.md, "Secrets")`,
      ),
    );
}

function toModel(cfg: ParsedConfig): Model {
  const hosts: HostSpec[] = cfg.hosts.map((h, i) => ({
    name: h.name,
    address: h.address,
    power: h.power,
    votes: h.votes,
    nodeId: effectiveNodeId(h, i),
    // Comment dropped: editing it must not change every SSH connection.
    hostKey: h.hostKey === undefined ? undefined : keyWithoutComment(h.hostKey),
    sshUser: h.sshUser ?? cfg.sshUser,
    sshPort: h.sshPort ?? 22,
    cores: h.cores,
    memoryMiB: h.memoryMiB,
    wakeOnLan: h.wakeOnLan,
    state: h.state,
    guests: h.guests ?? "shutdown",
  }));
  const power = new Map(hosts.map((h) => [h.name, h.power]));
  const vms: VmSpec[] = cfg.vms.map((vm) => {
    // Power-profile defaults: a VM on a usually-off host must not try to start (or be expected up) by itself.
    const wakesWithHost = power.get(vm.host) !== "usually-off";
    return {
      ...vm,
      cloneFrom: vm.cloneFrom && { vmId: vm.cloneFrom.vmId, node: vm.cloneFrom.node ?? vm.host },
      image: vm.image && { ...vm.image, fileName: vm.image.fileName ?? imageFileName(vm.image.url) },
      tags: [...new Set(vm.tags.map((t) => t.toLowerCase()))].sort(),
      onBoot: vm.onBoot ?? wakesWithHost,
      started: vm.started ?? wakesWithHost,
    };
  });
  const alwaysOn = hosts.find((h) => h.power === "always-on");
  return {
    clusterName: cfg.clusterName,
    hosts,
    retiredHosts: cfg.retiredHosts.map((r) => ({ name: r.name, nodeId: r.nodeId })),
    sharedStorage: cfg.sharedStorage,
    acknowledgeQuorumRisk: cfg.acknowledgeQuorumRisk,
    dismantleOnDestroy: cfg.dismantleOnDestroy,
    quorum: {
      ...cfg.quorum,
      device: cfg.quorum.device && {
        ...cfg.quorum.device,
        hostKey: keyWithoutComment(cfg.quorum.device.hostKey),
        // corosync-qdevice: ffsplit needs an even node count; lms is what `pvecm qdevice setup --force` uses for odd.
        algorithm: cfg.quorum.device.algorithm ?? (hosts.length % 2 === 0 ? "ffsplit" : "lms"),
      },
    },
    vms,
    backups: cfg.backups.map((job) => ({
      ...job,
      repeatMissed: job.repeatMissed ?? coversSleepingHost(job.vms, vms, power),
    })),
    proxmoxVersion: cfg.proxmoxVersion,
    proxmox: {
      endpoint: cfg.proxmoxEndpoint ?? `https://${bracketed(alwaysOn?.address ?? hosts[0]!.address)}:8006/`,
      insecure: cfg.proxmoxInsecure,
    },
  };
}

/** Whether a backup job covers a VM on a host that is not always on (where a scheduled run can be missed). */
function coversSleepingHost(
  covered: "all" | readonly string[],
  vms: readonly VmSpec[],
  power: ReadonlyMap<string, string>,
): boolean {
  if (covered === "all") return [...power.values()].some((p) => p !== "always-on");
  return vms.some((vm) => covered.includes(vm.name) && power.get(vm.host) !== "always-on");
}

/** Proxmox stores imported images under a name ending in .img/.qcow2; keep the URL's last segment. */
function imageFileName(url: string): string {
  const last = new URL(url).pathname.split("/").filter(Boolean).pop() ?? "image.img";
  return /\.(img|qcow2|raw)$/.test(last) ? last : `${last}.img`;
}

/** A file name taken from image.url must pass the same volume-name check as an explicit image.fileName. */
function derivedFileNameRules(cfg: ParsedConfig): Finding[] {
  return cfg.vms.flatMap((vm, i) => {
    if (!vm.image || vm.image.fileName !== undefined) return [];
    const name = imageFileName(vm.image.url);
    if (name.length <= VOLUME_FILE_MAX && VOLUME_FILE.test(name)) return [];
    return [
      error(
        "config.invalid_format",
        `vms[${i}].image.url`,
        `the file name taken from image.url, ${shown(name)}, is not a safe volume file name (pve-storage SAFE_CHAR: letters, digits, '-', '_', '.', '+', '=')`,
        `set vms[${i}].image.fileName, e.g. ${vm.name}.img`,
      ),
    ];
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
