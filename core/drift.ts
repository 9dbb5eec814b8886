// The live cluster against the stack: facts read by `npm run status` (core/live/facts.ts) → per-host state,
// the live quorum with its margin, and findings. Pure: no I/O, no Pulumi.
//
// Levels: "drift" (the cluster differs from the stack: `pulumi up` would change it, or the stack should),
// "error" (the cluster is in trouble whatever the stack says: an always-on host offline, no quorum, something
// unreadable), "info" (worth knowing, nothing to do). Expected states stay calm: a usually-off or
// sometimes-on host that is off is shown as "off (usually-off)", never a finding.
import { renderedDeviceVotes, configuredDevice } from "./quorum";
import type { HostSpec, Model, PowerProfile } from "./model";
import type { LiveFacts, LiveNode, LiveVm } from "./live/facts";

export type DriftLevel = "error" | "drift" | "info";

export interface DriftFinding {
  readonly level: DriftLevel;
  /** drift.votes, drift.quorum-option, … (see DRIFT_CODES). */
  readonly code: string;
  /** What it is about: a host or VM name, a config path, "" for the cluster. */
  readonly path: string;
  readonly message: string;
  readonly fix: string;
}

export const DRIFT_CODES = [
  "drift.cluster-name",
  "drift.votes",
  "drift.quorum-option",
  "drift.undeclared-node",
  "drift.not-member",
  "drift.address",
  "drift.nodeid",
  "drift.qdevice",
  "drift.vm-host",
  "drift.vm-missing",
  "drift.vm-unmanaged",
  "status.always-on-offline",
  "status.not-quorate",
  "status.unreadable",
] as const;

export interface HostStatus {
  readonly name: string;
  readonly power: PowerProfile;
  readonly declared: { readonly nodeId: number; readonly address: string; readonly votes: number };
  /** The nodelist entry; undefined when the host is not a member. */
  readonly live?: LiveNode;
  readonly member: boolean;
  readonly online: boolean;
  /** One word or two for the table: "online", "off (usually-off)", "OFFLINE", "not a member". */
  readonly state: string;
}

export interface LiveQuorum {
  readonly quorate: boolean;
  readonly expectedVotes: number;
  readonly totalVotes: number;
  readonly quorum: number;
  /** Votes that can still go before quorum is lost (total - quorum; negative when not quorate). */
  readonly margin: number;
  /** Each smallest set of live voters (hosts, "qdevice") whose loss loses quorum; at most 3 voters per set. */
  readonly losingSets: readonly (readonly string[])[];
}

export interface StatusAnalysis {
  readonly hosts: readonly HostStatus[];
  /** Nodelist entries the stack does not declare. */
  readonly undeclared: readonly LiveNode[];
  readonly quorum?: LiveQuorum;
  readonly vms: readonly {
    readonly vmId: number;
    readonly name: string;
    readonly declaredHost?: string;
    readonly live?: LiveVm;
  }[];
  readonly findings: readonly DriftFinding[];
}

const make = (code: string, path: string, message: string, fix: string): DriftFinding => ({
  level: "drift",
  code,
  path,
  message,
  fix,
});

/** Addresses compared as addresses: IPv6 in its canonical form (URL parsing does RFC 5952), IPv4 as is. */
export function sameAddress(a: string, b: string): boolean {
  const canon = (x: string) => {
    if (!x.includes(":")) return x.trim();
    try {
      return new URL(`http://[${x.trim()}]/`).hostname;
    } catch {
      return x.trim().toLowerCase();
    }
  };
  return canon(a) === canon(b);
}

function hostState(h: HostSpec, live: LiveNode | undefined): string {
  if (!live) return "not a member";
  if (live.online) return "online";
  return h.power === "always-on" ? "OFFLINE" : `off (${h.power})`;
}

export function compareLive(model: Model, live: LiveFacts): StatusAnalysis {
  const findings: DriftFinding[] = [];
  for (const p of live.problems) {
    findings.push({
      level: "error",
      code: "status.unreadable",
      path: live.via,
      message: p,
      fix: `check pve-cluster and corosync on ${live.via} (systemctl status pve-cluster corosync)`,
    });
  }
  if (live.clusterName !== undefined && live.clusterName !== model.clusterName) {
    findings.push(
      make(
        "drift.cluster-name",
        "clusterName",
        `the cluster is named ${live.clusterName}, the stack says ${model.clusterName}`,
        `set clusterName: ${live.clusterName} (a Proxmox cluster cannot be renamed in place)`,
      ),
    );
  }

  const byName = new Map(live.nodes.map((n) => [n.name, n]));
  const hosts = model.hosts.map((h, i): HostStatus => {
    const n = byName.get(h.name);
    const path = `hosts[${i}]`;
    if (!n) {
      findings.push(
        make(
          "drift.not-member",
          h.name,
          `${h.name} is declared but not in the cluster's nodelist`,
          h.power === "always-on"
            ? `\`pulumi up\` creates the cluster on ${h.name}; check that ${path}.address is this cluster's always-on host`
            : `power ${h.name} on and run \`pulumi up\`: it joins the cluster (pvecm add); or remove ${path} from the stack`,
        ),
      );
    } else {
      if (!sameAddress(n.address, h.address)) {
        findings.push(
          make(
            "drift.address",
            h.name,
            `${h.name} is in the nodelist with ring0_addr ${n.address}, the stack says ${h.address}`,
            `set ${path}.address: ${n.address}, or change the link address the Proxmox way (pve-docs "Edit corosync.conf"); \`pulumi up\` does not move links`,
          ),
        );
      }
      if (n.nodeId !== h.nodeId) {
        findings.push(
          make(
            "drift.nodeid",
            h.name,
            `${h.name} has nodeid ${n.nodeId} in the cluster, the stack says ${h.nodeId}`,
            `set ${path}.nodeId: ${n.nodeId} (node ids never change after a join)`,
          ),
        );
      }
      const runtime =
        n.runtimeVotes !== undefined && n.runtimeVotes !== n.votes
          ? ` (corosync runs with ${n.runtimeVotes})`
          : "";
      if (n.votes !== h.votes || runtime) {
        findings.push(
          make(
            "drift.votes",
            h.name,
            `${h.name} has ${n.votes} ${n.votes === 1 ? "vote" : "votes"}${runtime}, the stack says ${h.votes}`,
            `\`pulumi up\` will push ${h.votes}; or set ${path}.votes: ${n.votes} to keep the live value`,
          ),
        );
      }
      if (!n.online && h.power === "always-on") {
        findings.push({
          level: "error",
          code: "status.always-on-offline",
          path: h.name,
          message: `${h.name} is always-on but offline`,
          fix: `power ${h.name} on and check corosync on it (journalctl -b -u corosync); the cluster depends on it`,
        });
      }
    }
    return {
      name: h.name,
      power: h.power,
      declared: { nodeId: h.nodeId, address: h.address, votes: h.votes },
      live: n,
      member: n !== undefined,
      online: n?.online ?? false,
      state: hostState(h, n),
    };
  });

  const declared = new Set(model.hosts.map((h) => h.name));
  const undeclared = live.nodes.filter((n) => !declared.has(n.name));
  for (const n of undeclared) {
    findings.push(
      make(
        "drift.undeclared-node",
        n.name,
        `${n.name} (nodeid ${n.nodeId}, ${n.address}, ${n.votes} ${n.votes === 1 ? "vote" : "votes"}, ${n.online ? "online" : "offline"}) is in the cluster but not in the stack`,
        `add it to hosts, or remove it from the cluster: power it off, then \`pvecm delnode ${n.name}\` (README "Removing a host"); the vote push refuses an undeclared node`,
      ),
    );
  }

  findings.push(...quorumOptionDrift(model, live), ...qdeviceDrift(model, live));
  const quorum = liveQuorum(live);
  if (quorum && !quorum.quorate) {
    findings.push({
      level: "error",
      code: "status.not-quorate",
      path: "",
      message: `the cluster is not quorate: ${quorum.totalVotes} of ${quorum.expectedVotes} votes, quorum ${quorum.quorum}; /etc/pve is read-only`,
      fix: "power on more hosts (the always-on host first); only as a last resort and temporarily: `pvecm expected <votes present>` on a live node",
    });
  }

  const vms = vmDrift(model, live, findings);
  return { hosts, undeclared, quorum, vms, findings: sortFindings(findings) };
}

const LEVEL_ORDER: Record<DriftLevel, number> = { error: 0, drift: 1, info: 2 };
const sortFindings = (fs: DriftFinding[]) =>
  fs
    .map((f, i) => [f, i] as const)
    .sort((a, b) => LEVEL_ORDER[a[0].level] - LEVEL_ORDER[b[0].level] || a[1] - b[1])
    .map(([f]) => f);

/** votequorum options of /etc/pve/corosync.conf against the stack's quorum section. */
function quorumOptionDrift(model: Model, live: LiveFacts): DriftFinding[] {
  const q = model.quorum;
  const l = live.quorumConfig;
  const rows: [string, string, unknown, unknown][] = [
    ["expected_votes", "quorum.expectedVotes", q.expectedVotes, l.expectedVotes],
    ["two_node", "quorum.twoNode", q.twoNode, l.twoNode ?? false],
    ["last_man_standing", "quorum.lastManStanding", q.lastManStanding, l.lastManStanding ?? false],
    ["auto_tie_breaker", "quorum.autoTieBreaker", q.autoTieBreaker, l.autoTieBreaker ?? false],
    ["wait_for_all", "quorum.waitForAll", q.waitForAll, l.waitForAll ?? false],
  ];
  const show = (v: unknown) =>
    v === undefined ? "not set" : typeof v === "boolean" ? (v ? "1" : "0") : String(v);
  return rows
    .filter(([, , want, have]) => want !== have)
    .map(([key, path, want, have]) =>
      make(
        "drift.quorum-option",
        path,
        `corosync.conf quorum.${key} is ${show(have)}, the stack says ${show(want)}`,
        `set ${path} to match (${show(have)}), or change quorum.${key} in /etc/pve/corosync.conf the Proxmox way (pve-docs "Edit corosync.conf"); the vote push only changes votes`,
      ),
    );
}

function qdeviceDrift(model: Model, live: LiveFacts): DriftFinding[] {
  const want = configuredDevice(model);
  const have = live.qdevice;
  const out: DriftFinding[] = [];
  if (!want && have.configured) {
    out.push(
      make(
        "drift.qdevice",
        "quorum.mode",
        `corosync has a quorum device${have.host ? ` (${have.host})` : ""}, the stack's quorum.mode is ${model.quorum.mode}`,
        "`pulumi up` runs `pvecm qdevice remove` (every host online); or declare it: quorum.mode: qdevice with quorum.device",
      ),
    );
  } else if (want && !have.configured) {
    out.push(
      make(
        "drift.qdevice",
        "quorum.device",
        `the stack declares a QDevice at ${want.address}, corosync has none configured`,
        "`pulumi up` sets it up (`pvecm qdevice setup`, every host online)",
      ),
    );
  } else if (want && have.configured) {
    const wantVotes = renderedDeviceVotes(model);
    const diffs = [
      have.host !== undefined && !sameAddress(have.host, want.address)
        ? `host ${have.host} (stack ${want.address})`
        : "",
      have.algorithm !== undefined && have.algorithm !== want.algorithm
        ? `algorithm ${have.algorithm} (stack ${want.algorithm})`
        : "",
      have.votes !== wantVotes
        ? `votes ${have.votes ?? "automatic"} (stack ${wantVotes ?? "automatic"})`
        : "",
    ].filter(Boolean);
    if (diffs.length > 0) {
      out.push(
        make(
          "drift.qdevice",
          "quorum.device",
          `the quorum device differs: ${diffs.join(", ")}`,
          "set quorum.device to match, or re-run the setup: `pvecm qdevice remove`, then `pulumi up`",
        ),
      );
    }
    if (live.runtime && have.votingVotes === 0) {
      out.push({
        level: "error",
        code: "drift.qdevice",
        path: "quorum.device",
        message: `the quorum device is configured but casts no vote now${have.state ? ` (qdevice state: ${have.state})` : ""}`,
        fix: `check corosync-qnetd on ${want.address} and corosync-qdevice on the hosts (corosync-qdevice-tool -s)`,
      });
    }
  }
  return out;
}

/** The live quorum and its margin: votes that can still go, and which losses would end quorum. */
export function liveQuorum(live: LiveFacts): LiveQuorum | undefined {
  const r = live.runtime;
  if (!r) return undefined;
  const margin = r.totalVotes - r.quorum;
  const names = new Map(live.nodes.map((n) => [n.nodeId, n.name]));
  const voters: { name: string; votes: number }[] = r.nodes
    .filter((m) => m.votes > 0)
    .map((m) => ({ name: names.get(m.nodeId) ?? m.name, votes: m.votes }));
  if (live.qdevice.votingVotes > 0) voters.push({ name: "qdevice", votes: live.qdevice.votingVotes });
  return {
    quorate: r.quorate,
    expectedVotes: r.expectedVotes,
    totalVotes: r.totalVotes,
    quorum: r.quorum,
    margin,
    losingSets: r.quorate ? smallestLosses(voters, margin, 3) : [],
  };
}

/** Minimal sets of voters (up to `maxSize`) whose votes together exceed `margin`, smaller sets first. */
export function smallestLosses(
  voters: readonly { name: string; votes: number }[],
  margin: number,
  maxSize: number,
): string[][] {
  const found: number[][] = [];
  const pick = (start: number, chosen: number[], size: number) => {
    if (chosen.length === size) {
      const votes = chosen.reduce((s, i) => s + voters[i]!.votes, 0);
      const minimal = !found.some((f) => f.every((i) => chosen.includes(i)));
      if (votes > margin && minimal) found.push([...chosen]);
      return;
    }
    for (let i = start; i < voters.length; i++) pick(i + 1, [...chosen, i], size);
  };
  for (let size = 1; size <= Math.min(maxSize, voters.length); size++) pick(0, [], size);
  return found.map((set) => set.map((i) => voters[i]!.name));
}

function vmDrift(model: Model, live: LiveFacts, findings: DriftFinding[]): StatusAnalysis["vms"] {
  const byId = new Map(live.vms.map((v) => [v.vmid, v]));
  const out: { vmId: number; name: string; declaredHost?: string; live?: LiveVm }[] = [];
  model.vms.forEach((vm, i) => {
    const l = byId.get(vm.vmId);
    out.push({ vmId: vm.vmId, name: vm.name, declaredHost: vm.host, live: l });
    if (!l) {
      findings.push(
        make(
          "drift.vm-missing",
          vm.name,
          `VM ${vm.name} (vmId ${vm.vmId}) is declared on ${vm.host} but not in the cluster`,
          `\`pulumi up\` creates it; if it was deleted on purpose, remove vms[${i}] from the stack`,
        ),
      );
    } else if (l.node !== vm.host) {
      findings.push(
        make(
          "drift.vm-host",
          vm.name,
          `VM ${vm.name} (vmId ${vm.vmId}) runs on ${l.node}, the stack says ${vm.host}`,
          `\`pulumi up\` would migrate it back to ${vm.host}; to keep it on ${l.node}, set vms[${i}].host: ${l.node}`,
        ),
      );
    }
  });
  const declared = new Set(model.vms.map((v) => v.vmId));
  const templates = new Set(model.vms.flatMap((v) => (v.cloneFrom ? [v.cloneFrom.vmId] : [])));
  for (const l of live.vms) {
    if (declared.has(l.vmid)) continue;
    const name = l.name ?? `${l.type}/${l.vmid}`;
    out.push({ vmId: l.vmid, name, live: l });
    findings.push({
      level: "info",
      code: "drift.vm-unmanaged",
      path: name,
      message: `${l.template ? "template" : l.type === "lxc" ? "container" : "VM"} ${name} (vmId ${l.vmid}) on ${l.node} is not managed by the stack${templates.has(l.vmid) ? " (a clone source of the stack)" : ""}`,
      fix: "nothing to do; declare it in vms to manage it (`pulumi import` first, so it is not created twice)",
    });
  }
  return out;
}
