// Quorum intent and option findings, one module per concern.
import type { Finding, Model } from "../../model";
import { intentFindings } from "./intent";
import { optionFindings } from "./options";
import { riskFindings } from "./risk";
import { voteFindings } from "./votes";

export { COROSYNC_REFUSES, QUORUM_FINDING_CODES } from "./codes";
export { suggestAlwaysOnVotes } from "./intent";

/** Quorum intent and option findings for a model; empty when the layout is sound. */
export function quorumFindings(model: Model): Finding[] {
  return [...optionFindings(model), ...voteFindings(model), ...intentFindings(model), ...riskFindings(model)];
}
