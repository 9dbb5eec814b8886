// Process helpers for the testbed: run a command to completion (stdin piped, bounded time), start a detached
// daemon with its output appended to a log file, and small /proc readers (pids in a network namespace, zombies).
// Everything is async (spawn/execFile): the pmxcfs double polls in this process and must never be starved.

import { spawn } from "node:child_process";
import {
  promises as fs,
  openSync,
  closeSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
} from "node:fs";

export interface RunResult {
  /** Exit code; null when the process ended by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Written to the process's stdin, which is then closed. Without it stdin is an empty pipe. */
  readonly stdin?: string | Buffer;
  /** Default 30 s. On expiry the process is SIGKILLed and the promise rejects (a hang is a failure). */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** A fixed, minimal environment for everything started inside the testbed (no host PATH quirks leak in). */
export const NODE_ENV: NodeJS.ProcessEnv = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  HOME: "/root",
  LC_ALL: "C",
  LANG: "C",
};

export class CommandTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly partial: { stdout: string; stderr: string },
  ) {
    super(`timed out after ${timeoutMs} ms: ${what}\nstdout: ${partial.stdout}\nstderr: ${partial.stderr}`);
  }
}

export function describeCommand(cmd: string, args: readonly string[]): string {
  const shown = [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
  return shown.length > 400 ? shown.slice(0, 400) + " …" : shown;
}

/** Run to completion; never rejects on a non-zero exit (inspect .code), rejects on spawn failure or timeout. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? NODE_ENV, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.stdin.on("error", () => undefined); // EPIPE when the command does not read its stdin
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${describeCommand(cmd, args)}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (timedOut)
        reject(new CommandTimeoutError(describeCommand(cmd, args), timeoutMs, { stdout, stderr }));
      else resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? "");
  });
}

/** Run and require exit 0; the error names the command and carries its output. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(
      `command failed (exit ${r.code ?? r.signal}): ${describeCommand(cmd, args)}\n${r.stderr}${r.stdout}`.trim(),
    );
  }
  return r.stdout;
}

export interface Daemon {
  readonly pid: number;
  /** Resolves when the process ends (exit code or signal). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start a long-running process in its own session (setsid), stdin /dev/null, stdout+stderr appended to
 *  logFile. This process stays its parent (so it is reaped at once, no lingering zombie) but does not wait. */
export function startDaemon(cmd: string, args: readonly string[], logFile: string, env = NODE_ENV): Daemon {
  const fd = openSync(logFile, "a");
  try {
    const child = spawn(cmd, args, { env, detached: true, stdio: ["ignore", fd, fd] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on("exit", (code, signal) => resolve({ code, signal }));
      child.on("error", () => resolve({ code: 127, signal: null }));
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`cannot start ${describeCommand(cmd, args)}`);
    return { pid: child.pid, exited };
  } finally {
    closeSync(fd);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Process state letter from /proc/PID/stat ("R", "S", "Z", ...), undefined when the pid is gone. */
export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return undefined;
  }
}

/** Alive = exists and is not a zombie (PID 1 here reaps orphans only every ~2 s). */
export function isAlive(pid: number): boolean {
  const s = procState(pid);
  return s !== undefined && s !== "Z" && s !== "X";
}

export function procComm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

export function procCmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

/** Live (non-zombie) pids whose network namespace is the named one (like `ip netns pids`, without a fork). */
export function pidsInNetns(netns: string): number[] {
  let target: string;
  try {
    const st = statSync(`/run/netns/${netns}`);
    target = `net:[${st.ino}]`;
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      if (readlinkSync(`/proc/${pid}/ns/net`) === target && isAlive(pid)) pids.push(pid);
    } catch {
      // gone, or a zombie (its namespace links are unreadable): not alive either way
    }
  }
  return pids;
}

/** Remove libqb shared-memory leftovers (/dev/shm/qb-*) whose owning pids are all dead: SIGKILLed corosync
 *  instances leave e.g. qb-corosync-<pid>-blackbox-*. Files of live processes are left alone. */
export async function removeDeadQbFiles(): Promise<number> {
  let removed = 0;
  let names: string[];
  try {
    names = await fs.readdir("/dev/shm");
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.startsWith("qb-")) continue;
    const pids = (name.match(/-(\d+)(?=-|$)/g) ?? []).map((m) => Number(m.slice(1))).filter((n) => n > 1);
    if (pids.length === 0 || pids.some((p) => isAlive(p))) continue; // a zombie counts as dead
    await fs.rm(`/dev/shm/${name}`, { recursive: true, force: true });
    removed++;
  }
  return removed;
}
