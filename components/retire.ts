// Retired hosts (config `retiredHosts`): one `pvecm delnode` step per host, run ON THE ALWAYS-ON HOST as a create.
// Why a create and not a delete: Pulumi runs the deletes of resources removed from the program after every create
// and update of the same `pulumi up` (deployment_executor.go), so a removed host's own delete would come after the
// vote push, which refuses a nodelist with an undeclared node. A create can be ordered: ClusterMembership puts
// these right after the cluster create, and everything that depends on membership (the vote push, the QDevice
// step, the rejoin guard, VMs) runs after them. No delete: dropping a host from retiredHosts later does nothing.
import type * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import type { Model } from "../core/model";
import { founderOf, retireScript, retireStdin } from "../core/scripts/membership";
import { hostScript } from "./ssh";

export interface RetirementArgs {
  readonly model: Model;
  /** SSH private key for the always-on host (secret). */
  readonly privateKey: pulumi.Input<string>;
}

/** Registers `<name>-retire-<host>` per retired host, in stack order; returns them by host name. */
export function createRetirements(
  name: string,
  args: RetirementArgs,
  opts: pulumi.CustomResourceOptions,
): Record<string, command.remote.Command> {
  const founder = founderOf(args.model);
  const out: Record<string, command.remote.Command> = {};
  for (const host of args.model.retiredHosts) {
    out[host.name] = hostScript(
      `${name}-retire-${host.name}`,
      {
        target: founder,
        privateKey: args.privateKey,
        create: retireScript(args.model, host),
        // Readable in `pulumi preview`: "remove pve-high (nodeid 3) from cluster homelab: pvecm delnode ...".
        stdin: retireStdin(args.model, host),
      },
      opts,
    );
  }
  return out;
}
