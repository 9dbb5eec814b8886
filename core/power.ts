// Declared host power, as plain decisions: which hosts the stack manages, what each power step gets on stdin,
// which hosts a stack needs online, the quorum with the declared states, the findings the plan shows, and the
// live "may this host go off?" rule the power step applies on the always-on host (core/scripts/power.ts runs
// the same rule in shell; test/unit/power.test.ts checks both against each other). No Pulumi import.
import { error, warning } from "./config/findings";
import type { Finding, GuestPolicy, HostSpec, Model } from "./model";
import { expectedVotes, quorumThreshold, scenario } from "./quorum";

export const POWER_FINDING_CODES = [
  "power.state-always-on",
  "power.on-needs-mac",
  "power.send-options-unused",
  "power.started-vm-on-off-host",
  "power.vm-on-off-host",
  "power.declared-not-quorate",
] as const;

export const guestPolicy = (h: HostSpec): GuestPolicy => h.guests ?? "shutdown";

/** Hosts whose power the stack manages (a declared state), in declared order. */
export function managedHosts(model: Model): HostSpec[] {
  return model.hosts.filter((h) => h.state !== undefined && h.power !== "always-on");
}

/** The always-on host that sends Wake-on-LAN packets and runs every power step: the first one declared. */
export function powerSender(model: Model): HostSpec {
  const sender = model.hosts.find((h) => h.power === "always-on");
  if (!sender) throw new Error("no always-on host: the power steps run on one");
  return sender;
}

/** stdin of a power step, one readable line: `pve-high state=on guests=shutdown`. */
export function powerLine(host: Pick<HostSpec, "name" | "state" | "guests">): string {
  if (host.state === undefined) throw new Error(`${host.name} has no declared state`);
  return `${host.name} state=${host.state} guests=${host.guests ?? "shutdown"}\n`;
}

export const POWER_LINE = /^([A-Za-z0-9][A-Za-z0-9-]*) state=(on|off) guests=(shutdown|migrate)$/;

/** The live votequorum numbers a power-off decision needs (`corosync-quorumtool -s -p` on the sender). */
export interface LiveQuorum {
  /** "Total votes": the votes of the members now. */
  readonly totalVotes: number;
  /** "Quorum": votes needed; corosync never lowers it when a member leaves. */
  readonly quorum: number;
  /** The votes the leaving host holds now (0 when it is not a member). */
  readonly hostVotes: number;
}

export interface OffDecision {
  readonly allowed: boolean;
  /** Votes left once the host is gone. */
  readonly remaining: number;
  readonly quorum: number;
}

/**
 * May the host go off? Only when the live members without it stay quorate. Votequorum keeps `quorum` at
 * floor(highest expected / 2) + 1 and never lowers it when a member leaves (core/quorum, recalculate_quorum),
 * so the members left are quorate exactly when their votes reach the live quorum.
 */
export function offDecision(live: LiveQuorum): OffDecision {
  const remaining = live.totalVotes - live.hostVotes;
  return { allowed: remaining >= live.quorum, remaining, quorum: live.quorum };
}

/** Hosts certainly up with the declared states: the always-on hosts and those declared `on`. */
export function declaredUp(model: Model): HostSpec[] {
  return model.hosts.filter((h) => h.power === "always-on" || h.state === "on");
}

export interface DeclaredQuorum {
  /** Hosts declared off. */
  readonly off: readonly string[];
  /** Hosts certainly up (always-on, state on). */
  readonly up: readonly string[];
  /** Hosts whose power is not managed: may be on or off. */
  readonly unmanaged: readonly string[];
  readonly votes: number;
  readonly expected: number;
  readonly quorum: number;
  /** Quorate with only the `up` hosts (after a full cluster, as the what-if table counts). */
  readonly quorate: boolean;
  /** e.g. "pve-mid off: pve-low 3 of 5, quorate". */
  readonly summary: string;
}

/** The quorum with the declared states, or undefined when no host declares a state. */
export function declaredQuorum(model: Model): DeclaredQuorum | undefined {
  if (managedHosts(model).length === 0) return undefined;
  const up = declaredUp(model).map((h) => h.name);
  const off = model.hosts.filter((h) => h.state === "off").map((h) => h.name);
  const unmanaged = model.hosts.filter((h) => h.power !== "always-on" && h.state === undefined);
  const row = scenario(model, up);
  const expected = expectedVotes(model);
  const quorum = quorumThreshold(model);
  const left = off.length ? `${off.join(", ")} off` : "all managed hosts on";
  const verdict = row.quorate ? "quorate" : `NOT quorate (needs ${quorum})`;
  const rest = unmanaged.length ? `; not managed: ${unmanaged.map((h) => h.name).join(", ")}` : "";
  return {
    off,
    up,
    unmanaged: unmanaged.map((h) => h.name),
    votes: row.votes,
    expected,
    quorum,
    quorate: row.quorate,
    summary: `${left}: ${up.join(" + ")} ${row.votes} of ${expected}, ${verdict}${rest}`,
  };
}

export interface NeededHost {
  readonly host: string;
  readonly reasons: readonly string[];
}

/** The hosts a `pulumi up` of this stack needs online, and why. */
export function hostsNeededOnline(model: Model): NeededHost[] {
  return model.hosts.flatMap((h) => {
    const reasons: string[] = [];
    if (h.power === "always-on") reasons.push("always on: runs the cluster steps and the power steps");
    if (h.state === "on") reasons.push("declared state: on (its power step wakes it)");
    const vms = model.vms.filter((vm) => vm.host === h.name).map((vm) => vm.name);
    if (vms.length && h.state !== "off") reasons.push(`VMs: ${vms.join(", ")}`);
    return reasons.length ? [{ host: h.name, reasons }] : [];
  });
}

export function powerFindings(model: Model): Finding[] {
  const out: Finding[] = [];
  const sender = model.hosts.find((h) => h.power === "always-on");
  model.hosts.forEach((h, i) => {
    if (h.state !== undefined && h.power === "always-on") {
      out.push(
        error(
          "power.state-always-on",
          `hosts[${i}].state`,
          `${h.name} is always-on, so its power is not managed, but it declares state: ${h.state}`,
          "remove state from this host: the always-on host sends the Wake-on-LAN packets and runs the power steps",
        ),
      );
    }
    if (h.state === "on" && !h.wakeOnLan) {
      out.push(
        error(
          "power.on-needs-mac",
          `hosts[${i}].wakeOnLan`,
          `${h.name} declares state: on but has no wakeOnLan.mac, so it cannot be woken`,
          `add wakeOnLan: {mac: XX:XX:XX:XX:XX:XX} (the MAC of ${h.name}'s Wake-on-LAN NIC, from \`ip link\`)`,
        ),
      );
    }
    const w = h.wakeOnLan;
    if (w && (w.bindInterface !== undefined || w.broadcastAddress !== undefined) && h !== sender) {
      out.push(
        warning(
          "power.send-options-unused",
          `hosts[${i}].wakeOnLan`,
          `bindInterface/broadcastAddress of ${h.name} apply only when ${h.name} sends a packet; the power steps send from ${sender?.name ?? "the always-on host"}`,
          `set them on ${sender?.name ?? "the always-on host"}'s wakeOnLan instead`,
        ),
      );
    }
  });
  model.vms.forEach((vm, i) => {
    const host = model.hosts.find((h) => h.name === vm.host);
    if (host?.state !== "off") return;
    if (vm.started) {
      out.push(
        error(
          "power.started-vm-on-off-host",
          `vms[${i}].started`,
          `VM ${vm.name} is started: true on ${host.name}, which is declared state: off`,
          `set started: false on the VM, or state: on on ${host.name}`,
        ),
      );
    } else {
      out.push(
        warning(
          "power.vm-on-off-host",
          `vms[${i}].host`,
          `VM ${vm.name} is on ${host.name}, declared off: the Proxmox API cannot read or change it while the host is off (HTTP 595)`,
          `keep this VM unchanged while ${host.name} is off, or set state: on to change it`,
        ),
      );
    }
  });
  const dq = declaredQuorum(model);
  if (dq) {
    const notOff = model.hosts.filter((h) => h.state !== "off").map((h) => h.name);
    if (!scenario(model, notOff).quorate) {
      out.push(
        error(
          "power.declared-not-quorate",
          "hosts",
          `with the declared states (${dq.summary}) the cluster cannot be quorate: the power steps would refuse to switch the last of them off`,
          "declare state: on for enough hosts, or change the votes",
        ),
      );
    }
  }
  return out;
}
