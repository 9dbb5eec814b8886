// A live cluster described in a few fields, rendered as the status script's output (core/scripts/status.ts):
// each section as the real tool prints it (pvesh JSON as pve-manager/pve-cluster return it, corosync.conf as
// Proxmox writes it, corosync-quorumtool -s / -l of corosync 3.1). For the drift table tests and the status
// CLI tests (through a stand-in ssh client). By default: the homelab of test/fixtures/stacks.ts, in sync.
import { renderCorosyncConf, type RenderQuorum } from "../../core/corosync";
import { STATUS_END, STATUS_MARK } from "../../core/scripts/status";

export interface FakeNode {
  name: string;
  nodeId: number;
  address: string;
  votes: number;
  online: boolean;
  /** Votes corosync runs with, when they differ from the file (a local edit not pushed). */
  runtimeVotes?: number;
  wakeOnLan?: string;
}

export interface FakeVm {
  vmid: number;
  node: string;
  name?: string;
  status?: string;
  type?: "qemu" | "lxc";
  template?: boolean;
}

export interface FakeCluster {
  clusterName: string;
  configVersion: number;
  via: string;
  nodes: FakeNode[];
  quorum?: RenderQuorum;
  /** Votes the QDevice casts now (0 = configured but not voting). */
  qdeviceVoting?: number;
  vms: FakeVm[];
  /** Sections to replace: name → [exit status, text]. */
  override?: Record<string, [number, string]>;
  /** Drop the end line (a cut session). */
  truncated?: boolean;
}

export function homelabCluster(): FakeCluster {
  return {
    clusterName: "homelab",
    configVersion: 4,
    via: "pve-low",
    nodes: [
      { name: "pve-low", nodeId: 1, address: "192.168.1.21", votes: 3, online: true },
      { name: "pve-mid", nodeId: 2, address: "192.168.1.22", votes: 1, online: true },
      { name: "pve-high", nodeId: 3, address: "192.168.1.23", votes: 1, online: true },
    ],
    vms: [{ vmid: 101, node: "pve-low", name: "dns", status: "running" }],
  };
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;

export function quorumtoolStatus(c: FakeCluster): string {
  const members = c.nodes.filter((n) => n.online);
  const device = c.quorum?.device;
  const nodeSum = c.nodes.reduce((s, n) => s + n.votes, 0);
  const deviceVotes = device ? (device.votes ?? nodeSum - 1) : 0;
  const expected = c.quorum?.expectedVotes ?? nodeSum + deviceVotes;
  const total =
    members.reduce((s, n) => s + (n.runtimeVotes ?? n.votes), 0) +
    (c.qdeviceVoting ?? (device ? deviceVotes : 0));
  const quorum = Math.floor(expected / 2) + 1;
  const quorate = total >= quorum;
  const local = c.nodes.find((n) => n.name === c.via)!;
  const rows = members.map(
    (n) =>
      `${hex(n.nodeId)} ${String(n.runtimeVotes ?? n.votes).padStart(10)}${device ? "    A,V,NMW" : ""} ${n.name}${n.name === c.via ? " (local)" : ""}`,
  );
  if (device)
    rows.push(`${hex(0)} ${String(c.qdeviceVoting ?? deviceVotes).padStart(10)}            Qdevice`);
  return [
    "Quorum information",
    "------------------",
    "Date:             Tue Dec  2 10:00:00 2025",
    "Quorum provider:  corosync_votequorum",
    `Nodes:            ${members.length}`,
    `Node ID:          ${hex(local.nodeId)}`,
    "Ring ID:          1.2c",
    `Quorate:          ${quorate ? "Yes" : "No"}`,
    "",
    "Votequorum information",
    "----------------------",
    `Expected votes:   ${expected}`,
    `Highest expected: ${expected}`,
    `Total votes:      ${total}`,
    `Quorum:           ${quorum} ${quorate ? "" : " Activity blocked"}`,
    `Flags:            ${quorate ? "Quorate " : ""}${device ? "Qdevice " : ""}`,
    "",
    "Membership information",
    "----------------------",
    `    Nodeid      Votes${device ? "    Qdevice" : ""} Name`,
    ...rows,
    "",
  ].join("\n");
}

/** The status script's stdout for this cluster. */
export function statusOutput(c: FakeCluster): string {
  const conf = renderCorosyncConf({
    clusterName: c.clusterName,
    configVersion: c.configVersion,
    nodes: c.nodes.map((n) => ({ name: n.name, nodeId: n.nodeId, address: n.address, votes: n.votes })),
    quorum: c.quorum,
  });
  const qs = quorumtoolStatus(c);
  const quorate = /^Quorate: +Yes/m.test(qs);
  const sections: [string, number, string][] = [
    ["node", 0, `${c.via}\n`],
    [
      "cluster-status",
      0,
      JSON.stringify([
        {
          type: "cluster",
          id: "cluster",
          name: c.clusterName,
          nodes: c.nodes.length,
          version: c.configVersion,
          quorate: quorate ? 1 : 0,
        },
        ...c.nodes.map((n) => ({
          type: "node",
          id: `node/${n.name}`,
          name: n.name,
          nodeid: n.nodeId,
          ip: n.address,
          local: n.name === c.via ? 1 : 0,
          online: n.online ? 1 : 0,
          level: "",
        })),
      ]),
    ],
    [
      "config-nodes",
      0,
      JSON.stringify(
        c.nodes.map((n) => ({
          node: n.name,
          name: n.name,
          nodeid: String(n.nodeId),
          quorum_votes: String(n.votes),
          ring0_addr: n.address,
        })),
      ),
    ],
    [
      "resources",
      0,
      JSON.stringify(
        c.vms.map((v) => {
          const online = c.nodes.find((n) => n.name === v.node)?.online ?? false;
          const type = v.type ?? "qemu";
          // pve-manager extract_vm_stats: without current data only id, vmid, node, type, status "unknown".
          return online
            ? {
                id: `${type}/${v.vmid}`,
                vmid: v.vmid,
                node: v.node,
                type,
                status: v.status ?? "running",
                name: v.name,
                template: v.template ? 1 : 0,
                maxcpu: 1,
                maxmem: 1073741824,
              }
            : { id: `${type}/${v.vmid}`, vmid: v.vmid, node: v.node, type, status: "unknown" };
        }),
      ),
    ],
    ["corosync-conf", 0, conf],
    ["quorum-status", quorate ? 0 : 2, qs],
    ["quorum-list", 0, qs.slice(qs.indexOf("Membership information"))],
    ...(c.quorum?.device
      ? [
          [
            "qdevice",
            0,
            `Qdevice information\n-------------------\nModel:                  Net\nNode ID:                1\nConfigured node list:\nMembership node list:   1, 2, 3\n\nQdevice-net information\n----------------------\nCluster name:           ${c.clusterName}\nQNetd host:             ${c.quorum.device.host}:5403\nAlgorithm:              ${c.quorum.device.algorithm}\nTie-breaker:            Node with lowest node ID\nState:                  ${c.qdeviceVoting === 0 ? "Connect failed" : "Connected"}\n`,
          ] as [string, number, string],
        ]
      : []),
    ...c.nodes.map((n): [string, number, string] => [
      `node-config:${n.name}`,
      0,
      n.wakeOnLan ? `wakeonlan: ${n.wakeOnLan}\n` : "#\n",
    ]),
  ];
  const lines = sections.map(([name, code, text]) => {
    const [oc, ot] = c.override?.[name] ?? [code, text];
    return `${STATUS_MARK} ${name} ${oc} ${ot === "" ? "-" : Buffer.from(ot.replace(/\n+$/, "")).toString("base64")}`;
  });
  if (!c.truncated) lines.push(STATUS_END);
  return lines.join("\n") + "\n";
}
