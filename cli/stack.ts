// The one stack loader of the CLI commands: Pulumi.yaml + Pulumi.<stack>.yaml read the way the Pulumi CLI
// hands them to the program (plan/stack.ts, no CLI, nothing decrypted), then core/analyze: the same Model and
// the same findings the program and the plan see. Problems with the files are UsageErrors (exit 2).
import { analyzeStack } from "../core/analyze";
import type { Finding, Model } from "../core/model";
import { loadStackFiles, rawStackConfig, type StackFiles } from "../plan/stack";

export interface LoadedStack {
  readonly files: StackFiles;
  /** Present when the config parses (it may still carry error findings). */
  readonly model?: Model;
  readonly findings: readonly Finding[];
}

export function loadStack(dir: string, stack: string): LoadedStack {
  const files = loadStackFiles(dir, stack);
  const { model, findings } = analyzeStack(rawStackConfig(files));
  return { files, model, findings };
}
