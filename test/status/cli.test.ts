import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { homelabCluster, statusOutput, type FakeCluster } from "../helpers/live-cluster";
import { homelabValues, type Values } from "../fixtures/stacks";
import { runCli, type CliRun as Run } from "../helpers/cli";

// `npm run status` as a user runs it (a child process: exit codes matter), with a stand-in `ssh` client first
// on PATH that records its arguments and stdin and answers like the real one would: the status script's
// output of a described cluster (test/helpers/live-cluster.ts), or an ssh failure. No network.
const ROOT = path.resolve(__dirname, "../..");

describe("npm run status (stand-in ssh client)", function () {
  this.timeout(60_000);
  let dir: string;

  /** The stack `t` in dir (homelab values unless given) and the fake ssh's behaviour. */
  function setup(
    answer: { cluster?: FakeCluster; code?: number; stderr?: string },
    values: Values = homelabValues(),
  ) {
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const config = Object.fromEntries(
      Object.entries(values)
        .filter(([, v]) => v !== "[secret]")
        .map(([k, v]) => [`pve-homelab:${k}`, v]),
    );
    fs.writeFileSync(path.join(dir, "Pulumi.t.yaml"), stringify({ config }));
    fs.writeFileSync(path.join(dir, "answer.out"), answer.cluster ? statusOutput(answer.cluster) : "");
    fs.writeFileSync(path.join(dir, "answer.err"), answer.stderr ?? "");
    fs.writeFileSync(
      path.join(dir, "bin", "ssh"),
      [
        "#!/bin/bash",
        `d=${dir}`,
        'printf "%s\\n" "$@" >> "$d/argv"; echo "=====" >> "$d/argv"',
        'cat > "$d/stdin"',
        'cat "$d/answer.out"; cat "$d/answer.err" >&2',
        `exit ${answer.code ?? 0}`,
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
  }

  const status = (args: readonly string[]): Promise<Run> =>
    runCli("status/cli.ts", ["--dir", dir, ...args], path.join(dir, "bin"));

  const sessions = () => fs.readFileSync(path.join(dir, "argv"), "utf8").split("\n=====\n").filter(Boolean);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "status-cli-"));
    fs.mkdirSync(path.join(dir, "bin"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("in sync: exit 0, one session on the always-on host, an 80-column report", async () => {
    setup({ cluster: homelabCluster() });
    const r = await status(["--stack", "t", "--identity", "/keys/id_test"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sessions().length, 1);
    const argv = sessions()[0]!.split("\n");
    for (const a of [
      "HostKeyAlias=pve-low",
      "StrictHostKeyChecking=yes",
      "BatchMode=yes",
      "/keys/id_test",
      "192.168.1.21",
    ])
      assert.ok(argv.includes(a), `ssh argv lacks ${a}: ${argv.join(" ")}`);
    assert.match(fs.readFileSync(path.join(dir, "stdin"), "utf8"), /^#!\/bin\/bash\nset -euo pipefail\n/);
    const long = r.stdout.split("\n").filter((l) => [...l].length > 80);
    assert.deepEqual(long, []);
    assert.match(r.stdout, /^  pve-high +usually-off +online +3 +192\.168\.1\.23 +1$/m);
    assert.match(r.stdout, /^Live quorum: quorate, 5 of 5 votes, quorum 3: 2 votes can still go\.$/m);
    assert.match(r.stdout, /Losing any of these loses quorum: pve-low$/m);
    assert.match(r.stdout, /^In sync with the stack/m);
  });

  it("votes edited by hand: exit 1 with drift.votes naming the host and both numbers", async () => {
    setup({
      cluster: {
        ...homelabCluster(),
        nodes: homelabCluster().nodes.map((n) => (n.name === "pve-low" ? { ...n, votes: 2 } : n)),
      },
    });
    const r = await status(["--stack", "t"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /drift: pve-low: pve-low has 2 votes, the stack says 3 \[drift\.votes\]/);
    assert.match(r.stdout, /^  pve-low +always-on +online +1 +192\.168\.1\.21 +2 \(stack 3\)$/m);
    const json = await status(["--stack", "t", "--json"]);
    assert.equal(json.code, 1);
    const doc = JSON.parse(json.stdout) as {
      ok: boolean;
      findings: { code: string; path: string }[];
      sshSessions: number;
    };
    assert.equal(doc.ok, false);
    assert.deepEqual(
      doc.findings.map((f) => [f.code, f.path]),
      [["drift.votes", "pve-low"]],
    );
    assert.equal(doc.sshSessions, 1);
  });

  it("the usually-off host off: shown off, not drift, exit 0", async () => {
    const c = homelabCluster();
    c.nodes[2]!.online = false;
    setup({ cluster: c });
    const r = await status(["--stack", "t", "--json"]);
    assert.equal(r.code, 0, r.stdout);
    const doc = JSON.parse(r.stdout) as { hosts: { name: string; state: string; online: boolean }[] };
    assert.deepEqual(
      doc.hosts.map((h) => [h.name, h.state, h.online]),
      [
        ["pve-low", "online", true],
        ["pve-mid", "online", true],
        ["pve-high", "off (usually-off)", false],
      ],
    );
  });

  const failures: [string, number, string, RegExp][] = [
    [
      "host key mismatch",
      255,
      "@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nThe fingerprint for the ED25519 key sent by the remote host is\nSHA256:Zm9vYmFy.\nHost key verification failed.\n",
      /^status: could not read the cluster: host key mismatch: pve-low \(root@192\.168\.1\.21 port 22\): host key mismatch: the host did not present the pinned hosts\[0\]\.hostKey ssh-ed25519 AAAAC3NzaC1l…/,
    ],
    [
      "auth failed",
      255,
      "root@192.168.1.21: Permission denied (publickey).\n",
      /could not read the cluster: auth failed: pve-low/,
    ],
    [
      "no route",
      255,
      "ssh: connect to host 192.168.1.21 port 22: No route to host\n",
      /could not read the cluster: no route: pve-low .*No route to host/,
    ],
  ];
  for (const [what, code, stderr, message] of failures) {
    it(`${what}: exit 3 with the reason on one line`, async () => {
      setup({ code, stderr });
      const r = await status(["--stack", "t"]);
      assert.equal(r.code, 3);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split("\n").length, 1);
      const json = await status(["--stack", "t", "--json"]);
      assert.equal(json.code, 3);
      assert.equal((JSON.parse(json.stdout) as { ok: boolean }).ok, false);
    });
  }

  it("not a cluster: exit 3", async () => {
    const c = homelabCluster();
    c.override = {
      "cluster-status": [
        0,
        JSON.stringify([{ type: "node", name: "pve-low", nodeid: 0, local: 1, online: 1 }]),
      ],
      "corosync-conf": [1, ""],
    };
    setup({ cluster: c });
    const r = await status(["--stack", "t"]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /could not read the cluster: not a cluster: pve-low is not in a cluster/);
  });

  it("usage errors: exit 2, no ssh", async () => {
    setup({ cluster: homelabCluster() });
    for (const args of [[], ["--stack", "nope"], ["--stack", "t", "--bogus"]]) {
      const r = await status(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^status: /);
    }
    assert.ok(!fs.existsSync(path.join(dir, "argv")));
  });

  it("a stack that does not load: its findings, exit 1, no ssh", async () => {
    const values = homelabValues();
    (values.hosts as Values[])[0]!.votes = "three";
    setup({ cluster: homelabCluster() }, values);
    const r = await status(["--stack", "t"]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /hosts\[0\]\.votes/);
    assert.ok(!fs.existsSync(path.join(dir, "argv")));
  });
});
