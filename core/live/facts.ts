// The status script's output (core/scripts/status.ts) as plain facts about the live cluster. Pure: no I/O.
// Field names follow Proxmox's own API output: pve-manager PVE/API2/Cluster.pm (GET /cluster/status,
// /cluster/resources with PVE::API2Tools::extract_vm_stats), pve-cluster PVE/API2/ClusterConfig.pm
// (GET /cluster/config/nodes: values are strings, as Perl prints them).
import {
  readClusterName,
  readConfigVersion,
  readNodelist,
  readQuorum,
  type CorosyncQuorum,
} from "../corosync";
import { STATUS_END, STATUS_MARK } from "../scripts/status";
import { parseMembers, parseQuorumStatus, type QuorumStatus } from "./quorumtool";

export interface SectionResult {
  /** The command's exit status. */
  readonly code: number;
  readonly text: string;
}

/** A node of the live nodelist, with what /cluster/status and corosync say about it now. */
export interface LiveNode {
  readonly name: string;
  readonly nodeId: number;
  /** ring0_addr of the nodelist. */
  readonly address: string;
  /** quorum_votes of the nodelist (corosync counts 1 when absent). */
  readonly votes: number;
  /** /cluster/status `online`. */
  readonly online: boolean;
  /** The node the status ran on. */
  readonly local: boolean;
  /** The votes votequorum holds for it right now, when it is a member (corosync-quorumtool). */
  readonly runtimeVotes?: number;
  /** `wakeonlan:` MAC of /etc/pve/nodes/<node>/config, when set. */
  readonly wakeOnLan?: string;
}

/** A guest of /cluster/resources --type vm. */
export interface LiveVm {
  readonly vmid: number;
  readonly type: string;
  readonly node: string;
  /** "running", "stopped", … ; "unknown" when the node's state is not known (e.g. the node is off). */
  readonly status: string;
  /** Absent when Proxmox has no current data for it (e.g. on a node that is off). */
  readonly name?: string;
  readonly template: boolean;
  readonly lock?: string;
  readonly hastate?: string;
}

export interface LiveQdevice {
  /** corosync.conf has a quorum.device section. */
  readonly configured: boolean;
  readonly host?: string;
  readonly algorithm?: string;
  readonly votes?: number;
  /** The device's votes in the current membership (0 when it does not vote). */
  readonly votingVotes: number;
  /** `corosync-qdevice-tool -s` "State:" line, when it ran. */
  readonly state?: string;
}

export interface LiveFacts {
  /** The node the one session ran on. */
  readonly via: string;
  readonly clusterName?: string;
  /** totem.config_version of /etc/pve/corosync.conf. */
  readonly configVersion?: number;
  readonly quorate: boolean;
  readonly nodes: readonly LiveNode[];
  /** The quorum section of /etc/pve/corosync.conf. */
  readonly quorumConfig: CorosyncQuorum;
  /** corosync-quorumtool -s, when it answered. */
  readonly runtime?: QuorumStatus;
  readonly qdevice: LiveQdevice;
  readonly vms: readonly LiveVm[];
  /** What could not be read, one sentence each (the comparison turns these into error findings). */
  readonly problems: readonly string[];
}

/** Why the output cannot be compared at all (exit 3). */
export class NotAClusterError extends Error {
  override readonly name = "NotAClusterError";
}

/** The sections of the script's stdout. Throws when the output is cut short (no end line). */
export function parseSections(stdout: string): Map<string, SectionResult> {
  const sections = new Map<string, SectionResult>();
  let ended = false;
  for (const line of stdout.split("\n")) {
    if (line === STATUS_END) ended = true;
    const parts = line.split(" ");
    if (parts.length !== 4 || parts[0] !== STATUS_MARK) continue;
    const [, name, code, data] = parts as [string, string, string, string];
    const text = data === "-" ? "" : Buffer.from(data, "base64").toString("utf8");
    sections.set(name, { code: Number(code), text });
  }
  if (!ended) throw new Error("the status script's output ends early (the session was cut?)");
  return sections;
}

type Json = Record<string, unknown>;

function jsonArray(section: SectionResult | undefined, what: string, problems: string[]): Json[] {
  if (!section || section.code !== 0) {
    problems.push(`${what} failed (exit ${section?.code ?? "missing"})`);
    return [];
  }
  try {
    const v: unknown = JSON.parse(section.text);
    if (Array.isArray(v)) return v.filter((e): e is Json => e !== null && typeof e === "object");
  } catch {
    // reported below
  }
  problems.push(`${what} did not return a JSON array`);
  return [];
}

const str = (v: unknown): string | undefined =>
  typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined;
const int = (v: unknown): number | undefined => {
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) ? n : undefined;
};
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
/** Perl's 1/0, JSON booleans, "1"/"0". */
const truthy = (v: unknown): boolean => v === true || v === 1 || v === "1";

/** `wakeonlan: <mac>[,bind-interface=…]` of a node config. */
export function wakeOnLanMac(nodeConfig: string): string | undefined {
  const m = /^wakeonlan:\s*(?:mac=)?([0-9A-Fa-f:]{17})/m.exec(nodeConfig);
  return m?.[1];
}

/** The facts, or a NotAClusterError when the host is not in a cluster (no corosync.conf, no cluster entry). */
export function parseLiveFacts(stdout: string): LiveFacts {
  const s = parseSections(stdout);
  const problems: string[] = [];
  const via = s.get("node")?.text.trim() || "?";

  const status = jsonArray(s.get("cluster-status"), "pvesh get /cluster/status", problems);
  const cluster = status.find((e) => e.type === "cluster");
  const conf = s.get("corosync-conf");
  if (!cluster && (!conf || conf.code !== 0)) {
    throw new NotAClusterError(
      `${via} is not in a cluster: /etc/pve/corosync.conf is missing and /cluster/status has no cluster entry. Run \`pulumi up\` to create it, or check that the stack's always-on host is the right machine`,
    );
  }
  const online = new Map<string, boolean>();
  let local = via;
  for (const e of status.filter((x) => x.type === "node")) {
    const name = str(e.name);
    if (!name) continue;
    online.set(name, truthy(e.online));
    if (truthy(e.local)) local = name;
  }

  let confText = "";
  if (conf && conf.code === 0) confText = conf.text;
  else problems.push(`reading /etc/pve/corosync.conf failed (exit ${conf?.code ?? "missing"})`);
  let quorumConfig: CorosyncQuorum = {};
  let clusterName = str(cluster?.name);
  let configVersion: number | undefined;
  let confNodes: ReturnType<typeof readNodelist> = [];
  if (confText) {
    try {
      quorumConfig = readQuorum(confText) ?? {};
      clusterName = readClusterName(confText) ?? clusterName;
      configVersion = readConfigVersion(confText);
      confNodes = readNodelist(confText);
    } catch (e) {
      problems.push(`/etc/pve/corosync.conf does not parse: ${(e as Error).message.split("\n")[0]}`);
    }
  }

  let runtime: QuorumStatus | undefined;
  const qs = s.get("quorum-status");
  if (qs && (qs.code === 0 || qs.code === 2)) {
    try {
      runtime = parseQuorumStatus(qs.text);
    } catch {
      problems.push("corosync-quorumtool -s printed no status");
    }
  } else problems.push(`corosync-quorumtool -s failed (exit ${qs?.code ?? "missing"}): is corosync running?`);
  const members = runtime?.nodes ?? parseMembers(s.get("quorum-list")?.text ?? "").nodes;

  // The nodelist as the API gives it (/cluster/config/nodes); corosync.conf's when the API fails.
  const apiNodes = jsonArray(s.get("config-nodes"), "pvesh get /cluster/config/nodes", problems);
  const nodelist =
    apiNodes.length > 0
      ? apiNodes.flatMap((e) => {
          const name = str(e.name ?? e.node);
          const nodeId = int(e.nodeid);
          if (!name || nodeId === undefined) return [];
          return [{ name, nodeId, address: str(e.ring0_addr) ?? "", votes: int(e.quorum_votes) ?? 1 }];
        })
      : confNodes.map((n) => ({
          name: n.name,
          nodeId: n.nodeId,
          address: n.ring0Addr,
          votes: n.quorumVotes ?? 1,
        }));

  const nodeConfigs = new Map<string, string>();
  for (const [name, sec] of s) {
    if (name.startsWith("node-config:") && sec.code === 0) nodeConfigs.set(name.slice(12), sec.text);
  }
  const nodes: LiveNode[] = nodelist.map((n) => {
    const member = members.find((m) => m.nodeId === n.nodeId);
    const mac = wakeOnLanMac(nodeConfigs.get(n.name) ?? "");
    return {
      ...n,
      online: online.get(n.name) ?? member !== undefined,
      local: n.name === local,
      ...(member ? { runtimeVotes: member.votes } : {}),
      ...(mac ? { wakeOnLan: mac } : {}),
    };
  });

  const vms: LiveVm[] = jsonArray(
    s.get("resources"),
    "pvesh get /cluster/resources --type vm",
    problems,
  ).flatMap((e) => {
    const vmid = int(e.vmid);
    const node = str(e.node);
    if (vmid === undefined || !node) return [];
    return [
      {
        vmid,
        type: str(e.type) ?? "qemu",
        node,
        status: str(e.status) ?? "unknown",
        ...(str(e.name) ? { name: str(e.name)! } : {}),
        template: truthy(e.template),
        ...(str(e.lock) ? { lock: str(e.lock)! } : {}),
        ...(str(e.hastate) ? { hastate: str(e.hastate)! } : {}),
      },
    ];
  });

  const device = quorumConfig.device;
  const qdeviceState = s.get("qdevice");
  return {
    via: local,
    clusterName,
    configVersion,
    quorate: runtime?.quorate ?? truthy(cluster?.quorate),
    nodes,
    quorumConfig,
    runtime,
    qdevice: {
      configured: device !== undefined,
      ...(device?.net?.host ? { host: device.net.host } : {}),
      ...(device?.net?.algorithm ? { algorithm: device.net.algorithm } : {}),
      ...(device?.votes !== undefined ? { votes: device.votes } : {}),
      // The votes the device casts now: what the total holds beyond the members' own votes.
      votingVotes: runtime ? Math.max(0, runtime.totalVotes - sum(runtime.nodes.map((m) => m.votes))) : 0,
      ...(qdeviceState
        ? { state: /^State:\s*(.+)$/m.exec(qdeviceState.text)?.[1]?.trim() ?? `exit ${qdeviceState.code}` }
        : {}),
    },
    vms,
    problems,
  };
}
