// The one way tests register resources under the Pulumi SDK's mocks and read back what the engine saw: every
// registration (type, name, inputs as on the wire, provider, dependencies), the resource options each child
// was constructed with, and the secret markers on the wire.
import * as pulumi from "@pulumi/pulumi";

/** How the SDK marks a secret value on the wire (rpc.ts specialSigKey / specialSecretSig). */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";
export const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";
export const COMMAND_TYPE = "command:remote:Command";

export type Inputs = Record<string, unknown>;

export const isSecret = (v: unknown): v is { value: unknown } =>
  typeof v === "object" && v !== null && (v as Inputs)[SECRET_SIG] === SECRET_VALUE;

/** Remove secret wrappers anywhere in a wire value. */
export function unwrap(v: unknown): unknown {
  if (isSecret(v)) return unwrap(v.value);
  if (Array.isArray(v)) return v.map(unwrap);
  if (typeof v === "object" && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
  }
  return v;
}

export const promiseOf = <T>(output: pulumi.Output<T>): Promise<T> =>
  new Promise((resolve) => output.apply(resolve));

export interface Registered {
  readonly type: string;
  readonly name: string;
  /** The inputs as the engine received them, secrets still wrapped. */
  readonly inputs: Inputs;
  readonly provider?: string;
  /** URNs the engine is told this resource depends on (filled in once the registration request is seen). */
  readonly dependencies: string[];
}

export interface MockRecorder {
  /** Every resource the engine saw, in registration order. */
  readonly registered: Registered[];
  /** Resource options each child was constructed with, by name (pass `recorder.transformations`). */
  readonly options: Map<string, pulumi.ResourceOptions>;
  /** A legacy transformation (they run under mocks; `transforms` do not) that only records the options. */
  readonly transformations: pulumi.ResourceTransformation[];
  /** The registered resources of one type, sorted by name (registration order follows promise resolution). */
  readonly ofType: (type: string) => Registered[];
  readonly byName: (name: string) => Registered;
}

export interface MockBehaviour {
  /** The state a resource returns; defaults to its inputs. */
  readonly state?: (args: pulumi.runtime.MockResourceArgs) => Inputs | undefined;
  /** The id a resource gets; defaults to "<name>-id". */
  readonly id?: (args: pulumi.runtime.MockResourceArgs) => string;
  readonly stack?: string;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings") as {
  getMonitor(): {
    registerResource(
      req: { getName(): string; getType(): string; getDependenciesList(): string[] },
      cb: unknown,
    ): unknown;
  };
};

/** Fresh mocks recording every registration; construct the resources after it resolves. */
export async function recordMocks(behaviour: MockBehaviour = {}): Promise<MockRecorder> {
  const registered: Registered[] = [];
  const deps = new Map<string, string[]>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const key = `${args.type}::${args.name}`;
        registered.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs as Inputs,
          provider: args.provider,
          get dependencies() {
            return deps.get(key) ?? [];
          },
        });
        return {
          id: behaviour.id?.(args) ?? `${args.name}-id`,
          state: behaviour.state?.(args) ?? args.inputs,
        };
      },
      call: (args) => args.inputs,
    },
    "pve-homelab",
    behaviour.stack ?? "test",
    false,
  );
  // The mock monitor hands newResource no dependencies: read them off the registration requests.
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    deps.set(`${req.getType()}::${req.getName()}`, req.getDependenciesList());
    return register(req, cb);
  };
  const options = new Map<string, pulumi.ResourceOptions>();
  const ofType = (type: string) =>
    registered.filter((r) => r.type === type).sort((a, b) => a.name.localeCompare(b.name));
  const byName = (name: string) => {
    const found = registered.find((r) => r.name === name);
    if (!found)
      throw new Error(`no resource named ${name} among ${registered.map((r) => r.name).join(", ")}`);
    return found;
  };
  const transformations: pulumi.ResourceTransformation[] = [
    (t) => {
      options.set(t.name, t.opts);
      return undefined;
    },
  ];
  return { registered, options, transformations, ofType, byName };
}
