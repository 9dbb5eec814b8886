// A small driver for corosync-vqsim, corosync's votequorum simulator (the real exec/votequorum.c, one forked
// process per node, messages passed by the parent). What it takes to drive it reliably:
// - It reads commands from a pipe only and works asynchronously; after each command it prints "#vqsim> "
//   (flushed), so one command is sent only after the previous prompt arrived.
// - `-c` rejects paths of 8 or more characters (a sizeof bug in vqmain.c): the config is written as c.conf
//   in a fresh temp directory that is the process's working directory.
// - The prompt after a membership change comes back once every node of a partition reports the same ring,
//   which can be the OLD ring for a partition the command did not touch, and a joining node can still be
//   processing the others' nodeinfo. So the state is read with `show` until every node reports exactly its
//   partition's members on one ring with one quorate flag, and that stays so for `settleMs`.
// - `down 2,3` downs only node 2; everything else accepts lists.
// - A node whose votequorum init fails (a config corosync refuses) prints "votequorum exec init failed" on
//   stderr and the simulator carries on: callers check refused() instead of the quorate flags.
// - It ends with `exit`, all output is read; a vqsim killed by SIGPIPE would leave its node processes behind.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const VQSIM = "/usr/bin/corosync-vqsim";
const PROMPT = "#vqsim> ";
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface NodeState {
  readonly partition: number;
  readonly nodeId: number;
  /** undefined while the node has not reported yet ("q=UNINITIALIZED"). */
  readonly quorate?: boolean;
  readonly ring?: string;
  readonly view?: readonly number[];
}

/** Parse `show` output lines such as "0:1: q=1 ring=[1.14] nodes=[1 2]". */
export function parseShow(text: string): NodeState[] {
  const out: NodeState[] = [];
  for (const line of text.split("\n")) {
    const m =
      /^(\d+):(\d+): q=(?:(UNINITIALIZED)|(\d+) ring=\[([0-9a-f]+\.[0-9a-f]+)\] nodes=\[([\d ]*)\])\s*$/.exec(
        line.replace(PROMPT, ""),
      );
    if (!m) continue;
    const base = { partition: Number(m[1]), nodeId: Number(m[2]) };
    if (m[3]) out.push(base);
    else
      out.push({
        ...base,
        quorate: m[4] === "1",
        ring: m[5],
        view: m[6]!.trim() === "" ? [] : m[6]!.trim().split(/\s+/).map(Number),
      });
  }
  return out;
}

export interface VqsimOptions {
  /** Per command: how long to wait for the prompt. Default 10 s. */
  readonly commandTimeoutMs?: number;
  /** The state must stay unchanged this long before it is taken. Default 25 ms. */
  readonly settleMs?: number;
  /** Give up settling after this long. Default 5 s. */
  readonly settleTimeoutMs?: number;
}

export class VqsimError extends Error {}

export class Vqsim {
  private stdout = "";
  private stderrText = "";
  private consumed = 0;
  private exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  private readonly settleMs: number;
  private readonly settleTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  /** Commands sent, for error messages. */
  readonly history: string[] = [];

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly dir: string,
    opts: VqsimOptions,
  ) {
    this.settleMs = opts.settleMs ?? 25;
    this.settleTimeoutMs = opts.settleTimeoutMs ?? 5000;
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 10_000;
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (s: string) => (this.stdout += s));
    child.stderr.on("data", (s: string) => (this.stderrText += s));
    this.exited = new Promise((resolve) => {
      child.on("exit", (code) => {
        this.exitCode = code;
        resolve(code);
      });
    });
  }

  /** Start vqsim on a corosync.conf text; resolves after its first prompt (all nodes created). */
  static async start(conf: string, opts: VqsimOptions = {}): Promise<Vqsim> {
    const dir = mkdtempSync(join(tmpdir(), "vqsim-"));
    writeFileSync(join(dir, "c.conf"), conf);
    const child = spawn(VQSIM, ["-c", "c.conf"], {
      cwd: dir,
      stdio: ["pipe", "pipe", "pipe"],
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" },
    });
    const sim = new Vqsim(child, dir, opts);
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    await sim.nextPrompt("startup");
    return sim;
  }

  get stderr(): string {
    return this.stderrText;
  }

  /** True when a node's votequorum refused the config (corosync would not start). */
  refused(): string | undefined {
    return /votequorum (?:exec )?init failed: (.*)/.exec(this.stderrText)?.[1];
  }

  private async nextPrompt(what: string): Promise<string> {
    const started = Date.now();
    for (;;) {
      const at = this.stdout.indexOf(PROMPT, this.consumed);
      if (at >= 0) {
        const text = this.stdout.slice(this.consumed, at);
        this.consumed = at + PROMPT.length;
        return text;
      }
      if (this.exitCode !== undefined) {
        throw new VqsimError(
          `corosync-vqsim exited (${this.exitCode}) during ${what}; stderr: ${this.stderrText}`,
        );
      }
      if (Date.now() - started > this.commandTimeoutMs) {
        throw new VqsimError(
          `no prompt from corosync-vqsim within ${this.commandTimeoutMs} ms after ${what}`,
        );
      }
      await sleep(1);
    }
  }

  /** Send one command line; resolves with its output once the next prompt appears. */
  async command(line: string): Promise<string> {
    if (/[\r\n]/.test(line)) throw new VqsimError(`one command per call: ${JSON.stringify(line)}`);
    this.history.push(line);
    this.child.stdin.write(line + "\n");
    return this.nextPrompt(JSON.stringify(line));
  }

  /** Ups that had to be sent again because the node never showed up (seen rarely on a loaded machine). */
  upRetries = 0;

  /**
   * `up <nodeId>` and wait until vqsim lists the node. Rarely, on a machine under heavy load, a node that
   * was just brought up is missing from the next states; it is sent again (at most twice, counted in
   * upRetries) rather than failing the run on a simulator hiccup. Settling still checks the membership.
   */
  async up(nodeId: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await this.command(`up ${nodeId}`);
      const started = Date.now();
      while (Date.now() - started < 1000) {
        if ((await this.show()).some((s) => s.nodeId === nodeId)) return;
        await sleep(5);
      }
      if (attempt === 2)
        throw new VqsimError(`node ${nodeId} did not come up; stderr: ${this.stderrText.slice(-600)}`);
      this.upRetries++;
    }
  }

  async show(): Promise<NodeState[]> {
    return parseShow(await this.command("show"));
  }

  /**
   * Wait until the nodes are exactly `partitions` (partition number → node ids; nodes not listed must be
   * gone), each node seeing its partition's members on one ring with one quorate flag, unchanged for
   * settleMs. Returns the quorate flag of each partition. `minWaitMs` delays the first accepted read
   * (e.g. for a quorum device poll that is due).
   */
  async settle(
    partitions: ReadonlyMap<number, readonly number[]>,
    minWaitMs = 0,
  ): Promise<Map<number, boolean>> {
    const started = Date.now();
    const expected = new Map<number, number>();
    for (const [p, ids] of partitions) for (const id of ids) expected.set(id, p);
    let stableSince = -1;
    let last = "";
    let lastReason = "";
    for (;;) {
      const states = await this.show();
      const reason = inconsistency(states, partitions, expected);
      const now = Date.now();
      if (reason) {
        stableSince = -1;
        lastReason = reason;
      } else {
        const sig = JSON.stringify(states.map((s) => [s.partition, s.nodeId, s.quorate, s.ring]));
        if (sig !== last || stableSince < 0) {
          last = sig;
          stableSince = now;
        } else if (now - stableSince >= this.settleMs && now - started >= minWaitMs) {
          const result = new Map<number, boolean>();
          for (const s of states) result.set(s.partition, s.quorate!);
          return result;
        }
      }
      if (now - started > this.settleTimeoutMs) {
        throw new VqsimError(
          `vqsim did not settle within ${this.settleTimeoutMs} ms (${lastReason || "state kept changing"}); ` +
            `last commands: ${this.history
              .filter((c) => c !== "show")
              .slice(-4)
              .join(" | ")}; ` +
            `state: ${JSON.stringify(states)}; output: ${this.stdout.slice(-600)}; stderr: ${this.stderrText.slice(-600)}`,
        );
      }
      await sleep(4);
    }
  }

  /** `exit`, wait for the process, remove the temp dir. Kills it if it does not go within 5 s. */
  async close(): Promise<void> {
    if (this.exitCode === undefined) {
      try {
        this.child.stdin.write("exit\n");
        this.child.stdin.end();
      } catch {
        // already gone
      }
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function inconsistency(
  states: readonly NodeState[],
  partitions: ReadonlyMap<number, readonly number[]>,
  expected: ReadonlyMap<number, number>,
): string {
  if (states.length !== expected.size) return `expected ${expected.size} nodes, vqsim shows ${states.length}`;
  const byPartition = new Map<number, NodeState[]>();
  for (const s of states) {
    if (expected.get(s.nodeId) !== s.partition) return `node ${s.nodeId} is in partition ${s.partition}`;
    if (s.quorate === undefined) return `node ${s.nodeId} has not reported`;
    byPartition.set(s.partition, [...(byPartition.get(s.partition) ?? []), s]);
  }
  for (const [p, ids] of partitions) {
    if (ids.length === 0) continue;
    const members = [...ids].sort((a, b) => a - b).join(",");
    const nodes = byPartition.get(p) ?? [];
    for (const s of nodes) {
      const view = [...s.view!].sort((a, b) => a - b).join(",");
      if (view !== members) return `node ${s.nodeId} sees [${view}], partition ${p} is [${members}]`;
      if (s.ring !== nodes[0]!.ring) return `partition ${p} is on more than one ring`;
      if (s.quorate !== nodes[0]!.quorate) return `partition ${p} disagrees on quorum`;
    }
  }
  return "";
}
