// The rejoin step's generators, and the installed boot script itself run locally: in a private mount
// namespace whose /etc/corosync and /var/backups are temp dirs, with stub `ssh` (answers per peer address from
// files), `uname` and `corosync` on PATH. Which file it picks, what it refuses, what it leaves alone. The
// real thing (real ssh, real corosync, systemd-style boot) is in test/integration/rejoin.test.ts.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderCorosyncConf } from "../../../core/corosync";
import {
  REJOIN_BOUNDS,
  REJOIN_DROPIN,
  REJOIN_SCRIPT,
  rejoinBootScript,
  rejoinDropIn,
  rejoinInstallScript,
  rejoinRemoveScript,
} from "../../../core/scripts/rejoin";
import { corosyncEditFunctions } from "../../../core/scripts/votes";

const BOOT = rejoinBootScript();

/** Six nodes; this host is pve3 (10.0.0.3). */
const NODES = [1, 2, 3, 4, 5, 6].map((i) => ({
  name: `pve${i}`,
  nodeId: i,
  address: `10.0.0.${i}`,
  votes: 1,
}));
const conf = (version: number, opts: { cluster?: string; nodes?: typeof NODES } = {}) =>
  renderCorosyncConf({
    clusterName: opts.cluster ?? "homelab",
    configVersion: version,
    nodes: opts.nodes ?? NODES,
  });

interface Peer {
  readonly conf?: string;
  /** ssh exit code; default 0. */
  readonly rc?: number;
}

interface BootRun {
  readonly code: number | null;
  readonly stderr: string;
  /** The local corosync.conf afterwards. */
  readonly local: string | undefined;
  readonly backups: string[];
  /** One line per ssh call: its arguments. */
  readonly sshCalls: string[];
  readonly dir: string;
}

let scratch = "";
before(() => {
  scratch = mkdtempSync(join(tmpdir(), "pvehl-rejoin-unit-"));
});
after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function boot(
  local: string | undefined,
  peers: Record<string, Peer>,
  opts: { withoutCorosync?: boolean } = {},
): BootRun {
  const dir = mkdtempSync(join(scratch, "case-"));
  const etc = join(dir, "etc-corosync");
  const backups = join(dir, "backups");
  const bin = join(dir, "bin");
  const peersDir = join(dir, "peers");
  for (const d of [etc, backups, bin, peersDir]) mkdirSync(d);
  if (local !== undefined) writeFileSync(join(etc, "corosync.conf"), local);
  for (const [address, p] of Object.entries(peers)) {
    if (p.conf !== undefined) writeFileSync(join(peersDir, `${address}.conf`), p.conf);
    writeFileSync(join(peersDir, `${address}.rc`), String(p.rc ?? 0));
  }
  writeFileSync(join(dir, "boot.sh"), BOOT);
  const stub = (name: string, body: string) =>
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  stub(
    "ssh",
    [
      'echo "$*" >> "$STUB_DIR/ssh.log"',
      'while [ $# -gt 0 ] && [ "$1" != -- ]; do shift; done; addr=$2',
      'rc=$(cat "$STUB_DIR/peers/$addr.rc" 2>/dev/null || echo 255)',
      'if [ "$rc" != 0 ]; then echo "ssh: connect to host $addr port 22: No route to host" >&2; exit "$rc"; fi',
      'cat "$STUB_DIR/peers/$addr.conf"',
    ].join("\n"),
  );
  stub("uname", 'if [ "${1:-}" = -n ]; then echo pve3.home.lan; else exec /usr/bin/uname "$@"; fi');
  if (!opts.withoutCorosync) {
    stub(
      "corosync",
      'if [ "$1 $2" = "-t -c" ] && grep -q REJECT-ME "$3"; then echo "parser error"; exit 8; fi; exit 0',
    );
  }
  const r = spawnSync(
    "unshare",
    [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      'mount --bind "$1" /etc/corosync && mount --bind "$2" /var/backups && exec bash "$3"',
      "sh",
      etc,
      backups,
      join(dir, "boot.sh"),
    ],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: `${bin}:/usr/bin:/bin`, STUB_DIR: dir, HOME: "/root" },
      timeout: 60_000,
    },
  );
  const localFile = join(etc, "corosync.conf");
  return {
    code: r.status,
    stderr: r.stderr,
    local: existsSync(localFile) ? readFileSync(localFile, "utf8") : undefined,
    backups: readdirSync(join(backups)).flatMap((d) => readdirSync(join(backups, d)).map((f) => `${d}/${f}`)),
    sshCalls: existsSync(join(dir, "ssh.log"))
      ? readFileSync(join(dir, "ssh.log"), "utf8").trim().split("\n").sort()
      : [],
    dir,
  };
}

const peersOf = (confs: Record<number, Peer>): Record<string, Peer> =>
  Object.fromEntries(Object.entries(confs).map(([i, p]) => [`10.0.0.${i}`, p]));

describe("rejoin step: generators", () => {
  it("installs one constant script: no host names inside, strict bash, parses", () => {
    assert.ok(BOOT.startsWith("#!/bin/bash\nset -euo pipefail\nexport LC_ALL=C\n"));
    assert.ok(
      BOOT.includes(corosyncEditFunctions().join("\n")),
      "the same corosync.conf engine as the vote push",
    );
    assert.doesNotMatch(BOOT, /pve-(low|mid|high)/);
    const r = spawnSync("bash", ["-n", "-c", BOOT], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    assert.equal(r.status, 0, r.stderr);
  });

  it("asks peers over the cluster's root SSH trust, bounded, checking their host keys", () => {
    assert.match(
      BOOT,
      /timeout -k 2 15 ssh -n -T -o BatchMode=yes -o ConnectTimeout=5 .*-o StrictHostKeyChecking=yes -o HostKeyAlias="\$1"/s,
    );
    assert.doesNotMatch(BOOT, /StrictHostKeyChecking=(no|accept-new)/);
    assert.equal(
      rejoinDropIn(),
      [
        "# pve-homelab (RejoinGuard): before corosync starts, fetch a newer corosync.conf from a peer, so a host that",
        "# was off during a change can rejoin. Bounded by timeout; '-': a failure never stops corosync from starting.",
        "[Service]",
        `ExecStartPre=-/usr/bin/timeout --kill-after=5 ${REJOIN_BOUNDS.total} ${REJOIN_SCRIPT}`,
        "",
      ].join("\n"),
    );
    assert.ok(REJOIN_BOUNDS.connect < REJOIN_BOUNDS.peer && REJOIN_BOUNDS.peer < REJOIN_BOUNDS.total);
    assert.ok(REJOIN_BOUNDS.total + 5 < 90, "under corosync.service's start timeout (90 s)");
  });

  it("the installer carries the exact bytes of the script and the drop-in", () => {
    const install = rejoinInstallScript("pve-high");
    for (const [fn, delimiter] of [
      ["pvehl_rejoin_script", "PVEHL_REJOIN_SCRIPT_END"],
      ["pvehl_rejoin_dropin", "PVEHL_REJOIN_DROPIN_END"],
    ] as const) {
      const start = install.indexOf(`${fn}() {`);
      const end = install.indexOf(`\n${delimiter}\n}\n`, start) + delimiter.length + 4;
      const r = spawnSync("bash", ["-c", `${install.slice(start, end)}\n${fn}`], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      assert.equal(r.stdout, fn === "pvehl_rejoin_script" ? BOOT : rejoinDropIn());
    }
    for (const text of [install, rejoinRemoveScript("pve-high")]) {
      const r = spawnSync("bash", ["-n", "-c", text], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(text, /if \[ "\$\(hostname\)" != pve-high \]; then/);
    }
    assert.ok(install.includes(`pvehl_install "$pvehl_tmp/dropin" ${REJOIN_DROPIN} 644`));
    assert.match(install, /if \[ -d \/run\/systemd\/system \]; then systemctl daemon-reload/);
  });
});

describe("rejoin step: the boot script, run locally with stub peers", () => {
  it("installs the newest peer file (atomically, with a backup), asking every other node of the LOCAL nodelist", () => {
    const local = conf(3);
    const r = boot(
      local,
      peersOf({
        1: { conf: conf(5) },
        2: { conf: conf(4) },
        4: { rc: 255 },
        5: { conf: conf(3) },
        6: { conf: conf(5) },
      }),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.local, conf(5));
    assert.equal(statSync(join(r.dir, "etc-corosync", "corosync.conf")).mode & 0o777, 0o644);
    assert.match(
      r.stderr,
      /pve-homelab-rejoin: installed the corosync\.conf of pve1: config_version 3 -> 5\n$/,
    );
    assert.match(
      r.stderr,
      /pve4 \(10\.0\.0\.4\): no answer \(exit 255: ssh: connect to host 10\.0\.0\.4 port 22: No route to host\)/,
    );
    assert.deepEqual(r.backups.length, 1);
    assert.match(r.backups[0]!, /^pve-homelab\/corosync\.conf\.\d{8}T\d{6}Z\.v3\.before-rejoin$/);
    assert.equal(readFileSync(join(r.dir, "backups", r.backups[0]!), "utf8"), local);
    assert.deepEqual(
      r.sshCalls.map((c) => c.split(" -- ")[1]),
      [
        "10.0.0.1 cat /etc/corosync/corosync.conf",
        "10.0.0.2 cat /etc/corosync/corosync.conf",
        "10.0.0.4 cat /etc/corosync/corosync.conf",
        "10.0.0.5 cat /etc/corosync/corosync.conf",
        "10.0.0.6 cat /etc/corosync/corosync.conf",
      ],
      "every peer but this node",
    );
    assert.ok(
      r.sshCalls[0]!.startsWith(
        "-n -T -o BatchMode=yes -o ConnectTimeout=5 -o ServerAliveInterval=2 -o ServerAliveCountMax=2 -o StrictHostKeyChecking=yes -o HostKeyAlias=pve1 -o UserKnownHostsFile=~/.ssh/known_hosts /etc/pve/nodes/pve1/ssh_known_hosts -l root -- 10.0.0.1",
      ),
      r.sshCalls[0],
    );
  });

  it("ignores files of another cluster, without this node, or that do not parse", () => {
    const withoutMe = NODES.filter((n) => n.name !== "pve3");
    const r = boot(
      conf(3),
      peersOf({
        1: { conf: conf(9, { cluster: "other" }) },
        2: { conf: conf(8, { nodes: withoutMe }) },
        4: { conf: conf(7).replace("totem {", "totem {{") },
        5: { conf: "" },
        6: { conf: conf(6) },
      }),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.local, conf(6));
    assert.match(r.stderr, /pve1: cluster_name 'other' is not this node's 'homelab'; ignored/);
    assert.match(r.stderr, /pve2: its nodelist does not list pve3; ignored/);
    assert.match(
      r.stderr,
      /pve4: its corosync\.conf cannot be read \(corosync\.conf line \d+: Extra characters after opening bracket/,
    );
    assert.match(r.stderr, /pve5: its corosync\.conf cannot be read \(totem has no config_version line/);
    assert.match(r.stderr, /installed the corosync\.conf of pve6: config_version 3 -> 6/);
  });

  it("keeps the local file when no peer answers (exit 0, corosync starts with it)", () => {
    const r = boot(conf(3), peersOf({ 1: { rc: 255 }, 2: { rc: 124 } }));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.local, conf(3));
    assert.deepEqual(r.backups, []);
    assert.match(r.stderr, /no peer answered: corosync starts with the local file \(config_version 3\)\n$/);
  });

  it("never installs a lower or equal config_version", () => {
    const r = boot(conf(7), peersOf({ 1: { conf: conf(6) }, 2: { conf: conf(7) }, 4: { conf: conf(2) } }));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.local, conf(7));
    assert.match(r.stderr, /the local file is current \(config_version 7\): nothing to do\n$/);
  });

  it("keeps the local file when corosync -t rejects the only newer one", () => {
    const r = boot(conf(3), peersOf({ 1: { conf: conf(5).replace("logging {", "# REJECT-ME\nlogging {") } }));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.local, conf(3));
    assert.match(
      r.stderr,
      /corosync -t rejects the file from pve1 \(parser error \); trying the next peer\n/,
    );
    assert.match(
      r.stderr,
      /no newer peer file passed every check: keeping the local file \(config_version 3\)\n$/,
    );
  });

  it("falls back, best first, to the next peer's file when the best one fails corosync -t", () => {
    const r = boot(
      conf(3),
      peersOf({
        1: { conf: conf(4) },
        2: { conf: conf(6).replace("logging {", "# REJECT-ME\nlogging {") },
        4: { conf: conf(5) },
      }),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.local, conf(5));
    assert.match(
      r.stderr,
      /corosync -t rejects the file from pve2 .*; trying the next peer\n.*installed the corosync\.conf of pve4: config_version 3 -> 5\n$/s,
    );
  });

  it("refuses a file without the votequorum provider, and one that moves this node", () => {
    const moved = NODES.map((n) => (n.name === "pve3" ? { ...n, address: "10.0.0.33" } : n));
    const renumbered = NODES.map((n) => (n.name === "pve3" ? { ...n, nodeId: 33 } : n));
    const r = boot(
      conf(3),
      peersOf({
        1: { conf: conf(9).replace(/\n\s*provider: corosync_votequorum/, "") },
        2: { conf: conf(8, { nodes: moved }) },
        4: { conf: conf(7, { nodes: renumbered }) },
      }),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.local, conf(3));
    assert.match(r.stderr, /pve1: its quorum provider is '', not corosync_votequorum; ignored/);
    assert.match(
      r.stderr,
      /pve2: it moves this node \('pve3 3 10\.0\.0\.33', here 'pve3 3 10\.0\.0\.3'; nodeid and ring0_addr must stay\); ignored/,
    );
    assert.match(r.stderr, /pve4: it moves this node \('pve3 33 10\.0\.0\.3', here 'pve3 3 10\.0\.0\.3'/);
    assert.match(r.stderr, /the local file is current \(config_version 3\): nothing to do\n$/);
  });

  it("requires corosync -t: without corosync it installs nothing", () => {
    const r = boot(conf(3), peersOf({ 1: { conf: conf(5) } }), { withoutCorosync: true });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.local, conf(3));
    assert.match(
      r.stderr,
      /corosync is not installed here, so no peer file can pass corosync -t; keeping the local file\n$/,
    );
  });

  it("does nothing without a local file, with an unreadable one, or without peers", () => {
    const none = boot(undefined, {});
    assert.equal(none.code, 0);
    assert.match(none.stderr, /no \/etc\/corosync\/corosync\.conf: nothing to do/);
    const broken = boot("totem {\n", peersOf({ 1: { conf: conf(5) } }));
    assert.equal(broken.code, 0);
    assert.equal(broken.local, "totem {\n");
    assert.match(
      broken.stderr,
      /the local \/etc\/corosync\/corosync\.conf cannot be read \(corosync\.conf line 1: Missing closing brace/,
    );
    assert.deepEqual(broken.sshCalls, []);
    const alone = boot(
      renderCorosyncConf({ clusterName: "homelab", configVersion: 1, nodes: [NODES[2]!] }),
      {},
    );
    assert.equal(alone.code, 0);
    assert.match(alone.stderr, /no other node in \/etc\/corosync\/corosync\.conf: nothing to fetch/);
  });
});
