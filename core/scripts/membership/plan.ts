// Who creates the cluster, who joins it and in which order, and what in the stack makes that impossible.
import type { Finding, HostSpec, Model } from "../../model";

/** Bounds (seconds) written into the scripts. Fixed, so the same stack always sends the same text. */
export const MEMBERSHIP_TIMEOUTS = {
  /** After create / join / delnode: until corosync reports quorum (a join settles in a few seconds). */
  quorum: 120,
  /** The whole `pvecm add` (it waits for quorum itself, without a bound). */
  join: 600,
  /** Until the always-on host's nodelist shows a change (pmxcfs copies corosync.conf within a second or two). */
  nodelist: 60,
} as const;

/** The host that runs `pvecm create` and every `pvecm delnode`: the first always-on host of the stack. */
export function founderOf(model: Model): HostSpec {
  const founder = model.hosts.find((h) => h.power === "always-on");
  // core/config refuses a stack without one (hosts.no-always-on); this guards direct callers.
  if (!founder) throw new Error("membership: the stack has no always-on host to create the cluster on");
  return founder;
}

/** The hosts that join the founder's cluster, one at a time, in stack order. */
export function joinersOf(model: Model): HostSpec[] {
  const founder = founderOf(model);
  return model.hosts.filter((h) => h !== founder);
}

/** Config path of a host field, e.g. hosts[2].nodeId (for findings). */
export function hostPath(model: Model, host: HostSpec, field: string): string {
  return `hosts[${model.hosts.indexOf(host)}].${field}`;
}

/** A host field as script messages name it: by host name, not list position, so a host's scripts do not change
 *  when another host is added to or removed from the list. */
export const hostField = (host: HostSpec, field: string): string => `${field} of host ${host.name}`;

/** What stops membership from being built as declared (besides what core/config already refuses). */
export function membershipFindings(model: Model): Finding[] {
  const founder = founderOf(model);
  const findings: Finding[] = [];
  if (founder.votes < 1) {
    findings.push({
      level: "error",
      code: "membership.founder-votes",
      path: hostPath(model, founder, "votes"),
      message: `${founder.name} creates the cluster with \`pvecm create --votes ${founder.votes}\`, but pvecm create needs at least 1 vote`,
      fix: `give ${founder.name} (the always-on host) 1 or more votes`,
    });
  }
  return findings;
}
