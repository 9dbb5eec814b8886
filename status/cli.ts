// npm run status -- --stack <name> [--json] [--identity FILE] [--dir DIR]
//
// The live cluster against the stack, read-only, in ONE SSH session to the first reachable always-on host
// (host key pinned from hosts[].hostKey; the user's key from --identity, the SSH agent or ssh's defaults; no
// Pulumi secret needed). Reports hosts declared vs live, the live quorum and its margin, VMs, and drift
// findings with their fixes; `--json` prints the same as one JSON document.
// Exit status (cli/exit.ts): 0 in sync, 1 drift or error findings, 2 usage error, 3 could not reach or read
// the cluster (no route, host key mismatch, auth failed, not a cluster).
import { COMMON_HELP, COMMON_OPTIONS, isResult, parseCommandLine, stackDir } from "../cli/args";
import {
  EXIT,
  failedResult,
  findingsCode,
  runAsProcess,
  usageResult,
  UsageError,
  type CliResult,
} from "../cli/exit";
import { findingsSection, jsonDocument, TERMINAL_WIDTH } from "../cli/report";
import { loadStack } from "../cli/stack";
import { collectStatus } from "./collect";
import { buildStatus, renderHuman, toJson } from "./report";

export const USAGE = "usage: npm run status -- --stack <name> [--json] [--identity <file>] [--dir <dir>]";

const HELP = `${USAGE}

Compares the live cluster with the stack, read-only, in one SSH session to the first
reachable always-on host.

${COMMON_HELP.stack}
${COMMON_HELP.json}
${COMMON_HELP.identity}
${COMMON_HELP.dir}
${COMMON_HELP.help}

Exit status: 0 in sync, 1 drift or error findings, 2 usage error, 3 could not reach or
read the cluster (no route, host key mismatch, auth failed, not a cluster).`;

const COMMAND_LINE = {
  tool: "status",
  usage: USAGE,
  help: HELP,
  options: {
    stack: COMMON_OPTIONS.stack,
    json: COMMON_OPTIONS.json,
    identity: COMMON_OPTIONS.identity,
    dir: COMMON_OPTIONS.dir,
    help: COMMON_OPTIONS.help,
  },
} as const;

export async function main(argv: readonly string[]): Promise<CliResult> {
  const values = parseCommandLine(COMMAND_LINE, argv);
  if (isResult(values)) return values;
  const stack = values.stack as string;
  const json = values.json === true;
  let loaded;
  try {
    loaded = loadStack(stackDir(values.dir), stack);
  } catch (e) {
    if (e instanceof UsageError) return usageResult("status", e.message);
    throw e;
  }
  const { files, model, findings } = loaded;
  if (!model) {
    // The stack does not load: nothing to compare with. The same findings the plan shows.
    const stdout = json
      ? jsonDocument({ stack, project: files.project, ok: false, findings, error: null })
      : `${findingsSection(findings, TERMINAL_WIDTH)}\n\nThe stack does not load: fix it first (npm run plan -- --stack ${stack}).\n`;
    return { code: EXIT.findings, stdout, stderr: "" };
  }
  const identity = typeof values.identity === "string" ? values.identity : undefined;
  const collected = await collectStatus(model, { identity });
  if (!collected.ok) {
    const stdout = json
      ? jsonDocument({
          stack,
          project: files.project,
          ok: false,
          sshSessions: collected.sessions,
          error: { reason: collected.reason, message: collected.message },
        })
      : "";
    return failedResult("status", collected.message, stdout);
  }
  const report = buildStatus(files.project, stack, model, findings, collected);
  return {
    code: findingsCode(report.findings),
    stdout: json ? jsonDocument(toJson(report)) : renderHuman(report),
    stderr: "",
  };
}

if (require.main === module) runAsProcess(main);
