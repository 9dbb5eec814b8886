// Everything the plan shows, computed once as data: human.ts and json.ts only render it.
// Findings come from core/analyze (the same function the program calls), the resources from running the
// program itself under mocks (engine.ts), the corosync diff from core/corosync setVotes.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Finding, HostSpec, Model } from "../core/model";
import { placementByHost, type HostPlacement } from "../core/placement";
import { quorumSummary, scenario, type QuorumSummary, type WhatIf } from "../core/quorum";
import { compareModes, type ModeComparison } from "../core/quorum-modes";
import { protectionPlan, type ProtectionPlan } from "../core/protection";
import { SECRET_KEYS } from "../core/config";
import { runProgram, SECRET, type ProgramResult, type RegisteredResource } from "./engine";
import type { CorosyncPlan } from "./corosync";
import { hasErrorFindings as anyError } from "../cli/exit";
import { loadStack } from "../cli/stack";
import { programConfig, projectName, UsageError, type StackFiles } from "./stack";

export interface PlanOptions {
  /** Directory with Pulumi.yaml and Pulumi.<stack>.yaml. */
  readonly dir: string;
  readonly stack: string;
  /** A copy of a live /etc/pve/corosync.conf: show what `pulumi up` would write into it. */
  readonly corosyncFile?: string;
  /** The project whose program runs (index.ts); defaults to this repository. */
  readonly projectDir?: string;
}

/** A host as far as the config could be read: every field may be missing when the config does not parse. */
export interface PlanHost {
  readonly name: unknown;
  readonly address: unknown;
  readonly power: unknown;
  readonly votes: unknown;
  readonly nodeId?: number;
  readonly cores?: number;
  readonly memoryMiB?: number;
}

export interface PlanVm {
  readonly name: unknown;
  readonly host: unknown;
  readonly vmId: unknown;
}

export interface AlwaysOnCheck {
  /** The always-on hosts. */
  readonly hosts: readonly string[];
  /** Their votes alone (plus the device's in qdevice mode). */
  readonly votes: number;
  readonly quorate: boolean;
  /** The other hosts together, without the always-on ones (and without the device). */
  readonly others: { readonly hosts: readonly string[]; readonly votes: number; readonly quorate: boolean };
}

export interface PlanReport {
  readonly project: string;
  readonly stack: string;
  readonly stackFile: string;
  /** Project config with every secret value replaced by "[secret]". */
  readonly config: Readonly<Record<string, unknown>>;
  readonly secrets: StackFiles["secrets"];
  readonly model?: Model;
  readonly hosts: readonly PlanHost[];
  readonly vms: readonly PlanVm[];
  /** Expected votes, quorum, device votes; `scenarios` only up to 5 hosts (else empty: see quorumSummary). */
  readonly quorum?: WhatIf;
  /** The compact summary plan and status share: the what-if table up to 5 hosts, the boundary beyond. */
  readonly quorumSummary?: QuorumSummary;
  readonly alwaysOn?: AlwaysOnCheck;
  /** Which sets of live hosts keep quorum under weighted votes, a QDevice, and plain 1 vote each. */
  readonly modes?: ModeComparison;
  readonly placement?: readonly HostPlacement[];
  /** Backup jobs, replication pairs, HA placement with fencing, start order; undefined when the config does not parse. */
  readonly protection?: ProtectionPlan;
  /** Every error, then every warning, each in the order found: config, quorum, placement, corosync, program. */
  readonly findings: readonly Finding[];
  readonly program: ProgramResult;
  /**
   * What `pulumi preview` would list: the program's registrations, the stack first. Empty when the program
   * stopped before registering anything of its own (the runtime's stack resource alone is not shown).
   */
  readonly resources: readonly RegisteredResource[];
  /** The --corosync file, when given. */
  readonly corosyncFile?: string;
  /** With --corosync, a config that parses and a file the edit accepts (else findings say why not). */
  readonly corosync?: CorosyncPlan;
}

export const REPO_ROOT = path.resolve(__dirname, "..");

export async function buildPlan(options: PlanOptions): Promise<PlanReport> {
  const { files, model, findings: analysis } = loadStack(options.dir, options.stack);
  const projectDir = options.projectDir ?? REPO_ROOT;
  const programProject = projectName(projectDir);
  if (files.project !== programProject) {
    throw new UsageError(
      `${path.join(options.dir, "Pulumi.yaml")} is project "${files.project}", but the program is "${programProject}"`,
    );
  }
  const corosyncText = options.corosyncFile === undefined ? undefined : readCorosync(options.corosyncFile);

  const findings: Finding[] = [...analysis];

  const { config, secretKeys } = programConfig(files);
  const run = await runProgram({
    projectDir,
    project: files.project,
    stack: files.stack,
    config,
    secretKeys,
    // PLAN_DEBUG=1: full stack traces for a program that crashes (slower; see plan/boot.ts).
    stackTraces: Boolean(process.env.PLAN_DEBUG),
  });
  findings.push(...programFindings(run, findings));

  let corosync: CorosyncPlan | undefined;
  if (corosyncText !== undefined && model) {
    // Loaded only with --corosync: most plans do not need the corosync engine.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { corosyncEdit } = require("./corosync") as typeof import("./corosync");
    const result = corosyncEdit(model, options.corosyncFile!, corosyncText);
    if ("finding" in result) findings.push(...result.finding);
    else corosync = result;
  } else if (corosyncText !== undefined) {
    findings.push({
      level: "warning",
      code: "plan.corosync-skipped",
      path: "",
      message: "the corosync diff needs a stack config that parses; it was skipped",
      fix: "fix the config errors listed here, then run the plan with --corosync again",
    });
  }

  const summary = model && model.hosts.length > 0 ? safe(() => quorumSummary(model)) : undefined;
  const quorum: WhatIf | undefined =
    summary?.kind === "table"
      ? summary.table
      : summary && {
          expectedVotes: summary.expectedVotes,
          quorum: summary.quorum,
          deviceVotes: summary.deviceVotes,
          scenarios: [],
        };
  return {
    project: files.project,
    stack: files.stack,
    stackFile: files.stackFile,
    config: redactedConfig(files),
    secrets: files.secrets,
    model,
    hosts: model ? model.hosts.map(hostOf) : readableHosts(files.values.hosts),
    vms: model
      ? model.vms.map((vm) => ({ name: vm.name, host: vm.host, vmId: vm.vmId }))
      : readableVms(files.values.vms),
    quorum,
    quorumSummary: summary,
    alwaysOn: model && quorum ? alwaysOnCheck(model) : undefined,
    modes: model && quorum ? safe(() => compareModes(model)) : undefined,
    placement: model ? placementByHost(model) : undefined,
    protection: model && quorum ? protectionPlan(model) : undefined,
    findings: sortFindings(findings),
    program: run,
    resources: run.error && run.resources.every((r) => r.type === "pulumi:pulumi:Stack") ? [] : run.resources,
    corosyncFile: options.corosyncFile,
    corosync,
  };
}

export const hasErrorFindings = (report: PlanReport): boolean => anyError(report.findings);

/** The file's bytes: the plan edits bytes, as the vote push does on the host (plan/corosync.ts). */
function readCorosync(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new UsageError(
      `cannot read --corosync file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
}

/**
 * The program failing is expected when the analysis found errors (it throws them, registering nothing).
 * Failing without such an error, or logging an error, is a problem of its own.
 */
function programFindings(program: ProgramResult, findings: readonly Finding[]): Finding[] {
  const out: Finding[] = [];
  if (program.error && !findings.some((f) => f.level === "error")) {
    out.push({
      level: "error",
      code: "plan.program-failed",
      path: "",
      message: `the program failed under mocks although the config has no error: ${oneLine(program.error.message)}`,
      fix: "this is a bug in the program (index.ts, components/); run `npm run test:unit` to narrow it down",
    });
  }
  for (const log of program.logs.filter((l) => l.severity === "error")) {
    out.push({
      level: "error",
      code: "plan.program-error-log",
      path: "",
      message: oneLine(log.message),
      fix: "see the program's message",
    });
  }
  return out;
}

/** A message on one line: its first line, and the next one too when the first only introduces it ("...:"). */
export function oneLine(message: string): string {
  const [first = "", second] = message.split("\n").filter((l) => l.trim() !== "");
  return first.endsWith(":") && second !== undefined ? `${first} ${second.trim()}` : first;
}

function alwaysOnCheck(model: Model): AlwaysOnCheck | undefined {
  const on = model.hosts.filter((h) => h.power === "always-on").map((h) => h.name);
  const others = model.hosts.filter((h) => h.power !== "always-on").map((h) => h.name);
  if (on.length === 0) return undefined;
  // With a device, the always-on hosts count on it; the others are checked without it (it sides with one partition).
  const alone = scenario(model, on, true);
  const rest = scenario(model, others, false);
  return {
    hosts: on,
    votes: alone.votes,
    quorate: alone.quorate,
    others: { hosts: others, votes: rest.votes, quorate: rest.quorate },
  };
}

function hostOf(h: HostSpec): PlanHost {
  return {
    name: h.name,
    address: h.address,
    power: h.power,
    votes: h.votes,
    nodeId: h.nodeId,
    cores: h.cores,
    memoryMiB: h.memoryMiB,
  };
}

const field = (o: Record<string, unknown>, key: string): unknown => (o[key] === undefined ? null : o[key]);

/** Hosts as far as they can be read from config that failed validation. */
function readableHosts(value: unknown): PlanHost[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((h): h is Record<string, unknown> => h !== null && typeof h === "object" && !Array.isArray(h))
    .map((h) => ({
      name: field(h, "name"),
      address: field(h, "address"),
      power: field(h, "power"),
      votes: field(h, "votes"),
    }));
}

function readableVms(value: unknown): PlanVm[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((v): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v))
    .map((v) => ({ name: field(v, "name"), host: field(v, "host"), vmId: field(v, "vmId") }));
}

/** Secret keys are hidden even when stored in plain text by mistake: the plan must not spread them further. */
function redactedConfig(files: StackFiles): Record<string, unknown> {
  const hidden = (k: string) => files.secretKeys.has(k) || (SECRET_KEYS as readonly string[]).includes(k);
  return Object.fromEntries(Object.entries(files.values).map(([k, v]) => [k, hidden(k) ? SECRET : v]));
}

function sortFindings(findings: readonly Finding[]): Finding[] {
  // Stable: errors, then warnings, then info, otherwise in the order core reported them.
  return (["error", "warning", "info"] as const).flatMap((level) =>
    findings.filter((f) => f.level === level),
  );
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined; // e.g. more hosts than a what-if table covers
  }
}
