// `corosync-quorumtool -s` (and -l) as data: the runtime view of votequorum on the node that ran it. Shared
// by the status command (core/live) and the testbed harness. LC_ALL=C output of corosync 3.x.
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
  const { nodes, qdeviceVotes } = parseMembers(text);
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

/**
 * The "Membership information" table of `corosync-quorumtool -s` or `-l`: members by node id, and the quorum
 * device's votes when it is listed (its row has node id 0).
 */
export function parseMembers(text: string): { nodes: QuorumMember[]; qdeviceVotes?: number } {
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
  return qdeviceVotes === undefined ? { nodes } : { nodes, qdeviceVotes };
}
