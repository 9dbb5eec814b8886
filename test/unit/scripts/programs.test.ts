// The host programs that are not shell (core/scripts/programs/*.awk, *.pl): each parses on every awk the hosts
// may have (mawk's `-W dump` and gawk's `--pretty-print` compile without running) and with `perl -c`; the small
// awk readers give the same output on mawk and gawk; and the generators embed each file's text unchanged.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { HOST_PROGRAMS, hostProgram, hostProgramArgument, programPath } from "../../../core/scripts/programs";
import { votesApplyScript } from "../../../core/scripts/votes";
import { pveshFunctions } from "../../../core/scripts/membership";
import { confReader, requireAllOnline } from "../../../core/scripts/qdevice/blocks";
import { quote } from "../../../core/shell";
import { testAwks } from "../../helpers/awks";

const DIR = join(__dirname, "../../../core/scripts/programs");
const FIXTURES = join(__dirname, "../../fixtures/corosync");
const run = (cmd: string, args: readonly string[], input?: string) =>
  spawnSync(cmd, args, { encoding: "utf8", input, env: { PATH: "/usr/bin:/bin", LC_ALL: "C" } });

/** Parse without running: mawk compiles and dumps, gawk pretty-prints; neither executes BEGIN. */
function parseAwk(awk: string, file: string) {
  if (awk === "mawk") return run("mawk", ["-W", "dump", "-f", file]);
  if (awk === "gawk") return run("gawk", ["--posix", "--pretty-print=/dev/null", "-f", file]);
  return run(awk, ["-f", file, "/dev/null"]);
}

describe("host programs (core/scripts/programs)", () => {
  const awks = testAwks();

  it("lists every program file in the folder, and only those", () => {
    const files = readdirSync(DIR).filter((f) => /\.(awk|pl)$/.test(f));
    assert.deepEqual([...HOST_PROGRAMS].sort(), files.sort());
  });

  for (const name of HOST_PROGRAMS.filter((n) => n.endsWith(".awk"))) {
    for (const awk of awks.filter((a) => a !== "original-awk")) {
      it(`${name} parses on ${awk}`, () => {
        const r = parseAwk(awk, programPath(name));
        assert.equal(r.status, 0, `${awk} -f ${name}: ${r.stderr}`);
      });
    }
  }

  it("the parse check catches a syntax error (so the rows above can fail)", () => {
    for (const awk of ["mawk", "gawk"]) {
      const r = spawnSync("bash", [
        "-c",
        `f=$(mktemp); echo 'BEGIN { x = ' > "$f"; ${awk === "mawk" ? "mawk -W dump" : "gawk --posix --pretty-print=/dev/null"} -f "$f"; rc=$?; rm -f "$f"; exit $rc`,
      ]);
      assert.notEqual(r.status, 0, awk);
    }
  });

  for (const name of HOST_PROGRAMS.filter((n) => n.endsWith(".pl"))) {
    it(`${name} compiles with perl -c (JSON::PP loaded as on the hosts)`, () => {
      const r = run("perl", ["-MJSON::PP", "-c", "-e", hostProgramArgument(name)]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /syntax OK/);
    });
  }

  it("the corosync.conf readers agree on mawk and gawk for every fixture", () => {
    const fixtures = readdirSync(FIXTURES).filter((f) => !f.startsWith("broken-"));
    assert.ok(fixtures.length >= 5);
    for (const name of ["corosync-flatten.awk", "corosync-node-votes.awk"] as const) {
      for (const conf of fixtures) {
        const input =
          name === "corosync-flatten.awk"
            ? undefined
            : run("mawk", ["-f", programPath("corosync-flatten.awk"), join(FIXTURES, conf)]).stdout;
        const args =
          input === undefined ? ["-f", programPath(name), join(FIXTURES, conf)] : ["-f", programPath(name)];
        const outs = awks.map((awk) => run(awk, args, input));
        for (const o of outs) assert.equal(o.status, 0, `${name} on ${conf}: ${o.stderr}`);
        assert.ok(outs[0]!.stdout.length > 0, `${name} printed nothing for ${conf}`);
        for (const o of outs.slice(1)) assert.equal(o.stdout, outs[0]!.stdout, `${name} on ${conf}`);
      }
    }
  });

  it("reads the flattened votes of a weighted file", () => {
    const flat = run("mawk", [
      "-f",
      programPath("corosync-flatten.awk"),
      join(FIXTURES, "weighted.conf"),
    ]).stdout;
    const votes = run("gawk", ["-f", programPath("corosync-node-votes.awk")], flat)
      .stdout.trim()
      .split("\n");
    assert.ok(
      votes.every((l) => /^[a-z0-9-]+=[0-9]+$/.test(l)),
      votes.join(" "),
    );
    assert.ok(
      votes.some((l) => !l.endsWith("=1")),
      `expected a weighted vote in ${votes.join(" ")}`,
    );
  });

  it("pvesh-fields.pl reads Proxmox's /cluster/status JSON", () => {
    const status = JSON.stringify([
      { type: "cluster", name: "homelab", quorate: 1, version: 4, nodes: 3 },
      { type: "node", name: "pve-low", nodeid: 1, online: 1, local: 1, ip: "192.168.1.21" },
      { type: "node", name: "pve-high", nodeid: 3, online: 0, local: 0, ip: "192.168.1.23" },
    ]);
    const r = run(
      "perl",
      [
        "-MJSON::PP",
        "-e",
        hostProgramArgument("pvesh-fields.pl"),
        "cluster.quorate",
        "local",
        "node.pve-high.online",
        "node.x.nodeid",
      ],
      status,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "1 pve-low 0 -\n");
  });

  it("cluster-status-online.pl lists each node with its online flag", () => {
    const status = JSON.stringify([
      { type: "cluster", name: "c" },
      { type: "node", name: "a", online: 1 },
      { type: "node", name: "b", online: 0 },
    ]);
    const r = run("perl", ["-MJSON::PP", "-e", hostProgramArgument("cluster-status-online.pl")], status);
    assert.equal(r.stdout, "a 1\nb 0\n");
  });

  it("the generators embed each program's text unchanged", () => {
    const push = votesApplyScript("pve-low", ["pve-low"]);
    assert.ok(push.includes(hostProgram("corosync-edit.awk")), "corosync-edit.awk in the vote push heredoc");
    const reader = confReader().join("\n");
    assert.ok(reader.includes(quote(hostProgramArgument("corosync-flatten.awk"))));
    assert.ok(reader.includes(quote(hostProgramArgument("corosync-node-votes.awk"))));
    assert.ok(
      pveshFunctions()
        .join("\n")
        .includes(quote(hostProgramArgument("pvesh-fields.pl"))),
    );
    assert.ok(
      requireAllOnline(["a"], "a", "x")
        .join("\n")
        .includes(quote(hostProgramArgument("cluster-status-online.pl"))),
    );
  });
});
