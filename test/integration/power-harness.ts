// Testbed side of the power tests and bench: HostPower's commands captured under the SDK's mocks (exactly what
// `pulumi up` would send), and the NIC double.
//
// NicDouble is a TEST DOUBLE of the hosts' Wake-on-LAN firmware, not a NIC: a UDP listener on port 9 in the
// testbed's bridge namespace receives the magic packets the stand-in's `pvenode wakeonlan` really sends, checks
// them (6 x 0xff, then the same MAC 16 times), and "powers on" the node whose MAC it carries when that node is
// off (no process in its namespace): after `bootDelayMs` (the firmware and OS boot; subtracted in the bench) it
// starts the node's sshd, then corosync the systemd way (the rejoin step first, so a host that missed a
// corosync.conf change catches up). Packets for unknown MACs, malformed packets and packets for a running node
// are recorded and otherwise ignored, as a real NIC would.
import { spawn, type ChildProcess } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";
import { HostPower, type HostPowerArgs } from "../../components/HostPower";
import type { Model } from "../../core/model";
import type { Testbed } from "./testbed";
import {
  captureCommands,
  FAKE_PRIVATE_KEY,
  isolateNode,
  startCorosyncLikeSystemd,
  type CapturedCommand,
} from "./votes-harness";

export interface HostPowerCapture {
  readonly wakeOnLan?: CapturedCommand;
  /** Power steps by host name. */
  readonly steps: Readonly<Record<string, CapturedCommand>>;
}

export async function captureHostPower(
  model: Model,
  bounds?: HostPowerArgs["bounds"],
): Promise<HostPowerCapture> {
  const found = await captureCommands(() => {
    const c = new HostPower("homelab-power", {
      model,
      sshPrivateKey: pulumi.secret(FAKE_PRIVATE_KEY),
      bounds,
    });
    return [...(c.wakeOnLan ? [c.wakeOnLan.urn] : []), ...Object.values(c.steps).map((s) => s.urn)];
  });
  const wakeOnLan = found.find((c) => c.name === "homelab-power-wakeonlan");
  const steps = Object.fromEntries(
    found.filter((c) => c !== wakeOnLan).map((c) => [c.name.replace(/^homelab-power-/, ""), c]),
  );
  return { wakeOnLan, steps };
}

export interface NicEvent {
  readonly at: number;
  readonly mac: string;
  readonly node?: string;
  readonly action: "boot" | "already-on" | "unknown-mac" | "malformed" | "booted" | "boot-failed";
  readonly detail?: string;
}

const LISTENER = `
const dgram = require("node:dgram");
const s = dgram.createSocket({ type: "udp4", reuseAddr: true });
s.on("message", (m) => process.stdout.write(m.toString("hex") + "\\n"));
s.bind(9, "0.0.0.0", () => process.stdout.write("listening\\n"));
`;

export class NicDouble {
  readonly events: NicEvent[] = [];
  private child: ChildProcess | undefined;
  private buffer = "";
  private booting = new Set<string>();

  constructor(
    private readonly tb: Testbed,
    /** Node name → its MAC (lower case). */
    private readonly macs: Readonly<Record<string, string>>,
    public bootDelayMs = 1000,
  ) {}

  async start(): Promise<void> {
    this.child = spawn("ip", ["netns", "exec", this.tb.clientNetns, process.execPath, "-e", LISTENER], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let ready!: () => void;
    const listening = new Promise<void>((r) => (ready = r));
    this.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      this.buffer += chunk;
      let i: number;
      while ((i = this.buffer.indexOf("\n")) >= 0) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        if (line === "listening") ready();
        else this.packet(line);
      }
    });
    await this.tb.waitFor(() => listening.then(() => true), {
      timeoutMs: 10_000,
      what: "the NIC double to listen",
    });
  }

  stop(): void {
    this.child?.kill("SIGKILL");
    this.child = undefined;
  }

  /** Boots in flight have finished. */
  async settle(timeoutMs = 90_000): Promise<void> {
    await this.tb.waitFor(() => this.booting.size === 0, {
      timeoutMs,
      what: "the NIC double's boots to finish",
    });
  }

  private packet(hex: string): void {
    const at = Date.now();
    const bytes = Buffer.from(hex, "hex");
    const mac = bytes
      .subarray(6, 12)
      .toString("hex")
      .replace(/(..)(?!$)/g, "$1:");
    const magic =
      bytes.length === 102 &&
      bytes.subarray(0, 6).every((b) => b === 0xff) &&
      Array.from({ length: 16 }, (_, i) => bytes.subarray(6 + 6 * i, 12 + 6 * i).toString("hex")).every(
        (m) => m === bytes.subarray(6, 12).toString("hex"),
      );
    if (!magic) return void this.events.push({ at, mac, action: "malformed", detail: hex.slice(0, 40) });
    const node = Object.keys(this.macs).find((n) => this.macs[n]!.toLowerCase() === mac);
    if (!node) return void this.events.push({ at, mac, action: "unknown-mac" });
    if (this.tb.sshdRunning(node) || this.booting.has(node)) {
      return void this.events.push({ at, mac, node, action: "already-on" });
    }
    this.events.push({ at, mac, node, action: "boot" });
    this.booting.add(node);
    void this.boot(node).finally(() => this.booting.delete(node));
  }

  private async boot(node: string): Promise<void> {
    try {
      await new Promise((r) => setTimeout(r, this.bootDelayMs));
      await this.tb.bootNode(node, { corosync: false });
      await isolateNode(this.tb, node);
      const r = await startCorosyncLikeSystemd(this.tb, node);
      if (r.code !== 0) throw new Error(`systemctl start corosync: ${r.stderr}`);
      this.events.push({ at: Date.now(), mac: this.macs[node]!, node, action: "booted" });
    } catch (e) {
      this.events.push({
        at: Date.now(),
        mac: this.macs[node]!,
        node,
        action: "boot-failed",
        detail: String(e),
      });
    }
  }
}
