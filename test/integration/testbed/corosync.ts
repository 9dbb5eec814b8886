// Corosync text helpers for the testbed: read totem.config_version from a corosync.conf, render a minimal
// Proxmox-style corosync.conf (for harness tests only: the project's real renderer lives elsewhere), and parse
// `corosync-quorumtool -s` output.

/** totem.config_version of a corosync.conf text (coroparse rules: `name {` opens, `}` closes, `key: value`
 *  split on the first colon, whole-line # comments). undefined when absent or not a number. */
export function configVersion(text: string): number | undefined {
  const stack: string[] = [];
  let version: number | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.endsWith("{")) {
      stack.push(line.slice(0, -1).trim());
      continue;
    }
    if (line === "}") {
      stack.pop();
      continue;
    }
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    if (stack.length === 1 && stack[0] === "totem" && line.slice(0, colon).trim() === "config_version") {
      const v = line.slice(colon + 1).trim();
      version = /^\d+$/.test(v) ? Number(v) : undefined;
    }
  }
  return version;
}

export interface ConfNode {
  readonly name: string;
  readonly nodeId: number;
  readonly votes: number;
  readonly address: string;
}

/** A corosync.conf shaped like the one `pvecm create/add` writes (sections and keys in Proxmox's sorted order).
 *  `extraQuorum` lines go into the quorum section (e.g. a device subsection), already indented by the caller. */
export function proxmoxStyleConf(opts: {
  readonly clusterName?: string;
  readonly configVersion?: number;
  readonly nodes: readonly ConfNode[];
  readonly extraQuorum?: string;
}): string {
  const lines = ["logging {", "  debug: off", "  to_syslog: yes", "}", "", "nodelist {"];
  for (const n of opts.nodes) {
    lines.push(
      "  node {",
      `    name: ${n.name}`,
      `    nodeid: ${n.nodeId}`,
      `    quorum_votes: ${n.votes}`,
      `    ring0_addr: ${n.address}`,
      "  }",
    );
  }
  lines.push("}", "", "quorum {", "  provider: corosync_votequorum");
  if (opts.extraQuorum) lines.push(opts.extraQuorum.replace(/\n$/, ""));
  lines.push(
    "}",
    "",
    "totem {",
    `  cluster_name: ${opts.clusterName ?? "homelab"}`,
    `  config_version: ${opts.configVersion ?? 1}`,
    "  interface {",
    "    linknumber: 0",
    "  }",
    "  ip_version: ipv4-6",
    "  link_mode: passive",
    "  secauth: on",
    "  version: 2",
    "}",
    "",
  );
  return lines.join("\n");
}

export interface QuorumMember {
  readonly nodeId: number;
  readonly votes: number;
  /** Node name from the nodelist (or address if it has none). */
  readonly name: string;
  readonly local: boolean;
}

export interface QuorumStatus {
  readonly quorate: boolean;
  readonly expectedVotes: number;
  readonly highestExpected: number;
  readonly totalVotes: number;
  readonly quorum: number;
  /** e.g. ["Quorate", "Qdevice"]. */
  readonly flags: readonly string[];
  /** The local node's id. */
  readonly nodeId: number;
  readonly ringId: string;
  /** Current members with the votes votequorum holds for them, by node id. */
  readonly nodes: readonly QuorumMember[];
  /** Votes of a quorum device when one is listed (its row has node id 0). */
  readonly qdeviceVotes?: number;
}

const num = (s: string): number => (s.startsWith("0x") ? parseInt(s, 16) : Number(s));
/** Leading integer of a field ("3 Activity blocked" → 3). */
const int = (s: string): number => Number(/^\d+/.exec(s)?.[0] ?? "NaN");

/** Parse `corosync-quorumtool -s` (with or without -p / -H). Throws on text that is not a status report. */
export function parseQuorumStatus(text: string): QuorumStatus {
  const field = (label: string): string | undefined => {
    const m = new RegExp(`^${label}:\\s*(.*?)\\s*$`, "m").exec(text);
    return m?.[1];
  };
  const need = (label: string): string => {
    const v = field(label);
    if (v === undefined) throw new Error(`no "${label}" in corosync-quorumtool output:\n${text}`);
    return v;
  };
  const nodes: QuorumMember[] = [];
  let qdeviceVotes: number | undefined;
  const member = text.split(/^Membership information\s*$/m)[1] ?? "";
  const header = /^\s*Nodeid\s+Votes(.*)$/m.exec(member);
  const hasQdeviceColumn = header?.[1]?.includes("Qdevice") ?? false;
  for (const line of member.split("\n")) {
    const m = /^\s*(0x[0-9a-fA-F]+|\d+)\s+(\d+)\s+(.*?)\s*$/.exec(line);
    if (!m) continue;
    let rest = m[3]!;
    if (hasQdeviceColumn) rest = rest.replace(/^\S+\s+/, "");
    const nodeId = num(m[1]!);
    const votes = Number(m[2]);
    if (nodeId === 0) {
      qdeviceVotes = votes;
      continue;
    }
    const local = /\s*\(local\)$/.test(rest);
    nodes.push({ nodeId, votes, name: rest.replace(/\s*\(local\)$/, ""), local });
  }
  nodes.sort((a, b) => a.nodeId - b.nodeId);
  return {
    quorate: need("Quorate") === "Yes",
    expectedVotes: int(need("Expected votes")),
    highestExpected: int(field("Highest expected") ?? ""),
    totalVotes: int(need("Total votes")),
    quorum: int(need("Quorum")),
    flags: (field("Flags") ?? "").split(/\s+/).filter(Boolean),
    nodeId: num(need("Node ID")),
    ringId: field("Ring ID") ?? "",
    nodes,
    ...(qdeviceVotes === undefined ? {} : { qdeviceVotes }),
  };
}
