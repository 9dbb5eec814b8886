// The Proxmox provider's host keys. The bpg provider (proxmox/ssh/client.go openNodeShell) checks node host
// keys against `$HOME/.ssh/known_hosts` only (skeema/knownhosts), and on an UNKNOWN host it appends whatever
// key the node presents (trust on first use, bpg PR #217); a known host with another key is refused. It has no
// argument for host keys. So the strongest pin it allows is this file holding exactly the pinned key for each
// node before its first connection: this module computes that file (pure), components/knownHosts.ts writes it.
import { createHmac } from "node:crypto";

export interface PinnedHost {
  /** Config path of the key, for messages ("hosts[1].hostKey"). */
  readonly path: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** "type base64" (core/config keeps keys without comment). */
  readonly hostKey: string;
}

export interface KnownHostsConflict {
  readonly host: PinnedHost;
  /** 1-based line of known_hosts that names this host with another key (or a CA / wildcard that covers it). */
  readonly line: number;
  readonly text: string;
}

export interface KnownHostsUpdate {
  /** The new file text (unchanged when nothing is missing). */
  readonly text: string;
  /** Hosts whose pinned key was appended. */
  readonly added: readonly PinnedHost[];
  /** Lines that would let the provider accept a key other than the pinned one: the file must not be used. */
  readonly conflicts: readonly KnownHostsConflict[];
}

/** How known_hosts names a host: the address for port 22, "[address]:port" otherwise (x/crypto knownhosts.Normalize). */
export function knownHostsName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** One host pattern of a known_hosts line against a name: plain, wildcard (* ?) or hashed (|1|salt|hmac). */
function patternMatches(pattern: string, name: string): boolean {
  const hashed = /^\|1\|([^|]+)\|([^|]+)$/.exec(pattern);
  if (hashed) {
    const mac = createHmac("sha1", Buffer.from(hashed[1]!, "base64")).update(name).digest("base64");
    return mac === hashed[2];
  }
  if (!/[*?]/.test(pattern)) return pattern === name;
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`).test(name);
}

/** Whether a comma-separated pattern list covers `name` (a matching negated pattern excludes it). */
function patternsMatch(patterns: string, name: string): boolean {
  let hit = false;
  for (const p of patterns.split(",")) {
    if (p.startsWith("!")) {
      if (patternMatches(p.slice(1), name)) return false;
    } else if (patternMatches(p, name)) hit = true;
  }
  return hit;
}

/**
 * The file with every pinned key present, or the lines that make pinning impossible: any line for a pinned host
 * with another key, and any @cert-authority line covering it (the provider would accept those too).
 */
export function updateKnownHosts(existing: string, pins: readonly PinnedHost[]): KnownHostsUpdate {
  const lines = existing.split("\n");
  const conflicts: KnownHostsConflict[] = [];
  const present = new Set<PinnedHost>();
  lines.forEach((raw, i) => {
    const text = raw.trim();
    if (text === "" || text.startsWith("#")) return;
    const fields = text.split(/\s+/);
    const marker = fields[0]!.startsWith("@") ? fields.shift() : undefined;
    if (marker === "@revoked") return; // a revoked key is refused anyway
    const [patterns, type, blob] = fields;
    if (!patterns || !type || !blob) return;
    for (const host of pins) {
      if (!patternsMatch(patterns, knownHostsName(host.address, host.port))) continue;
      if (marker === undefined && `${type} ${blob}` === host.hostKey) present.add(host);
      else conflicts.push({ host, line: i + 1, text: raw.length > 120 ? `${raw.slice(0, 117)}...` : raw });
    }
  });
  const added = pins.filter((h) => !present.has(h));
  if (added.length === 0 || conflicts.length > 0) return { text: existing, added: [], conflicts };
  const head = existing === "" || existing.endsWith("\n") ? existing : `${existing}\n`;
  const body = added.map((h) => `${knownHostsName(h.address, h.port)} ${h.hostKey}\n`).join("");
  return { text: head + body, added, conflicts };
}
