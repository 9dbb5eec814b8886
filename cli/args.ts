// The command-line options the CLI commands share, parsed one way (node:util parseArgs, strict: unknown
// options and stray arguments are usage errors, exit 2).
import * as path from "node:path";
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { usageResult, type CliResult } from "./exit";

type OptionSpec = { readonly type: "string" | "boolean"; readonly short?: string };

/** Options every command understands the same way; a command picks the ones it takes. */
export const COMMON_OPTIONS = {
  stack: { type: "string", short: "s" },
  json: { type: "boolean" },
  dir: { type: "string" },
  identity: { type: "string", short: "i" },
  help: { type: "boolean", short: "h" },
} as const satisfies Record<string, OptionSpec>;

/** Help lines for the common options, aligned like the commands' own. */
export const COMMON_HELP = {
  stack: "  --stack <name>     the stack: reads Pulumi.<name>.yaml next to Pulumi.yaml",
  json: "  --json             one JSON document on stdout instead of the text report",
  dir: "  --dir <dir>        where Pulumi.yaml and the stack file are (default: this repository)",
  identity:
    "  --identity <file>  SSH private key to log in with (default: the SSH agent, then ssh's default keys)",
  help: "  --help             this text",
} as const;

export type ParsedValues = Record<string, string | boolean | undefined>;

export interface CommandLine {
  readonly tool: string;
  readonly usage: string;
  readonly help: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
}

/**
 * Parse argv. Returns the values, or a CliResult to return as is: the help text (exit 0) or a usage error
 * (exit 2). `--stack` is required whenever the command takes it.
 */
export function parseCommandLine(cl: CommandLine, argv: readonly string[]): ParsedValues | CliResult {
  let values: ParsedValues;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: cl.options as ParseArgsOptionsConfig,
    }) as { values: ParsedValues });
  } catch (e) {
    return usageResult(cl.tool, (e as Error).message.split("\n")[0] ?? "bad arguments", cl.usage);
  }
  if (values.help) return { code: 0, stdout: `${cl.help}\n`, stderr: "" };
  if ("stack" in cl.options && !values.stack)
    return usageResult(cl.tool, "--stack <name> is required", cl.usage);
  return values;
}

export const isResult = (v: ParsedValues | CliResult): v is CliResult =>
  typeof (v as CliResult).code === "number" && typeof (v as CliResult).stderr === "string";

/** --dir, resolved; default: this repository (where Pulumi.yaml and the stack files live). */
export function stackDir(value: string | boolean | undefined): string {
  return path.resolve(typeof value === "string" ? value : path.resolve(__dirname, ".."));
}
