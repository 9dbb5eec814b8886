// Declared host power: config validation, core/power decisions and findings, the node config `wakeonlan` edit
// (TS rule and the awk program the host runs, on Proxmox-shaped node config samples), and the power step's
// live quorum rule in shell against core/power offDecision.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { analyzeStack } from "../../core/analyze";
import {
  declaredQuorum,
  hostsNeededOnline,
  managedHosts,
  offDecision,
  powerLine,
  POWER_FINDING_CODES,
} from "../../core/power";
import { powerStepScript } from "../../core/scripts/power";
import {
  nodeConfigAwk,
  setWakeOnLanLine,
  wakeOnLanLayout,
  wakeOnLanMac,
  wakeOnLanValue,
} from "../../core/scripts/power-nodeconfig";
import { TEST_SECRET_KEYS, withEdit, type Values } from "../fixtures/stacks";

const SAMPLES = path.join(__dirname, "../fixtures/nodeconfig");
const MAC_MID = "0a:1b:2c:3d:4e:5f";
const MAC_HIGH = "0A:1B:2C:3D:4E:60";

function analyze(values: Values) {
  return analyzeStack({ values, secretKeys: TEST_SECRET_KEYS });
}
const codes = (values: Values) => analyze(values).findings.map((f) => `${f.code} ${f.path}`);

/** The homelab with pve-mid and pve-high managed. */
const managed = (mid: Values, high: Values) =>
  withEdit((v) => {
    Object.assign(v.hosts[1]!, mid);
    Object.assign(v.hosts[2]!, high);
  });

function awkEdit(text: string, value: string): string {
  const r = spawnSync("awk", [nodeConfigAwk()], {
    input: text,
    encoding: "utf8",
    env: { PATH: process.env.PATH, LC_ALL: "C", PVEHL_WOL: value },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe("declared host power: config", () => {
  it("accepts wakeOnLan, state and guests and puts them into the model", () => {
    const r = analyze(
      managed(
        { wakeOnLan: { mac: MAC_MID }, state: "off", guests: "migrate" },
        { wakeOnLan: { mac: MAC_HIGH }, state: "on" },
      ),
    );
    assert.deepEqual(
      r.findings.filter((f) => f.level === "error"),
      [],
    );
    const [low, mid, high] = r.model!.hosts;
    assert.equal(low!.state, undefined);
    assert.deepEqual([mid!.state, mid!.guests, mid!.wakeOnLan], ["off", "migrate", { mac: MAC_MID }]);
    assert.deepEqual([high!.state, high!.guests], ["on", "shutdown"]);
    assert.deepEqual(
      managedHosts(r.model!).map((h) => h.name),
      ["pve-mid", "pve-high"],
    );
  });

  const bad: [string, Values, string][] = [
    [
      "a multicast MAC",
      managed({ wakeOnLan: { mac: "01:00:5e:00:00:01" } }, {}),
      "config.invalid_format hosts[1].wakeOnLan.mac",
    ],
    [
      "a MAC with dashes",
      managed({ wakeOnLan: { mac: "0a-1b-2c-3d-4e-5f" } }, {}),
      "config.invalid_format hosts[1].wakeOnLan.mac",
    ],
    [
      "a bad interface",
      managed({ wakeOnLan: { mac: MAC_MID, bindInterface: "eth0; id" } }, {}),
      "config.invalid_format hosts[1].wakeOnLan.bindInterface",
    ],
    [
      "an IPv6 broadcast",
      managed({ wakeOnLan: { mac: MAC_MID, broadcastAddress: "ff02::1" } }, {}),
      "config.custom hosts[1].wakeOnLan.broadcastAddress",
    ],
    ["an unknown state", managed({ state: "sleep" }, {}), "config.invalid_value hosts[1].state"],
    [
      "an unknown guests policy",
      managed({ guests: "hibernate" }, {}),
      "config.invalid_value hosts[1].guests",
    ],
    [
      "state on an always-on host",
      withEdit((v) => Object.assign(v.hosts[0]!, { state: "on" })),
      "power.state-always-on hosts[0].state",
    ],
    ["on without a MAC", managed({}, { state: "on" }), "power.on-needs-mac hosts[2].wakeOnLan"],
  ];
  for (const [what, values, expected] of bad) {
    it(`refuses ${what}, naming the field`, () => {
      assert.ok(codes(values).includes(expected), `${expected} not in ${codes(values).join("; ")}`);
    });
  }

  it("a started VM on a host declared off is an error; a stopped one a warning", () => {
    const values = managed({ state: "off" }, {});
    (values.vms as Values[]).push(
      { name: "media", host: "pve-mid", vmId: 201, started: true },
      { name: "lab", host: "pve-mid", vmId: 202, started: false },
    );
    const f = analyze(values).findings;
    assert.deepEqual(
      f.filter((x) => x.code.startsWith("power.")).map((x) => [x.level, x.code, x.path]),
      [
        ["error", "power.started-vm-on-off-host", "vms[1].started"],
        ["warning", "power.vm-on-off-host", "vms[2].host"],
      ],
    );
  });

  it("send options on a host that never sends are a warning", () => {
    const f = analyze(
      managed({ wakeOnLan: { mac: MAC_MID, broadcastAddress: "192.168.1.255" } }, {}),
    ).findings;
    assert.deepEqual(
      f.filter((x) => x.code === "power.send-options-unused").map((x) => x.path),
      ["hosts[1].wakeOnLan"],
    );
  });

  it("declared states that leave no quorum are an error (1/1/1, both others off)", () => {
    const values = managed({ state: "off", votes: 1 }, { state: "off" });
    (values.hosts as Values[])[0]!.votes = 1;
    values.quorum = { mode: "default" };
    assert.ok(codes(values).includes("power.declared-not-quorate hosts"), codes(values).join("; "));
  });

  it("every power finding code is listed", () => {
    const values = managed(
      { state: "off", wakeOnLan: { mac: MAC_MID, bindInterface: "vmbr0" } },
      { state: "on" },
    );
    for (const f of analyze(values).findings.filter((x) => x.code.startsWith("power."))) {
      assert.ok((POWER_FINDING_CODES as readonly string[]).includes(f.code), f.code);
    }
  });
});

describe("declared host power: decisions", () => {
  it("shows the quorum with the declared states", () => {
    const model = analyze(managed({ state: "off" }, { state: "off" })).model!;
    assert.equal(declaredQuorum(model)?.summary, "pve-mid, pve-high off: pve-low 3 of 5, quorate");
    const one = analyze(managed({ state: "off" }, {})).model!;
    assert.equal(declaredQuorum(one)?.summary, "pve-mid off: pve-low 3 of 5, quorate; not managed: pve-high");
    const none = analyze(managed({}, {})).model!;
    assert.equal(declaredQuorum(none), undefined);
  });

  it("lists the hosts the stack needs online", () => {
    const values = managed({ state: "off" }, { state: "on", wakeOnLan: { mac: MAC_HIGH } });
    (values.vms as Values[]).push({ name: "build", host: "pve-high", vmId: 301 });
    assert.deepEqual(hostsNeededOnline(analyze(values).model!), [
      { host: "pve-low", reasons: ["always on: runs the cluster steps and the power steps", "VMs: dns"] },
      { host: "pve-high", reasons: ["declared state: on (its power step wakes it)", "VMs: build"] },
    ]);
  });

  it("writes one readable stdin line per step", () => {
    assert.equal(powerLine({ name: "pve-high", state: "on" }), "pve-high state=on guests=shutdown\n");
    assert.equal(
      powerLine({ name: "pve-mid", state: "off", guests: "migrate" }),
      "pve-mid state=off guests=migrate\n",
    );
  });

  it("allows off only when the live members without the host stay quorate", () => {
    // 3/1/1 all up: E=5, Q=3.
    assert.deepEqual(offDecision({ totalVotes: 5, quorum: 3, hostVotes: 1 }), {
      allowed: true,
      remaining: 4,
      quorum: 3,
    });
    // 1/1/1 with node 3 already off: 2 live votes, Q=2; node 2 leaving leaves 1.
    assert.deepEqual(offDecision({ totalVotes: 2, quorum: 2, hostVotes: 1 }), {
      allowed: false,
      remaining: 1,
      quorum: 2,
    });
  });

  it("the step's shell rule equals offDecision (stub corosync-quorumtool)", function () {
    this.timeout(60_000);
    const script = powerStepScript("pve-low");
    const fn = script.slice(
      script.indexOf("pvehl_qnum() {"),
      script.indexOf("\n}\n", script.indexOf("pvehl_qnum() {")) + 3,
    );
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 2, maxLength: 5 }),
        fc.integer({ min: 1, max: 40 }),
        fc.nat(4),
        (votes, quorum, pick) => {
          const id = (pick % votes.length) + 1;
          const total = votes.reduce((a, b) => a + b, 0);
          const rows = votes
            .map((v, i) => `         ${i + 1}          ${v}         NR pve${i + 1}`)
            .join("\n");
          const status = `Quorum information\n------------------\nQuorate:          Yes\n\nVotequorum information\n----------------------\nExpected votes:   ${total}\nHighest expected: ${total}\nTotal votes:      ${total}\nQuorum:           ${quorum}  \nFlags:            Quorate \n\nMembership information\n----------------------\n    Nodeid      Votes    Qdevice Name\n${rows}\n`;
          const r = spawnSync(
            "bash",
            [
              "--norc", // spawnSync's stdin is a socket: bash would read ~/.bashrc as for sshd
              "-c",
              `set -euo pipefail; fail() { echo "FAIL $*"; exit 1; }; corosync-quorumtool() { printf '%s' "$STATUS"; return 2; }; ${fn}\nread -r t q e v < <(pvehl_qnum ${id}); echo "$t $q $e $v $(( t - v >= q ? 1 : 0 ))"`,
            ],
            { encoding: "utf8", env: { PATH: process.env.PATH, STATUS: status }, timeout: 5000 },
          );
          const d = offDecision({ totalVotes: total, quorum, hostVotes: votes[id - 1]! });
          assert.equal(
            r.stdout.trim(),
            `${total} ${quorum} ${total} ${votes[id - 1]} ${d.allowed ? 1 : 0}`,
            r.stderr,
          );
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("declared host power: the node config wakeonlan line", () => {
  const value = wakeOnLanValue({ mac: MAC_HIGH, bindInterface: "vmbr0", broadcastAddress: "192.168.1.255" });

  it("prints the value as Proxmox does: the MAC first, then the named keys", () => {
    assert.equal(value, "0A:1B:2C:3D:4E:60,bind-interface=vmbr0,broadcast-address=192.168.1.255");
    assert.equal(wakeOnLanValue({ mac: MAC_MID }), MAC_MID);
  });

  it("inserts the line in key order and keeps the description and other keys", () => {
    const text = readFileSync(path.join(SAMPLES, "ui-description-acme.conf"), "utf8");
    const out = setWakeOnLanLine(text, value);
    assert.equal(out, `${text}wakeonlan: ${value}\n`);
    assert.equal(
      setWakeOnLanLine("acme: account=default\nzz-key: 1\n", MAC_MID),
      `acme: account=default\nwakeonlan: ${MAC_MID}\nzz-key: 1\n`,
    );
  });

  it("replaces an existing line in place and drops later duplicates", () => {
    const dup = readFileSync(path.join(SAMPLES, "duplicate-wakeonlan.conf"), "utf8");
    assert.equal(
      setWakeOnLanLine(dup, MAC_MID),
      `description: set through the API\nlocation: rack-2\nwakeonlan: ${MAC_MID}\n`,
    );
    assert.equal(wakeOnLanMac(dup), "0a:1b:2c:3d:4e:60", "Proxmox reads the last line");
    const same = readFileSync(path.join(SAMPLES, "existing-wakeonlan.conf"), "utf8");
    assert.equal(setWakeOnLanLine(same, MAC_MID), same, "unchanged when already set");
  });

  it("creates the line in an empty config and ends a file without a final newline", () => {
    assert.equal(setWakeOnLanLine("", MAC_MID), `wakeonlan: ${MAC_MID}\n`);
    assert.equal(
      setWakeOnLanLine("#only a note, no final newline", MAC_MID),
      `#only a note, no final newline\nwakeonlan: ${MAC_MID}\n`,
    );
  });

  it("the awk program the host runs gives the same bytes on every sample", () => {
    const files = readdirSync(SAMPLES);
    assert.ok(files.length >= 6);
    for (const f of files) {
      const text = readFileSync(path.join(SAMPLES, f), "utf8");
      for (const v of [MAC_MID, value]) assert.equal(awkEdit(text, v), setWakeOnLanLine(text, v), f);
    }
  });

  it("the awk program equals the TS rule on generated configs", function () {
    this.timeout(60_000);
    const line = fc.oneof(
      fc.constantFrom(
        "wakeonlan: 0a:00:00:00:00:01",
        "  wakeonlan:x",
        "#wakeonlan: y",
        "acme: a",
        "zz: 1",
        "location: x",
        "",
        "wake onlan: 1",
        "x y: z",
      ),
      fc.stringMatching(/^[a-z#-]{0,6}(: ?[a-z0-9,=]{0,5})?$/),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), fc.boolean(), (lines, final) => {
        const text = lines.join("\n") + (final && lines.length ? "\n" : "");
        assert.equal(awkEdit(text, MAC_MID), setWakeOnLanLine(text, MAC_MID));
      }),
      { numRuns: 60 },
    );
  });

  it("sends one sorted `NAME VALUE` line per host that declares wakeOnLan", () => {
    const model = analyze(managed({ wakeOnLan: { mac: MAC_MID } }, { wakeOnLan: { mac: MAC_HIGH } })).model!;
    assert.equal(wakeOnLanLayout(model.hosts), `pve-high ${MAC_HIGH}\npve-mid ${MAC_MID}\n`);
  });
});
