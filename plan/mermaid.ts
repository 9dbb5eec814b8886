// The cluster as a Mermaid flowchart: one box per host (power profile, votes) holding its VMs, and the
// QDevice with a dotted link to every host when quorum.mode is qdevice. Paste it into any Mermaid viewer.
import type { Model } from "../core/model";
import type { WhatIf } from "../core/quorum";

/** Mermaid ids: letters, digits and '_' only; names keep their form in the quoted labels. */
const id = (prefix: string, i: number) => `${prefix}${i}`;
const label = (s: string) => `"${s.replace(/"/g, "#quot;")}"`;

export function topologyMermaid(model: Model, quorum?: WhatIf): string {
  const lines = ["flowchart TB"];
  const q = quorum ? ` · expected ${quorum.expectedVotes}, quorum ${quorum.quorum}` : "";
  lines.push(`  subgraph cluster[${label(`cluster ${model.clusterName}${q}`)}]`);
  lines.push("    direction LR");
  model.hosts.forEach((h, i) => {
    const votes = `${h.votes} ${h.votes === 1 ? "vote" : "votes"}`;
    lines.push(`    subgraph ${id("host", i)}[${label(`${h.name} · ${h.power} · ${votes}`)}]`);
    const vms = model.vms.filter((vm) => vm.host === h.name);
    if (vms.length === 0) lines.push(`      ${id("empty", i)}[${label("no VMs")}]`);
    for (const vm of vms) {
      const flags = [vm.alwaysOn ? "alwaysOn" : "", vm.ha ? "ha" : ""].filter(Boolean).join(", ");
      lines.push(
        `      ${id("vm", vm.vmId)}[${label(`${vm.name} · ${vm.vmId}${flags ? ` · ${flags}` : ""}`)}]`,
      );
    }
    lines.push("    end");
  });
  lines.push("  end");
  const device = model.quorum.mode === "qdevice" ? model.quorum.device : undefined;
  if (device) {
    const n = quorum?.deviceVotes;
    const votes = n === undefined ? "" : ` · ${n} ${n === 1 ? "vote" : "votes"}`;
    lines.push(`  qdevice[(${label(`QDevice ${device.address} · ${device.algorithm}${votes}`)})]`);
    model.hosts.forEach((_, i) => lines.push(`  qdevice -.- ${id("host", i)}`));
  }
  model.hosts.forEach((h, i) => {
    const style =
      h.power === "always-on" ? "stroke-width:3px" : h.power === "usually-off" ? "stroke-dasharray: 5 5" : "";
    if (style) lines.push(`  style ${id("host", i)} ${style}`);
  });
  return lines.join("\n");
}
