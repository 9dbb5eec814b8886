// The plan as ONE JSON document (`--json`). Stable keys; values that could not be computed are null, never
// missing. Secrets are "[secret]" and preview unknowns "[unknown]" everywhere, as in `pulumi preview --json`.
import { declaredQuorum, hostsNeededOnline, type DeclaredQuorum, type NeededHost } from "../core/power";
import { quorumSummaryJson } from "../cli/quorum";
import { topologyMermaid } from "./mermaid";
import { hasErrorFindings, type PlanReport } from "./report";

export interface PlanJson {
  /** Declared host power: the quorum with the declared states (null when none), the hosts a run needs online. */
  readonly power: {
    readonly declared: DeclaredQuorum | null;
    readonly neededOnline: readonly NeededHost[];
  } | null;
  readonly stack: string;
  readonly project: string;
  /** True when there is no error finding (the CLI then exits 0). */
  readonly ok: boolean;
  readonly summary: {
    readonly errors: number;
    readonly warnings: number;
    readonly info: number;
    readonly resources: number;
  };
  /** Project config after Pulumi.yaml defaults; secrets "[secret]". */
  readonly config: Readonly<Record<string, unknown>>;
  readonly secrets: PlanReport["secrets"];
  readonly hosts: readonly {
    name: unknown;
    address: unknown;
    power: unknown;
    votes: unknown;
    nodeId: number | null;
  }[];
  /** null when the config does not parse. */
  readonly quorum: {
    readonly mode: string;
    readonly expectedVotes: number;
    readonly quorum: number;
    readonly deviceVotes: number;
    /** Every set of live hosts, up to 5 hosts; empty beyond (see boundary). */
    readonly scenarios: readonly {
      up: readonly string[];
      votes: number;
      quorate: boolean;
      coldStart: boolean;
      deviceUp?: boolean;
    }[];
    /** Beyond 5 hosts: the quorate/non-quorate boundary (core/quorum/boundary.ts); null up to 5 hosts. */
    readonly boundary: Record<string, unknown> | null;
    readonly alwaysOn: PlanReport["alwaysOn"] | null;
    /** The same hosts under weighted votes, a QDevice and 1 vote each, side by side. */
    readonly modes: PlanReport["modes"] | null;
  } | null;
  readonly vms: readonly { name: unknown; host: unknown; vmId: unknown }[];
  /** Per host: VMs and capacity used/declared; null when the config does not parse. */
  readonly placement: PlanReport["placement"] | null;
  /** Backup jobs, replication pairs, HA placement (fencing per candidate host), start order per host; null
   *  when the config does not parse. */
  readonly protection: PlanReport["protection"] | null;
  readonly findings: readonly {
    level: "error" | "warning" | "info";
    code: string;
    path: string;
    message: string;
    fix: string;
  }[];
  readonly resources: readonly {
    type: string;
    name: string;
    parent: string | null;
    op: "create";
    urn: string;
    custom: boolean;
    provider: string | null;
    inputs: Record<string, unknown>;
  }[];
  /** Stack outputs (the program's exports). */
  readonly outputs: Readonly<Record<string, unknown>>;
  /** What the program threw (expected when there are config errors: it refuses to register anything). */
  readonly programError: string | null;
  /** Mermaid flowchart text; null when the config does not parse. */
  readonly topology: string | null;
  /** Only with --corosync: null when the config does not parse or the edit is refused (findings say why). */
  readonly corosync?: {
    changed: boolean;
    before: string;
    after: string;
    versionBefore: number | null;
    versionAfter: number | null;
  } | null;
}

export function toJson(r: PlanReport): PlanJson {
  const errors = r.findings.filter((f) => f.level === "error").length;
  const doc: PlanJson = {
    stack: r.stack,
    project: r.project,
    ok: !hasErrorFindings(r),
    summary: {
      errors,
      warnings: r.findings.filter((f) => f.level === "warning").length,
      info: r.findings.filter((f) => f.level === "info").length,
      resources: r.resources.length,
    },
    config: r.config,
    secrets: r.secrets,
    hosts: r.hosts.map((h) => ({
      name: h.name,
      address: h.address,
      power: h.power,
      votes: h.votes,
      nodeId: h.nodeId ?? null,
    })),
    quorum:
      r.quorum && r.model
        ? {
            mode: r.model.quorum.mode,
            expectedVotes: r.quorum.expectedVotes,
            quorum: r.quorum.quorum,
            deviceVotes: r.quorum.deviceVotes,
            scenarios: r.quorum.scenarios,
            boundary: r.quorumSummary?.kind === "boundary" ? quorumSummaryJson(r.quorumSummary) : null,
            alwaysOn: r.alwaysOn ?? null,
            modes: r.modes ?? null,
          }
        : null,
    vms: r.vms,
    power: r.model
      ? { declared: declaredQuorum(r.model) ?? null, neededOnline: hostsNeededOnline(r.model) }
      : null,
    placement: r.placement ?? null,
    protection: r.protection ?? null,
    findings: r.findings.map((f) => ({
      level: f.level,
      code: f.code,
      path: f.path,
      message: f.message,
      fix: f.fix,
    })),
    resources: r.resources.map((res) => ({
      type: res.type,
      name: res.name,
      parent: res.parent,
      op: "create" as const,
      urn: res.urn,
      custom: res.custom,
      provider: res.provider ?? null,
      inputs: res.inputs,
    })),
    outputs: r.program.outputs,
    programError: r.program.error ? r.program.error.message : null,
    topology: r.model ? topologyMermaid(r.model, r.quorum) : null,
  };
  if (r.corosyncFile === undefined) return doc;
  const c = r.corosync;
  if (!c) return { ...doc, corosync: null };
  return {
    ...doc,
    corosync: {
      changed: c.changed,
      before: c.before,
      after: c.after,
      versionBefore: c.versionBefore ?? null,
      versionAfter: c.versionAfter ?? null,
    },
  };
}

export const renderJson = (r: PlanReport): string => JSON.stringify(toJson(r), null, 2) + "\n";
