// Testbed-side helpers shared by the vote push and rejoin integration tests and by bench/votes.ts: the
// components' commands captured under the SDK's mocks (exactly what `pulumi up` would send), per-node
// systemd/backups directories and a systemctl double that honours drop-ins, session counting, vote waits.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { RejoinGuard } from "../../components/RejoinGuard";
import { VoteWeights, type VoteWeightsArgs } from "../../components/VoteWeights";
import { stackModel } from "../fixtures/stacks";
import type { Model } from "../../core/model";
import type { Testbed } from "./testbed";
import { run, type RunResult } from "./testbed/exec";
import { COMMAND_TYPE, promiseOf, recordMocks, unwrap } from "../helpers/mocks";

// ---------------------------------------------------------------------------------------------------------
// The component's commands, captured under the SDK's mocks (exactly what `pulumi up` would send).

/** Stands in for the stack's SSH key: never sent anywhere (the testbed has its own client key). */
export const FAKE_PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nZmFrZS1rZXktZm9yLXRlc3Rz\n-----END OPENSSH PRIVATE KEY-----\n";

export interface CapturedCommand {
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly connection: Record<string, unknown>;
  readonly create: string;
  readonly update?: string;
  readonly delete?: string;
  readonly stdin?: string;
}

/** A stack of the testbed's nodes (pve1 always-on, pve2 sometimes-on, pve3 usually-off by default). */
export function testbedModel(
  tb: Testbed,
  votes: readonly number[],
  edit: (host: Record<string, unknown>, index: number) => void = () => {},
): Model {
  return stackModel({ nodes: tb.nodes, votes, editHost: edit });
}

/** Registers resources under fresh mocks and returns the remote.Commands, in name order. */
export async function captureCommands(construct: () => pulumi.Output<unknown>[]): Promise<CapturedCommand[]> {
  const recorder = await recordMocks({ stack: "testbed" });
  await Promise.all(construct().map(promiseOf));
  return recorder.ofType(COMMAND_TYPE).map(({ name, inputs }) => ({
    name,
    inputs,
    connection: unwrap(inputs.connection) as Record<string, unknown>,
    create: inputs.create as string,
    update: inputs.update as string | undefined,
    delete: inputs.delete as string | undefined,
    stdin: inputs.stdin as string | undefined,
  }));
}

/** The one command VoteWeights registers for this stack. */
export async function captureVoteWeights(
  model: Model,
  options: Partial<Omit<VoteWeightsArgs, "model" | "sshPrivateKey">> = {},
): Promise<CapturedCommand> {
  const found = await captureCommands(() => {
    const c = new VoteWeights("homelab-votes", {
      model,
      sshPrivateKey: pulumi.secret(FAKE_PRIVATE_KEY),
      ...options,
    });
    return [c.command.urn];
  });
  if (found.length !== 1 || !found[0]) throw new Error(`VoteWeights registered ${found.length} commands`);
  return found[0];
}

/** RejoinGuard's commands for this stack, by host name. */
export async function captureRejoinGuard(model: Model): Promise<Record<string, CapturedCommand>> {
  const found = await captureCommands(() => {
    const c = new RejoinGuard("homelab-rejoin", { model, sshPrivateKey: pulumi.secret(FAKE_PRIVATE_KEY) });
    return Object.values(c.commands).map((cmd) => cmd.urn);
  });
  return Object.fromEntries(found.map((c) => [c.name.replace(/^homelab-rejoin-/, ""), c]));
}

// ---------------------------------------------------------------------------------------------------------
// What the testbed does not give a node, added from the outside (no change to the harness):
// - a per-node /etc/systemd/system and /var/backups (the scripts write there; the host's own must stay
//   untouched), bind-mounted in the mount namespace of the node's sshd (so every SSH session sees them) and in
//   every nodeExec();
// - /run/systemd/system, so the installer sees "systemd is running" and calls daemon-reload;
// - a systemctl TEST DOUBLE layer over the harness's one that honours corosync.service drop-ins the way
//   systemd does: daemon-reload loads them, start runs their ExecStartPre= first ("-" = failure ignored).

export interface NodeExtras {
  /** Host path behind the node's /etc/systemd/system. */
  readonly systemdDir: string;
  /** Host path behind the node's /var/backups. */
  readonly backupsDir: string;
  /** Every systemctl call inside the node, one line each. */
  readonly systemctlLog: string;
  /** Output of ExecStartPre commands (what the journal would hold). */
  readonly journal: string;
}

export function nodeExtras(tb: Testbed, node: string): NodeExtras {
  const dir = tb.node(node).dir;
  return {
    systemdDir: path.join(dir, "etc-systemd-system"),
    backupsDir: path.join(dir, "var-backups"),
    systemctlLog: path.join(dir, "systemctl.log"),
    journal: path.join(dir, "journal.log"),
  };
}

const isolatedSshd = new Map<string, number>();

function systemdDouble(dir: string): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh
# TEST DOUBLE (pve-homelab bench/votes.ts): the part of systemd the rejoin step relies on, layered over the
# testbed's systemctl double (systemctl.pvetb next to this file). daemon-reload loads corosync.service's
# drop-ins; start/restart corosync run the loaded ExecStartPre= commands first, as systemd does ("-" prefix:
# a failure is ignored), their output going to the node's journal.log.
set -u
here=$(dirname "$0")
loaded=${q(path.join(dir, "systemd-loaded"))}
log=${q(path.join(dir, "systemctl.log"))}
journal=${q(path.join(dir, "journal.log"))}
echo "$(date +%s.%N) systemctl $*" >> "$log"
cmd=""; unit=""
for a in "$@"; do case "$a" in -*) ;; *) if [ -z "$cmd" ]; then cmd=$a; else unit=\${a%.service}; fi ;; esac; done
if [ "$cmd" = daemon-reload ]; then
  rm -rf "$loaded"; mkdir -p "$loaded"
  for f in /etc/systemd/system/corosync.service.d/*.conf; do [ -f "$f" ] && cp "$f" "$loaded/"; done
  exit 0
fi
pre() {
  for f in "$loaded"/*.conf; do
    [ -f "$f" ] || continue
    sed -n 's/^ExecStartPre=//p' "$f" > "$loaded/.pre"
    while IFS= read -r line; do
      ignore=0
      case "$line" in -*) ignore=1; line=\${line#-} ;; esac
      echo "$(date +%s.%N) ExecStartPre=$line" >> "$journal"
      rc=0; sh -c "exec $line" < /dev/null >> "$journal" 2>&1 || rc=$?
      echo "$(date +%s.%N) ExecStartPre exited $rc" >> "$journal"
      if [ "$rc" -ne 0 ] && [ "$ignore" = 0 ]; then echo "Job for corosync.service failed (ExecStartPre)." >&2; return 1; fi
    done < "$loaded/.pre"
  done
  return 0
}
if [ "$unit" = corosync ]; then
  case "$cmd" in
    start) if ! "$here/systemctl.pvetb" is-active corosync >/dev/null; then pre || exit 1; fi ;;
    restart|try-restart|reload-or-restart) "$here/systemctl.pvetb" stop corosync; pre || exit 1 ;;
  esac
fi
exec "$here/systemctl.pvetb" "$@"
`;
}

/** Give the node its own /etc/systemd/system and /var/backups in its sshd's mount namespace (again after the
 *  sshd restarts), /run/systemd/system, and the systemd double. Idempotent. */
export async function isolateNode(tb: Testbed, node: string): Promise<void> {
  const n = tb.node(node);
  const x = nodeExtras(tb, node);
  for (const d of [x.systemdDir, x.backupsDir, tb.hostPath(node, "/run/systemd/system")]) {
    mkdirSync(d, { recursive: true });
  }
  const sbin = tb.hostPath(node, "/usr/local/sbin");
  if (!existsSync(path.join(sbin, "systemctl.pvetb"))) {
    renameSync(path.join(sbin, "systemctl"), path.join(sbin, "systemctl.pvetb"));
    writeFileSync(path.join(sbin, "systemctl"), systemdDouble(n.dir), { mode: 0o755 });
  }
  const pid = Number(readFileSync(tb.hostPath(node, "/run/sshd.pid"), "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no sshd pid for ${node}`);
  if (isolatedSshd.get(node) === pid) return;
  for (const [from, to] of [
    [x.systemdDir, "/etc/systemd/system"],
    [x.backupsDir, "/var/backups"],
  ] as const) {
    const r = await run("nsenter", ["-t", String(pid), "-m", "mount", "--bind", from, to]);
    if (r.code !== 0) throw new Error(`bind mount ${to} for ${node}'s sshd failed: ${r.stderr}`);
  }
  isolatedSshd.set(node, pid);
}

/** tb.exec with the node's own /etc/systemd/system and /var/backups. */
export function nodeExec(
  tb: Testbed,
  node: string,
  argv: readonly string[],
  opts: { timeoutMs?: number } = {},
): Promise<RunResult> {
  const x = nodeExtras(tb, node);
  return tb.exec(
    node,
    [
      "sh",
      "-c",
      'mount --bind "$1" /etc/systemd/system && mount --bind "$2" /var/backups && shift 2 && exec "$@"',
      "sh",
      x.systemdDir,
      x.backupsDir,
      ...argv,
    ],
    opts,
  );
}

/** `systemctl start corosync` inside the node, the way the host's boot would run it. */
export function startCorosyncLikeSystemd(tb: Testbed, node: string): Promise<RunResult> {
  return nodeExec(tb, node, ["/usr/local/sbin/systemctl", "start", "corosync"], { timeoutMs: 90_000 });
}

export function readIfExists(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

/** SSH sessions the nodes' sshds accepted from the harness client so far (sshd LogLevel VERBOSE). */
export function clientSessions(tb: Testbed): number {
  const needle = `Accepted publickey for root from ${tb.clientAddress} `;
  return tb.nodes
    .map(
      (n) =>
        readIfExists(path.join(n.dir, "sshd.log"))
          .split("\n")
          .filter((l) => l.includes(needle)).length,
    )
    .reduce((a, b) => a + b, 0);
}

/** Votes by node name as `node` sees them, or undefined when corosync does not answer. */
export async function votesSeenBy(tb: Testbed, node: string): Promise<Record<string, number> | undefined> {
  try {
    return await tb.votes(node);
  } catch {
    return undefined;
  }
}

/** Wait until every listed node reports exactly these member votes. */
export async function waitForVotes(
  tb: Testbed,
  nodes: readonly string[],
  votes: Record<string, number>,
  timeoutMs = 20_000,
): Promise<void> {
  const want = JSON.stringify(Object.entries(votes).sort());
  await tb.waitFor(
    async () => {
      for (const n of nodes) {
        const seen = await votesSeenBy(tb, n);
        if (!seen || JSON.stringify(Object.entries(seen).sort()) !== want) return false;
      }
      return true;
    },
    { timeoutMs, what: `${nodes.join(", ")} to report votes ${want}` },
  );
}

/** Duration of the last ExecStartPre run in a node's journal.log (timestamps written by the systemd double). */
export function rejoinStepSeconds(journal: string): number {
  const stamps = journal
    .split("\n")
    .filter((l) => / ExecStartPre(=| exited )/.test(l))
    .map((l) => Number(l.split(" ")[0]));
  const [start, end] = stamps.slice(-2);
  return start !== undefined && end !== undefined ? end - start : NaN;
}
