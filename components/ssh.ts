// Every SSH action goes through these two helpers, so every connection pins the host key and every
// command keeps secrets out of its command string and out of the environment of the next run.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type { HostSpec } from "../core/model";

export interface SshTarget {
  readonly address: string;
  readonly sshPort: number;
  readonly sshUser: string;
  readonly hostKey?: string;
  readonly name?: string;
}

/** Connection args for one host. Config validation guarantees hostKey; this re-checks so no caller can skip it. */
export function sshConnection(
  target: SshTarget,
  privateKey: pulumi.Input<string>,
): command.types.input.remote.ConnectionArgs {
  if (!target.hostKey) {
    throw new Error(
      `${target.name ?? target.address}: no pinned hostKey; refusing an unpinned SSH connection`,
    );
  }
  return {
    host: target.address,
    port: target.sshPort,
    user: target.sshUser,
    privateKey,
    hostKey: target.hostKey,
    // Bounded: a powered-off host fails in about a minute instead of the default ten 15 s dials.
    dialErrorLimit: 4,
    perDialTimeout: 15,
  };
}

export interface HostScriptArgs {
  readonly target: SshTarget | HostSpec;
  readonly privateKey: pulumi.Input<string>;
  readonly create: pulumi.Input<string>;
  readonly update?: pulumi.Input<string>;
  readonly delete?: pulumi.Input<string>;
  /** Data or secrets for the script; shown (or masked when secret) in `pulumi preview` diffs. */
  readonly stdin?: pulumi.Input<string>;
  readonly triggers?: pulumi.Input<unknown[]>;
  /** Set when stdin carries a secret: keeps stdout/stderr secret in state and out of the logs. */
  readonly sensitive?: boolean;
}

/** A remote.Command with the project's safety settings. */
export function hostScript(
  name: string,
  args: HostScriptArgs,
  opts: pulumi.CustomResourceOptions,
): command.remote.Command {
  return new command.remote.Command(
    name,
    {
      connection: sshConnection(args.target, args.privateKey),
      create: args.create,
      update: args.update,
      delete: args.delete,
      stdin: args.stdin,
      triggers: args.triggers,
      // Never export a previous run's stdout/stderr into the next run's environment.
      addPreviousOutputInEnv: false,
      logging: args.sensitive ? "none" : "stdoutAndStderr",
    },
    args.sensitive ? { ...opts, additionalSecretOutputs: ["stdout", "stderr"] } : opts,
  );
}
