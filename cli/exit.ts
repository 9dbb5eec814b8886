// The one exit-code contract of the CLI commands (plan, status, power), and how a command's result reaches
// the process. Every command is a function returning a CliResult (no process.exit, no direct writes), so tests
// and benches can call it in-process as well as in a child process.
//
//   0  ok: no error finding, no drift
//   1  findings: error or drift findings (printed in full first)
//   2  usage: the command line, or a file it names, is wrong (one line on stderr)
//   3  could not reach or read (the cluster, a host), or the command itself failed (one line, with the reason)
import type { Finding } from "../core/model";

export const EXIT = { ok: 0, findings: 1, usage: 2, failed: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface CliResult {
  readonly code: ExitCode;
  readonly stdout: string;
  readonly stderr: string;
}

/** A problem with the command line or the files it names: exit 2, one line, no report. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Exit 2 with one line naming the tool, the problem and the usage. */
export function usageResult(tool: string, message: string, usage?: string): CliResult {
  const hint = usage ? ` (${usage})` : "";
  return { code: EXIT.usage, stdout: "", stderr: `${tool}: ${message}${hint}\n` };
}

/** Exit 3 with one line: what could not be reached or read, and why. */
export function failedResult(tool: string, message: string, stdout = ""): CliResult {
  return { code: EXIT.failed, stdout, stderr: `${tool}: ${oneLineOf(message)}\n` };
}

/** 1 when any finding is an error (or, for status, drift), else 0. */
export function findingsCode(findings: readonly { readonly level: string }[]): ExitCode {
  return findings.some((f) => f.level === "error" || f.level === "drift") ? EXIT.findings : EXIT.ok;
}

export const hasErrorFindings = (findings: readonly Finding[]): boolean =>
  findings.some((f) => f.level === "error");

function oneLineOf(message: string): string {
  return message
    .split("\n")
    .filter((l) => l.trim() !== "")
    .join(" ")
    .replace(/\s+/g, " ")
    .trim();
}

/** Run a command's main() as the process: print its output, set the exit status. */
export function runAsProcess(main: (argv: readonly string[]) => Promise<CliResult>): void {
  void main(process.argv.slice(2)).then(
    (r) => {
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      process.exitCode = r.code;
    },
    (e: unknown) => {
      process.stderr.write(`internal error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
