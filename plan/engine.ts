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
import {
  finish,
  recordRegistrations,
  type MockMonitorLike,
  type MutableRecord,
  type RegisteredResource,
} from "./registrations";

export { SECRET, UNKNOWN, type RegisteredResource } from "./registrations";

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
