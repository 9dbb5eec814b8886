// The ONE compact quorum summary of the plan and the status (core/quorum/boundary.ts): the what-if table for up
// to 5 hosts, the quorate/non-quorate boundary beyond, as text lines and as JSON.
import type { BoundaryPattern, QuorumSummary } from "../core/quorum";
import { table } from "./report";

const n = (x: number) => x.toLocaleString("en-US");

/** Text lines (no indent of their own beyond the table's two spaces). */
export function quorumSummaryLines(summary: QuorumSummary, hostNames: readonly string[]): string[] {
  if (summary.kind === "table") {
    const t = summary.table;
    const device = t.scenarios.some((s) => s.deviceUp !== undefined);
    const head = [...hostNames, ...(device ? ["qdevice"] : []), "votes", "quorate", "cold start"];
    const rows = t.scenarios.map((s) => [
      ...hostNames.map((h) => (s.up.includes(h) ? "up" : "-")),
      ...(device ? [s.deviceUp ? "up" : "-"] : []),
      String(s.votes),
      s.quorate ? "yes" : "no",
      s.coldStart ? "yes" : "no",
    ]);
    return [
      "What if only these hosts are up? (quorate: after the others stop;",
      "cold start: if only these boot)",
      ...table(
        [head, ...rows],
        head.map((h) => h === "votes"),
      ).map((l) => `  ${l}`),
    ];
  }
  const lines = [
    `Quorum boundary of ${summary.hosts} hosts (quorate: after the others stop, from a full cluster)`,
    `  Interchangeable hosts: ${summary.classes
      .map((c) => {
        const names =
          c.hosts.length <= 3 ? c.hosts.join(", ") : `${c.hosts[0]}…${c.hosts[c.hosts.length - 1]}`;
        return `${names} (${c.hosts.length > 1 ? `${c.hosts.length} hosts, ` : ""}${c.votes} ${c.votes === 1 ? "vote" : "votes"}${c.hosts.length > 1 ? " each" : ""})`;
      })
      .join("; ")}`,
  ];
  const rows = (ps: readonly BoundaryPattern[]) =>
    table(
      ps.map((p) => [p.text, `${p.votes} votes`, `${n(p.sets)} ${p.sets === 1 ? "set" : "sets"}`]),
      [false, true, true],
    ).map((l) => `    ${l}`);
  for (const b of summary.boundaries) {
    const device = b.deviceUp === undefined ? "" : b.deviceUp ? " (QDevice up)" : " (QDevice down)";
    const more = (shown: number, count: number) =>
      count > shown ? ` — ${n(count - shown)} more not shown` : "";
    lines.push(
      `  Smallest quorate sets${device}: ${n(b.minimalQuorateCount)} pattern(s)${more(b.minimalQuorate.length, b.minimalQuorateCount)}`,
      ...rows(b.minimalQuorate),
      `  Largest sets that are NOT quorate${device}: ${n(b.maximalNonQuorateCount)} pattern(s)${more(b.maximalNonQuorate.length, b.maximalNonQuorateCount)}`,
      ...(b.maximalNonQuorate.length > 0
        ? rows(b.maximalNonQuorate)
        : ["    (none: every non-empty set is quorate)"]),
    );
  }
  return lines;
}

/** The summary as JSON: `{kind: "table", scenarios}` or `{kind: "boundary", classes, boundaries}`. */
export function quorumSummaryJson(summary: QuorumSummary): Record<string, unknown> {
  if (summary.kind === "table")
    return { kind: "table", hosts: summary.hosts, scenarios: summary.table.scenarios };
  return {
    kind: "boundary",
    hosts: summary.hosts,
    classes: summary.classes,
    boundaries: summary.boundaries,
  };
}
