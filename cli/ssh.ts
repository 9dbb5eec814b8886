// The one SSH path of the CLI commands (status, power): the OpenSSH client, one invocation per session, with
// the host key pinned from the stack (hosts[].hostKey) and nothing else trusted.
//
// - a fresh known_hosts in a private temp dir holds only the pinned key, under HostKeyAlias = the host's name
//   (so the address form, IPv6 or a non-default port never changes the lookup); StrictHostKeyChecking=yes,
//   no global known_hosts, UpdateHostKeys=no: a host with another key is refused, nothing is learned;
// - BatchMode: never a prompt; the user's key is --identity FILE (then only that key), else what the client
//   finds by itself (the SSH agent, ~/.ssh/id_*); `-F /dev/null`: a user's ssh_config cannot weaken any of it;
// - the declared sshPort and sshUser; a bounded connect and a bounded session;
// - failures are classified: no route (refused, unreachable, timed out), host key mismatch, auth failed.
// The remote side runs `bash -s` and reads the script on stdin: the script never appears in a process list.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Model } from "../core/model";

export interface SshHost {
  /** Node name: the HostKeyAlias, and how messages name the host. */
  readonly name: string;
  readonly address: string;
  readonly sshPort: number;
  readonly sshUser: string;
  /** Pinned "type base64" public host key; without it there is no connection. */
  readonly hostKey?: string;
  /** Config path of the host, for messages (e.g. "hosts[0]"). */
  readonly configPath?: string;
}

/** The stack's hosts as SSH targets, in declared order, each naming its config path for messages. */
export function sshHosts(model: Model): SshHost[] {
  return model.hosts.map((h, i) => ({
    name: h.name,
    address: h.address,
    sshPort: h.sshPort,
    sshUser: h.sshUser,
    hostKey: h.hostKey,
    configPath: `hosts[${i}]`,
  }));
}

export interface SshOptions {
  /** --identity: private key file; only this key is offered. */
  readonly identity?: string;
  /** Seconds for the TCP connect + SSH handshake (ssh ConnectTimeout). Default 8. */
  readonly connectTimeoutSeconds?: number;
  /** Whole session bound in ms; the client is killed after it. Default 60 s. */
  readonly timeoutMs?: number;
  /** The ssh client binary. Default "ssh" from PATH. */
  readonly sshCommand?: string;
}

/** Why a host could not be reached or read (exit 3 of every command). */
export type ReachFailureReason = "no-route" | "host-key" | "auth" | "timeout" | "ssh" | "not-a-cluster";

export const REASON_LABEL: Readonly<Record<ReachFailureReason, string>> = {
  "no-route": "no route",
  "host-key": "host key mismatch",
  auth: "auth failed",
  timeout: "timed out",
  ssh: "ssh failed",
  "not-a-cluster": "not a cluster",
};

export interface SshSession {
  readonly ok: true;
  readonly host: SshHost;
  /** The remote script's exit status. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

export interface ReachFailure {
  readonly ok: false;
  readonly host: SshHost;
  readonly reason: ReachFailureReason;
  /** One line: what happened, naming the host (and the pinned key for a mismatch) and the fix. */
  readonly message: string;
}

export type SshOutcome = SshSession | ReachFailure;

const KEY_LINE = /^((?:ssh-|ecdsa-|sk-)[a-z0-9@.-]+)\s+([A-Za-z0-9+/]{16,}={0,3})(\s.*)?$/;

/** The pinned key as "type base64" (comment dropped), or undefined when it is not a key line. */
export function pinnedKey(hostKey: string | undefined): string | undefined {
  const m = KEY_LINE.exec((hostKey ?? "").trim());
  return m ? `${m[1]} ${m[2]}` : undefined;
}

/** A pinned key short enough for one line: type and the first and last characters of the key. */
export function shortKey(hostKey: string): string {
  const [type = "", body = ""] = hostKey.trim().split(/\s+/);
  return body.length > 24 ? `${type} ${body.slice(0, 12)}…${body.slice(-8)}` : `${type} ${body}`;
}

/** The ssh argv (without the binary) for one session on `host` running `remoteCommand`. */
export function sshArgv(
  host: SshHost,
  knownHosts: string,
  opts: SshOptions,
  remoteCommand: string,
): string[] {
  const o = (kv: string) => ["-o", kv];
  return [
    "-F",
    "/dev/null",
    ...(opts.identity ? ["-i", opts.identity, ...o("IdentitiesOnly=yes")] : []),
    ...o(`HostKeyAlias=${host.name}`),
    ...o(`UserKnownHostsFile=${knownHosts}`),
    ...o("GlobalKnownHostsFile=/dev/null"),
    ...o("StrictHostKeyChecking=yes"),
    ...o("UpdateHostKeys=no"),
    ...o("CheckHostIP=no"),
    ...o("BatchMode=yes"),
    ...o(`ConnectTimeout=${opts.connectTimeoutSeconds ?? 8}`),
    ...o("ServerAliveInterval=5"),
    ...o("ServerAliveCountMax=3"),
    "-p",
    String(host.sshPort),
    "-l",
    host.sshUser,
    host.address,
    "--",
    remoteCommand,
  ];
}

/** What an ssh client failure (exit 255) means, from its stderr; undefined when it is not ssh's own. */
export function classifySshFailure(stderr: string): ReachFailureReason | undefined {
  if (
    /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed|host key is known for|Host key for .* has changed/i.test(
      stderr,
    )
  )
    return "host-key";
  if (
    /Permission denied|Too many authentication failures|no mutual signature|Authentication failed/i.test(
      stderr,
    )
  )
    return "auth";
  if (
    /No route to host|Connection refused|Connection timed out|Network is unreachable|Operation timed out|Could not resolve hostname|Name or service not known|Connection closed by .* port|Connection reset|timed out during banner exchange/i.test(
      stderr,
    )
  )
    return "no-route";
  if (/^ssh: |^kex_exchange_identification/m.test(stderr)) return "ssh";
  return undefined;
}

function failureMessage(host: SshHost, reason: ReachFailureReason, stderr: string): string {
  const where = `${host.name} (${host.sshUser}@${host.address} port ${host.sshPort})`;
  const field = host.configPath ? `${host.configPath}.hostKey` : "hostKey";
  const detail = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(
      (l) =>
        l &&
        !/^@+$|^@ +WARNING|^IT IS POSSIBLE|^Someone could|^It is also possible|^Please contact|^Add correct host key|^Offending|^Host key verification failed\.$|^ECDSA|^ED25519/i.test(
          l,
        ),
    )
    .slice(-1)[0];
  switch (reason) {
    case "host-key": {
      const seen = /(SHA256:[A-Za-z0-9+/=]+)/.exec(stderr)?.[1];
      const pinned = host.hostKey ? shortKey(host.hostKey) : "(none)";
      return `${where}: host key mismatch: the host did not present the pinned ${field} ${pinned}${seen ? ` (it presented ${seen})` : ""}. If the host was reinstalled, check its key on a trusted network (ssh-keyscan -t ed25519 ${host.address}) and update ${field}; otherwise do not connect`;
    }
    case "auth":
      return `${where}: auth failed: the host refused the key${detail ? ` (${detail})` : ""}. Pass --identity <private key> whose public key is in ${host.sshUser}'s authorized_keys, or load it into the SSH agent`;
    case "no-route":
      return `${where}: no route: ${detail ?? "cannot connect"}. Is the host on and the address right?`;
    case "timeout":
      return `${where}: timed out: the session did not finish in time`;
    default:
      return `${where}: ssh failed: ${detail ?? "exit 255"}`;
  }
}

/**
 * One SSH session on `host`: `bash -s` reading `script` on stdin. Resolves with the remote exit status and
 * output, or with a classified failure. Never rejects.
 */
export async function runScript(host: SshHost, script: string, opts: SshOptions = {}): Promise<SshOutcome> {
  const key = pinnedKey(host.hostKey);
  if (!key) {
    const field = host.configPath ? `${host.configPath}.hostKey` : "hostKey";
    return {
      ok: false,
      host,
      reason: "host-key",
      message: `${host.name}: no pinned host key (${field}); refusing to connect. Set it from \`ssh-keyscan -t ed25519 ${host.address}\` run on a trusted network`,
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pve-homelab-ssh-"));
  const knownHosts = path.join(dir, "known_hosts");
  fs.writeFileSync(knownHosts, `${host.name} ${key}\n`, { mode: 0o600 });
  const start = process.hrtime.bigint();
  try {
    const r = await spawnBounded(
      opts.sshCommand ?? "ssh",
      sshArgv(host, knownHosts, opts, "bash -s"),
      script,
      opts.timeoutMs ?? 60_000,
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (r.timedOut)
      return { ok: false, host, reason: "timeout", message: failureMessage(host, "timeout", r.stderr) };
    if (r.spawnError)
      return { ok: false, host, reason: "ssh", message: `${host.name}: cannot run ssh: ${r.spawnError}` };
    if (r.code === 255) {
      const reason = classifySshFailure(r.stderr);
      if (reason) return { ok: false, host, reason, message: failureMessage(host, reason, r.stderr) };
    }
    return { ok: true, host, code: r.code, stdout: r.stdout, stderr: r.stderr, seconds };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Try the hosts in order until one answers: only "no route" and "timed out" move on to the next host; a host
 * key mismatch or a refused login stops (they need the user, and trying elsewhere would hide them).
 */
export async function runOnFirstReachable(
  hosts: readonly SshHost[],
  script: string,
  opts: SshOptions = {},
): Promise<{ readonly outcome: SshOutcome | undefined; readonly skipped: readonly ReachFailure[] }> {
  const skipped: ReachFailure[] = [];
  for (const host of hosts) {
    const outcome = await runScript(host, script, opts);
    if (outcome.ok || (outcome.reason !== "no-route" && outcome.reason !== "timeout"))
      return { outcome, skipped };
    skipped.push(outcome);
  }
  return { outcome: skipped[skipped.length - 1], skipped };
}

interface Spawned {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly spawnError?: string;
}

function spawnBounded(
  cmd: string,
  argv: readonly string[],
  stdin: string,
  timeoutMs: number,
): Promise<Spawned> {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let spawnError: string | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
    }, timeoutMs);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.stdin.on("error", () => {}); // the remote side may close stdin early (e.g. a refused login)
    child.on("error", (e) => (spawnError = e.message));
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({
        code: code ?? 255,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        timedOut,
        spawnError,
      });
    });
    child.stdin.end(stdin);
  });
}
