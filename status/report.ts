// The status report as data, then as text (80 columns) and as ONE JSON document. The comparison itself is
// core/drift.ts; the quorum summary is the plan's (cli/quorum.ts), for the layout the cluster really has.
import { quorumSummaryJson, quorumSummaryLines } from "../cli/quorum";
import { findingsSection, table, TERMINAL_WIDTH, wrap } from "../cli/report";
import { compareLive, type DriftFinding, type StatusAnalysis } from "../core/drift";
import { liveLayout } from "../core/live/layout";
import type { Finding, Model } from "../core/model";
import { quorumSummary, type QuorumSummary } from "../core/quorum";
import type { Collected } from "./collect";

export interface StatusReport {
  readonly project: string;
  readonly stack: string;
  readonly model: Model;
  readonly collected: Collected;
  readonly analysis: StatusAnalysis;
  /** The compact quorum summary of the live layout (live nodelist, live votes and options). */
  readonly liveSummary?: QuorumSummary;
  /** Stack findings first (errors of the stack itself: the same core/analyze the plan runs), then the cluster's. */
  readonly findings: readonly DriftFinding[];
}

export function buildStatus(
  project: string,
  stack: string,
  model: Model,
  stackFindings: readonly Finding[],
  collected: Collected,
): StatusReport {
  const analysis = compareLive(model, collected.facts);
  const layout = liveLayout(model, collected.facts);
  const errors = stackFindings.filter((f) => f.level === "error");
  return {
    project,
    stack,
    model,
    collected,
    analysis,
    liveSummary: layout ? quorumSummary(layout) : undefined,
    findings: [...errors.map((f): DriftFinding => ({ ...f, level: "error" })), ...analysis.findings],
  };
}

const count = (fs: readonly DriftFinding[], level: string) => fs.filter((f) => f.level === level).length;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function renderHuman(r: StatusReport): string {
  const f = r.collected.facts;
  const a = r.analysis;
  const out: string[] = [];
  out.push(
    ...wrap(
      `Status of ${r.project}/${r.stack}: cluster ${f.clusterName ?? "?"}, config_version ${f.configVersion ?? "?"}, read on ${r.collected.via} in ${plural(r.collected.sessions, "SSH session")} (read-only)`,
      TERMINAL_WIDTH,
      2,
    ),
    "",
  );

  const votesCell = (declared: number, live?: number, runtime?: number) => {
    if (live === undefined) return String(declared);
    const run = runtime !== undefined && runtime !== live ? ` run ${runtime}` : "";
    return live === declared && !run ? String(live) : `${live}${run} (stack ${declared})`;
  };
  const hostRows = a.hosts.map((h) => [
    h.name,
    h.power,
    h.state,
    String(h.live?.nodeId ?? h.declared.nodeId),
    h.live?.address ?? h.declared.address,
    votesCell(h.declared.votes, h.live?.votes, h.live?.runtimeVotes),
  ]);
  const extraRows = a.undeclared.map((n) => [
    n.name,
    "(undeclared)",
    n.online ? "online" : "offline",
    String(n.nodeId),
    n.address,
    String(n.votes),
  ]);
  out.push(
    "Hosts (stack vs live)",
    ...table(
      [["host", "power", "state", "id", "address", "votes"], ...hostRows, ...extraRows],
      [false, false, false, true, false, true],
    ).map((l) => `  ${l}`),
    "",
  );

  const q = a.quorum;
  if (q) {
    const dev = f.qdevice.votingVotes > 0 ? ` (QDevice ${f.qdevice.votingVotes})` : "";
    out.push(
      ...wrap(
        `Live quorum: ${q.quorate ? "quorate" : "NOT QUORATE"}, ${q.totalVotes} of ${q.expectedVotes} votes${dev}, quorum ${q.quorum}: ${q.quorate ? `${plural(q.margin, "vote")} can still go` : `${q.quorum - q.totalVotes} more needed`}.`,
        TERMINAL_WIDTH,
        2,
      ),
    );
    if (q.losingSets.length > 0) {
      out.push(
        ...wrap(
          `  Losing any of these loses quorum: ${q.losingSets.map((s) => s.join(" + ")).join("; ")}`,
          TERMINAL_WIDTH,
          4,
        ),
      );
    } else if (q.quorate) out.push("  No loss of up to 3 voters loses quorum.");
  } else out.push("Live quorum: unknown (corosync did not answer).");
  if (f.qdevice.configured || r.model.quorum.mode === "qdevice") {
    out.push(
      `QDevice: ${f.qdevice.configured ? `${f.qdevice.host ?? "?"} ${f.qdevice.algorithm ?? ""}, ${f.qdevice.votingVotes > 0 ? "voting" : "NOT voting"}${f.qdevice.state ? `, state ${f.qdevice.state}` : ""}` : "not configured"}`,
    );
  }
  if (r.liveSummary) {
    out.push(
      "",
      ...quorumSummaryLines(
        r.liveSummary,
        f.nodes.map((n) => n.name),
      ),
    );
  }

  out.push("", "VMs (stack vs live)");
  if (a.vms.length === 0) out.push("  none declared, none found");
  else {
    const rows = a.vms.map((v) => [
      v.name,
      String(v.vmId),
      v.declaredHost ?? "(unmanaged)",
      v.live?.node ?? "(missing)",
      v.live ? v.live.status : "",
    ]);
    out.push(
      ...table([["vm", "vmId", "stack", "live", "status"], ...rows], [false, true]).map((l) => `  ${l}`),
    );
  }
  out.push("", findingsSection(r.findings, TERMINAL_WIDTH), "", verdict(r));
  return out.join("\n") + "\n";
}

function verdict(r: StatusReport): string {
  const errors = count(r.findings, "error");
  const drift = count(r.findings, "drift");
  const info = count(r.findings, "info");
  if (errors + drift === 0) return `In sync with the stack (${plural(info, "info note")}).`;
  return `${plural(drift, "drift finding")}, ${plural(errors, "error")}, ${plural(info, "info note")}: not in sync.`;
}

export function toJson(r: StatusReport): Record<string, unknown> {
  const f = r.collected.facts;
  const a = r.analysis;
  return {
    stack: r.stack,
    project: r.project,
    ok: count(r.findings, "error") + count(r.findings, "drift") === 0,
    via: r.collected.via,
    sshSessions: r.collected.sessions,
    cluster: { name: f.clusterName ?? null, configVersion: f.configVersion ?? null, quorate: f.quorate },
    hosts: a.hosts.map((h) => ({
      name: h.name,
      power: h.power,
      state: h.state,
      member: h.member,
      online: h.online,
      declared: h.declared,
      live: h.live
        ? {
            nodeId: h.live.nodeId,
            address: h.live.address,
            votes: h.live.votes,
            runtimeVotes: h.live.runtimeVotes ?? null,
            wakeOnLan: h.live.wakeOnLan ?? null,
          }
        : null,
    })),
    undeclared: a.undeclared.map((n) => ({
      name: n.name,
      nodeId: n.nodeId,
      address: n.address,
      votes: n.votes,
      online: n.online,
    })),
    quorum: a.quorum
      ? { ...a.quorum, summary: r.liveSummary ? quorumSummaryJson(r.liveSummary) : null }
      : null,
    qdevice: f.qdevice,
    vms: a.vms.map((v) => ({
      vmId: v.vmId,
      name: v.name,
      managed: v.declaredHost !== undefined,
      declaredHost: v.declaredHost ?? null,
      node: v.live?.node ?? null,
      status: v.live?.status ?? null,
      type: v.live?.type ?? null,
    })),
    findings: r.findings.map((x) => ({
      level: x.level,
      code: x.code,
      path: x.path,
      message: x.message,
      fix: x.fix,
    })),
    summary: {
      errors: count(r.findings, "error"),
      drift: count(r.findings, "drift"),
      info: count(r.findings, "info"),
    },
    error: null,
  };
}
