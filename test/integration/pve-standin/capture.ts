// Runs ClusterMembership under the Pulumi SDK's mocks and returns exactly what each remote.Command was
// registered with (script texts, stdin with secrets unwrapped, connection, options), so the mock tests can assert
// on it and the integration tests can run the very same scripts over SSH on the testbed.
import * as pulumi from "@pulumi/pulumi";
import { ClusterMembership } from "../../../components/ClusterMembership";
import type { Model } from "../../../core/model";

import { isSecret, promiseOf, recordMocks, unwrap, type Inputs } from "../../helpers/mocks";

export { COMMAND_TYPE, isSecret, promiseOf, unwrap } from "../../helpers/mocks";

export interface CapturedCommand {
  /** Resource name, e.g. "homelab-membership-join-pve-mid". */
  readonly name: string;
  readonly type: string;
  /** The inputs as the engine received them, secrets still wrapped. */
  readonly wire: Inputs;
  /** connection.host: where the command runs. */
  readonly host: string;
  readonly connection: Inputs;
  readonly create?: string;
  readonly update?: string;
  readonly delete?: string;
  /** stdin with the secret wrapper removed. */
  readonly stdin?: string;
  readonly stdinIsSecret: boolean;
  readonly logging?: string;
  readonly addPreviousOutputInEnv?: boolean;
  /** Names of the resources in this command's dependsOn. */
  readonly dependsOn: readonly string[];
  readonly ignoreChanges: readonly string[];
  /** Pulumi's retainOnDelete: the delete never runs, the resource only leaves the state. */
  readonly retainOnDelete: boolean;
  readonly additionalSecretOutputs: readonly string[];
}

export interface Capture {
  readonly component: ClusterMembership;
  /** In the component's execution order (component.commands). */
  readonly commands: readonly CapturedCommand[];
  /** Every resource the engine saw, in registration order. */
  readonly registered: readonly { type: string; name: string }[];
  readonly byName: (name: string) => CapturedCommand;
}

export interface CaptureOptions {
  readonly sshPrivateKey?: string;
  /** Omit to leave rootPassword unset. */
  readonly rootPassword?: string;
  /** What the mocked create command prints (the fingerprint line); defaults to a fixed fake fingerprint. */
  readonly createStdout?: string;
  /** Component name; defaults to "<clusterName>-membership". */
  readonly name?: string;
}

export const FAKE_FINGERPRINT = Array.from({ length: 32 }, (_, i) =>
  (i * 7 + 16).toString(16).toUpperCase(),
).join(":");

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

export async function captureMembership(model: Model, opts: CaptureOptions = {}): Promise<Capture> {
  const stdout = opts.createStdout ?? `${FAKE_FINGERPRINT}\n`;
  const recorder = await recordMocks({
    state: (args) => ({ ...args.inputs, stdout: args.name.endsWith("-create") ? stdout : "", stderr: "" }),
  });
  const component = new ClusterMembership(
    opts.name ?? `${model.clusterName}-membership`,
    {
      model,
      sshPrivateKey: pulumi.secret(opts.sshPrivateKey ?? "-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n"),
      ...(opts.rootPassword === undefined ? {} : { rootPassword: pulumi.secret(opts.rootPassword) }),
    },
    { transformations: recorder.transformations },
  );
  await promiseOf(component.ready);
  await Promise.all([promiseOf(component.urn), ...component.commands.map((c) => promiseOf(c.urn))]);
  const urnName = async (r: pulumi.Resource) => (await promiseOf(r.urn)).split("::").pop() ?? "";
  const names = await Promise.all(component.commands.map(urnName));
  const commands: CapturedCommand[] = [];
  for (const name of names) {
    const seen = recorder.byName(name);
    const o = recorder.options.get(name) ?? {};
    const deps = o.dependsOn === undefined ? [] : Array.isArray(o.dependsOn) ? o.dependsOn : [o.dependsOn];
    const inputs = seen.inputs;
    const connection = unwrap(inputs.connection) as Inputs;
    commands.push({
      name,
      type: seen.type,
      wire: inputs,
      host: String(connection.host),
      connection,
      create: str(inputs.create),
      update: str(inputs.update),
      delete: str(inputs.delete),
      stdin: str(unwrap(inputs.stdin)),
      stdinIsSecret: isSecret(inputs.stdin),
      logging: str(inputs.logging),
      addPreviousOutputInEnv: inputs.addPreviousOutputInEnv as boolean | undefined,
      dependsOn: await Promise.all((deps as pulumi.Resource[]).map(urnName)),
      ignoreChanges: o.ignoreChanges ?? [],
      retainOnDelete: o.retainOnDelete ?? false,
      additionalSecretOutputs: (o as pulumi.CustomResourceOptions).additionalSecretOutputs ?? [],
    });
  }
  const byName = (name: string) => {
    const found = commands.find((c) => c.name === name);
    if (!found) throw new Error(`no command ${name} among ${commands.map((c) => c.name).join(", ")}`);
    return found;
  };
  const registered = recorder.registered.map((r) => ({ type: r.type, name: r.name }));
  return { component, commands, registered, byName };
}
