// npm run plan -- --stack <name> [--json] [--corosync <file>] [--dir <dir>]
//
// Offline plan of a stack: runs the real program under the Pulumi SDK's mocks (no CLI, no network, no
// secrets) and prints the resources, votes and the quorum summary, VM placement, findings, the corosync.conf
// diff and a topology picture; `--json` prints the same as one JSON document.
// Exit status (cli/exit.ts): 0 no error finding, 1 error finding(s) (after printing everything), 2 usage error
// (one line on stderr), 3 the plan itself failed (one line on stderr; PLAN_DEBUG=1 adds the stack trace).
import "./boot"; // first: process settings that make loading everything below cheaper
import * as path from "node:path";
import { COMMON_HELP, COMMON_OPTIONS, isResult, parseCommandLine, stackDir } from "../cli/args";
import { EXIT, findingsCode, runAsProcess, usageResult, type CliResult } from "../cli/exit";
import { prefetchStackFiles, UsageError } from "./stack";
// report.ts, human.ts and json.ts load the Pulumi SDK: they are required in main(), after the stack files'
// YAML parsing has started on a worker thread, so that both happen at the same time.

export type { CliResult } from "../cli/exit";

export const USAGE = "usage: npm run plan -- --stack <name> [--json] [--corosync <file>] [--dir <dir>]";

const HELP = `${USAGE}

${COMMON_HELP.stack}
${COMMON_HELP.json}
  --corosync <file>  a copy of a live /etc/pve/corosync.conf: show the diff \`pulumi up\` would write
${COMMON_HELP.dir}; the program run
                     is always this repository's index.ts
${COMMON_HELP.help}

Exit status: 0 no error finding, 1 error findings, 2 usage error, 3 the plan itself failed.`;

const COMMAND_LINE = {
  tool: "plan",
  usage: USAGE,
  help: HELP,
  options: {
    stack: COMMON_OPTIONS.stack,
    json: COMMON_OPTIONS.json,
    corosync: { type: "string" },
    dir: COMMON_OPTIONS.dir,
    help: COMMON_OPTIONS.help,
  },
} as const;

/** The whole CLI as a function (no process.exit, no direct writes), so it can be called in-process too. */
export async function main(argv: readonly string[]): Promise<CliResult> {
  const values = parseCommandLine(COMMAND_LINE, argv);
  if (isResult(values)) return values;
  const stack = values.stack as string;
  const dir = stackDir(values.dir);
  const corosync = typeof values.corosync === "string" ? values.corosync : undefined;
  try {
    const prefetch = prefetchStackFiles(dir, stack);
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { buildPlan } = require("./report") as typeof import("./report");
    const { renderJson } = require("./json") as typeof import("./json");
    const { renderHuman } = require("./human") as typeof import("./human");
    /* eslint-enable @typescript-eslint/no-require-imports */
    await prefetch;
    const report = await buildPlan({
      dir,
      stack,
      corosyncFile: corosync === undefined ? undefined : path.resolve(corosync),
    });
    const stdout = values.json ? renderJson(report) : renderHuman(report);
    const programError = report.program.error;
    const stderr =
      process.env.PLAN_DEBUG && programError ? `plan: the program failed:\n${programError.stack}\n` : "";
    return { code: findingsCode(report.findings), stdout, stderr };
  } catch (e) {
    if (e instanceof UsageError) return usageResult("plan", e.message);
    const err = e instanceof Error ? e : new Error(String(e));
    const trace = process.env.PLAN_DEBUG ? `${err.stack}\n` : "";
    return {
      code: EXIT.failed,
      stdout: "",
      stderr: `plan: internal error: ${err.message.split("\n")[0]}\n${trace}`,
    };
  }
}

if (require.main === module) runAsProcess(main);
