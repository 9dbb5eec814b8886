// Read-only views of a corosync.conf: the nodelist, totem's name and version, the quorum section.
// Strict on purpose: a section or key that appears twice is refused rather than guessed at (corosync would
// silently merge or overwrite), because the vote edit must change the line corosync actually uses.
import { refuse, throwIfProblems, type CorosyncProblem } from "./errors";
import {
  parseCorosyncConf,
  type CorosyncDocument,
  type CorosyncEntry,
  type CorosyncItem,
  type CorosyncSection,
} from "./syntax";

/** Text or an already parsed document. */
export type CorosyncSource = string | CorosyncDocument;

export interface CorosyncNode {
  readonly name: string;
  readonly nodeId: number;
  readonly ring0Addr: string;
  readonly ring1Addr?: string;
  /** undefined when the node has no quorum_votes line (corosync then counts 1). */
  readonly quorumVotes?: number;
}

export interface CorosyncQuorumDevice {
  readonly model?: string;
  readonly votes?: number;
  readonly net?: { readonly host?: string; readonly algorithm?: string };
}

/** The quorum section; flags are present only when their key is. */
export interface CorosyncQuorum {
  readonly provider?: string;
  readonly expectedVotes?: number;
  readonly twoNode?: boolean;
  readonly lastManStanding?: boolean;
  readonly autoTieBreaker?: boolean;
  readonly waitForAll?: boolean;
  readonly device?: CorosyncQuorumDevice;
}

/** A nodelist node with the lines an edit needs. */
export interface LocatedNode {
  readonly node: CorosyncNode;
  readonly section: CorosyncSection;
  readonly nodeIdEntry: CorosyncEntry;
  readonly votesEntry?: CorosyncEntry;
}

const REQUIRED_NODE_KEYS = ["name", "nodeid", "ring0_addr"] as const;
const NODE_KEYS = [...REQUIRED_NODE_KEYS, "ring1_addr", "quorum_votes"] as const;

const UINT8_MAX = 255;
const UINT32_MAX = 4294967295;

export const toDocument = (source: CorosyncSource): CorosyncDocument =>
  typeof source === "string" ? parseCorosyncConf(source) : source;

/** The nodes of the nodelist, in file order; [] when there is no nodelist section. */
export function readNodelist(source: CorosyncSource): CorosyncNode[] {
  return locateNodes(toDocument(source)).map((located) => located.node);
}

/** totem.cluster_name, or undefined when absent. */
export function readClusterName(source: CorosyncSource): string | undefined {
  const totem = onlySection(toDocument(source).items, "totem", "totem");
  return totem && onlyEntry(totem, "cluster_name", "totem")?.value;
}

/** totem.config_version; refuses a missing or non-numeric one (the vote edit must be able to bump it). */
export function readConfigVersion(source: CorosyncSource): number {
  return locateConfigVersion(toDocument(source)).version;
}

/** The quorum section, or undefined when the file has none. */
export function readQuorum(source: CorosyncSource): CorosyncQuorum | undefined {
  const quorum = onlySection(toDocument(source).items, "quorum", "quorum");
  if (quorum === undefined) return undefined;
  const problems: CorosyncProblem[] = [];
  const text = (key: string) => onlyEntry(quorum, key, "quorum")?.value;
  const uint = (key: string, max: number) =>
    numberOf(onlyEntry(quorum, key, "quorum"), `quorum.${key}`, max, problems);
  const flag = (key: string) => {
    const n = uint(key, UINT8_MAX);
    return n === undefined ? undefined : n !== 0;
  };
  const result: CorosyncQuorum = withoutUndefined({
    provider: text("provider"),
    expectedVotes: uint("expected_votes", UINT32_MAX),
    twoNode: flag("two_node"),
    lastManStanding: flag("last_man_standing"),
    autoTieBreaker: flag("auto_tie_breaker"),
    waitForAll: flag("wait_for_all"),
    device: readDevice(quorum, problems),
  });
  throwIfProblems(problems);
  return result;
}

function readDevice(quorum: CorosyncSection, problems: CorosyncProblem[]): CorosyncQuorumDevice | undefined {
  const device = onlySection(quorum.children, "device", "quorum.device");
  if (device === undefined) return undefined;
  const net = onlySection(device.children, "net", "quorum.device.net");
  return withoutUndefined({
    model: onlyEntry(device, "model", "quorum.device")?.value,
    votes: numberOf(onlyEntry(device, "votes", "quorum.device"), "quorum.device.votes", UINT32_MAX, problems),
    net:
      net &&
      withoutUndefined({
        host: onlyEntry(net, "host", "quorum.device.net")?.value,
        algorithm: onlyEntry(net, "algorithm", "quorum.device.net")?.value,
      }),
  });
}

/** Every nodelist node with its lines; all problems of all nodes are reported together. */
export function locateNodes(doc: CorosyncDocument): LocatedNode[] {
  const nodelist = onlySection(doc.items, "nodelist", "nodelist");
  if (nodelist === undefined) return [];
  const problems: CorosyncProblem[] = [];
  const located: LocatedNode[] = [];
  for (const section of nodelist.children) {
    if (section.kind !== "section" || section.name !== "node") continue;
    const where = `nodelist node at line ${section.line}`;
    const fields = entriesOf(section, NODE_KEYS, where);
    const {
      name,
      nodeid: nodeIdEntry,
      ring0_addr: ring0,
      ring1_addr: ring1,
      quorum_votes: votesEntry,
    } = fields;
    if (name === undefined || nodeIdEntry === undefined || ring0 === undefined) {
      const missing = REQUIRED_NODE_KEYS.filter((key) => fields[key] === undefined);
      problems.push({
        code: "node-missing-field",
        message: `The ${where} has no ${missing.join(", ")} line.`,
        fix: "give every node `name`, `nodeid` and `ring0_addr` lines, as pvecm writes them",
      });
      continue;
    }
    const nodeId = numberOf(nodeIdEntry, `nodeid of node ${name.value}`, UINT32_MAX, problems);
    const quorumVotes = numberOf(votesEntry, `quorum_votes of node ${name.value}`, UINT32_MAX, problems);
    if (nodeId === undefined) continue;
    const node: CorosyncNode = {
      name: name.value,
      nodeId,
      ring0Addr: ring0.value,
      ...(ring1 ? { ring1Addr: ring1.value } : {}),
      ...(quorumVotes === undefined ? {} : { quorumVotes }),
    };
    located.push({ node, section, nodeIdEntry, ...(votesEntry ? { votesEntry } : {}) });
  }
  throwIfProblems(problems);
  return located;
}

/** totem.config_version with its line. */
export function locateConfigVersion(doc: CorosyncDocument): {
  readonly version: number;
  readonly entry: CorosyncEntry;
} {
  const totem = onlySection(doc.items, "totem", "totem");
  const entry = totem && onlyEntry(totem, "config_version", "totem");
  if (entry === undefined) {
    refuse(
      "config-version-missing",
      "totem has no config_version line, so the change could not be announced to the other nodes.",
      "add `config_version: 1` to the totem section (pvecm always writes one)",
    );
  }
  // Plain digits only: corosync would also take "+5" or even "-1" (strtoull), which no tool should write.
  if (!/^\d+$/.test(entry.value) || Number(entry.value) >= Number.MAX_SAFE_INTEGER) {
    refuse(
      "config-version-invalid",
      `totem.config_version on line ${entry.line} is ${JSON.stringify(entry.value)}, not a plain whole number.`,
      "set it to a decimal number such as `config_version: 4`",
    );
  }
  return { version: Number(entry.value), entry };
}

/** The single child section with that name; a repeated one is refused. */
export function onlySection(
  items: readonly CorosyncItem[],
  name: string,
  path: string,
): CorosyncSection | undefined {
  const found = items.filter((i): i is CorosyncSection => i.kind === "section" && i.name === name);
  if (found.length > 1) {
    refuse(
      "repeated-section",
      `Section ${path} appears ${found.length} times (lines ${found.map((s) => s.line).join(", ")}); corosync would merge them.`,
      `keep a single ${name} section`,
    );
  }
  return found[0];
}

/** The single entry with that key in a section; a repeated one is refused. */
export function onlyEntry(section: CorosyncSection, key: string, where: string): CorosyncEntry | undefined {
  return entriesOf(section, [key], where)[key];
}

/** The entries for these keys, in one pass over the section; a repeated key is refused. */
function entriesOf<K extends string>(
  section: CorosyncSection,
  keys: readonly K[],
  where: string,
): Partial<Record<K, CorosyncEntry>> {
  const found: Partial<Record<K, CorosyncEntry>> = {};
  const wanted: readonly string[] = keys;
  for (const item of section.children) {
    if (item.kind !== "entry" || !wanted.includes(item.key)) continue;
    const key = item.key as K;
    const earlier = found[key];
    if (earlier) {
      refuse(
        "repeated-key",
        `Key ${key} appears more than once in the ${where} (lines ${earlier.line} and ${item.line}); corosync uses only the last.`,
        `keep a single ${key} line`,
      );
    }
    found[key] = item;
  }
  return found;
}

/** A number the way corosync's safe_atoq() reads it (base 10, optional sign, in range), or a problem. */
function numberOf(
  entry: CorosyncEntry | undefined,
  what: string,
  max: number,
  problems: CorosyncProblem[],
): number | undefined {
  if (entry === undefined) return undefined;
  const n = /^[+-]?\d+$/.test(entry.value) ? Number(entry.value) + 0 : NaN; // + 0 turns "-0" into 0
  if (n >= 0 && n <= max) return n;
  problems.push({
    code: "invalid-number",
    message: `The ${what} on line ${entry.line} is ${JSON.stringify(entry.value)}, not a whole number from 0 to ${max}.`,
    fix: "write a plain number there (comments go on lines of their own)",
  });
  return undefined;
}

/** Drops undefined fields so results compare cleanly with deepStrictEqual. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
