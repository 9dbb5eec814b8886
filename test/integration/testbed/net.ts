// IPv4 subnet arithmetic and the root-namespace guard route. The testbed's addresses must never be reachable
// from the root namespace (which has a default route off the machine): an `unreachable <subnet>` route there
// turns any stray connect into an immediate error instead of a packet on the real network.

import { run, runOk } from "./exec";

export interface Subnet {
  /** e.g. "10.213.47.0/24" (normalised: host bits zero). */
  readonly cidr: string;
  readonly base: number;
  readonly prefix: number;
}

const toInt = (ip: string): number => {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: ${ip}`);
  }
  return (((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!) >>> 0;
};
const toIp = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
const mask = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

export function parseSubnet(cidr: string): Subnet {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr.trim());
  if (!m) throw new Error(`subnet must look like 10.213.47.0/24, got ${JSON.stringify(cidr)}`);
  const prefix = Number(m[2]);
  if (prefix < 8 || prefix > 29) throw new Error(`subnet prefix must be /8../29, got /${prefix}`);
  const base = (toInt(m[1]!) & mask(prefix)) >>> 0;
  return { cidr: `${toIp(base)}/${prefix}`, base, prefix };
}

/** The address at offset `n` inside the subnet (must be a usable host address). */
export function hostAddress(subnet: Subnet, n: number): string {
  const size = 2 ** (32 - subnet.prefix);
  if (!Number.isInteger(n) || n < 1 || n >= size - 1) {
    throw new Error(`host offset ${n} does not fit in ${subnet.cidr}`);
  }
  return toIp(subnet.base + n);
}

/** Two halves of the subnet: more specific than its connected route, so blackholes on them win. */
export function subnetHalves(subnet: Subnet): [string, string] {
  const p = subnet.prefix + 1;
  return [`${toIp(subnet.base)}/${p}`, `${toIp(subnet.base + 2 ** (32 - p))}/${p}`];
}

export function overlaps(a: Subnet, cidr: string): boolean {
  const b = cidr === "default" ? { base: 0, prefix: 0 } : parseLoose(cidr);
  const p = Math.min(a.prefix, b.prefix);
  return (a.base & mask(p)) >>> 0 === (b.base & mask(p)) >>> 0;
}

function parseLoose(cidr: string): { base: number; prefix: number } {
  const [ip, len] = cidr.split("/");
  const prefix = len === undefined ? 32 : Number(len);
  return { base: (toInt(ip!) & mask(prefix)) >>> 0, prefix };
}

/** Refuse a subnet that overlaps anything the root namespace really routes to or owns (other than the
 *  default route and our own guard route): the testbed must never shadow or touch a real network. */
export async function assertSubnetFree(subnet: Subnet): Promise<void> {
  const routes = (await runOk("ip", ["-4", "route", "show", "table", "all"])).split("\n").filter(Boolean);
  for (const line of routes) {
    const words = line.trim().split(/\s+/);
    const typed = ["unreachable", "blackhole", "prohibit", "local", "broadcast", "unicast"].includes(
      words[0]!,
    );
    const dst = typed ? words[1]! : words[0]!;
    if (dst === "default" || dst === "0.0.0.0/0") continue;
    if (words[0] === "unreachable" && dst === subnet.cidr) continue; // our guard (possibly another testbed's)
    if (!/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(dst)) continue;
    if (overlaps(subnet, dst)) {
      throw new Error(
        `testbed subnet ${subnet.cidr} overlaps a root-namespace route (${line.trim()}); pick another`,
      );
    }
  }
  const addrs = await runOk("ip", ["-4", "-o", "addr", "show"]);
  for (const m of addrs.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\/(\d+)/g)) {
    if (overlaps(subnet, `${m[1]}/32`) || overlaps(subnet, `${m[1]}/${m[2]}`)) {
      throw new Error(
        `testbed subnet ${subnet.cidr} overlaps root-namespace address ${m[1]}/${m[2]}; pick another`,
      );
    }
  }
}

export async function hasGuardRoute(subnet: Subnet): Promise<boolean> {
  const out = await runOk("ip", ["-4", "route", "show", "type", "unreachable", subnet.cidr]);
  return out.trim() !== "";
}

/** Add `unreachable SUBNET` in the root namespace; returns true if it was added now (false: already there). */
export async function addGuardRoute(subnet: Subnet): Promise<boolean> {
  if (await hasGuardRoute(subnet)) return false;
  const r = await run("ip", ["route", "add", "unreachable", subnet.cidr]);
  if (r.code !== 0 && !(await hasGuardRoute(subnet))) {
    throw new Error(`cannot add the guard route 'unreachable ${subnet.cidr}': ${r.stderr.trim()}`);
  }
  return r.code === 0;
}

export async function removeGuardRoute(cidr: string): Promise<void> {
  const subnet = parseSubnet(cidr);
  if (await hasGuardRoute(subnet)) await run("ip", ["route", "del", "unreachable", subnet.cidr]);
}
