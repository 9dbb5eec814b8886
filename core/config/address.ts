// Host addresses: unicast only, no zone ids, one spelling per address. IPv6 addresses are canonicalized
// (RFC 5952: lower case, longest zero run compressed, via the WHATWG URL serializer) before they are compared
// or rendered, so "2001:DB8:0::1" and "2001:db8::1" are the same host and every script sees one form.
import { BlockList, isIP } from "node:net";

/** Ranges that are not a reachable unicast host address, with the reason shown to the user. */
const NOT_UNICAST: readonly [string, number, "ipv4" | "ipv6", string][] = [
  ["0.0.0.0", 8, "ipv4", "an unspecified ('this network') address"],
  ["127.0.0.0", 8, "ipv4", "a loopback address"],
  ["169.254.0.0", 16, "ipv4", "a link-local address (no DHCP lease?)"],
  ["224.0.0.0", 4, "ipv4", "a multicast address"],
  ["240.0.0.0", 4, "ipv4", "a reserved or broadcast address"],
  ["::", 128, "ipv6", "the unspecified address"],
  ["::1", 128, "ipv6", "the loopback address"],
  ["::ffff:0:0", 96, "ipv6", "an IPv4-mapped address (write the IPv4 form)"],
  ["fe80::", 10, "ipv6", "a link-local address (it needs a zone id; use a global or ULA address)"],
  ["ff00::", 8, "ipv6", "a multicast address"],
];

const lists = NOT_UNICAST.map(([net, prefix, family, why]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, family);
  return { list, family, why };
});

/** The canonical spelling of a valid IP address (IPv4 unchanged, IPv6 per RFC 5952). */
export function canonicalAddress(address: string): string {
  if (isIP(address) === 6) return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  return address;
}

/** Why `address` is not a usable unicast host address, or undefined when it is. */
export function addressProblem(address: string): string | undefined {
  if (address.includes("%")) return "has a zone id (%…); use an address without one";
  const family = isIP(address);
  if (family === 0) return "is not an IPv4/IPv6 address";
  const type = family === 4 ? "ipv4" : "ipv6";
  const hit = lists.find((l) => l.family === type && l.list.check(address, type));
  return hit ? `is ${hit.why}, not a unicast host address` : undefined;
}

/** `[v6]` for URLs, IPv4 as is. */
export const bracketed = (address: string): string => (address.includes(":") ? `[${address}]` : address);
