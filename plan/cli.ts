// npm run plan -- --stack <name> [--json] [--corosync <file>] [--dir <dir>]
//
// Offline plan of a stack: runs the real program under the Pulumi SDK's mocks (no CLI, no network, no
// secrets) and prints the resources, votes and what-if table, VM placement, findings, the corosync.conf diff
// and a topology picture; `--json` prints the same as one JSON document.
// Exit status: 0 no error finding, 1 error finding(s) (after printing everything), 2 usage error (one line on
// stderr), 3 the plan itself failed (one line on stderr; PLAN_DEBUG=1 adds the stack trace).
import "./boot"; // first: process settings that make loading everything below cheaper
import * as path from "node:path";
import { parseArgs } from "node:util";
import { prefetchStackFiles, UsageError } from "./stack";
// report.ts, human.ts and json.ts load the Pulumi SDK: they are required in main(), after the stack files'
// YAML parsing has started on a worker thread, so that both happen at the same time.

export const USAGE = "usage: npm run plan -- --stack <name> [--json] [--corosync <file>] [--dir <dir>]";

const HELP = `${USAGE}

  --stack <name>     the stack: reads Pulumi.<name>.yaml next to Pulumi.yaml
  --json             one JSON document on stdout instead of the text report
  --corosync <file>  a copy of a live /etc/pve/corosync.conf: show the diff \`pulumi up\` would write
  --dir <dir>        where Pulumi.yaml and the stack file are (default: this repository); the program run
                     is always this repository's index.ts
  --help             this text

Exit status: 0 no error finding, 1 error findings, 2 usage error, 3 the plan itself failed.`;

export interface CliResult {
  readonly code: 0 | 1 | 2 | 3;
  readonly stdout: string;
  readonly stderr: string;
}

/** The whole CLI as a function (no process.exit, no direct writes), so it can be called in-process too. */
export async function main(argv: readonly string[]): Promise<CliResult> {
  let values: { stack?: string; json?: boolean; corosync?: string; dir?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        stack: { type: "string", short: "s" },
        json: { type: "boolean" },
        corosync: { type: "string" },
        dir: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    return usage(`${(e as Error).message.split("\n")[0]}`);
  }
  if (values.help) return { code: 0, stdout: HELP + "\n", stderr: "" };
  if (!values.stack) return usage("--stack <name> is required");
  const dir = path.resolve(values.dir ?? path.resolve(__dirname, ".."));
  try {
    const prefetch = prefetchStackFiles(dir, values.stack);
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { buildPlan, hasErrorFindings } = require("./report") as typeof import("./report");
    const { renderJson } = require("./json") as typeof import("./json");
    const { renderHuman } = require("./human") as typeof import("./human");
    /* eslint-enable @typescript-eslint/no-require-imports */
    await prefetch;
    const report = await buildPlan({
      dir,
      stack: values.stack,
      corosyncFile: values.corosync === undefined ? undefined : path.resolve(values.corosync),
    });
    const stdout = values.json ? renderJson(report) : renderHuman(report);
    const programError = report.program.error;
    const stderr =
      process.env.PLAN_DEBUG && programError ? `plan: the program failed:\n${programError.stack}\n` : "";
    return { code: hasErrorFindings(report) ? 1 : 0, stdout, stderr };
  } catch (e) {
    if (e instanceof UsageError) return { code: 2, stdout: "", stderr: `plan: ${e.message}\n` };
    const err = e instanceof Error ? e : new Error(String(e));
    const trace = process.env.PLAN_DEBUG ? `${err.stack}\n` : "";
    return { code: 3, stdout: "", stderr: `plan: internal error: ${err.message.split("\n")[0]}\n${trace}` };
  }
}

function usage(message: string): CliResult {
  return { code: 2, stdout: "", stderr: `plan: ${message} (${USAGE})\n` };
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((r) => {
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    process.exitCode = r.code;
  });
}
