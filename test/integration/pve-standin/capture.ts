// Runs ClusterMembership under the Pulumi SDK's mocks and returns exactly what each remote.Command was
// registered with (script texts, stdin with secrets unwrapped, connection, options), so the mock tests can assert
// on it and the integration tests can run the very same scripts over SSH on the testbed.
import * as pulumi from "@pulumi/pulumi";
import { ClusterMembership } from "../../../components/ClusterMembership";
import type { Model } from "../../../core/model";

/** How the SDK marks a secret value on the wire (rpc.ts specialSigKey / specialSecretSig). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET = "1b47061264138c4ac30d75fd1eb44270";
export const COMMAND_TYPE = "command:remote:Command";

type Inputs = Record<string, unknown>;

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

export const isSecret = (v: unknown): v is { value: unknown } =>
  typeof v === "object" && v !== null && (v as Inputs)[SECRET_SIG] === SECRET;

/** Remove secret wrappers anywhere in a wire value. */
export function unwrap(v: unknown): unknown {
  if (isSecret(v)) return unwrap(v.value);
  if (Array.isArray(v)) return v.map(unwrap);
  if (typeof v === "object" && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
  }
  return v;
}

export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

export async function captureMembership(model: Model, opts: CaptureOptions = {}): Promise<Capture> {
  const wire = new Map<string, { type: string; inputs: Inputs }>();
  const registered: { type: string; name: string }[] = [];
  const stdout = opts.createStdout ?? `${FAKE_FINGERPRINT}\n`;
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name });
        wire.set(args.name, { type: args.type, inputs: args.inputs as Inputs });
        const state = args.name.endsWith("-create")
          ? { ...args.inputs, stdout, stderr: "" }
          : { ...args.inputs, stdout: "", stderr: "" };
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    "pve-homelab",
    "test",
    false,
  );
  const options = new Map<string, pulumi.ResourceOptions>();
  const component = new ClusterMembership(
    opts.name ?? `${model.clusterName}-membership`,
    {
      model,
      sshPrivateKey: pulumi.secret(opts.sshPrivateKey ?? "-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n"),
      ...(opts.rootPassword === undefined ? {} : { rootPassword: pulumi.secret(opts.rootPassword) }),
    },
    {
      // Legacy transformations run under mocks (transforms do not); this one only records the options.
      transformations: [
        (t) => {
          options.set(t.name, t.opts);
          return undefined;
        },
      ],
    },
  );
  await promiseOf(component.ready);
  await Promise.all([promiseOf(component.urn), ...component.commands.map((c) => promiseOf(c.urn))]);
  const urnName = async (r: pulumi.Resource) => (await promiseOf(r.urn)).split("::").pop() ?? "";
  const names = await Promise.all(component.commands.map(urnName));
  const commands: CapturedCommand[] = [];
  for (const name of names) {
    const seen = wire.get(name);
    if (!seen) throw new Error(`${name} never reached the mock engine`);
    const o = options.get(name) ?? {};
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
  return { component, commands, registered, byName };
}
