// The plan as text for a person: the resource tree as `pulumi preview` lists it, votes and the what-if table,
// VM placement with capacity bars, the corosync.conf diff, a Mermaid topology, then every finding with its fix.
import { findingsSection, pad, table, width } from "../cli/report";
import type { Finding } from "../core/model";
import type { HostPlacement } from "../core/placement";
import { MAX_WHAT_IF_HOSTS } from "../core/quorum";
import { declaredQuorum, hostsNeededOnline } from "../core/power";
import { quorumSummaryLines } from "../cli/quorum";
import type { RegisteredResource } from "./engine";
import { topologyMermaid } from "./mermaid";
import { protection } from "./protection";
import { hasErrorFindings, oneLine, type PlanReport } from "./report";

export function renderHuman(report: PlanReport): string {
  const sections = [
    header(report),
    resourceTree(report),
    votes(report),
    modes(report),
    placement(report),
    protection(report),
    corosyncDiff(report),
    topology(report),
    findings(report.findings),
    summary(report),
  ];
  return sections.filter((s): s is string => s !== undefined).join("\n\n") + "\n";
}

function header(r: PlanReport): string {
  const source = {
    "stack file": "set in the stack file, not decrypted",
    "plain text": "in the stack file in PLAIN TEXT, see the findings",
    placeholder: "not set in the stack: a placeholder stands in",
  };
  const secrets = r.secrets.map((s) => `${s.key}: [secret] (${source[s.source]})`);
  return [
    `Plan of ${r.project}/${r.stack} (${r.stackFile}): the program ran under mocks; nothing connected, nothing changed.`,
    ...secrets.map((s) => `  ${s}`),
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------------------

/** Rows in `pulumi preview` order: depth-first by parent, children in registration order. */
export function previewRows(
  resources: readonly RegisteredResource[],
): { resource: RegisteredResource; prefix: string }[] {
  const byParent = new Map<string | null, RegisteredResource[]>();
  const urns = new Set(resources.map((r) => r.urn));
  for (const r of resources) {
    const key = r.parentUrn && urns.has(r.parentUrn) ? r.parentUrn : null;
    const siblings = byParent.get(key);
    if (siblings) siblings.push(r);
    else byParent.set(key, [r]);
  }
  const rows: { resource: RegisteredResource; prefix: string }[] = [];
  const walk = (parent: string | null, indent: string, depth: number) => {
    const kids = byParent.get(parent) ?? [];
    kids.forEach((r, i) => {
      const last = i === kids.length - 1;
      const branch = depth === 0 ? "" : last ? "└─ " : "├─ ";
      rows.push({ resource: r, prefix: indent + branch });
      walk(r.urn, depth === 0 ? "" : indent + (last ? "   " : "│  "), depth + 1);
    });
  };
  walk(null, "", 0);
  return rows;
}

function resourceTree(r: PlanReport): string {
  const rows = previewRows(r.resources);
  const lines = ["Resources (pulumi preview)"];
  if (rows.length === 0) {
    lines.push("  none: the program registered nothing");
  } else {
    const typeCol = rows.map((x) => x.prefix + x.resource.type);
    const nameCol = rows.map((x) => x.resource.name);
    const tw = width(["Type", ...typeCol]);
    const nw = width(["Name", ...nameCol]);
    lines.push(`     ${pad("Type", tw)}  ${pad("Name", nw)}  Plan`);
    rows.forEach((_, i) => lines.push(` +   ${pad(typeCol[i]!, tw)}  ${pad(nameCol[i]!, nw)}  create`));
    lines.push(`  ${rows.length} to create`);
  }
  if (r.program.error) lines.push(`  The program stopped: ${oneLine(r.program.error.message)}`);
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------------------

function votes(r: PlanReport): string {
  const hostRows = r.hosts.map((h) => [
    show(h.name),
    show(h.address),
    show(h.power),
    show(h.votes),
    h.nodeId === undefined ? "" : String(h.nodeId),
  ]);
  const lines = [
    `Hosts and votes${r.model ? ` (quorum.mode ${r.model.quorum.mode})` : " (as far as the config can be read)"}`,
  ];
  if (hostRows.length === 0) lines.push("  (no readable hosts)");
  else
    lines.push(
      ...table(
        [["host", "address", "power", "votes", "nodeId"], ...hostRows],
        [false, false, false, true, true],
      ).map((l) => `  ${l}`),
    );
  const q = r.quorum;
  if (!q || !r.model) {
    const why = r.model ? `it covers at most ${MAX_WHAT_IF_HOSTS} hosts` : "the config does not parse";
    lines.push("", `What-if table: not available (${why}).`);
    return lines.join("\n");
  }
  const device = r.model.quorum.mode === "qdevice";
  lines.push(
    "",
    `Expected votes ${q.expectedVotes}, quorum ${q.quorum}${device ? `, quorum device ${q.deviceVotes} vote(s)` : ""}.`,
    "",
  );
  if (r.quorumSummary)
    lines.push(
      ...quorumSummaryLines(
        r.quorumSummary,
        r.model.hosts.map((h) => h.name),
      ),
    );
  const a = r.alwaysOn;
  if (a) {
    const dev = device ? " + the quorum device" : "";
    lines.push(
      "",
      `Always-on intent: ${a.hosts.join(" + ")}${dev} alone: ${a.votes} of ${q.expectedVotes} votes, quorum ${q.quorum}: ${a.quorate ? "quorate — OK" : "NOT quorate — FAILS"}`,
    );
    if (a.others.hosts.length > 0) {
      lines.push(
        `                  ${a.others.hosts.length <= 5 ? a.others.hosts.join(" + ") : `the ${a.others.hosts.length} other hosts`} without it: ${a.others.votes} votes: ${a.others.quorate ? "quorate — FAILS (they could outvote it)" : "not quorate — OK"}`,
      );
    }
  } else {
    lines.push("", "Always-on intent: no always-on host declared — FAILS");
  }
  const power = declaredQuorum(r.model);
  if (power) {
    const states = r.model.hosts
      .filter((h) => h.state !== undefined)
      .map((h) => `${h.name} ${h.state}${h.state === "off" ? ` (guests: ${h.guests ?? "shutdown"})` : ""}`);
    lines.push(
      "",
      `Declared power: ${states.join(", ")}`,
      `  quorum with it: ${power.summary}`,
      `  needs online: ${hostsNeededOnline(r.model)
        .map((n) => n.host)
        .join(", ")}`,
    );
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------------------

const BAR = 24;

/** Each mode's layout, then which sets of live hosts keep quorum in each: the trade-off at a glance. */
function modes(r: PlanReport): string | undefined {
  const c = r.modes;
  if (!c) return undefined;
  const yes = (b: boolean) => (b ? "yes" : "no");
  const all = [c.modes.weighted, c.modes.qdevice, c.modes.default];
  const lines = ["Quorum modes side by side (* = this stack's mode)"];
  for (const m of all) {
    const votes = c.hosts.map((h) => m.votes[h]).join("/");
    const device = m.deviceVotes > 0 ? ` + QDevice ${m.deviceVotes} (${m.algorithm})` : "";
    lines.push(
      `  ${m.active ? "*" : " "} ${m.mode}: votes ${votes}${device}, expected ${m.expectedVotes}, quorum ${m.quorum}`,
    );
    for (const note of m.notes) lines.push(`      ${note}`);
  }
  const head = ["live hosts", "weighted", "qdevice", "qdevice (device down)", "default"];
  const rows = c.rows.map((row) => [
    row.up.join(" + "),
    yes(row.weighted),
    yes(row.qdevice),
    yes(row.qdeviceDeviceDown),
    yes(row.default),
  ]);
  if (c.boundaries) {
    lines.push("", "Smallest quorate sets of live hosts in each mode (the full table is for up to 5 hosts):");
    for (const m of all) {
      for (const b of c.boundaries[m.mode]) {
        const device = b.deviceUp === undefined ? "" : b.deviceUp ? " (QDevice up)" : " (QDevice down)";
        const shown = b.minimalQuorate.map((p) => p.text).join("; ");
        const more = b.minimalQuorateCount > b.minimalQuorate.length ? "; …" : "";
        lines.push(`  ${m.mode}${device}: ${shown || "never quorate"}${more}`);
      }
    }
    return lines.join("\n");
  }
  lines.push("", ...table([head, ...rows], [false, false, false, false, false]).map((l) => `  ${l}`));
  return lines.join("\n");
}

function bar(used: number, total: number | undefined, unit: string): string {
  if (total === undefined) return `${pad("", BAR + 2)}  ${used}${unit} (capacity not declared)`;
  const filled = Math.min(BAR, Math.round((used / total) * BAR));
  const over = used > total;
  const pct = total > 0 ? Math.round((used / total) * 100) : 0;
  return `[${"#".repeat(filled)}${"-".repeat(BAR - filled)}]  ${used}/${total}${unit}  ${pct}%${over ? "  OVER CAPACITY" : ""}`;
}

function placement(r: PlanReport): string | undefined {
  const model = r.model;
  if (!model || !r.placement) {
    if (r.vms.length === 0) return undefined;
    const rows = r.vms.map((vm) => [show(vm.name), show(vm.host), show(vm.vmId)]);
    return [
      "VMs (as far as the config can be read)",
      ...table([["vm", "host", "vmId"], ...rows], [false, false, true]).map((l) => `  ${l}`),
    ].join("\n");
  }
  const lines = ["VM placement"];
  model.hosts.forEach((h, i) => {
    const p: HostPlacement = r.placement![i]!;
    lines.push(`  ${h.name} (${h.power})`);
    lines.push(`    cores   ${bar(p.coresUsed, p.coresTotal, "")}`);
    lines.push(`    memory  ${bar(p.memoryUsed, p.memoryTotal, " MiB")}`);
    const vms = model.vms.filter((vm) => vm.host === h.name);
    if (vms.length === 0) {
      lines.push("    (no VMs)");
      return;
    }
    const rows = vms.map((vm) => [
      vm.name,
      `vmId ${vm.vmId}`,
      `${vm.cores} ${vm.cores === 1 ? "core" : "cores"}`,
      `${vm.memoryMiB} MiB`,
      `${vm.diskGiB} GiB`,
      [vm.alwaysOn && "alwaysOn", vm.started ? "started" : "stopped", vm.onBoot && "onBoot", vm.ha && "ha"]
        .filter(Boolean)
        .join(", "),
    ]);
    lines.push(...table(rows, [false, false, true, true, true, false]).map((l) => `    - ${l}`));
  });
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------------------

function corosyncDiff(r: PlanReport): string | undefined {
  const c = r.corosync;
  if (!c) return undefined;
  const title = `corosync.conf: what \`pulumi up\` would write (${c.file})`;
  if (!c.changed)
    return `${title}\n  no change: the votes are already ${Object.entries(c.votes)
      .map(([n, v]) => `${n} ${v}`)
      .join(", ")}`;
  // Loaded only here: most plans have no --corosync.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createTwoFilesPatch } = require("diff") as typeof import("diff");
  const patch = createTwoFilesPatch(
    "a/etc/pve/corosync.conf",
    "b/etc/pve/corosync.conf",
    c.before,
    c.after,
    "",
    "",
    { context: 3 },
  );
  const body = patch
    .split("\n")
    .filter((l) => !l.startsWith("===") && !l.startsWith("Index:"))
    .join("\n")
    .trimEnd();
  return `${title}\n${body}\n  config_version ${c.versionBefore} -> ${c.versionAfter}`;
}

function topology(r: PlanReport): string | undefined {
  if (!r.model) return undefined;
  return `Topology (Mermaid)\n${topologyMermaid(r.model, r.quorum)}`;
}

// ---------------------------------------------------------------------------------------------------------

export function findings(list: readonly Finding[]): string {
  return findingsSection(list);
}

function summary(r: PlanReport): string {
  const errors = r.findings.filter((f) => f.level === "error").length;
  const warnings = r.findings.filter((f) => f.level === "warning").length;
  const verdict = hasErrorFindings(r)
    ? "NOT READY: fix the errors above before `pulumi up`"
    : "ready for `pulumi up`";
  return `${errors} error(s), ${warnings} warning(s), ${r.resources.length} resource(s) to create: ${verdict}.`;
}

// ---------------------------------------------------------------------------------------------------------

function show(v: unknown): string {
  if (v === null || v === undefined) return "?";
  return typeof v === "string" ? v : JSON.stringify(v);
}
