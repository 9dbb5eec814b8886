// The price of weighted votes: shared storage (and HA, reported per VM by core/placement).
import type { Finding, Model } from "../../model";
import { error, warning } from "../../config/findings";
import { votesPattern } from "./helpers";

export function riskFindings(model: Model): Finding[] {
  const hosts = model.hosts;
  const weighted = model.quorum.mode === "weighted" && new Set(hosts.map((h) => h.votes)).size > 1;
  if (!weighted) return [];
  const out: Finding[] = [];
  const make = model.acknowledgeQuorumRisk ? warning : error;
  const ack = model.acknowledgeQuorumRisk
    ? "acknowledged (acknowledgeQuorumRisk: true)"
    : "set acknowledgeQuorumRisk: true only if you accept this";
  const alternative =
    "the clean alternative is quorum.mode: qdevice (1 vote per host plus an external QNetd vote)";
  if (model.sharedStorage.length > 0) {
    out.push(
      make(
        "quorum.weighted-shared-storage",
        "sharedStorage",
        `weighted votes (${votesPattern(hosts)}) with shared storage (${model.sharedStorage.join(", ")}): one host alone is the cluster, so a split or a forced \`pvecm expected\` on the other side lets two sides write the same storage (split-brain)`,
        `${alternative}; ${ack}`,
      ),
    );
  }
  // HA VMs with weighted votes are the same risk, reported per VM by core/placement (placement.ha-with-weighted-votes).
  return out;
}
