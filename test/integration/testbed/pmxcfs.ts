// TEST DOUBLE for pmxcfs (Proxmox's cluster file system, pve-cluster `src/pmxcfs`). It is NOT pmxcfs.
//
// What is modelled: one host directory is bind-mounted at /etc/pve in every node's mount namespace (so every
// node sees every write at once, like a quorate pmxcfs), and this watcher reproduces what pmxcfs's dcdb does
// for the one file that matters here, corosync.conf:
//   when /etc/pve/corosync.conf changes, every LIVE node copies it to its /etc/corosync/corosync.conf unless
//   its local totem.config_version is newer ("local corosync.conf is newer"); then `corosync-cfgtool -R` runs
//   once, ~1 s later, on one live node.
// "Live" = corosync running on the node and its link not cut: a node whose corosync is stopped (a usually-off
// host) or that is cut off never gets the file and keeps its old one, as with real pmxcfs.
// Not modelled: read-only /etc/pve without quorum, /etc/pve/local, per-node views, file locking semantics
// beyond what mkdir/rmdir on the shared directory gives.
//
// Why a polling loop inside the test process (not a separate watcher process or fs.watch): nothing extra to
// start, leak or reap; counters and events are plain fields the tests read directly; a failure shows up in
// this process. Polling (100 ms) rather than inotify because writes arrive by rename (`mv .new corosync.conf`,
// as Proxmox does) from other mount namespaces, and reading a 1 KiB file ten times a second costs nothing.
// Every probe is async, so the loop keeps running while a test awaits.

import { promises as fs } from "node:fs";
import * as path from "node:path";
import { configVersion } from "./corosync";
import type { RunResult } from "./exec";
import { waitFor } from "./wait";

/** What the double needs from the testbed. */
export interface PmxcfsHost {
  /** Host path of the directory mounted at /etc/pve. */
  readonly sharedDir: string;
  nodeNames(): readonly string[];
  /** Would this node's pmxcfs receive a write right now (corosync running, link up)? */
  isLive(node: string): boolean;
  /** Host path of the node's /etc/corosync/corosync.conf. */
  localConfPath(node: string): string;
  /** Run `corosync-cfgtool -R` against the node's corosync. */
  reloadCorosync(node: string): Promise<RunResult>;
}

export interface PmxcfsEvent {
  readonly at: number;
  readonly kind: "copied" | "skipped-newer" | "skipped-not-live" | "unparsable" | "reload" | "no-live-node";
  readonly node?: string;
  readonly version?: number;
  readonly detail?: string;
}

export class PmxcfsDouble {
  /** `corosync-cfgtool -R` runs done by the double (successful or not). */
  reloads = 0;
  readonly events: PmxcfsEvent[] = [];
  /** Delay between the copy and the reload (pmxcfs: ~1 s). */
  reloadDelayMs = 1000;
  private timer: NodeJS.Timeout | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | undefined;
  private reloading: Promise<void> | undefined;
  private lastSeen: string | undefined;

  constructor(private readonly host: PmxcfsHost) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Start watching. The current content counts as a change (live nodes with an older file get it). */
  start(intervalMs = 100): void {
    if (this.timer) return;
    this.lastSeen = undefined;
    this.timer = setInterval(() => {
      if (!this.busy) this.busy = this.tick().finally(() => (this.busy = undefined));
    }, intervalMs);
    this.timer.unref(); // a forgotten teardown must not keep the test process alive
  }

  /** Stop watching; a scheduled reload is cancelled, one in flight is awaited. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = undefined;
    await this.busy;
    await this.reloading;
  }

  /** Resolve once the current /etc/pve/corosync.conf has been handled and no reload is pending. */
  async settle(timeoutMs = 10_000): Promise<void> {
    await waitFor(
      async () =>
        !this.busy &&
        !this.reloadTimer &&
        !this.reloading &&
        this.lastSeen === (await this.readShared()) &&
        this.running,
      { timeoutMs, what: "the pmxcfs double to handle /etc/pve/corosync.conf", intervalMs: 50 },
    );
  }

  private record(e: Omit<PmxcfsEvent, "at">): void {
    this.events.push({ at: Date.now(), ...e });
  }

  private async readShared(): Promise<string | undefined> {
    try {
      return await fs.readFile(path.join(this.host.sharedDir, "corosync.conf"), "utf8");
    } catch {
      return undefined;
    }
  }

  private async tick(): Promise<void> {
    const text = await this.readShared();
    if (text === undefined || text === this.lastSeen) return;
    this.lastSeen = text;
    const version = configVersion(text);
    if (version === undefined) {
      this.record({ kind: "unparsable", detail: "unable to parse cluster config_version" });
      return;
    }
    let copied = false;
    for (const node of this.host.nodeNames()) {
      const local = this.host.localConfPath(node);
      const old = await fs.readFile(local, "utf8").catch(() => undefined);
      if (old === text) continue;
      if (!this.host.isLive(node)) {
        this.record({ kind: "skipped-not-live", node, version });
        continue;
      }
      const oldVersion = old === undefined ? undefined : configVersion(old);
      if (oldVersion !== undefined && version < oldVersion) {
        this.record({
          kind: "skipped-newer",
          node,
          version,
          detail: `local corosync.conf is newer (${oldVersion})`,
        });
        continue;
      }
      const tmp = `${local}.pmxcfs-tmp`;
      await fs.writeFile(tmp, text, { mode: 0o644 });
      await fs.rename(tmp, local);
      copied = true;
      this.record({ kind: "copied", node, version });
    }
    if (copied && !this.reloadTimer && this.running) {
      this.reloadTimer = setTimeout(() => {
        this.reloading = this.reload().finally(() => {
          this.reloading = undefined;
          this.reloadTimer = undefined;
        });
      }, this.reloadDelayMs);
      this.reloadTimer.unref();
    }
  }

  private async reload(): Promise<void> {
    const node = this.host.nodeNames().find((n) => this.host.isLive(n));
    if (!node) {
      this.record({ kind: "no-live-node", detail: "no live node to run corosync-cfgtool -R on" });
      return;
    }
    this.reloads++;
    const r = await this.host
      .reloadCorosync(node)
      .catch((e: unknown): RunResult => ({ code: null, signal: null, stdout: "", stderr: String(e) }));
    this.record({
      kind: "reload",
      node,
      detail: `exit ${r.code}${r.stderr.trim() ? ": " + r.stderr.trim() : ""}`,
    });
  }
}
