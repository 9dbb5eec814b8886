// One entry point for "is this stack sound?": config schema and rules, then quorum intent, then VM placement.
// The program throws the errors; the plan renders all findings.
import { loadModel, type RawStackConfig } from "./config";
import type { Finding, Model } from "./model";
import { placementFindings } from "./placement";
import { powerFindings } from "./power";
import { protectionFindings } from "./protection";
import { quorumFindings } from "./quorum";
import { qdeviceFindings } from "./scripts/qdevice";
import { rejoinUpgradeFindings } from "./scripts/rejoin";

export interface StackAnalysis {
  /** Present when the config parsed; may still carry quorum/placement errors in findings. */
  readonly model?: Model;
  readonly findings: readonly Finding[];
}

export function analyzeStack(raw: RawStackConfig): StackAnalysis {
  const loaded = loadModel(raw);
  if (!loaded.model) return loaded;
  const model = loaded.model;
  return {
    model,
    findings: [
      ...loaded.findings,
      ...quorumFindings(model),
      ...qdeviceFindings(model),
      ...placementFindings(model),
      ...powerFindings(model),
      ...protectionFindings(model),
      ...rejoinUpgradeFindings(model),
    ],
  };
}
