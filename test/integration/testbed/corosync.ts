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

// The parser of `corosync-quorumtool -s` lives in core (the status command reads the same output).
export { parseQuorumStatus, type QuorumMember, type QuorumStatus } from "../../../core/live/quorumtool";

/** `startTestbed`'s corosyncConf for a Proxmox-style file where node i has votes[i] (1 when not given). */
export function votedConf(
  votes: readonly number[],
  opts: { clusterName?: string; configVersion?: number; extraQuorum?: string } = {},
): (nodes: readonly Omit<ConfNode, "votes">[]) => string {
  return (nodes) =>
    proxmoxStyleConf({
      configVersion: 1,
      ...opts,
      nodes: nodes.map((n, i) => ({ ...n, votes: votes[i] ?? 1 })),
    });
}
