// Runs one of the project's CLIs (plan/cli.ts, status/cli.ts, cli/power.ts) as a user does: a child process
// through tsx, on the Node running the tests, so exit codes and the exact stdout/stderr are what is checked.
import { execFile } from "node:child_process";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "../..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `tsx <script> ...args` in the repository root. `pathFirst` goes before the test Node's folder on PATH (e.g. a
 * folder holding a stand-in `ssh`); tsx's shebang runs `node` from PATH, so that is the Node running the tests.
 */
export function runCli(script: string, args: readonly string[], pathFirst?: string): Promise<CliRun> {
  const dirs = [...(pathFirst ? [pathFirst] : []), path.dirname(process.execPath), process.env.PATH ?? ""];
  const env = { ...process.env, PATH: dirs.join(path.delimiter) };
  return new Promise((resolve) => {
    execFile(TSX, [script, ...args], { cwd: ROOT, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
