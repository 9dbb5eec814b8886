// Declared host power (core/power): the `wakeonlan` line of every host that declares wakeOnLan, written into the
// cluster file system through the always-on host (one command), and one power step per managed host (a host
// with `state`), each ONE SSH session to the always-on host that wakes (Wake-on-LAN) or shuts down the host and
// waits, bounded, until it is a current member or gone. A step's stdin is `pve-high state=on guests=shutdown`:
// `pulumi preview` shows a state change as that line's diff, and only a changed line runs the step again.
// No delete: a step removed from the stack leaves the host as it is.
import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import type { HostSpec, Model } from "../core/model";
import { managedHosts, powerLine, powerSender } from "../core/power";
import { DEFAULT_POWER_BOUNDS, powerStepScript, type PowerBounds } from "../core/scripts/power";
import { wakeOnLanConfigScript, wakeOnLanLayout } from "../core/scripts/power-nodeconfig";
import { hostScript } from "./ssh";

export interface HostPowerArgs {
  /** The validated stack: hosts with wakeOnLan / state / guests, the always-on host. */
  readonly model: Model;
  /** Root's SSH private key for the always-on host (a secret). */
  readonly sshPrivateKey: pulumi.Input<string>;
  /** Wait bounds of the power steps. Defaults to DEFAULT_POWER_BOUNDS (wake 300 s, shutdown 600 s, migrate 1800 s). */
  readonly bounds?: Partial<PowerBounds>;
}

/** What HostPower registers, as plain data (tested directly). */
export interface HostPowerPlan {
  /** The always-on host every command connects to. */
  readonly sender: HostSpec;
  /** The node config command; undefined when no host declares wakeOnLan. */
  readonly wakeOnLan?: { readonly create: string; readonly stdin: string };
  /** One step per managed host, in declared order. */
  readonly steps: readonly { readonly host: string; readonly create: string; readonly stdin: string }[];
}

/** Whether the stack has anything for HostPower to do (a wakeOnLan or a declared state). */
export const managesPower = (model: Model): boolean =>
  managedHosts(model).length > 0 || model.hosts.some((h) => h.wakeOnLan !== undefined);

export function hostPowerPlan(args: Omit<HostPowerArgs, "sshPrivateKey">): HostPowerPlan {
  const { model } = args;
  const sender = powerSender(model);
  const layout = wakeOnLanLayout(model.hosts);
  const create = powerStepScript(sender.name, { ...DEFAULT_POWER_BOUNDS, ...args.bounds });
  return {
    sender,
    wakeOnLan: layout ? { create: wakeOnLanConfigScript(sender.name), stdin: layout } : undefined,
    steps: managedHosts(model).map((h) => ({ host: h.name, create, stdin: powerLine(h) })),
  };
}

export class HostPower extends pulumi.ComponentResource {
  /** The node config command (undefined when no host declares wakeOnLan). */
  public readonly wakeOnLan?: command.remote.Command;
  /** The power step per managed host name: everything registered on that host depends on it. */
  public readonly steps: Readonly<Record<string, command.remote.Command>>;

  /** `opts.dependsOn` is passed on to every command (membership and votes first). */
  constructor(name: string, args: HostPowerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pve-homelab:power:HostPower", name, {}, opts);
    const plan = hostPowerPlan(args);
    const after = opts?.dependsOn;
    this.wakeOnLan =
      plan.wakeOnLan &&
      hostScript(
        `${name}-wakeonlan`,
        { target: plan.sender, privateKey: args.sshPrivateKey, ...plan.wakeOnLan },
        { parent: this, dependsOn: after },
      );
    const steps: Record<string, command.remote.Command> = {};
    const base = (
      after === undefined ? [] : Array.isArray(after) ? after : [after]
    ) as pulumi.Input<pulumi.Resource>[];
    const stepDeps = [...base, ...(this.wakeOnLan ? [this.wakeOnLan] : [])];
    for (const step of plan.steps) {
      steps[step.host] = hostScript(
        `${name}-${step.host}`,
        { target: plan.sender, privateKey: args.sshPrivateKey, create: step.create, stdin: step.stdin },
        { parent: this, dependsOn: stepDeps },
      );
    }
    this.steps = steps;
    this.registerOutputs({ hosts: Object.keys(steps) });
  }
}
