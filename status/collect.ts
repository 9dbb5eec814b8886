// Collects the live cluster in ONE SSH session: the read-only status script (core/scripts/status.ts) on the
// first reachable always-on host, through the CLI's one SSH path (cli/ssh.ts).
import { REASON_LABEL, runOnFirstReachable, sshHosts, type ReachFailure, type SshOptions } from "../cli/ssh";
import { NotAClusterError, parseLiveFacts, type LiveFacts } from "../core/live/facts";
import type { Model } from "../core/model";
import { statusScript } from "../core/scripts/status";

export interface Collected {
  readonly ok: true;
  readonly facts: LiveFacts;
  /** The host the session ran on. */
  readonly via: string;
  /** SSH sessions opened (failed attempts on unreachable hosts included). */
  readonly sessions: number;
  readonly seconds: number;
  /** Always-on hosts tried first that did not answer. */
  readonly skipped: readonly ReachFailure[];
}

export interface CollectFailure {
  readonly ok: false;
  readonly reason: ReachFailure["reason"];
  /** One line: the reason label, the host, the fix. */
  readonly message: string;
  readonly sessions: number;
}

export async function collectStatus(model: Model, ssh: SshOptions): Promise<Collected | CollectFailure> {
  const alwaysOn = sshHosts(model).filter((_, i) => model.hosts[i]!.power === "always-on");
  const script = statusScript({ qdevice: model.quorum.mode === "qdevice" });
  const { outcome, skipped } = await runOnFirstReachable(alwaysOn, script, { timeoutMs: 90_000, ...ssh });
  // One ssh client run per host tried: the skipped ones, plus the one that answered or stopped the search.
  const sessions = skipped.length + (outcome && !skipped.includes(outcome as ReachFailure) ? 1 : 0);
  const fail = (reason: ReachFailure["reason"], message: string): CollectFailure => ({
    ok: false,
    reason,
    message: `could not read the cluster: ${REASON_LABEL[reason]}: ${message}`,
    sessions,
  });
  if (!outcome) return fail("no-route", "the stack declares no always-on host to ask");
  if (!outcome.ok) {
    const tried = skipped.length > 1 ? ` (tried ${skipped.map((s) => s.host.name).join(", ")})` : "";
    return fail(outcome.reason, `${outcome.message}${tried}`);
  }
  if (outcome.code !== 0) {
    const last = outcome.stderr.trim().split("\n").pop() ?? "";
    return fail(
      "ssh",
      `${outcome.host.name}: the status script exited ${outcome.code}${last ? `: ${last}` : ""}`,
    );
  }
  try {
    const facts = parseLiveFacts(outcome.stdout);
    return { ok: true, facts, via: outcome.host.name, sessions, seconds: outcome.seconds, skipped };
  } catch (e) {
    if (e instanceof NotAClusterError) return fail("not-a-cluster", e.message);
    return fail("ssh", `${outcome.host.name}: ${(e as Error).message}`);
  }
}
