// Proxmox VE cluster membership over SSH: `pvecm create` on the always-on host, `pvecm add` on every other host
// one at a time (each after the previous one is confirmed), and `pvecm delnode` when a host leaves the stack.
// The scripts are core/scripts/membership's; this file only turns the Model into remote.Commands.
//
// Per host other than the always-on one ("founder"), two commands:
//   <name>-join-<host>    runs ON the host: the join. Its inputs are that host's facts plus the founder's address,
//                         the cluster name, the founder's certificate fingerprint and root password (stdin).
//                         It has no delete, so removing the host never connects to it (pulumi-command runs a
//                         delete on the old connection, #104), and it ignores later changes of its connection,
//                         script and stdin: once joined there is nothing to redo (see JOIN_IGNORE_CHANGES).
//   <name>-member-<host>  runs ON THE FOUNDER: confirms the host is in the nodelist as declared (nodeid, link0);
//                         its delete is `pvecm delnode <host>`, refused while the host is online. It runs only
//                         with dismantleOnDestroy: true; by default every membership command is retained
//                         (retainOnDelete), so `pulumi destroy` leaves the cluster running as it is.
// Per retired host (config retiredHosts), one command, right after the create and before any join:
//   <name>-retire-<host>  runs ON THE FOUNDER: `pvecm delnode <host>` as a create step (see components/retire.ts),
//                         so the vote push, which depends on every membership command, runs after it. With
//                         retained member commands this is how hosts leave the cluster.
// Votes are set at create/join time from the stack; later vote changes are VoteWeights' job.
import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import type { HostSpec, Model } from "../core/model";
import {
  createClusterScript,
  delnodeScript,
  founderOf,
  joinersOf,
  joinScript,
  joinStdin,
  memberScript,
  membershipFindings,
} from "../core/scripts/membership";
import { createRetirements } from "./retire";
import { hostScript } from "./ssh";
import { NAMESPACE } from "./stackConfig";

export interface ClusterMembershipArgs {
  /** The validated stack: clusterName and hosts (name, address, nodeId, votes, power, SSH settings). */
  readonly model: Model;
  /** SSH private key for the hosts' sshUser (secret). */
  readonly sshPrivateKey: pulumi.Input<string>;
  /** root password of the always-on host, for `pvecm add` (secret; sent on stdin only). Required when the stack
   *  has more than one host. Defaults to none. */
  readonly rootPassword?: pulumi.Input<string>;
}

/**
 * The join command is a one-shot: after a host has joined, re-running it could change nothing (Proxmox cannot
 * change a member's nodeid or link address in place, votes belong to VoteWeights, the password and fingerprint
 * are used once). So changes of these inputs are ignored, and no later `pulumi up` needs the host switched on
 * because its votes changed, the root password or SSH key was rotated, the founder's certificate was renewed, or
 * this project's join script was improved. Drift in nodeid/address is still caught: the member command (on the
 * founder) has them as inputs and fails with the fix. A failed join is not kept in state (pulumi-command returns
 * a plain error), so a retry always runs with the current inputs.
 */
export const JOIN_IGNORE_CHANGES = ["connection", "create", "stdin"];

export interface MembershipResources {
  readonly create: command.remote.Command;
  readonly joins: Readonly<Record<string, command.remote.Command>>;
  readonly members: Readonly<Record<string, command.remote.Command>>;
  /** Per retired host name: its `pvecm delnode` step on the always-on host. */
  readonly retires: Readonly<Record<string, command.remote.Command>>;
  /** Every command, in execution order. */
  readonly commands: readonly command.remote.Command[];
}

/** Registers the membership commands under `parent`. Throws (before registering anything) on a stack that
 *  membership cannot build, naming every problem. */
export function createMembership(
  name: string,
  args: ClusterMembershipArgs,
  parent: pulumi.Resource,
): MembershipResources {
  const { model } = args;
  const founder = founderOf(model);
  const joiners = joinersOf(model);
  const problems = membershipFindings(model).map((f) => ({
    propertyPath: `${NAMESPACE}:${f.path}`,
    reason: `${f.message} (fix: ${f.fix}) [${f.code}]`,
  }));
  if (joiners.length > 0 && args.rootPassword === undefined) {
    problems.push({
      propertyPath: `${NAMESPACE}:rootPassword`,
      reason:
        `joining ${joiners.map((h) => h.name).join(", ")} needs the root password of ${founder.name} ` +
        "(fix: pulumi config set --secret pve-homelab:rootPassword ...)",
    });
  }
  if (problems.length > 0) {
    throw new pulumi.InputPropertiesError({
      message: `${name}: cluster membership cannot be built as declared`,
      errors: problems,
    });
  }
  const on = (target: HostSpec) => ({ target, privateKey: args.sshPrivateKey });
  // Membership outlives the stack unless it opts in: `pulumi destroy` (or a host leaving the stack) then drops
  // these commands from the state without running their delete (`pvecm delnode`, irreversible: the removed
  // host needs a reinstall). The delete stays in place for dismantleOnDestroy: true.
  const retainOnDelete = !model.dismantleOnDestroy;

  const create = hostScript(
    `${name}-create`,
    // No delete: removing the stack never dissolves the cluster.
    { ...on(founder), create: createClusterScript(model) },
    { parent, retainOnDelete },
  );
  // Retirements before joins: a new host may reuse a retired host's nodeid or address.
  const retires = createRetirements(
    name,
    { model, privateKey: args.sshPrivateKey },
    { parent, dependsOn: [create] },
  );
  const commands: command.remote.Command[] = [create, ...Object.values(retires)];
  const joins: Record<string, command.remote.Command> = {};
  const members: Record<string, command.remote.Command> = {};
  const password = args.rootPassword ?? "";
  let previous: command.remote.Command[] = [create, ...Object.values(retires)];
  for (const host of joiners) {
    const join = hostScript(
      `${name}-join-${host.name}`,
      {
        ...on(host),
        create: joinScript(model, host),
        stdin: pulumi.secret(
          pulumi.all([create.stdout, password]).apply(([fingerprint, pw]) => joinStdin(fingerprint, pw)),
        ),
        sensitive: true,
      },
      // One join at a time: Proxmox takes the cluster lock per join, and each waits for the previous to be
      // confirmed from the founder.
      { parent, dependsOn: previous, ignoreChanges: JOIN_IGNORE_CHANGES, retainOnDelete },
    );
    const member = hostScript(
      `${name}-member-${host.name}`,
      { ...on(founder), create: memberScript(model, host), delete: delnodeScript(model, host) },
      { parent, dependsOn: [join], retainOnDelete },
    );
    joins[host.name] = join;
    members[host.name] = member;
    commands.push(join, member);
    previous = [member];
  }
  return { create, joins, members, retires, commands };
}

export class ClusterMembership extends pulumi.ComponentResource {
  /** `pvecm create` on the always-on host; its stdout is the certificate fingerprint joins pin. */
  public readonly create: command.remote.Command;
  /** Per joining host name: the join command on that host. */
  public readonly joins: Readonly<Record<string, command.remote.Command>>;
  /** Per joining host name: the member command on the always-on host (its delete runs `pvecm delnode`). */
  public readonly members: Readonly<Record<string, command.remote.Command>>;
  /** Per retired host name: the `pvecm delnode` step on the always-on host (runs before the vote push). */
  public readonly retires: Readonly<Record<string, command.remote.Command>>;
  /** Every command in execution order: what VoteWeights and QuorumDevice `dependsOn`. */
  public readonly commands: readonly command.remote.Command[];
  /** SHA-256 fingerprint of the always-on host's pveproxy certificate, as read by the create command. */
  public readonly fingerprint: pulumi.Output<string>;
  /** Host names in the cluster; resolves once every membership command has finished. */
  public readonly ready: pulumi.Output<string[]>;

  constructor(name: string, args: ClusterMembershipArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pve-homelab:cluster:ClusterMembership", name, {}, opts);
    const made = createMembership(name, args, this);
    this.create = made.create;
    this.joins = made.joins;
    this.members = made.members;
    this.retires = made.retires;
    this.commands = made.commands;
    this.fingerprint = made.create.stdout.apply((s) => s.trim());
    const names = args.model.hosts.map((h) => h.name);
    this.ready = pulumi.all(made.commands.map((c) => c.id)).apply(() => names);
    this.registerOutputs({ fingerprint: this.fingerprint, ready: this.ready });
  }
}
