// The steps ONE `pulumi up` runs, derived from two registered resource graphs (the state before, the program
// now), in the order the Pulumi engine runs them. No CLI here, so this models the engine's rules (pulumi
// pkg/resource/deploy: step_generator.go, deployment_executor.go):
//   1. Registrations are diffed one by one against the old state: not there → create; inputs changed (minus
//      ignoreChanges) → update; unchanged → nothing runs. A step waits for the steps of everything the resource
//      depends on (dependsOn, Outputs used as inputs, its parent). The registration order is a topological
//      order of that graph (a resource can only name resources registered before it), so running the steps in
//      registration order is a schedule the engine may pick; `mustPrecede` checks that an order holds in EVERY
//      schedule, i.e. that it is a path in the graph.
//   2. Then the deletes: resources of the old state the program no longer registers, dependents first
//      (reverse registration order of the old state), after every create and update.
//   remote.Command: a create runs `create`; an update runs `update`, else `create`; a delete runs `delete` (no
//   delete script: nothing runs). A `triggers` change would be a replacement: refused here, none is expected.
import type { ProgramResult, RegisteredResource } from "../../plan/engine";

export type StepKind = "create" | "update" | "delete";

export interface UpStep {
  readonly kind: StepKind;
  readonly name: string;
  readonly type: string;
  /** The script this step runs on the host (undefined: nothing runs, e.g. a delete without delete script). */
  readonly script?: string;
  readonly stdin?: string;
  /** connection.host of a remote.Command. */
  readonly host?: string;
}

const COMMAND = "command:remote:Command";
const COMPARED = ["connection", "create", "update", "delete", "stdin", "environment", "triggers", "logging"];

function plain(r: RegisteredResource, key: string): unknown {
  return (r.plainInputs as Record<string, unknown>)[key];
}

function changed(old: RegisteredResource, now: RegisteredResource): boolean {
  const ignored = new Set(now.options.ignoreChanges);
  if (JSON.stringify(plain(old, "triggers")) !== JSON.stringify(plain(now, "triggers"))) {
    throw new Error(`${now.name}: triggers changed, a replacement (not modelled here)`);
  }
  return COMPARED.filter((k) => !ignored.has(k)).some(
    (k) => JSON.stringify(plain(old, k)) !== JSON.stringify(plain(now, k)),
  );
}

function commandStep(kind: StepKind, r: RegisteredResource): UpStep {
  const script =
    kind === "delete"
      ? plain(r, "delete")
      : kind === "update"
        ? (plain(r, "update") ?? plain(r, "create"))
        : plain(r, "create");
  const connection = plain(r, "connection") as { host?: string } | undefined;
  return {
    kind,
    name: r.name,
    type: r.type,
    script: typeof script === "string" ? script : undefined,
    stdin: typeof plain(r, "stdin") === "string" ? (plain(r, "stdin") as string) : undefined,
    host: connection?.host,
  };
}

/** The steps of one `pulumi up` from the state `before` (a run of the program as deployed) to the program now. */
export function upSteps(before: ProgramResult | undefined, now: ProgramResult): UpStep[] {
  for (const run of [before, now]) if (run?.error) throw run.error;
  const old = new Map((before?.resources ?? []).map((r) => [r.name, r]));
  const registered = new Set(now.resources.map((r) => r.name));
  const steps: UpStep[] = [];
  for (const r of now.resources) {
    const prev = old.get(r.name);
    const kind: StepKind | undefined = !prev
      ? "create"
      : r.type === COMMAND && changed(prev, r)
        ? "update"
        : undefined;
    if (kind && r.type === COMMAND) steps.push(commandStep(kind, r));
  }
  const gone = (before?.resources ?? []).filter((r) => !registered.has(r.name)).reverse();
  for (const r of gone) if (r.type === COMMAND) steps.push(commandStep("delete", r));
  return steps;
}

/** Is `later` reachable from `earlier` through dependsOn/Output/parent edges of the run? Then every schedule
 *  of the engine finishes `earlier` before it starts `later`. */
export function mustPrecede(run: ProgramResult, earlier: string, later: string): boolean {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const byName = new Map(run.resources.map((r) => [r.name, r]));
  const target = byName.get(earlier);
  const start = byName.get(later);
  if (!target || !start) throw new Error(`no resource ${!target ? earlier : later}`);
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length > 0) {
    const r = stack.pop()!;
    if (r.urn === target.urn) return true;
    if (seen.has(r.urn)) continue;
    seen.add(r.urn);
    for (const urn of [...r.dependsOn, ...(r.parentUrn ? [r.parentUrn] : [])]) {
      const next = byUrn.get(urn);
      if (next) stack.push(next);
    }
  }
  return false;
}
