// Declared host power on real corosync + sshd nodes: HostPower's own commands (captured under the SDK's mocks)
// run over ONE SSH session each on the always-on node pve1, with the Proxmox stand-in's pvenode/pvesh power
// calls and the NIC double (both TEST DOUBLES, see pve-standin/power-cli.ts and power-harness.ts): a real
// Wake-on-LAN packet boots the node whose MAC it carries, the shutdown request powers a node off. One testbed
// for the file; tests run in order and say what they leave.
import { strict as assert } from "node:assert";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { captureHostPower, NicDouble, type HostPowerCapture } from "./power-harness";
import {
  captureRejoinGuard,
  captureVoteWeights,
  clientSessions,
  isolateNode,
  readIfExists,
  testbedModel,
  waitForVotes,
} from "./votes-harness";
import { readConfigVersion } from "../../core/corosync";
import { setWakeOnLanLine } from "../../core/scripts/power-nodeconfig";
import { installStandinTools, Standin } from "./pve-standin";
import { POWER_LOG } from "./pve-standin/power-cli";
import { proxmoxStyleConf, startTestbed, type Testbed } from "./testbed";
import { run as runProcess } from "./testbed/exec";

const REPO = path.resolve(__dirname, "../..");

const SUBNET = "10.213.64";
const MACS = { pve1: "0a:00:00:64:00:01", pve2: "0a:00:00:64:00:02", pve3: "0a:00:00:64:00:03" };

describe("integration: declared host power (HostPower's own commands, WoL and shutdown doubles)", function () {
  this.timeout(180_000);
  let tb: Testbed;
  let nic: NicDouble;
  let standin: Standin;
  let power: HostPowerCapture;
  let noMac: HostPowerCapture;

  /** pve1 always-on (sends, broadcast to the testbed subnet), pve2 off (migrate), pve3 on; votes as given. */
  const model = (votes: number[], macs = true) =>
    testbedModel(tb, votes, (h, i) => {
      const name = h.name as keyof typeof MACS;
      if (macs || i === 0)
        h.wakeOnLan = { mac: MACS[name], ...(i === 0 ? { broadcastAddress: `${SUBNET}.255` } : {}) };
      if (i === 1) Object.assign(h, { state: "off", guests: "migrate" });
      if (i === 2) h.state = macs ? "on" : "off";
    });
  const run = (cmd: { create: string; stdin?: string }) =>
    tb.ssh("pve1", cmd.create, { stdin: cmd.stdin, timeoutMs: 150_000 });
  const wakes = (node: string) => standin.calls(node).filter((c) => c.tool === "pvenode");
  const shutdowns = (node: string) =>
    standin.calls(node).filter((c) => c.tool === "pvesh" && c.args.join(" ").includes("--command shutdown"));

  before(async function () {
    this.timeout(120_000);
    tb = await startTestbed({
      subnet: `${SUBNET}.0/24`,
      corosyncConf: (nodes) =>
        proxmoxStyleConf({
          configVersion: 1,
          nodes: nodes.map((n, i) => ({ ...n, votes: i === 0 ? 3 : 1 })),
        }),
    });
    for (const n of tb.nodes) {
      await isolateNode(tb, n.name);
      // /var/lock is /run/lock, and the testbed gives each node an empty /run (Proxmox hosts have it).
      mkdirSync(tb.hostPath(n.name, "/run/lock"), { recursive: true });
    }
    await installStandinTools(tb);
    standin = new Standin(tb, ""); // only its call log is read here
    power = await captureHostPower(model([3, 1, 1]), {
      wakeSeconds: 60,
      shutdownSeconds: 60,
      migrateSeconds: 30,
    });
    noMac = await captureHostPower(model([3, 1, 1], false));
    const guard = await captureRejoinGuard(model([3, 1, 1]));
    for (const n of ["pve2", "pve3"]) {
      const r = await tb.ssh(n, guard[n]!.create, { stdin: "" });
      assert.equal(r.code, 0, r.stderr);
    }
    nic = new NicDouble(tb, MACS, 500);
    await nic.start();
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed" && tb) {
      console.error(tb.dumpLogs());
      console.error(JSON.stringify(nic?.events));
      for (const n of tb.nodes)
        console.error(`== ${n.name} power log ==\n${readIfExists(tb.hostPath(n.name, POWER_LOG))}`);
    }
  });

  after(async () => {
    nic?.stop();
    await tb?.teardown();
  });

  it("writes every declared wakeonlan line through pve1, keeping the other lines", async () => {
    const other = "#Build box\nacme: account=default\nstartall-onboot-delay: 10\n";
    await tb.writeFile("pve1", "/etc/pve/nodes/pve3/config", other);
    const cmd = power.wakeOnLan!;
    assert.equal(
      cmd.stdin,
      `pve1 ${MACS.pve1},broadcast-address=${SUBNET}.255\npve2 ${MACS.pve2}\npve3 ${MACS.pve3}\n`,
    );
    const r = await run(cmd);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(tb.pvePath("nodes/pve3/config"), "utf8"), setWakeOnLanLine(other, MACS.pve3));
    assert.equal(
      readFileSync(tb.pvePath("nodes/pve1/config"), "utf8"),
      `wakeonlan: ${MACS.pve1},broadcast-address=${SUBNET}.255\n`,
    );
    const again = await run(cmd);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /wakeonlan of pve3 already set/);
  });

  it("off on pve2 at 3/1/1: done in one session, pve1 still quorate, its guests migrated first", async () => {
    await standin.addGuest("pve2", "qemu", 201);
    await tb.writeFile("pve1", "/root/.pve-standin/memory-free-bytes", `${8 * 1024 ** 3}\n`);
    assert.equal(power.steps.pve2!.stdin, "pve2 state=off guests=migrate\n");
    const sessions = clientSessions(tb);
    const r = await run(power.steps.pve2!);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(clientSessions(tb) - sessions, 1);
    assert.match(r.stdout, /^pve2 is off; the cluster stays quorate: 4 of 5 votes \(quorum 3\)\n$/);
    // The step waits until corosync reports pve2 gone (a clean stop leaves the membership before the process
    // exits): the poweroff double then finishes stopping the node's processes.
    await tb.waitFor(() => !tb.isRunning("pve2") && !tb.sshdRunning("pve2"), {
      timeoutMs: 10_000,
      what: "pve2 powered off (corosync and sshd gone)",
    });
    assert.equal((await tb.quorum("pve1")).quorate, true);
    assert.equal(
      readIfExists(tb.pvePath("nodes/pve1/qemu-server/201.conf")) !== "",
      true,
      "guest moved to pve1",
    );
    // Again: nothing to do, nothing sent.
    const again = await run(power.steps.pve2!);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, "pve2 is off: not an online member; nothing done\n");
    assert.equal(shutdowns("pve1").length, 1);
    await standin.removeGuests("pve1");
  });

  it("missing MAC: a clear error before anything is sent", async () => {
    await tb.stopNode("pve3");
    await tb.waitForQuorum({ nodes: ["pve1"], members: 1, timeoutMs: 30_000 });
    const saved = readFileSync(tb.pvePath("nodes/pve3/config"), "utf8");
    await tb.writeFile("pve1", "/etc/pve/nodes/pve3/config", "#Build box\nacme: account=default\n");
    const on = { ...noMac.steps.pve3!, stdin: "pve3 state=on guests=shutdown\n" };
    const before = nic.events.length;
    const r = await run(on);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /No wake on LAN MAC address defined for 'pve3' in \/etc\/pve\/nodes\/pve3\/config; nothing was sent/,
    );
    assert.deepEqual(wakes("pve1"), []);
    assert.equal(nic.events.length, before);
    assert.equal(tb.sshdRunning("pve3"), false);
    await tb.writeFile("pve1", "/etc/pve/nodes/pve3/config", saved);
  });

  it("on for pve3 after it missed a vote change: woken, online member, quorate, current config_version", async () => {
    // pve2 back (by hand), then a vote change while pve3 is off.
    await tb.bootNode("pve2", { corosync: false });
    await isolateNode(tb, "pve2");
    await tb.startCorosync("pve2");
    await tb.waitForQuorum({ nodes: ["pve1", "pve2"], members: 2, timeoutMs: 30_000 });
    const push = await captureVoteWeights(model([4, 1, 1]));
    const p = await run(push);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(
      readConfigVersion(await tb.readFile("pve3", "/etc/corosync/corosync.conf")),
      1,
      "pve3 is stale",
    );

    const sessions = clientSessions(tb);
    const r = await run(power.steps.pve3!);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(clientSessions(tb) - sessions, 1);
    assert.match(r.stdout, /^pve3 is on: online member of the quorate cluster at config_version 2\n$/);
    assert.deepEqual(
      wakes("pve1").map((c) => c.args.join(" ")),
      ["wakeonlan pve3"],
    );
    assert.deepEqual(
      nic.events.filter((e) => e.node === "pve3").map((e) => e.action),
      ["boot", "booted"],
    );
    await tb.waitForQuorum({ members: 3, timeoutMs: 30_000 });
    await waitForVotes(tb, ["pve1", "pve2", "pve3"], { pve1: 4, pve2: 1, pve3: 1 });
    assert.equal(readConfigVersion(await tb.readFile("pve3", "/etc/corosync/corosync.conf")), 2);
    // Already on: nothing sent.
    const again = await run(power.steps.pve3!);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^pve3 is on: already an online member .*; nothing sent\n$/);
    assert.equal(wakes("pve1").length, 1);
  });

  it("at 1/1/1 with pve3 off, off on pve2 is refused and nothing is stopped", async () => {
    await tb.stopNode("pve3");
    await tb.waitForQuorum({ nodes: ["pve1", "pve2"], members: 2, timeoutMs: 30_000 });
    await tb.writePveCorosyncConf(
      proxmoxStyleConf({ configVersion: 3, nodes: tb.nodes.map((n) => ({ ...n, votes: 1 })) }),
    );
    await waitForVotes(tb, ["pve1", "pve2"], { pve1: 1, pve2: 1 });
    const shutdownsBefore = shutdowns("pve1").length;
    const r = await run({ ...power.steps.pve2!, stdin: "pve2 state=off guests=shutdown\n" });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /refusing to power off pve2: the live members without it would hold 1 votes, and quorum is 2 .*Nothing was done/,
    );
    assert.equal(shutdowns("pve1").length, shutdownsBefore);
    assert.equal(tb.isRunning("pve2"), true);
    assert.equal((await tb.quorum("pve1")).quorate, true);
  });
  it("npm run power: off and on for pve3 through the CLI's one SSH path, one session each; no MAC, no session", async () => {
    // The stack as a user has it: Pulumi.yaml + Pulumi.<stack>.yaml, no secrets set (none needed).
    const dir = mkdtempSync(path.join(tmpdir(), "pve-homelab-power-cli-"));
    const m = model([3, 1, 1]);
    const hosts = m.hosts.map((h) => ({
      name: h.name,
      address: h.address,
      power: h.power,
      votes: h.votes,
      nodeId: h.nodeId,
      hostKey: h.hostKey,
      ...(h.name === "pve2" ? {} : { wakeOnLan: h.wakeOnLan }),
    }));
    copyFileSync(path.join(REPO, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    writeFileSync(
      path.join(dir, "Pulumi.tb.yaml"),
      stringify({ config: { "pve-homelab:clusterName": "homelab", "pve-homelab:hosts": hosts } }),
    );
    const cli = (...args: string[]) =>
      runProcess(
        "ip",
        [
          "netns",
          "exec",
          tb.clientNetns,
          path.join(REPO, "node_modules/.bin/tsx"),
          path.join(REPO, "cli/power.ts"),
          "--stack",
          "tb",
          "--dir",
          dir,
          "--identity",
          tb.clientKeyPath,
          ...args,
        ],
        { timeoutMs: 170_000, env: { ...process.env } },
      );
    try {
      // Votes back to 3/1/1 (the previous test left 1/1/1 and pve3 off) and pve3 off.
      await tb.writePveCorosyncConf(
        proxmoxStyleConf({
          configVersion: 4,
          nodes: tb.nodes.map((n, i) => ({ ...n, votes: i === 0 ? 3 : 1 })),
        }),
      );
      await waitForVotes(tb, ["pve1", "pve2"], { pve1: 3, pve2: 1 });
      let sessions = clientSessions(tb);
      const on = await cli("on", "pve3", "--json");
      assert.equal(on.code, 0, on.stdout + on.stderr);
      assert.equal(clientSessions(tb) - sessions, 1);
      const report = JSON.parse(on.stdout) as {
        outcome: string;
        via: string;
        sessions: number;
        result: string[];
      };
      assert.deepEqual([report.outcome, report.via, report.sessions], ["done", "pve1", 1]);
      assert.match(
        report.result.at(-1)!,
        /^pve3 is on: online member of the quorate cluster at config_version 4$/,
      );
      await tb.waitForQuorum({ members: 3, timeoutMs: 30_000 });

      sessions = clientSessions(tb);
      const off = await cli("off", "pve3");
      assert.equal(off.code, 0, off.stdout + off.stderr);
      assert.match(off.stdout, /^power off pve3 \(stack tb, through pve1\): done in [\d.]+ s\n/);
      assert.match(off.stdout, /pve3 is off; the cluster stays quorate: 4 of 5 votes \(quorum 3\)/);
      assert.equal(clientSessions(tb) - sessions, 1);

      sessions = clientSessions(tb);
      const noMac = await cli("on", "pve2");
      assert.equal(noMac.code, 1);
      assert.match(
        noMac.stdout,
        /pve2 has no wakeOnLan\.mac, so it cannot be woken;\s+nothing was sent \[power\.on-needs-mac\]/,
      );
      assert.equal(clientSessions(tb), sessions, "no SSH session");
      const usage = await cli("reboot", "pve2");
      assert.equal(usage.code, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
