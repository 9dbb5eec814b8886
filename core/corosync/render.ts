// A corosync.conf byte for byte as Proxmox VE writes it (pve-cluster PVE::Corosync create_conf + write_conf):
// keys sorted, two-space indent, nodes sorted by name, a blank line after each top-level section. Used to
// build test clusters and to cross-check the quorum simulator, so the input is plain data.
import { throwIfProblems, type CorosyncProblem } from "./errors";

export interface RenderNode {
  /** nodelist `name` (the Proxmox node name). */
  readonly name: string;
  /** nodelist `nodeid`, 1 or more. */
  readonly nodeId: number;
  /** ring0_addr (corosync link 0). */
  readonly address: string;
  /** ring1_addr (link 1). Give it for every node or for none. */
  readonly address1?: string;
  /** quorum_votes, 0 or more. Always written (pvecm omits a 0, which corosync would then count as 1). */
  readonly votes: number;
}

export interface RenderQuorumDevice {
  /** QNetd address (quorum.device.net.host). */
  readonly host: string;
  readonly algorithm: "ffsplit" | "lms";
  /** quorum.device.votes; `pvecm qdevice setup` writes 1 for ffsplit and nothing for lms. */
  readonly votes?: number;
  /** Defaults to "on", as pvecm writes it. */
  readonly tls?: "on" | "off" | "required";
}

/** Optional quorum keys; each is written only when given (true → 1, false → 0). */
export interface RenderQuorum {
  readonly expectedVotes?: number;
  readonly twoNode?: boolean;
  readonly lastManStanding?: boolean;
  readonly autoTieBreaker?: boolean;
  readonly waitForAll?: boolean;
  readonly device?: RenderQuorumDevice;
}

export interface RenderInput {
  readonly clusterName: string;
  /** totem.config_version: `pvecm create` leaves 1, each `pvecm add` adds 1. */
  readonly configVersion: number;
  readonly nodes: readonly RenderNode[];
  readonly quorum?: RenderQuorum;
}

type ConfValue = string | number | ConfSection | readonly ConfSection[];
interface ConfSection {
  readonly [key: string]: ConfValue | undefined;
}

const UINT32_MAX = 4294967295;

/**
 * The corosync.conf Proxmox VE would hold for this cluster. Throws CorosyncEditError "invalid-render-input"
 * listing every bad field (duplicate names or nodeids, values that would break the syntax, ...).
 */
export function renderCorosyncConf(input: RenderInput): string {
  throwIfProblems(inputProblems(input));
  const links = input.nodes.some((n) => n.address1 !== undefined) ? [0, 1] : [0];
  const nodes = [...input.nodes].sort((a, b) => compare(a.name, b.name));
  const q = input.quorum ?? {};
  const flag = (b: boolean | undefined) => (b === undefined ? undefined : b ? 1 : 0);
  return dump(
    {
      logging: { debug: "off", to_syslog: "yes" },
      nodelist: {
        node: nodes.map((n) => ({
          name: n.name,
          nodeid: n.nodeId,
          quorum_votes: n.votes,
          ring0_addr: n.address,
          ring1_addr: n.address1,
        })),
      },
      quorum: {
        provider: "corosync_votequorum",
        expected_votes: q.expectedVotes,
        two_node: flag(q.twoNode),
        last_man_standing: flag(q.lastManStanding),
        auto_tie_breaker: flag(q.autoTieBreaker),
        wait_for_all: flag(q.waitForAll),
        device: q.device && {
          model: "net",
          net: { algorithm: q.device.algorithm, host: q.device.host, tls: q.device.tls ?? "on" },
          votes: q.device.votes,
        },
      },
      totem: {
        cluster_name: input.clusterName,
        config_version: input.configVersion,
        interface: links.map((linknumber) => ({ linknumber })),
        ip_version: "ipv4-6",
        link_mode: "passive",
        secauth: "on",
        version: 2,
      },
    },
    "",
  );
}

/** write_conf's dump: sorted keys; arrays become repeated sections; blank line after top-level sections. */
function dump(section: ConfSection, indent: string): string {
  let out = "";
  for (const key of Object.keys(section).sort(compare)) {
    const value = section[key];
    if (value === undefined) continue;
    if (isSectionList(value)) {
      for (const child of value) out += `${indent}${key} {\n${dump(child, `${indent}  `)}${indent}}\n`;
    } else if (typeof value === "object") {
      out += `${indent}${key} {\n${dump(value, `${indent}  `)}${indent}}\n${indent === "" ? "\n" : ""}`;
    } else {
      out += `${indent}${key}: ${value}\n`;
    }
  }
  return out;
}

const isSectionList = (v: ConfValue): v is readonly ConfSection[] => Array.isArray(v);

/** Perl's default sort: plain code-unit order, not locale order. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function inputProblems(input: RenderInput): CorosyncProblem[] {
  const problems: string[] = [];
  const word = (what: string, v: string) => {
    // A blank, brace or newline would change how corosync splits the line.
    if (!/^[^\s{}]+$/.test(v))
      problems.push(`${what} ${JSON.stringify(v)} must be non-empty without blanks or braces`);
  };
  const whole = (what: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max)
      problems.push(`${what} ${v} must be a whole number from ${min} to ${max}`);
  };
  word("clusterName", input.clusterName);
  whole("configVersion", input.configVersion, 0, Number.MAX_SAFE_INTEGER);
  if (input.nodes.length === 0) problems.push("nodes must not be empty");
  input.nodes.forEach((n, i) => {
    word(`nodes[${i}].name`, n.name);
    word(`nodes[${i}].address`, n.address);
    if (n.address1 !== undefined) word(`nodes[${i}].address1`, n.address1);
    whole(`nodes[${i}].nodeId`, n.nodeId, 1, UINT32_MAX);
    whole(`nodes[${i}].votes`, n.votes, 0, UINT32_MAX);
  });
  const repeated = (values: readonly (string | number)[]) => values.filter((v, i) => values.indexOf(v) !== i);
  for (const name of new Set(repeated(input.nodes.map((n) => n.name))))
    problems.push(`node name ${name} is repeated`);
  for (const id of new Set(repeated(input.nodes.map((n) => n.nodeId))))
    problems.push(`nodeId ${id} is repeated`);
  const withLink1 = input.nodes.filter((n) => n.address1 !== undefined).length;
  if (withLink1 !== 0 && withLink1 !== input.nodes.length)
    problems.push("address1 must be given for all nodes or none");
  const q = input.quorum;
  if (q?.expectedVotes !== undefined) whole("quorum.expectedVotes", q.expectedVotes, 1, UINT32_MAX);
  if (q?.device) {
    word("quorum.device.host", q.device.host);
    if (q.device.votes !== undefined) whole("quorum.device.votes", q.device.votes, 0, UINT32_MAX);
  }
  return problems.map((message) => ({
    code: "invalid-render-input",
    message: `renderCorosyncConf: ${message}.`,
    fix: "correct the input",
  }));
}
