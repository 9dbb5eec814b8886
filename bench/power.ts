// Bench of the power steps on the real corosync + sshd testbed (subnet 10.213.65.0/24), with the power TEST
// DOUBLES (the stand-in's pvenode/pvesh, the NIC double: see test/integration/power-harness.ts).
//
// Prints `key: value` lines:
//   power_ssh_sessions       SSH sessions the testbed's sshds accepted for one off and one on transition,
//                            divided by the transitions (counted in their logs): must be 1
//   wake_to_member_seconds   the Wake-on-LAN packet received by the NIC double → the host an online member of
//                            the quorate cluster at the current config_version (as the step sees it), minus the
//                            NIC double's boot delay (firmware + OS boot, not ours to measure)
//   power_on_seconds         the whole `on` step: SSH session start → script done (boot delay included)
//   power_off_seconds        the whole `off` step (the poweroff double waits 2 s, as Proxmox's shutdown does)
// Run: npx tsx bench/power.ts (root, corosync and openssh installed, as for the integration tests).
import { printFigures, round } from "./figures";
import { mkdirSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { captureHostPower, NicDouble } from "../test/integration/power-harness";
import { installStandinTools } from "../test/integration/pve-standin";
import { proxmoxStyleConf, startTestbed } from "../test/integration/testbed";
import {
  captureRejoinGuard,
  clientSessions,
  isolateNode,
  testbedModel,
} from "../test/integration/votes-harness";

const MACS = { pve1: "0a:00:00:65:00:01", pve2: "0a:00:00:65:00:02", pve3: "0a:00:00:65:00:03" };
const BOOT_DELAY_MS = 1000;

export async function main(): Promise<Record<string, number>> {
  const tb = await startTestbed({
    subnet: "10.213.65.0/24",
    corosyncConf: (nodes) =>
      proxmoxStyleConf({ configVersion: 1, nodes: nodes.map((n, i) => ({ ...n, votes: i === 0 ? 3 : 1 })) }),
  });
  const nic = new NicDouble(tb, MACS, BOOT_DELAY_MS);
  try {
    for (const n of tb.nodes) {
      await isolateNode(tb, n.name);
      mkdirSync(tb.hostPath(n.name, "/run/lock"), { recursive: true });
    }
    await installStandinTools(tb);
    const stack = (state: "on" | "off") =>
      testbedModel(tb, [3, 1, 1], (h, i) => {
        h.wakeOnLan = {
          mac: MACS[h.name as keyof typeof MACS],
          ...(i === 0 ? { broadcastAddress: "10.213.65.255" } : {}),
        };
        if (i === 2) h.state = state;
      });
    const on = await captureHostPower(stack("on"));
    const off = await captureHostPower(stack("off"));
    const guard = await captureRejoinGuard(stack("on"));
    const g = await tb.ssh("pve3", guard.pve3!.create, { stdin: "" });
    if (g.code !== 0) throw new Error(`rejoin install failed: ${g.stderr}`);
    const w = await tb.ssh("pve1", on.wakeOnLan!.create, { stdin: on.wakeOnLan!.stdin });
    if (w.code !== 0) throw new Error(`wakeonlan lines failed: ${w.stderr}`);
    await nic.start();

    const sessions0 = clientSessions(tb);
    const t0 = performance.now();
    const down = await tb.ssh("pve1", off.steps.pve3!.create, {
      stdin: off.steps.pve3!.stdin,
      timeoutMs: 120_000,
    });
    const t1 = performance.now();
    if (down.code !== 0) throw new Error(`off failed: ${down.stderr}`);
    await tb.waitFor(() => !tb.sshdRunning("pve3"), { timeoutMs: 20_000, what: "pve3 powered off" });

    const t2 = performance.now();
    const up = await tb.ssh("pve1", on.steps.pve3!.create, {
      stdin: on.steps.pve3!.stdin,
      timeoutMs: 120_000,
    });
    const t3 = performance.now();
    if (up.code !== 0) throw new Error(`on failed: ${up.stderr}`);
    const sessions = clientSessions(tb) - sessions0;
    const packet = nic.events.find((e) => e.node === "pve3" && e.action === "boot");
    if (!packet) throw new Error("the NIC double never saw the packet");
    // t3 is when the step saw pve3 current; perf and Date clocks differ in origin, so measure from Date.
    const memberAt = Date.now() - (performance.now() - t3);
    return {
      power_ssh_sessions: sessions / 2,
      wake_to_member_seconds: round((memberAt - packet.at - BOOT_DELAY_MS) / 1000),
      power_on_seconds: round((t3 - t2) / 1000),
      power_off_seconds: round((t1 - t0) / 1000),
    };
  } finally {
    nic.stop();
    await tb.teardown();
  }
}

if (require.main === module) printFigures(main, (f) => f.power_ssh_sessions === 1);
