// The stack's corosync votes, pushed through ONE always-on host: one remote.Command, one SSH session per
// change. /etc/pve is the cluster file system, so Proxmox itself copies the new corosync.conf to every node and
// reloads corosync. The script (core/scripts/votes) does not contain the votes: they go on stdin as sorted
// `name nodeid=… ring0_addr=… votes=…` lines plus one `quorum KEY=N` line per quorum option of the stack, so
// `pulumi preview` shows a vote or option change as a readable stdin diff and runs it as an update. Every
// write passes the quorum check (core/quorum/safety) on the host first. `pulumi destroy` runs the delete: back
// to 1 vote per node and no stack quorum options, the same safe way, refused while it would take quorum
// from the hosts that are up.
import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import { quorumOptionsOf } from "../core/corosync";
import type { HostSpec, Model } from "../core/model";
import {
  voteLayout,
  votesApplyScript,
  votesResetScript,
  DEFAULT_LOCK_SECONDS,
  DEFAULT_WAIT_SECONDS,
} from "../core/scripts/votes";
import { hostScript } from "./ssh";

export interface VoteWeightsArgs {
  /** The validated stack: every host's name, nodeId, address and votes; its always-on hosts. */
  readonly model: Model;
  /** Root's SSH private key for the always-on host (a secret). */
  readonly sshPrivateKey: pulumi.Input<string>;
  /** Name of the host that runs the change. Defaults to the first always-on host in the stack. */
  readonly host?: string;
  /** Seconds to retry Proxmox's corosync.conf lock. Defaults to 60. */
  readonly lockSeconds?: number;
  /** Seconds to wait until corosync reports the new votes. Defaults to 60. */
  readonly waitSeconds?: number;
}

/** What VoteWeights registers, as plain data: computed before anything is created (and tested directly). */
export interface VotePushPlan {
  /** The host the command connects to. */
  readonly host: HostSpec;
  /** stdin: the desired layout, one sorted line per host, then the quorum options. */
  readonly layout: string;
  readonly create: string;
  readonly delete: string;
}

/** Validates the arguments (all problems at once) and builds the command's inputs. */
export function votePushPlan(args: Omit<VoteWeightsArgs, "sshPrivateKey">): VotePushPlan {
  const { model } = args;
  const alwaysOn = model.hosts.filter((h) => h.power === "always-on");
  const errors: { propertyPath: string; reason: string }[] = [];
  const host = model.hosts.find((h) => h.name === (args.host ?? alwaysOn[0]?.name));
  if (alwaysOn.length === 0) {
    errors.push({
      propertyPath: "hosts",
      reason: "no host has power: always-on; the vote push runs on an always-on host (mark one always-on)",
    });
  } else if (!host || host.power !== "always-on") {
    errors.push({
      propertyPath: "host",
      reason: `${args.host} is not an always-on host of the stack; use one of: ${alwaysOn.map((h) => h.name).join(", ")}`,
    });
  }
  if (host && !host.hostKey) {
    errors.push({
      propertyPath: `hosts[${model.hosts.indexOf(host)}].hostKey`,
      reason: `${host.name} has no pinned hostKey; set it (ssh-keyscan -t ed25519 ${host.address} on a trusted network)`,
    });
  }
  let layout = "";
  try {
    layout = voteLayout(model.hosts, quorumOptionsOf(model.quorum));
  } catch (e) {
    errors.push({ propertyPath: "hosts", reason: (e as Error).message });
  }
  if (errors.length > 0 || !host) {
    throw new pulumi.InputPropertiesError({
      message: `VoteWeights: ${errors.length} problem(s); nothing was registered`,
      errors,
    });
  }
  const bounds = {
    lockSeconds: args.lockSeconds ?? DEFAULT_LOCK_SECONDS,
    waitSeconds: args.waitSeconds ?? DEFAULT_WAIT_SECONDS,
  };
  return {
    host,
    layout,
    // The always-on-alone check is the point of weighted votes; with 1 vote each (qdevice or default mode)
    // the always-on host alone is not meant to be quorate, and core/quorum already judged that layout.
    create: votesApplyScript(
      host.name,
      model.quorum.mode === "weighted" ? alwaysOn.map((h) => h.name) : [],
      bounds,
    ),
    delete: votesResetScript(host.name, bounds),
  };
}

export class VoteWeights extends pulumi.ComponentResource {
  /** The one command that pushes the votes. */
  public readonly command: command.remote.Command;
  /** Name of the always-on host it runs on. */
  public readonly host: string;
  /** The desired layout it sends (its stdin). */
  public readonly layout: string;

  /**
   * `opts.dependsOn` is passed on to the command (e.g. the membership component, so every node has joined
   * before its votes are set): a component's own dependsOn does not hold back its children.
   */
  constructor(name: string, args: VoteWeightsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pve-homelab:cluster:VoteWeights", name, {}, opts);
    const plan = votePushPlan(args);
    this.host = plan.host.name;
    this.layout = plan.layout;
    this.command = hostScript(
      `${name}-push`,
      {
        target: plan.host,
        privateKey: args.sshPrivateKey,
        create: plan.create,
        delete: plan.delete,
        stdin: plan.layout,
      },
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.registerOutputs({ host: this.host, layout: this.layout });
  }
}
