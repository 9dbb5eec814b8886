// The membership scripts run for real by bash, against stub pvesh / pvecm / hostname / corosync-quorumtool on
// PATH: each decision (create / join / check / delnode / refuse) with its exact pvecm arguments and messages, the
// password only ever on pvecm's stdin, hostile values quoted, and the Perl reader of pvesh's JSON. The scripts'
// absolute /etc/pve paths are redirected into a temp dir (the only edit made to the text); the exact bytes run on
// the corosync testbed in test/integration/membership.test.ts.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadModel } from "../../../core/config";
import type { HostSpec, Model } from "../../../core/model";
import {
  createClusterScript,
  delnodeScript,
  joinScript,
  joinStdin,
  memberScript,
  PVESH_FIELDS_PERL,
  retireScript,
  retireStdin,
} from "../../../core/scripts/membership";
import { TEST_SECRET_KEYS, withEdit } from "../../fixtures/stacks";
import { makeSelfSignedCert } from "../../helpers/certs";

const FP = Array.from({ length: 32 }, (_, i) =>
  (i * 5 + 17).toString(16).toUpperCase().padStart(2, "0"),
).join(":");
const PASSWORD = `p'w "x" $(touch /tmp/pvehl-pwned) \`id\` ; #`;

function model(edit: Parameters<typeof withEdit>[0] = () => {}): Model {
  const loaded = loadModel({ values: withEdit(edit), secretKeys: TEST_SECRET_KEYS });
  assert.ok(loaded.model, JSON.stringify(loaded.findings));
  return loaded.model;
}

const HOMELAB = model();
const high = HOMELAB.hosts[2]!;

// ---------------------------------------------------------------------------------------------------------
// pvesh JSON as Proxmox returns it (pve-manager GET /cluster/status, pve-cluster GET /cluster/config/nodes).

interface N {
  readonly name: string;
  readonly nodeid: number;
  readonly online?: boolean;
  readonly address?: string;
  readonly votes?: number;
}

const standalone = (name: string) => [
  { type: "node", id: `node/${name}`, name, ip: "192.0.2.9", local: 1, nodeid: 0, online: 1, level: "" },
];

/** `booleans: "json"` gives true/false, "perl" gives 1/0 (both occur depending on the code path). */
function clusterStatus(
  name: string,
  local: string,
  nodes: readonly N[],
  quorate: boolean,
  booleans = "perl",
) {
  const b = (x: boolean) => (booleans === "json" ? x : x ? 1 : 0);
  return [
    ...nodes.map((n) => ({
      type: "node",
      id: `node/${n.name}`,
      name: n.name,
      nodeid: n.nodeid,
      ip: n.address ?? "192.0.2.9",
      local: b(n.name === local),
      online: b(n.online ?? true),
      level: "",
    })),
    { type: "cluster", id: "cluster", name, nodes: nodes.length, version: 3, quorate: b(quorate) },
  ];
}

const configNodes = (nodes: readonly N[]) =>
  nodes.map((n) => ({
    node: n.name,
    name: n.name,
    nodeid: String(n.nodeid),
    quorum_votes: String(n.votes ?? 1),
    ring0_addr: n.address ?? "192.0.2.9",
  }));

const homelabNodes = (onlineHigh = true): N[] => [
  { name: "pve-low", nodeid: 1, address: "192.168.1.21", votes: 3 },
  { name: "pve-mid", nodeid: 2, address: "192.168.1.22" },
  { name: "pve-high", nodeid: 3, address: "192.168.1.23", online: onlineHigh },
];

// ---------------------------------------------------------------------------------------------------------
// The stub host.

const STUBS: Record<string, string> = {
  hostname: '#!/bin/sh\ncat "$STUB/hostname"; echo\n',
  pvesh: [
    "#!/bin/sh",
    '[ "$1" = get ] && [ "$3" = --output-format ] && [ "$4" = json ] && [ $# -eq 4 ] || { echo "stub pvesh: bad call: $*" >&2; exit 2; }',
    'f="$STUB/state/$(printf %s "$2" | tr / _).json"',
    '[ -f "$f" ] || { echo "stub pvesh: no state for $2" >&2; exit 2; }',
    'cat "$f"',
    "",
  ].join("\n"),
  pvecm: [
    "#!/bin/bash",
    'n=$(ls "$STUB/calls" | wc -l)',
    'mkdir "$STUB/calls/$n"',
    'for a in "$@"; do printf "%s\\0" "$a"; done > "$STUB/calls/$n/argv"',
    'cat > "$STUB/calls/$n/stdin"',
    'echo "stub pvecm output on stdout"',
    'if [ -d "$STUB/after-$1" ]; then cp "$STUB/after-$1/"* "$STUB/state/"; fi',
    'exit "$(cat "$STUB/pvecm-rc")"',
    "",
  ].join("\n"),
  "corosync-quorumtool": '#!/bin/sh\nexit "$(cat "$STUB/quorum-rc")"\n',
  "corosync-cmapctl":
    '#!/bin/sh\n[ -f "$STUB/expected" ] || exit 1\necho "quorum.expected_votes (u32) = $(cat "$STUB/expected")"\n',
};

interface Call {
  readonly argv: string[];
  readonly stdin: string;
}

class StubHost {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), "pvehl-membership-"));
  readonly pve = path.join(this.dir, "etc-pve");

  constructor(hostname: string) {
    for (const d of ["bin", "state", "calls", "etc-pve"]) mkdirSync(path.join(this.dir, d));
    for (const [name, text] of Object.entries(STUBS)) {
      writeFileSync(path.join(this.dir, "bin", name), text, { mode: 0o755 });
    }
    writeFileSync(path.join(this.dir, "hostname"), hostname);
    writeFileSync(path.join(this.dir, "pvecm-rc"), "0");
    writeFileSync(path.join(this.dir, "quorum-rc"), "0");
  }

  /** What `pvesh get <api>` answers now, or after `pvecm <after>` ran. */
  state(api: string, json: unknown, after?: string): this {
    const dir = path.join(this.dir, after ? `after-${after}` : "state");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${api.replace(/\//g, "_")}.json`), JSON.stringify(json));
    return this;
  }

  set(file: "pvecm-rc" | "quorum-rc" | "expected", value: number): this {
    writeFileSync(path.join(this.dir, file), String(value));
    return this;
  }

  file(inPve: string, text: string): this {
    const p = path.join(this.pve, inPve);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
    return this;
  }

  calls(): Call[] {
    return readdirSync(path.join(this.dir, "calls"))
      .sort((a, b) => Number(a) - Number(b))
      .map((n) => {
        const d = path.join(this.dir, "calls", n);
        return {
          argv: readFileSync(path.join(d, "argv"), "utf8").split("\0").slice(0, -1),
          stdin: readFileSync(path.join(d, "stdin"), "utf8"),
        };
      });
  }

  run(script: string, stdin = "") {
    const file = path.join(this.dir, "script.sh");
    writeFileSync(file, script.replaceAll("/etc/pve/", `${this.pve}/`));
    const r = spawnSync("bash", [file], {
      input: stdin,
      encoding: "utf8",
      timeout: 20_000,
      env: { PATH: `${path.join(this.dir, "bin")}:/usr/bin:/bin`, STUB: this.dir, LANG: "C" },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe("scripts: membership", () => {
  let stubs: StubHost[] = [];
  const stub = (hostname: string) => {
    const s = new StubHost(hostname);
    stubs.push(s);
    return s;
  };
  afterEach(() => {
    for (const s of stubs) s.remove();
    stubs = [];
  });

  describe("the pvesh JSON reader", () => {
    const fields = (json: unknown, ...keys: string[]) =>
      spawnSync("perl", ["-MJSON::PP", "-e", PVESH_FIELDS_PERL, ...keys], {
        input: typeof json === "string" ? json : JSON.stringify(json),
        encoding: "utf8",
      });
    const rows: { what: string; json: unknown; keys: string[]; out: string }[] = [
      {
        what: "cluster entry and node entries with Perl's 1/0",
        json: clusterStatus("homelab", "pve-low", homelabNodes(false), true),
        keys: ["cluster.name", "cluster.quorate", "node.pve-high.online", "node.pve-mid.nodeid", "local"],
        out: "homelab 1 0 2 pve-low",
      },
      {
        what: "JSON true/false",
        json: clusterStatus("homelab", "pve-mid", homelabNodes(false), false, "json"),
        keys: ["cluster.quorate", "node.pve-high.online", "node.pve-low.online", "local"],
        out: "0 0 1 pve-mid",
      },
      {
        what: "a standalone node: no cluster entry, nodeid 0",
        json: standalone("pve-high"),
        keys: ["cluster.name", "node.pve-high.nodeid", "local"],
        out: "- 0 pve-high",
      },
      {
        what: "the nodelist, values as strings",
        json: configNodes(homelabNodes()),
        keys: ["nodelist.pve-high.nodeid", "nodelist.pve-low.quorum_votes", "nodelist.pve-mid.ring0_addr"],
        out: "3 3 192.168.1.22",
      },
      {
        what: "absent keys and empty values as '-'",
        json: [{ type: "cluster", name: "" }],
        keys: ["cluster.name", "cluster.quorate", "node.x.online"],
        out: "- - -",
      },
      {
        what: "values reduced to one plain token",
        json: [{ type: "cluster", name: "a b;$(id)" }],
        keys: ["cluster.name"],
        out: "a?b???id?",
      },
    ];
    for (const row of rows) {
      it(`reads ${row.what}`, () => {
        const r = fields(row.json, ...row.keys);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, `${row.out}\n`);
      });
    }
    it("fails with the start of the text when pvesh did not return a JSON array", () => {
      const r = fields("Permission check failed\n", "cluster.name");
      assert.equal(r.status, 3);
      assert.match(r.stderr, /pvesh did not return a JSON array: Permission check failed/);
    });
  });

  describe("every script", () => {
    const hostile: Model = {
      ...HOMELAB,
      clusterName: "home'lab $(id)",
      hosts: HOMELAB.hosts.map((h, i) => ({
        ...h,
        name: `pve-${i} "\`id\`; rm -rf /`,
        address: `10.0.0.${i + 1}; touch /tmp/pvehl-pwned`,
      })),
    };
    for (const [what, m] of [
      ["the homelab", HOMELAB],
      ["hostile names and addresses", hostile],
    ] as const) {
      it(`is strict bash that parses, for ${what}`, () => {
        const h = m.hosts[2]!;
        for (const text of [
          createClusterScript(m),
          joinScript(m, h),
          memberScript(m, h),
          delnodeScript(m, h),
        ]) {
          assert.ok(text.startsWith("#!/bin/bash\nset -euo pipefail\nexport LC_ALL=C\n"));
          const r = spawnSync("bash", ["-n"], { input: text, encoding: "utf8" });
          assert.equal(r.status, 0, r.stderr);
        }
      });
    }

    it("passes hostile values to pvecm as single, unchanged arguments", () => {
      const h = hostile.hosts[2]!;
      const s = stub(h.name)
        .state("/cluster/status", standalone(h.name))
        .state("/cluster/status", clusterStatus("x", h.name, [{ name: h.name, nodeid: 3 }], true), "add");
      // The final check reads the (hostile) cluster name back as a sanitised token, so it cannot match: the
      // bounded wait would run out. Only the pvecm call is under test here: stop right after it.
      const r = s.run(
        joinScript(hostile, h).replace(/^unset pvehl_pw\npvehl_joined[\s\S]*$/m, ""),
        joinStdin(FP, PASSWORD),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(s.calls()[0]!.argv, [
        "add",
        hostile.hosts[0]!.address,
        "--nodeid",
        "3",
        "--votes",
        "1",
        "--link0",
        `address=${h.address}`,
        "--fingerprint",
        FP,
      ]);
      assert.equal(spawnSync("test", ["-e", "/tmp/pvehl-pwned"]).status, 1, "a value was executed");
    });
  });

  describe("join (on the joining host)", () => {
    const joined = () => clusterStatus("homelab", "pve-high", homelabNodes(), true);

    it("joins a standalone host with the declared arguments, the password only on pvecm's stdin", () => {
      const s = stub("pve-high")
        .state("/cluster/status", standalone("pve-high"))
        .state("/cluster/status", joined(), "add");
      const r = s.run(joinScript(HOMELAB, high), joinStdin(FP, PASSWORD));
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(s.calls(), [
        {
          argv: [
            "add",
            "192.168.1.21",
            "--nodeid",
            "3",
            "--votes",
            "1",
            "--link0",
            "address=192.168.1.23",
            "--fingerprint",
            FP,
          ],
          stdin: `${PASSWORD}\n`,
        },
      ]);
      assert.equal(r.stdout, "", "pvecm's own output goes to stderr");
      assert.ok(!r.stderr.includes(PASSWORD) && !r.stdout.includes(PASSWORD), "the password was printed");
      assert.match(r.stderr, /host pve-high is online in cluster homelab, which is quorate/);
    });

    it("does nothing on a host that already is a member of the declared cluster", () => {
      const s = stub("pve-high").state("/cluster/status", joined());
      const r = s.run(joinScript(HOMELAB, high), joinStdin(FP, PASSWORD));
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(s.calls(), []);
      assert.match(r.stderr, /host pve-high is already a member of cluster homelab: nothing to join/);
    });

    const refusals: { what: string; hostname?: string; status: unknown; stdin?: string; message: RegExp }[] =
      [
        {
          what: "a host whose node name is not the declared one",
          hostname: "pve-other",
          status: standalone("pve-other"),
          message:
            /this host is 'pve-other', expected pve-high: check hosts\[\]\.address and hosts\[\]\.name in the stack/,
        },
        {
          what: "a host in another cluster",
          status: clusterStatus("lab2", "pve-high", [{ name: "pve-high", nodeid: 1 }], true),
          message:
            /host pve-high is already in cluster 'lab2', not homelab\. Joining would overwrite its \/etc\/pve\. Take it out of that cluster first/,
        },
        {
          what: "a member of the declared cluster under another nodeid",
          status: clusterStatus("homelab", "pve-high", [{ name: "pve-high", nodeid: 7 }], true),
          message:
            /host pve-high is in cluster homelab with nodeid 7, but the stack declares 3: set the nodeId of host pve-high in the stack to 7/,
        },
        {
          what: "a stdin whose first line is not a fingerprint",
          status: standalone("pve-high"),
          stdin: `not-a-fingerprint\n${PASSWORD}\n`,
          message: /stdin line 1 is not a SHA-256 fingerprint \(AA:BB:\.\.\.\): not-a-fingerprint/,
        },
        {
          what: "an empty stdin",
          status: standalone("pve-high"),
          stdin: "",
          message: /stdin: expected the cluster certificate fingerprint on line 1/,
        },
      ];
    for (const row of refusals) {
      it(`refuses ${row.what} without calling pvecm`, () => {
        const s = stub(row.hostname ?? "pve-high").state("/cluster/status", row.status);
        const r = s.run(joinScript(HOMELAB, high), row.stdin ?? joinStdin(FP, PASSWORD));
        assert.equal(r.code, 1);
        assert.match(r.stderr, row.message);
        assert.deepEqual(s.calls(), []);
      });
    }

    it("refuses a host that holds guests, naming their ids and the fix", () => {
      const s = stub("pve-high")
        .state("/cluster/status", standalone("pve-high"))
        .file("nodes/pve-high/qemu-server/101.conf", "memory: 512\n")
        .file("nodes/pve-high/lxc/200.conf", "memory: 512\n")
        .file("nodes/pve-low/qemu-server/900.conf", "memory: 512\n"); // another node's guest does not count
      const r = s.run(joinScript(HOMELAB, high), joinStdin(FP, PASSWORD));
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /host pve-high holds 2 guest\(s\) \(VM\/CT ids: 101 200\)\. Joining a cluster replaces \/etc\/pve, so Proxmox refuses a node with guests\. Back them up \(vzdump\)/,
      );
      assert.deepEqual(s.calls(), []);
    });

    it("reports a failed pvecm add with its exit code and the usual causes, never the password", () => {
      const s = stub("pve-high").state("/cluster/status", standalone("pve-high")).set("pvecm-rc", 255);
      const r = s.run(joinScript(HOMELAB, high), joinStdin(FP, PASSWORD));
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /pvecm add failed \(exit 255\), see its output above\. Usual causes: rootPassword is not the root password of pve-low/,
      );
      assert.match(r.stderr, /run 'pvecm delnode pve-high' on pve-low first/);
      assert.ok(!r.stderr.includes(PASSWORD));
    });

    it("refuses a password with a line break before anything runs, without showing it", () => {
      assert.throws(
        () => joinStdin(FP, "a\nb"),
        (e: Error) => !e.message.includes("a\nb") && /line break/.test(e.message),
      );
    });
  });

  describe("create (on the always-on host)", () => {
    let cert = "";
    let customCert = "";
    before(() => {
      const dir = mkdtempSync(path.join(os.tmpdir(), "pvehl-cert-"));
      const make = (name: string) => {
        const certFile = path.join(dir, `${name}.pem`);
        makeSelfSignedCert({
          keyFile: path.join(dir, `${name}.key`),
          certFile,
          days: 1,
          subject: `/CN=${name}`,
        });
        return readFileSync(certFile, "utf8");
      };
      cert = make("pve-ssl");
      customCert = make("pveproxy-ssl");
      rmSync(dir, { recursive: true, force: true });
    });
    const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
    const created = () =>
      [
        ["/cluster/status", clusterStatus("homelab", "pve-low", homelabNodes().slice(0, 1), true)],
        ["/cluster/config/nodes", configNodes(homelabNodes().slice(0, 1))],
      ] as const;

    it("creates the cluster with the declared arguments and prints only the certificate's fingerprint", () => {
      const s = stub("pve-low")
        .state("/cluster/status", standalone("pve-low"))
        .file("nodes/pve-low/pve-ssl.pem", cert);
      for (const [api, json] of created()) s.state(api, json, "create");
      const r = s.run(createClusterScript(HOMELAB));
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        s.calls().map((c) => c.argv),
        [["create", "homelab", "--nodeid", "1", "--votes", "3", "--link0", "address=192.168.1.21"]],
      );
      assert.equal(r.stdout, `${fingerprint(cert)}\n`);
    });

    it("does nothing but print the fingerprint when the host already runs the declared cluster; pveproxy-ssl.pem wins", () => {
      const s = stub("pve-low")
        .file("nodes/pve-low/pve-ssl.pem", cert)
        .file("nodes/pve-low/pveproxy-ssl.pem", customCert);
      for (const [api, json] of created()) s.state(api, json);
      const r = s.run(createClusterScript(HOMELAB));
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(s.calls(), []);
      assert.match(r.stderr, /host pve-low is already in cluster homelab: nothing to create/);
      assert.equal(r.stdout, `${fingerprint(customCert)}\n`);
    });

    it("refuses a host in a cluster of another name, with the fix", () => {
      const s = stub("pve-low").state(
        "/cluster/status",
        clusterStatus("lab2", "pve-low", homelabNodes().slice(0, 1), true),
      );
      const r = s.run(createClusterScript(HOMELAB));
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /host pve-low is already in cluster 'lab2', but the stack declares clusterName homelab\. A Proxmox cluster cannot be renamed in place: set clusterName to 'lab2'/,
      );
      assert.deepEqual(s.calls(), []);
    });

    it("refuses when the cluster has the host under another nodeid or address, naming both fields", () => {
      const s = stub("pve-low")
        .state("/cluster/status", clusterStatus("homelab", "pve-low", [{ name: "pve-low", nodeid: 4 }], true))
        .state("/cluster/config/nodes", configNodes([{ name: "pve-low", nodeid: 4, address: "10.9.9.9" }]));
      const r = s.run(createClusterScript(HOMELAB));
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /pve-low has nodeid 4 and link0 address 10\.9\.9\.9 .* but the stack declares nodeid 1 and address 192\.168\.1\.21\. Proxmox cannot change either in place: set the nodeId of host pve-low and the address of host pve-low in the stack/,
      );
    });
  });

  describe("member check and delnode (on the always-on host)", () => {
    it("confirms a member with the declared nodeid and address", () => {
      const s = stub("pve-low").state("/cluster/config/nodes", configNodes(homelabNodes()));
      const r = s.run(memberScript(HOMELAB, high));
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        /host pve-high is a member of cluster homelab \(nodeid 3, link0 192\.168\.1\.23\)/,
      );
      assert.deepEqual(s.calls(), []);
    });

    it("fails with the fix when the member's nodeid differs from the declared one", () => {
      const nodes = homelabNodes().map((n) => (n.name === "pve-high" ? { ...n, nodeid: 5 } : n));
      const s = stub("pve-low").state("/cluster/config/nodes", configNodes(nodes));
      const r = s.run(memberScript(HOMELAB, high));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /pve-high has nodeid 5 and link0 address 192\.168\.1\.23/);
    });

    it("refuses to remove a host that is still online, without calling pvecm", () => {
      const s = stub("pve-low")
        .state("/cluster/config/nodes", configNodes(homelabNodes()))
        .state("/cluster/status", clusterStatus("homelab", "pve-low", homelabNodes(true), true));
      const r = s.run(delnodeScript(HOMELAB, high));
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /host pve-high is still online in cluster homelab\. Proxmox requires a node to be powered off before 'pvecm delnode'.*power it off \(shutdown -h now on pve-high\)/,
      );
      assert.deepEqual(s.calls(), []);
    });

    it("removes an offline host with pvecm delnode and waits until it has left the nodelist", () => {
      const s = stub("pve-low")
        .state("/cluster/config/nodes", configNodes(homelabNodes()))
        .state("/cluster/status", clusterStatus("homelab", "pve-low", homelabNodes(false), true))
        .state("/cluster/config/nodes", configNodes(homelabNodes().slice(0, 2)), "delnode");
      const r = s.run(delnodeScript(HOMELAB, high));
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        s.calls().map((c) => c.argv),
        [["delnode", "pve-high"]],
      );
      assert.match(
        r.stderr,
        /host pve-high removed from cluster homelab\. Before it boots again, reinstall it or separate it/,
      );
    });

    it("does nothing when the host is not in the nodelist", () => {
      const s = stub("pve-low").state("/cluster/config/nodes", configNodes(homelabNodes().slice(0, 2)));
      const r = s.run(delnodeScript(HOMELAB, high));
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(s.calls(), []);
    });

    it("refuses without quorum (pvecm delnode needs it), naming the way out", () => {
      const s = stub("pve-low")
        .state("/cluster/config/nodes", configNodes(homelabNodes()))
        .state("/cluster/status", clusterStatus("homelab", "pve-low", homelabNodes(false), false))
        .set("quorum-rc", 2);
      const r = s.run(delnodeScript(HOMELAB, high));
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /the cluster is not quorate.*on pve-low, and on no other host, run 'pvecm expected' with the votes pve-low holds/,
      );
      assert.deepEqual(s.calls(), []);
    });

    it("runs only on the always-on host", () => {
      const s = stub("pve-high");
      for (const text of [memberScript(HOMELAB, high), delnodeScript(HOMELAB, high)]) {
        const r = s.run(text);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /this host is 'pve-high', expected pve-low/);
      }
    });
  });

  describe("retire step (retiredHosts)", () => {
    const RETIRED = model((v) => {
      v.hosts.splice(2, 1);
      v.retiredHosts = [{ name: "pve-high", nodeId: 3 }];
    });
    const gone = RETIRED.retiredHosts[0]!;
    const stdin = retireStdin(RETIRED, gone);
    const offline = () =>
      stub("pve-low")
        .state("/cluster/config/nodes", configNodes(homelabNodes()))
        .state("/cluster/status", clusterStatus("homelab", "pve-low", homelabNodes(false), true));

    it("says on stdin what it removes, readable in pulumi preview", () => {
      assert.equal(
        stdin,
        "remove pve-high (nodeid 3) from cluster homelab: pvecm delnode pve-high on pve-low\n",
      );
    });

    it("removes an offline host with pvecm delnode, waits until it left the nodelist, and says so on stdout", () => {
      const s = offline().state("/cluster/config/nodes", configNodes(homelabNodes().slice(0, 2)), "delnode");
      const r = s.run(retireScript(RETIRED, gone), stdin);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        s.calls().map((c) => c.argv),
        [["delnode", "pve-high"]],
      );
      assert.equal(r.stdout, "pve-high: removed from cluster homelab\n");
      assert.match(r.stderr, /afterwards: expected 4, quorum 3, online 4/);
    });

    it("does nothing when the host is no longer in the nodelist (a re-run)", () => {
      const s = stub("pve-low").state("/cluster/config/nodes", configNodes(homelabNodes().slice(0, 2)));
      const r = s.run(retireScript(RETIRED, gone), stdin);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "pve-high: not a member of cluster homelab\n");
      assert.deepEqual(s.calls(), []);
    });

    it("refuses while the host is online, without calling pvecm", () => {
      const s = stub("pve-low")
        .state("/cluster/config/nodes", configNodes(homelabNodes()))
        .state("/cluster/status", clusterStatus("homelab", "pve-low", homelabNodes(true), true));
      const r = s.run(retireScript(RETIRED, gone), stdin);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /host pve-high is still online in cluster homelab; nothing was removed\. Proxmox requires/,
      );
      assert.deepEqual(s.calls(), []);
    });

    it("refuses a nodelist entry with another nodeid than retiredHosts declares", () => {
      const nodes = homelabNodes(false).map((n) => (n.name === "pve-high" ? { ...n, nodeid: 7 } : n));
      const s = stub("pve-low").state("/cluster/config/nodes", configNodes(nodes));
      const r = s.run(retireScript(RETIRED, gone), stdin);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /pve-high has nodeid 7 in cluster homelab, but retiredHosts declares nodeid 3/);
      assert.deepEqual(s.calls(), []);
    });

    it("refuses when the online members would not be quorate without the host (an expected_votes override stays)", () => {
      const s = offline().set("expected", 9);
      const r = s.run(retireScript(RETIRED, gone), stdin);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /would leave the online members of cluster homelab with 4 of 9 expected votes, below the quorum of 5/,
      );
      assert.deepEqual(s.calls(), []);
    });

    it("refuses without quorum, and a stdin that is not its own line", () => {
      const inquorate = offline().set("quorum-rc", 2);
      const r = inquorate.run(retireScript(RETIRED, gone), stdin);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /the cluster is not quorate/);
      const wrong = offline().run(retireScript(RETIRED, gone), "remove pve-mid\n");
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /stdin must be the line/);
      assert.deepEqual(inquorate.calls(), []);
    });
  });

  it("names hosts, not list positions, so one host's scripts do not depend on the others (host: HostSpec)", () => {
    const moved = model((v) => {
      v.hosts[2]!.nodeId = 3;
      v.hosts.splice(1, 1);
    });
    const h: HostSpec = moved.hosts[1]!;
    assert.equal(joinScript(moved, h), joinScript(HOMELAB, high));
    assert.equal(memberScript(moved, h), memberScript(HOMELAB, high));
    assert.equal(delnodeScript(moved, h), delnodeScript(HOMELAB, high));
  });
});
