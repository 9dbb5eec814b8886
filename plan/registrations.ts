// Recording what a program registers under the SDK's mock monitor: every resource's type, name, parent,
// provider, dependencies, options, inputs and outputs, with secrets replaced by SECRET (plainInputs reveals
// them, for assertions only) and unknowns by UNKNOWN. plan/engine.ts runs the program; this file records it.
import * as pulumi from "@pulumi/pulumi";

/** Marker replacing a secret value in `inputs`/`outputs`, as `pulumi preview --json` shows it. */
export const SECRET = "[secret]";
/** Marker replacing a value not known during preview (an Output of a resource not yet created). */
export const UNKNOWN = "[unknown]";

export interface RegisteredResource {
  readonly urn: string;
  /** Type token, e.g. "command:remote:Command", "pulumi:pulumi:Stack". */
  readonly type: string;
  /** Logical name. */
  readonly name: string;
  /** The parent's logical name; null for the stack resource itself. */
  readonly parent: string | null;
  readonly parentUrn: string | null;
  /** A CustomResource (managed by a provider) rather than a component. */
  readonly custom: boolean;
  /** Inputs as registered: secrets replaced by SECRET, unknowns by UNKNOWN (safe to print). */
  readonly inputs: Record<string, unknown>;
  /**
   * Inputs with secrets revealed (unknowns still UNKNOWN). For test assertions only: a non-enumerable getter,
   * so JSON.stringify and spreads of a resource leave it out.
   */
  readonly plainInputs: Record<string, unknown>;
  /** Dotted paths of secret values inside the inputs, e.g. "connection.privateKey". */
  readonly secretPaths: readonly string[];
  /** Logical name of the explicit provider resource, if one was passed. */
  readonly provider?: string;
  /** URNs from `dependsOn` and from Outputs of other resources used as inputs. */
  readonly dependsOn: readonly string[];
  readonly options: {
    readonly protect: boolean;
    readonly deleteBeforeReplace: boolean;
    readonly ignoreChanges: readonly string[];
    readonly replaceOnChanges: readonly string[];
    readonly additionalSecretOutputs: readonly string[];
    readonly aliases: number;
  };
  /** What a component passed to registerOutputs (redacted like inputs), if it did. */
  readonly outputs?: Record<string, unknown>;
}

// The parts of the protobuf requests the mock monitor receives that we read.
export interface ProtoStruct {
  toJavaScript(): Record<string, unknown>;
}
export interface RegisterResourceRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getObject(): ProtoStruct | undefined;
  getProvider(): string;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(cb: (deps: { getUrnsList(): string[] }) => void): void };
  getProtect(): boolean;
  getDeletebeforereplace(): boolean;
  getIgnorechangesList(): string[];
  getReplaceonchangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getAliasesList(): unknown[];
}
export interface RegisterOutputsRequest {
  getUrn(): string;
  getOutputs(): ProtoStruct | undefined;
}
export interface MockMonitorLike {
  registerResource(
    req: RegisterResourceRequest,
    cb: (err: unknown, res?: { getUrn(): string }) => void,
  ): Promise<void>;
  registerResourceOutputs(req: RegisterOutputsRequest, cb: (err: unknown, res?: unknown) => void): void;
}

// ---------------------------------------------------------------------------------------------------------
// Recording registrations.

export interface MutableRecord {
  urn: string;
  type: string;
  name: string;
  parentUrn: string | null;
  custom: boolean;
  raw: Record<string, unknown>;
  providerUrn?: string;
  dependsOn: string[];
  options: RegisteredResource["options"];
  rawOutputs?: Record<string, unknown>;
}

export function recordRegistrations(
  monitor: MockMonitorLike,
  records: Map<string, MutableRecord>,
  order: string[],
): void {
  const registerResource = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) =>
    registerResource(req, (err, res) => {
      if (!err && res) {
        const urn = res.getUrn();
        const deps = new Set(req.getDependenciesList());
        req.getPropertydependenciesMap().forEach((d) => d.getUrnsList().forEach((u) => deps.add(u)));
        records.set(urn, {
          urn,
          type: req.getType(),
          name: req.getName(),
          parentUrn: req.getParent() || null,
          custom: req.getCustom(),
          raw: req.getObject()?.toJavaScript() ?? {},
          // A provider reference is "<urn>::<id>".
          providerUrn: req.getProvider() ? req.getProvider().split("::").slice(0, -1).join("::") : undefined,
          dependsOn: [...deps],
          options: {
            protect: req.getProtect(),
            deleteBeforeReplace: req.getDeletebeforereplace(),
            ignoreChanges: req.getIgnorechangesList(),
            replaceOnChanges: req.getReplaceonchangesList(),
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            aliases: req.getAliasesList().length,
          },
        });
        order.push(urn);
      }
      cb(err, res);
    });
  const registerResourceOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req, cb) => {
    const record = records.get(req.getUrn());
    if (record) record.rawOutputs = req.getOutputs()?.toJavaScript() ?? {};
    registerResourceOutputs(req, cb);
  };
}

export function finish(r: MutableRecord, records: Map<string, MutableRecord>): RegisteredResource {
  const secretPaths: string[] = [];
  const inputs = redact(r.raw, "hide", "", secretPaths) as Record<string, unknown>;
  const resource: Omit<RegisteredResource, "plainInputs"> = {
    urn: r.urn,
    type: r.type,
    name: r.name,
    parent: r.parentUrn ? (records.get(r.parentUrn)?.name ?? nameFromUrn(r.parentUrn)) : null,
    parentUrn: r.parentUrn,
    custom: r.custom,
    inputs,
    secretPaths,
    provider: r.providerUrn ? (records.get(r.providerUrn)?.name ?? nameFromUrn(r.providerUrn)) : undefined,
    dependsOn: r.dependsOn,
    options: r.options,
    outputs: r.rawOutputs && (redact(r.rawOutputs, "hide", "", []) as Record<string, unknown>),
  };
  // Computed on first use, and not enumerable: JSON.stringify or a spread of a resource never carries secrets.
  let plain: Record<string, unknown> | undefined;
  Object.defineProperty(resource, "plainInputs", {
    enumerable: false,
    get: () => (plain ??= redact(r.raw, "reveal", "", []) as Record<string, unknown>),
  });
  return resource as RegisteredResource;
}

const nameFromUrn = (urn: string) => urn.split("::").pop() ?? urn;

const rpc = pulumi.runtime;

/** Turns the wire form of a property value into plain JSON with SECRET/UNKNOWN markers. */
function redact(value: unknown, secrets: "hide" | "reveal", at: string, secretPaths: string[]): unknown {
  if (value === rpc.unknownValue) return UNKNOWN;
  if (Array.isArray(value)) return value.map((v, i) => redact(v, secrets, `${at}[${i}]`, secretPaths));
  if (value === null || typeof value !== "object") return value;
  const obj = value as Record<string, unknown>;
  switch (obj[rpc.specialSigKey]) {
    case rpc.specialSecretSig:
      secretPaths.push(at);
      return secrets === "hide" ? SECRET : redact(obj.value, secrets, at, []);
    case rpc.specialResourceSig:
      return obj.urn;
    case rpc.specialOutputValueSig:
      if (obj.secret === true) {
        secretPaths.push(at);
        if (secrets === "hide") return SECRET;
      }
      return "value" in obj ? redact(obj.value, secrets, at, secretPaths) : UNKNOWN;
    case rpc.specialAssetSig:
    case rpc.specialArchiveSig: {
      const rest = { ...obj };
      delete rest[rpc.specialSigKey];
      return redact(rest, secrets, at, secretPaths);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = redact(v, secrets, at ? `${at}.${k}` : k, secretPaths);
  return out;
}
