// npm run power -- --stack <name> on|off <host> [--identity FILE] [--json] [--dir DIR]
//
// The everyday "I need the build box now", outside Pulumi: the SAME registered scripts HostPower sends (the
// node config's wakeonlan lines, then the host's power step with `NAME state=on|off guests=POLICY`), in ONE
// SSH session to the always-on host, through the CLI's one SSH path (cli/ssh: the pinned hostKey, --identity
// or the agent; no Pulumi secret). The stack is read by the one loader (cli/stack) and must be sound.
// Exit status (cli/exit): 0 done (or already so), 1 refused or failed on the host / error findings, 2 usage,
// 3 the always-on host could not be reached.
import { COMMON_HELP, COMMON_OPTIONS, isResult, parseCommandLine, stackDir, type CommandLine } from "./args";
import { EXIT, failedResult, runAsProcess, usageResult, UsageError, type CliResult } from "./exit";
import { findingsSection, jsonDocument, TERMINAL_WIDTH, type ReportFinding } from "./report";
import { runScript, sshHosts } from "./ssh";
import { loadStack } from "./stack";
import type { PowerState } from "../core/model";
import { guestPolicy, powerLine, powerSender } from "../core/power";
import { DEFAULT_POWER_BOUNDS, powerStepScript, sessionScript } from "../core/scripts/power";
import { wakeOnLanConfigScript, wakeOnLanLayout } from "../core/scripts/power-nodeconfig";

const TOOL = "power";
export const USAGE = "usage: npm run power -- --stack <name> on|off <host> [--identity <file>] [--json]";
const CL: CommandLine = {
  tool: TOOL,
  usage: USAGE,
  help: [
    USAGE,
    "",
    "  on <host>          wake the host (Wake-on-LAN from the always-on host) and wait until it is a member",
    "  off <host>         shut the host down (guests per hosts[].guests), refused if the rest would lose quorum",
    COMMON_HELP.stack,
    COMMON_HELP.identity,
    COMMON_HELP.json,
    COMMON_HELP.dir,
    COMMON_HELP.help,
    "",
    "Exit status: 0 done, 1 refused/failed or error findings, 2 usage error, 3 could not reach the always-on host.",
  ].join("\n"),
  options: {
    stack: COMMON_OPTIONS.stack,
    json: COMMON_OPTIONS.json,
    dir: COMMON_OPTIONS.dir,
    identity: COMMON_OPTIONS.identity,
    help: COMMON_OPTIONS.help,
  },
};

const TAKES_VALUE = new Set(["--stack", "-s", "--dir", "--identity", "-i"]);

/** Split `on|off <host>` from the options (parseArgs of the shared module takes no positionals). */
function positionals(argv: readonly string[]): { rest: string[]; words: string[] } {
  const rest: string[] = [];
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith("-")) {
      rest.push(a);
      if (TAKES_VALUE.has(a) && i + 1 < argv.length) rest.push(argv[++i]!);
    } else words.push(a);
  }
  return { rest, words };
}

export interface PowerReport {
  readonly stack: string;
  readonly action: PowerState;
  readonly host: string;
  /** The always-on host the session ran on. */
  readonly via?: string;
  readonly outcome: "done" | "refused" | "failed" | "unreachable" | "invalid";
  /** The step's result lines (stdout). */
  readonly result: readonly string[];
  /** The step's progress and error lines (stderr). */
  readonly log: readonly string[];
  readonly sessions: number;
  readonly seconds?: number;
  readonly findings: readonly ReportFinding[];
}

export async function main(argv: readonly string[]): Promise<CliResult> {
  const { rest, words } = positionals(argv);
  const values = parseCommandLine(CL, rest);
  if (isResult(values)) return values;
  const [action, hostName, ...extra] = words;
  if (action !== "on" && action !== "off") return usageResult(TOOL, "say on or off", USAGE);
  if (!hostName || extra.length) return usageResult(TOOL, "name exactly one host", USAGE);
  const stack = String(values.stack);
  let loaded;
  try {
    loaded = loadStack(stackDir(values.dir), stack);
  } catch (e) {
    if (e instanceof UsageError || (e as Error).name === "UsageError")
      return usageResult(TOOL, (e as Error).message);
    return failedResult(TOOL, `cannot read the stack: ${(e as Error).message}`);
  }
  const base = { stack, action, host: hostName, result: [], log: [], sessions: 0 } as const;
  const errors = loaded.findings.filter((f) => f.level === "error");
  const model = loaded.model;
  if (!model || errors.length) return finish(values, { ...base, outcome: "invalid", findings: errors });
  const host = model.hosts.find((h) => h.name === hostName);
  if (!host) {
    return usageResult(
      TOOL,
      `unknown host "${hostName}"; hosts: ${model.hosts.map((h) => h.name).join(", ")}`,
    );
  }
  const i = model.hosts.indexOf(host);
  const refuse = (code: string, path: string, message: string, fix: string) =>
    finish(values, { ...base, outcome: "invalid", findings: [{ level: "error", code, path, message, fix }] });
  if (host.power === "always-on") {
    return refuse(
      "power.state-always-on",
      `hosts[${i}]`,
      `${host.name} is the always-on host: its power is not managed`,
      "name a host that is not always on",
    );
  }
  if (action === "on" && !host.wakeOnLan) {
    return refuse(
      "power.on-needs-mac",
      `hosts[${i}].wakeOnLan`,
      `${host.name} has no wakeOnLan.mac, so it cannot be woken; nothing was sent`,
      `add wakeOnLan: {mac: XX:XX:XX:XX:XX:XX} to ${host.name} (the MAC of its Wake-on-LAN NIC)`,
    );
  }
  const sender = powerSender(model);
  const layout = wakeOnLanLayout(model.hosts);
  const script = sessionScript([
    ...(layout ? [{ script: wakeOnLanConfigScript(sender.name), stdin: layout }] : []),
    {
      script: powerStepScript(sender.name),
      stdin: powerLine({ name: host.name, state: action, guests: guestPolicy(host) }),
    },
  ]);
  const bound = DEFAULT_POWER_BOUNDS;
  const target = sshHosts(model)[model.hosts.indexOf(sender)]!;
  const outcome = await runScript(target, script, {
    identity: typeof values.identity === "string" ? values.identity : undefined,
    timeoutMs: (Math.max(bound.wakeSeconds, bound.shutdownSeconds + bound.migrateSeconds) + 120) * 1000,
  });
  if (!outcome.ok) {
    const r = finish(values, { ...base, via: sender.name, outcome: "unreachable", findings: [] });
    return { ...r, code: EXIT.failed, stderr: `${TOOL}: ${outcome.message}\n` };
  }
  const lines = (s: string) => s.split("\n").filter((l) => l.trim() !== "");
  const report: PowerReport = {
    ...base,
    via: sender.name,
    sessions: 1,
    seconds: Math.round(outcome.seconds * 10) / 10,
    result: lines(outcome.stdout),
    log: lines(outcome.stderr),
    outcome: outcome.code === 0 ? "done" : /refusing/.test(outcome.stderr) ? "refused" : "failed",
    findings:
      outcome.code === 0
        ? []
        : [
            {
              level: "error",
              code: /refusing/.test(outcome.stderr) ? "power.refused" : "power.failed",
              path: host.name,
              message:
                lines(outcome.stderr)
                  .filter((l) => l.includes("ERROR:"))
                  .map((l) => l.replace(/^.*?ERROR: /, ""))
                  .join(" ") || `the power step exited ${outcome.code}`,
              fix: "see the message; nothing else was changed by this run",
            },
          ],
  };
  const r = finish(values, report);
  return outcome.code === 0 || outcome.code === 1 ? r : { ...r, code: EXIT.failed };
}

function finish(values: Record<string, unknown>, report: PowerReport): CliResult {
  const code = report.outcome === "done" ? EXIT.ok : EXIT.findings;
  if (values.json) return { code, stdout: jsonDocument(report), stderr: "" };
  const head = `power ${report.action} ${report.host} (stack ${report.stack}${report.via ? `, through ${report.via}` : ""}): ${report.outcome}${report.seconds === undefined ? "" : ` in ${report.seconds} s`}`;
  const out = [head, ...report.result.map((l) => `  ${l}`)];
  if (report.outcome !== "done" && report.log.length) out.push("Log", ...report.log.map((l) => `  ${l}`));
  if (report.findings.length) out.push(findingsSection(report.findings, TERMINAL_WIDTH));
  return { code, stdout: out.join("\n") + "\n", stderr: "" };
}

if (require.main === module) runAsProcess(main);
