// Every SSH action goes through these helpers, so every connection pins the host key, every command keeps
// secrets out of its command string and out of the environment of the next run, and a reviewer sees where each
// command runs: pulumi-command marks the whole `connection` secret (provider:"secret" in its schema, and its
// SDK wraps it), so its public part (user, host, port, host key) is repeated in a visible input.
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

/** The connection's public part, one line: "root@192.168.1.21 port 22, host key ssh-ed25519 AAAA...". */
export function connectionLabel(target: SshTarget): string {
  const host = target.address.includes(":") ? `[${target.address}]` : target.address;
  return `${target.sshUser}@${host} port ${target.sshPort}, host key ${target.hostKey ?? "(none)"}`;
}

const NOTE = "# pve-homelab connection: ";

/** The script with the connection label as a comment after its `#!` line (or first): shown in every diff. */
export function withConnectionNote(text: string, target: SshTarget): string {
  const note = `${NOTE}${connectionLabel(target)}\n`;
  if (!text.startsWith("#!")) return note + text;
  const eol = text.indexOf("\n");
  return eol < 0 ? `${text}\n${note}` : text.slice(0, eol + 1) + note + text.slice(eol + 1);
}

/** The script as the generator wrote it (tests compare registered commands with core/scripts output). */
export function withoutConnectionNote(text: string): string {
  return text.replace(new RegExp(`^(#![^\\n]*\\n)?${NOTE}[^\\n]*\\n`), "$1");
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
  /**
   * "ignore": connection changes (key rotation, a hostKey edit, an address change) never run this command again,
   * so a host that is usually off is not needed for them; the connection label then lives in `triggers`, ignored
   * too, so it always shows the stored connection the command would use. Defaults to "update".
   */
  readonly connectionChanges?: "update" | "ignore";
}

/** A remote.Command with the project's safety settings. */
export function hostScript(
  name: string,
  args: HostScriptArgs,
  opts: pulumi.CustomResourceOptions,
): command.remote.Command {
  const ignore = args.connectionChanges === "ignore";
  if (ignore && args.triggers !== undefined)
    throw new Error(`${name}: connectionChanges "ignore" uses triggers`);
  const noted = (text: pulumi.Input<string> | undefined) =>
    text === undefined || ignore
      ? text
      : pulumi.output(text).apply((t) => withConnectionNote(t, args.target));
  const options: pulumi.CustomResourceOptions = ignore
    ? { ...opts, ignoreChanges: [...(opts.ignoreChanges ?? []), "connection", "triggers"] }
    : opts;
  return new command.remote.Command(
    name,
    {
      connection: sshConnection(args.target, args.privateKey),
      create: noted(args.create)!,
      update: noted(args.update),
      delete: noted(args.delete),
      stdin: args.stdin,
      triggers: ignore ? [connectionLabel(args.target)] : args.triggers,
      // Never export a previous run's stdout/stderr into the next run's environment.
      addPreviousOutputInEnv: false,
      logging: args.sensitive ? "none" : "stdoutAndStderr",
    },
    args.sensitive ? { ...options, additionalSecretOutputs: ["stdout", "stderr"] } : options,
  );
}
