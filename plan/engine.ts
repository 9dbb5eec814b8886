// Runs the real Pulumi program (index.ts) in-process under the SDK's mock monitor and records what it
// registers: no CLI, no network, no state. The plan renders the result; mock tests assert on it.
//
//   import { runProgram, SECRET } from "../../plan/engine";
//   const run = await runProgram({
//     projectDir: REPO_ROOT,                          // holds Pulumi.yaml; its `main` (index.ts) is the program
//     stack: "test",
//     config: { clusterName: "homelab", hosts: [...], vms: [...], sshPrivateKey: "k" },  // keys without namespace ok
//     secretKeys: ["sshPrivateKey"],
//   });
//   run.error;                                        // undefined, or what the program threw / left unhandled
//   run.resources.filter((r) => r.type === "proxmoxve:index/vmLegacy:VmLegacy").map((r) => r.name);
//   run.resources.find((r) => r.type === "pulumi:providers:proxmoxve")?.inputs.apiToken;  // SECRET
//   run.resources.find(...)?.plainInputs;             // the same with secrets revealed (assertions only)
//   run.outputs.expectedVotes;                        // stack outputs: the program's exports
//
// A stack file as the plan reads it (Pulumi.yaml defaults, `secure:` values, placeholder secrets):
//   const files = loadStackFiles(REPO_ROOT, "homelab");                        // plan/stack.ts
//   const run = await runProgram({ projectDir: REPO_ROOT, stack: "homelab", ...programConfig(files) });
//
// Like `pulumi preview` (the default, `preview: true`): a resource's outputs are its inputs echoed back (plus
// `state` below); outputs nobody supplies and the ids of resources still to be created are unknown, shown as
// UNKNOWN. With `preview: false` custom resources get the id "<name>-id" and unset outputs are undefined.
//
// How a run stays isolated (several runs per process are the normal case in tests):
// - Every run gets a fresh SDK state store (the SDK's AsyncLocalStorage store, the same mechanism the
//   Automation API uses for inline programs): settings, config, the stack resource, pending registrations
//   and feature flags of one run never reach another run or the global store a test's own setMocks uses.
// - The program is loaded freshly each time: the entry file and every project file it loaded last time
//   (outside node_modules) are dropped from require.cache first, so module-level code runs again. Modules
//   the caller loaded itself (e.g. core/ in a test) are shared with the program's first run.
// - Runs are serialized (a queue): require.cache is process-wide.
// - `pulumi.log.*` goes to a recording engine stub instead of the console, so plan output stays clean.
// - While the program runs, stack traces are cheap (see `stackTraces`), and an unhandled rejection anywhere
//   in the process counts as the program's error; both are restored/removed when the run ends.
// The program runs inside a pulumi:pulumi:Stack resource, as under the CLI: its top-level resources have the
// stack as parent, and the stack resource is always the first registration.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

/** Marker replacing a secret value in `inputs`/`outputs`, as `pulumi preview --json` shows it. */
export const SECRET = "[secret]";
/** Marker replacing a value not known during preview (an Output of a resource not yet created). */
export const UNKNOWN = "[unknown]";

export interface RunProgramArgs {
  /** The Pulumi project directory: holds Pulumi.yaml and the program. */
  readonly projectDir: string;
  /** Program entry file, absolute or relative to projectDir. Defaults to Pulumi.yaml's `main`, else index.ts. */
  readonly program?: string;
  /** Pulumi project name: config namespace and URN part. Defaults to "pve-homelab". */
  readonly project?: string;
  readonly stack: string;
  /**
   * Config as the stack file holds it: keys with or without the "<project>:" namespace, values plain
   * (structured values are JSON-encoded for the runtime, strings passed as they are, as Pulumi does).
   */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Keys of `config` (with or without namespace) whose values are secrets. */
  readonly secretKeys?: readonly string[];
  /** Preview (default true): outputs a mock does not supply are unknown, as in `pulumi preview`. */
  readonly preview?: boolean;
  /**
   * Extra output state for a registered resource (merged over its inputs, which are always echoed back):
   * e.g. `({type}) => type === "command:remote:Command" ? { stdout: "ok" } : undefined`.
   */
  readonly state?: (resource: {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
  }) => Record<string, unknown> | undefined;
  /** Result of a provider function call (invoke); defaults to `{}`. */
  readonly call?: (call: { token: string; inputs: Record<string, unknown> }) => Record<string, unknown>;
  /**
   * Keep full, source-mapped stack traces while the program runs. Defaults to false: the SDK captures
   * `new Error().stack` for every internal promise (about 400 per VmLegacy), and under tsx each capture is
   * mapped through source maps, which made a 500-VM plan several times slower. Without them, errors
   * still carry their messages; turn this on to debug a program crash.
   */
  readonly stackTraces?: boolean;
}

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

export interface ProgramLog {
  readonly severity: "debug" | "info" | "warning" | "error";
  readonly message: string;
}

export interface ProgramResult {
  /** Every registration in the order the monitor received it; the first is the pulumi:pulumi:Stack. */
  readonly resources: readonly RegisteredResource[];
  /** Stack outputs (the program's exports), redacted like inputs; {} when the program failed. */
  readonly outputs: Record<string, unknown>;
  /** Messages the program logged with pulumi.log.* (not printed). */
  readonly logs: readonly ProgramLog[];
  /** Provider function calls (invokes) the program made. */
  readonly calls: readonly { token: string; inputs: Record<string, unknown> }[];
  /** What the program threw (or rejected with), if it failed; resources registered before stay listed. */
  readonly error?: Error;
}

// ---------------------------------------------------------------------------------------------------------
// SDK internals used here. They are stable across 3.x (the Automation API's inline programs rely on them) but
// not in the public typings, so each gets a narrow local type.
/* eslint-disable @typescript-eslint/no-require-imports */
const sdkState = require("@pulumi/pulumi/runtime/state") as {
  withLocalStorage<T>(callback: () => Promise<T>): Promise<T>;
  getStore(): { settings: { engine?: unknown }; leakCandidates: Set<Promise<unknown>> };
};
const sdkSettings = require("@pulumi/pulumi/runtime/settings") as {
  getMonitor(): unknown;
  waitForRPCs(): Promise<void>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

// The parts of the protobuf requests the mock monitor receives that we read.
interface ProtoStruct {
  toJavaScript(): Record<string, unknown>;
}
interface RegisterResourceRequest {
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
interface RegisterOutputsRequest {
  getUrn(): string;
  getOutputs(): ProtoStruct | undefined;
}
interface MockMonitorLike {
  registerResource(
    req: RegisterResourceRequest,
    cb: (err: unknown, res?: { getUrn(): string }) => void,
  ): Promise<void>;
  registerResourceOutputs(req: RegisterOutputsRequest, cb: (err: unknown, res?: unknown) => void): void;
}

const SEVERITY: Record<number, ProgramLog["severity"]> = { 0: "debug", 1: "info", 2: "warning", 3: "error" };

// ---------------------------------------------------------------------------------------------------------

let queue: Promise<unknown> = Promise.resolve();

/** Runs the program once under mocks; never throws for a failing program (see `error`). Calls are serialized. */
export function runProgram(args: RunProgramArgs): Promise<ProgramResult> {
  const run = queue.then(() => sdkState.withLocalStorage(() => runIsolated(args)));
  queue = run.catch(() => undefined);
  return run;
}

async function runIsolated(args: RunProgramArgs): Promise<ProgramResult> {
  const project = args.project ?? "pve-homelab";
  const entry = resolveProgram(args.projectDir, args.program);
  const preview = args.preview ?? true;

  const records = new Map<string, MutableRecord>();
  const order: string[] = [];
  const logs: ProgramLog[] = [];
  const calls: { token: string; inputs: Record<string, unknown> }[] = [];

  await pulumi.runtime.setMocks(
    {
      newResource: (m) => {
        const extra = args.state?.({ type: m.type, name: m.name, inputs: m.inputs }) ?? {};
        // A preview knows no ids of resources still to be created (they show as unknown); an update run does.
        return { id: m.custom && !preview ? `${m.name}-id` : undefined, state: { ...m.inputs, ...extra } };
      },
      call: (m) => {
        calls.push({ token: m.token, inputs: m.inputs });
        return args.call?.({ token: m.token, inputs: m.inputs }) ?? {};
      },
    },
    project,
    args.stack,
    preview,
  );
  recordRegistrations(sdkSettings.getMonitor() as MockMonitorLike, records, order);
  // getEngine() returns this store's engine when set: pulumi.log.* lands here instead of on the console.
  sdkState.getStore().settings.engine = {
    log(req: { getSeverity(): number; getMessage(): string }, cb: () => void) {
      logs.push({ severity: SEVERITY[req.getSeverity()] ?? "info", message: req.getMessage() });
      cb();
    },
    setRootResource(_req: unknown, cb: (err: unknown, res: unknown) => void) {
      cb(null, {});
    },
  };
  pulumi.runtime.setAllConfig(
    encodeConfig(project, args.config ?? {}),
    qualify(project, args.secretKeys ?? []),
  );

  let error: Error | undefined;
  const fail = (e: unknown) => {
    error ??= e instanceof Error ? e : new Error(String(e));
  };
  // Like the Automation API's inline runs: a rejection left unhandled while the program runs is its error.
  process.on("unhandledRejection", fail);
  const restoreStacks = args.stackTraces ? () => undefined : cheapStackTraces();
  try {
    forgetProgram(entry);
    const cachedBefore = new Set(Object.keys(require.cache));
    await pulumi.runtime
      .runInPulumiStack(async () => {
        // Inside the stack, like `pulumi up`: the program's resources get the stack as their parent.
        try {
          // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program path is only known at run time
          const exported: unknown = require(entry);
          return typeof exported === "function" ? await (exported as () => unknown)() : exported;
        } finally {
          rememberProgram(entry, path.resolve(args.projectDir), cachedBefore);
        }
      })
      .catch(fail);
    // Every registration and registerOutputs RPC has settled once the SDK's RPC queue is empty.
    await sdkSettings.waitForRPCs().catch(fail);
    // Let rejections of this run surface before the listener goes.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off("unhandledRejection", fail);
    restoreStacks();
    // Promises of a failed run never settle; they belong to this run's store, which is dropped now.
    sdkState.getStore().leakCandidates.clear();
  }

  const resources = order.map((urn) => finish(records.get(urn)!, records));
  const stack = resources.find((r) => r.type === "pulumi:pulumi:Stack");
  return { resources, outputs: (!error && stack?.outputs) || {}, logs, calls, error };
}

/** Until the returned function runs: no source-mapping and no frames in stack traces (both process-wide). */
function cheapStackTraces(): () => void {
  const limit = Error.stackTraceLimit;
  const maps = process.sourceMapsEnabled;
  Error.stackTraceLimit = 0;
  process.setSourceMapsEnabled(false);
  return () => {
    Error.stackTraceLimit = limit;
    process.setSourceMapsEnabled(maps);
  };
}

function resolveProgram(projectDir: string, program: string | undefined): string {
  if (program) return path.resolve(projectDir, program);
  let main = "index.ts";
  try {
    const text = fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8");
    // `main:` is a plain top-level scalar; avoid a YAML dependency here (the bench's floor uses this engine too).
    main = /^main:\s*["']?([^"'#\s]+)/m.exec(text)?.[1] ?? main;
  } catch {
    // no Pulumi.yaml: index.ts
  }
  const full = path.resolve(projectDir, main);
  return fs.existsSync(full) && fs.statSync(full).isDirectory() ? path.join(full, "index.ts") : full;
}

/** Keys "pve-homelab:<key>"; strings as they are, everything else JSON (what the Pulumi CLI hands over). */
function encodeConfig(project: string, config: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    out[qualifyKey(project, key)] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}

const qualifyKey = (project: string, key: string) => (key.includes(":") ? key : `${project}:${key}`);
const qualify = (project: string, keys: readonly string[]) => keys.map((k) => qualifyKey(project, k));

// ---------------------------------------------------------------------------------------------------------
// Fresh program load.

// Project files (outside node_modules) each entry loaded last time, dropped before its next load.
const lastGraph = new Map<string, Set<string>>();

function forgetProgram(entry: string): void {
  for (const file of lastGraph.get(entry) ?? []) delete require.cache[file];
  delete require.cache[entry];
}

/**
 * After a load: remember the project files the entry pulled in, for the next fresh load: its module graph
 * (including files that were already cached) plus every project file first loaded during this run (the
 * entry is not cached when it threw, but what it loaded before throwing is).
 */
function rememberProgram(entry: string, projectDir: string, cachedBefore: ReadonlySet<string>): void {
  const inProject = (file: string) =>
    file.startsWith(projectDir + path.sep) && !file.includes(`${path.sep}node_modules${path.sep}`);
  const seen = new Set(Object.keys(require.cache).filter((f) => !cachedBefore.has(f) && inProject(f)));
  const visited = new Set<string>();
  const walk = (m: NodeJS.Module) => {
    if (visited.has(m.filename) || !inProject(m.filename)) return;
    visited.add(m.filename);
    seen.add(m.filename);
    for (const child of m.children) walk(child);
  };
  const root = require.cache[entry];
  if (root) walk(root);
  lastGraph.set(entry, seen);
}

// ---------------------------------------------------------------------------------------------------------
// Recording registrations.

interface MutableRecord {
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

function recordRegistrations(
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

function finish(r: MutableRecord, records: Map<string, MutableRecord>): RegisteredResource {
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
