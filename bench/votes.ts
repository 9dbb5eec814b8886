// Bench of the vote push and the rejoin step on the real corosync + sshd testbed (subnet 10.213.63.0/24), and
// the testbed-side helpers the integration tests share (test/integration/votes.test.ts, rejoin.test.ts).
//
// Prints `key: value` lines:
//   ssh_sessions_per_change  SSH sessions the testbed's sshds accepted from the client for one vote change
//                            (counted in their logs, not assumed); must be 1
//   votes_live_seconds       the new /etc/pve/corosync.conf written → new votes visible on every live node
//   vote_change_seconds      the whole change: SSH session start → script done
//   corosync_restarts        corosync (re)starts during the change (tb.counters()); must be 0: a reload suffices
//   rejoin_seconds           stale usually-off host started the systemd way (rejoin step, then corosync) → a
//                            member of the cluster with the new votes
//   rejoin_step_seconds      of which the rejoin step itself
// Run: npx tsx bench/votes.ts (root, corosync and openssh installed, as for the integration tests).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import * as pulumi from "@pulumi/pulumi";
import { RejoinGuard } from "../components/RejoinGuard";
import { VoteWeights, type VoteWeightsArgs } from "../components/VoteWeights";
import { loadModel } from "../core/config";
import type { Model, PowerProfile } from "../core/model";
import { proxmoxStyleConf, startTestbed, type Testbed } from "../test/integration/testbed";
import { run, type RunResult } from "../test/integration/testbed/exec";

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
  const powers: PowerProfile[] = ["always-on", "sometimes-on", "usually-off"];
  const hosts = tb.nodes.map((n, i) => {
    const host: Record<string, unknown> = {
      name: n.name,
      address: n.address,
      power: powers[i] ?? "usually-off",
      votes: votes[i] ?? 1,
      hostKey: n.hostKey,
    };
    edit(host, i);
    return host;
  });
  const loaded = loadModel({
    values: {
      clusterName: "homelab",
      hosts,
      sharedStorage: [],
      vms: [],
      sshPrivateKey: "[secret]",
      rootPassword: "[secret]",
    },
    secretKeys: new Set(["sshPrivateKey", "rootPassword"]),
  });
  if (!loaded.model) throw new Error(`testbed stack does not load: ${JSON.stringify(loaded.findings)}`);
  return loaded.model;
}

// How the SDK marks a secret value on the wire (rpc.ts specialSigKey / specialSecretSig). The connection
// holds the private key, so the whole connection object reaches the engine as a secret.
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET = "1b47061264138c4ac30d75fd1eb44270";
export const isSecret = (v: unknown): v is { value: unknown } =>
  typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG] === SECRET;
export const unwrapSecret = (v: unknown): unknown => (isSecret(v) ? v.value : v);

const promiseOf = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply(resolve));

/** Registers resources under fresh mocks and returns the remote.Commands, in name order. */
async function captureCommands(construct: () => pulumi.Output<unknown>[]): Promise<CapturedCommand[]> {
  const found: CapturedCommand[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        if (args.type === "command:remote:Command") {
          const inputs = args.inputs as Record<string, unknown>;
          found.push({
            name: args.name,
            inputs,
            connection: unwrapSecret(inputs.connection) as Record<string, unknown>,
            create: inputs.create as string,
            update: inputs.update as string | undefined,
            delete: inputs.delete as string | undefined,
            stdin: inputs.stdin as string | undefined,
          });
        }
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    "pve-homelab",
    "testbed",
    false,
  );
  await Promise.all(construct().map(promiseOf));
  return found.sort((a, b) => a.name.localeCompare(b.name));
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

// ---------------------------------------------------------------------------------------------------------
// The bench.

export async function main(): Promise<Record<string, number>> {
  const tb = await startTestbed({
    subnet: "10.213.63.0/24",
    corosyncConf: (nodes) =>
      proxmoxStyleConf({ configVersion: 1, nodes: nodes.map((n) => ({ ...n, votes: 1 })) }),
  });
  try {
    for (const n of tb.nodes) await isolateNode(tb, n.name);
    const [low, , high] = tb.nodes.map((n) => n.name) as [string, string, string];
    const guard = await captureRejoinGuard(testbedModel(tb, [3, 1, 1]));
    const install = await tb.ssh(high, guard[high]!.create, { stdin: "" });
    if (install.code !== 0) throw new Error(`rejoin install failed: ${install.stderr}`);

    // One vote change, 1/1/1 → 3/1/1, all hosts up.
    const push = await captureVoteWeights(testbedModel(tb, [3, 1, 1]));
    const pveConf = tb.pvePath("corosync.conf");
    const before = readFileSync(pveConf, "utf8");
    const sessions0 = clientSessions(tb);
    tb.resetCounters();
    let writtenAt = 0;
    const watcher = setInterval(() => {
      if (!writtenAt && readFileSync(pveConf, "utf8") !== before) writtenAt = performance.now();
    }, 5);
    const t0 = performance.now();
    const liveAt = (async () => {
      await waitForVotes(
        tb,
        tb.nodes.map((n) => n.name),
        { pve1: 3, pve2: 1, pve3: 1 },
        60_000,
      );
      return performance.now();
    })();
    const r = await tb.ssh(low, push.create, { stdin: push.stdin, timeoutMs: 120_000 });
    const done = performance.now();
    if (r.code !== 0) throw new Error(`vote push failed (${r.code}): ${r.stderr}`);
    const live = await liveAt;
    clearInterval(watcher);
    const counters = tb.counters();
    const sessions = clientSessions(tb) - sessions0;

    // The usually-off host misses a change (3/1/1 → 4/1/1), then boots the systemd way.
    await tb.stopNode(high);
    await tb.waitForQuorum({ nodes: [low], members: 2, timeoutMs: 30_000 });
    const push2 = await captureVoteWeights(testbedModel(tb, [4, 1, 1]));
    const r2 = await tb.ssh(low, push2.create, { stdin: push2.stdin, timeoutMs: 120_000 });
    if (r2.code !== 0) throw new Error(`second vote push failed (${r2.code}): ${r2.stderr}`);
    await tb.bootNode(high, { corosync: false });
    await isolateNode(tb, high);
    const b0 = performance.now();
    const boot = await startCorosyncLikeSystemd(tb, high);
    if (boot.code !== 0) throw new Error(`systemctl start corosync on ${high} failed: ${boot.stderr}`);
    await tb.waitForQuorum({ members: 3, timeoutMs: 30_000 });
    await waitForVotes(tb, [high], { pve1: 4, pve2: 1, pve3: 1 }, 30_000);
    const rejoined = performance.now();

    return {
      ssh_sessions_per_change: sessions,
      votes_live_seconds: round((live - (writtenAt || t0)) / 1000),
      vote_change_seconds: round((done - t0) / 1000),
      corosync_restarts: counters.totalCorosyncStarts,
      rejoin_seconds: round((rejoined - b0) / 1000),
      rejoin_step_seconds: round(rejoinStepSeconds(readIfExists(nodeExtras(tb, high).journal))),
    };
  } finally {
    await tb.teardown();
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** Duration of the last ExecStartPre run in a node's journal.log (timestamps written by the systemd double). */
export function rejoinStepSeconds(journal: string): number {
  const stamps = journal
    .split("\n")
    .filter((l) => / ExecStartPre(=| exited )/.test(l))
    .map((l) => Number(l.split(" ")[0]));
  const [start, end] = stamps.slice(-2);
  return start !== undefined && end !== undefined ? end - start : NaN;
}

if (require.main === module) {
  main().then(
    (figures) => {
      for (const [key, value] of Object.entries(figures)) process.stdout.write(`${key}: ${value}\n`);
      if (figures.ssh_sessions_per_change !== 1 || figures.corosync_restarts !== 0) process.exitCode = 1;
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
