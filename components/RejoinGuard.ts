// One remote.Command per host that is not always on: installs the boot-time rejoin step for corosync
// (core/scripts/rejoin), so a host that was off during a corosync.conf change fetches the current file from
// a peer before its corosync starts, instead of being thrown out of the cluster. Each command's inputs depend
// on that host alone (the installed script reads its peers from the host's own corosync.conf), so a host that
// is powered off costs no SSH session on later `pulumi up`s unless its own entry changes.
//
// No delete: pulumi-command runs a delete on the old connection and fails when that host is off
// (pulumi-command #104), and a host leaving the cluster MUST be off (`pvecm delnode` refuses otherwise). A
// removed or destroyed guard therefore leaves the step installed; it is harmless there (it only ever installs a
// newer file of the same cluster naming this node), and README.md shows the one-line manual removal
// (core/scripts/rejoin rejoinRemoveScript).
import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import type { HostSpec, Model } from "../core/model";
import { rejoinInstallScript } from "../core/scripts/rejoin";
import { hostScript } from "./ssh";

export interface RejoinGuardArgs {
  /** The validated stack. */
  readonly model: Model;
  /** Root's SSH private key for the guarded hosts (a secret). */
  readonly sshPrivateKey: pulumi.Input<string>;
  /** Names of the hosts to guard. Defaults to every host whose power is not always-on. */
  readonly hosts?: readonly string[];
}

export interface RejoinGuardPlan {
  readonly host: HostSpec;
  readonly create: string;
}

/** Validates the arguments (all problems at once) and builds one command's inputs per guarded host. */
export function rejoinGuardPlan(args: Omit<RejoinGuardArgs, "sshPrivateKey">): RejoinGuardPlan[] {
  const { model } = args;
  const names = args.hosts ?? model.hosts.filter((h) => h.power !== "always-on").map((h) => h.name);
  const errors: { propertyPath: string; reason: string }[] = [];
  const hosts: HostSpec[] = [];
  for (const name of names) {
    const host = model.hosts.find((h) => h.name === name);
    if (!host) {
      errors.push({
        propertyPath: "hosts",
        reason: `${name} is not a host of the stack; use one of: ${model.hosts.map((h) => h.name).join(", ")}`,
      });
    } else if (!host.hostKey) {
      errors.push({
        propertyPath: `hosts[${model.hosts.indexOf(host)}].hostKey`,
        reason: `${name} has no pinned hostKey; set it (ssh-keyscan -t ed25519 ${host.address} on a trusted network)`,
      });
    } else hosts.push(host);
  }
  if (new Set(names).size !== names.length) {
    errors.push({ propertyPath: "hosts", reason: `a host is listed twice: ${names.join(", ")}` });
  }
  if (errors.length > 0) {
    throw new pulumi.InputPropertiesError({
      message: `RejoinGuard: ${errors.length} problem(s); nothing was registered`,
      errors,
    });
  }
  return hosts.map((host) => ({
    host,
    create: rejoinInstallScript(host.name),
  }));
}

export class RejoinGuard extends pulumi.ComponentResource {
  /** The install command per guarded host name. */
  public readonly commands: Readonly<Record<string, command.remote.Command>>;

  /** `opts.dependsOn` is passed on to every command (e.g. the membership component: install after joining). */
  constructor(name: string, args: RejoinGuardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pve-homelab:cluster:RejoinGuard", name, {}, opts);
    const commands: Record<string, command.remote.Command> = {};
    for (const plan of rejoinGuardPlan(args)) {
      commands[plan.host.name] = hostScript(
        `${name}-${plan.host.name}`,
        // Connection changes never need the host (it is usually off); only a new install script does.
        {
          target: plan.host,
          privateKey: args.sshPrivateKey,
          create: plan.create,
          connectionChanges: "ignore",
        },
        { parent: this, dependsOn: opts?.dependsOn },
      );
    }
    this.commands = commands;
    this.registerOutputs({ hosts: Object.keys(commands) });
  }
}
