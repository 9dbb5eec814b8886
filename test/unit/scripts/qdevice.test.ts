// The QDevice scripts (core/scripts/qdevice): pure text from the Model, valid bash, pvecm's choices; and the
// shell blocks run for real under bash with stub commands on PATH (no root, nothing outside a temp dir):
// the corosync.conf reader against the TypeScript engine, the all-online check, the voting probe, the QNetd
// key check and the node-name check fed hostile values.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readClusterName, readNodelist, readQuorum } from "../../../core/corosync";
import type { Model } from "../../../core/model";
import {
  asRoot,
  deviceScript,
  qdevicePlan,
  qnetdScript,
  removeDeviceScript,
  rootKeyScript,
  type QDevicePlan,
} from "../../../core/scripts/qdevice";
import { confReader, deviceVotingProbe, requireAllOnline } from "../../../core/scripts/qdevice/blocks";
import { prelude } from "../../../core/scripts/lib";
import { quote } from "../../../core/shell";
import { KEY_HIGH, stackModel } from "../../fixtures/stacks";

const HOSTILE = [
  "$(touch PWNED)",
  "`touch PWNED`",
  "'; touch PWNED; '",
  '"; touch PWNED; "',
  "a\nb; touch PWNED",
];

function stack(n: number, mode: "qdevice" | "weighted" | "default" = "qdevice", user = "root"): Model {
  return stackModel({
    votes: Array.from({ length: n }, (_, i) => (mode === "weighted" && i === 0 ? n : 1)),
    quorum:
      mode === "qdevice"
        ? { mode, device: { address: "192.168.1.50", hostKey: KEY_HIGH, sshUser: user } }
        : { mode },
    extra: { sshUser: user },
  });
}
const planOf = (m: Model): QDevicePlan => {
  const p = qdevicePlan(m);
  assert.ok(p);
  return p;
};

/** A scratch dir with stub commands on PATH first. */
class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), "qdevice-unit-"));
  readonly bin = join(this.dir, "bin");
  constructor(stubs: Record<string, string> = {}) {
    spawnSync("mkdir", ["-p", this.bin]);
    for (const [name, body] of Object.entries(stubs)) this.stub(name, body);
  }
  stub(name: string, body: string): void {
    writeFileSync(join(this.bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  }
  run(text: string, stdin = ""): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync("bash", ["-c", text], {
      cwd: this.dir,
      input: stdin,
      encoding: "utf8",
      // HOME: bash sources ~/.bashrc when stdin is a socket (its "run by sshd" guess), as under spawnSync.
      env: { PATH: `${this.bin}:${process.env.PATH}`, LC_ALL: "C", HOME: this.dir },
      timeout: 20_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  file(name: string): string {
    return join(this.dir, name);
  }
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function bashSyntaxOk(text: string): void {
  const r = spawnSync("bash", ["-n"], { input: text, encoding: "utf8" });
  assert.equal(r.status, 0, `bash -n: ${r.stderr}\n${text}`);
}

describe("QDevice scripts", () => {
  it("are a pure function of the stack: two loads of the same stack give byte-identical scripts", () => {
    const [a, b] = [stack(3), stack(3)];
    assert.equal(deviceScript(a), deviceScript(b));
    assert.equal(removeDeviceScript(a), removeDeviceScript(b));
    assert.equal(qnetdScript(planOf(a)), qnetdScript(planOf(b)));
    assert.equal(rootKeyScript(planOf(a)), rootKeyScript(planOf(b)));
  });

  it("are valid bash for 2, 3 and 4 hosts in every mode, as root and through sudo", () => {
    for (const n of [2, 3, 4]) {
      for (const user of ["root", "admin"]) {
        const m = stack(n, "qdevice", user);
        for (const text of [
          deviceScript(m),
          removeDeviceScript(m),
          qnetdScript(planOf(m)),
          rootKeyScript(planOf(m)),
        ]) {
          bashSyntaxOk(text);
        }
      }
      bashSyntaxOk(deviceScript(stack(n, "weighted")));
      bashSyntaxOk(deviceScript(stack(n, "default")));
    }
  });

  it("run pvecm qdevice setup with --force only for an odd node count, and expect what pvecm writes", () => {
    const three = deviceScript(stack(3));
    assert.ok(three.includes("timeout 600 pvecm qdevice setup 192.168.1.50 --force >&2"));
    assert.ok(three.includes("pvehl_want='net|192.168.1.50|lms|'"));
    assert.match(three, /3 nodes is an odd count, which Proxmox does not officially support for a QDevice/);
    for (const n of [2, 4]) {
      const even = deviceScript(stack(n));
      assert.ok(even.includes("timeout 600 pvecm qdevice setup 192.168.1.50 >&2"), `${n} hosts`);
      assert.ok(!even.includes("--force"), `${n} hosts`);
      assert.ok(even.includes("pvehl_want='net|192.168.1.50|ffsplit|1'"), `${n} hosts`);
    }
  });

  it("outside qdevice mode, the config command's script is the removal script (its delete in every mode)", () => {
    for (const mode of ["weighted", "default"] as const) {
      const m = stack(3, mode);
      assert.equal(deviceScript(m), removeDeviceScript(m));
      assert.equal(qdevicePlan(m), undefined);
    }
    const text = removeDeviceScript(stack(3));
    assert.ok(text.includes("timeout 300 pvecm qdevice remove >&2"));
    assert.ok(!text.includes("qdevice setup"));
  });

  it("check every node is online before pvecm, in the always-on host's own session", () => {
    const text = deviceScript(stack(3));
    const online = text.indexOf("pvesh get /cluster/status --output-format json");
    assert.ok(online > 0 && online < text.indexOf("pvecm qdevice setup 192.168.1.50"));
    assert.ok(text.includes("for pvehl_h in pve1 pve2 pve3; do"));
  });

  it("run as another SSH user through `sudo -n bash -c`, the script being one quoted word", () => {
    const m = stack(3, "qdevice", "admin");
    const wrapped = deviceScript(m);
    assert.ok(wrapped.startsWith("sudo -n bash -c '#!/bin/bash\nset -euo pipefail\n"));
    const sb = new Sandbox({ sudo: '[ "$1" = -n ] && shift; exec "$@"' });
    try {
      const text = asRoot("admin", "echo \"it's $((6 * 7))\" > out; echo '$(touch PWNED)' >> out");
      assert.equal(sb.run(text).code, 0);
      assert.equal(readFileSync(sb.file("out"), "utf8"), "it's 42\n$(touch PWNED)\n");
      assert.equal(existsSync(sb.file("PWNED")), false);
    } finally {
      sb.dispose();
    }
    assert.equal(asRoot("root", "true"), "true");
  });
});

describe("QDevice shell blocks, run under bash", () => {
  describe("the corosync.conf reader agrees with the TypeScript engine on every fixture", () => {
    const dir = join(__dirname, "../../fixtures/corosync");
    const fixtures = readdirSync(dir).filter((f) => f.endsWith(".conf") && !f.startsWith("broken-"));
    const reader = [...confReader()].join("\n");
    for (const f of fixtures) {
      it(f, () => {
        const text = readFileSync(join(dir, f), "utf8");
        const sb = new Sandbox();
        try {
          writeFileSync(sb.file("c.conf"), text);
          const keys = [
            "totem.cluster_name",
            "quorum.device.model",
            "quorum.device.net.host",
            "quorum.device.net.algorithm",
            "quorum.device.votes",
          ];
          const r = sb.run(
            [
              reader,
              "pvehl_flat=$(pvehl_flatten c.conf)",
              ...keys.map((k) => `printf '%s=%s\\n' ${quote(k)} "$(pvehl_get ${quote(k)})"`),
              "pvehl_node_votes",
              "if pvehl_has_device; then echo device; else echo no-device; fi",
            ].join("\n"),
          );
          assert.equal(r.code, 0, r.stderr);
          const q = readQuorum(text);
          const want = [
            `totem.cluster_name=${readClusterName(text) ?? ""}`,
            `quorum.device.model=${q?.device?.model ?? ""}`,
            `quorum.device.net.host=${q?.device?.net?.host ?? ""}`,
            `quorum.device.net.algorithm=${q?.device?.net?.algorithm ?? ""}`,
            `quorum.device.votes=${q?.device?.votes ?? ""}`,
            ...readNodelist(text).map((n) => `${n.name}=${n.quorumVotes ?? 1}`),
            q?.device ? "device" : "no-device",
          ];
          assert.deepEqual(r.stdout.split("\n").filter(Boolean), want);
        } finally {
          sb.dispose();
        }
      });
    }
  });

  describe("the all-online check (pvesh get /cluster/status)", () => {
    const status = (online: Record<string, number>) =>
      JSON.stringify([
        { type: "cluster", id: "cluster", name: "homelab", nodes: 3, quorate: 1, version: 4 },
        ...Object.entries(online).map(([name, on], i) => ({
          type: "node",
          id: `node/${name}`,
          name,
          nodeid: i + 1,
          online: on,
          ip: "x",
        })),
      ]);
    const check = (json: string, hosts: readonly string[]) => {
      const sb = new Sandbox({ pvesh: `cat <<'JSON'\n${json}\nJSON` });
      try {
        return sb.run(
          [
            "set -euo pipefail",
            ...prelude("t"),
            ...requireAllOnline(hosts, "pve1", "pvecm qdevice setup"),
            "echo ok",
          ].join("\n"),
        );
      } finally {
        sb.dispose();
      }
    };

    it("passes when every member is online", () => {
      const r = check(status({ pve1: 1, pve2: 1, pve3: 1 }), ["pve1", "pve2", "pve3"]);
      assert.deepEqual([r.code, r.stdout], [0, "ok\n"]);
    });

    it("names every offline member and the fix", () => {
      const r = check(status({ pve1: 1, pve2: 0, pve3: 0 }), ["pve1", "pve2", "pve3"]);
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        "t: ERROR: All nodes must be online for `pvecm qdevice setup` (Proxmox refuses otherwise). Offline: pve2, pve3. " +
          "Power them on (a sleeping host: `pvenode wakeonlan NODE` on pve1), wait until `pvecm status` lists them, then run `pulumi up` again\n",
      );
    });

    it("counts an undeclared member that is offline too (pvecm checks every member)", () => {
      const r = check(status({ pve1: 1, pve2: 1, old: 0 }), ["pve1", "pve2"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Offline: old\./);
    });

    it("names declared hosts that are not members yet", () => {
      const r = check(status({ pve1: 1 }), ["pve1", "pve2", "pve3"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /not cluster members yet: pve2, pve3\. The membership step joins them/);
    });

    it("treats hostile host names as data", () => {
      for (const name of HOSTILE) {
        const sb = new Sandbox({ pvesh: `cat <<'JSON'\n${status({ pve1: 1 })}\nJSON` });
        try {
          const r = sb.run(
            ["set -euo pipefail", ...prelude("t"), ...requireAllOnline(["pve1", name], "pve1", "x")].join(
              "\n",
            ),
          );
          assert.equal(r.code, 1, r.stderr);
          assert.ok(r.stderr.includes(`not cluster members yet: ${name}.`), r.stderr);
          assert.equal(existsSync(sb.file("PWNED")), false, name);
        } finally {
          sb.dispose();
        }
      }
    });
  });

  describe("the voting probe (corosync-quorumtool -s, cmap)", () => {
    // Output seen on the testbed with corosync 3.1.7 and corosync-qdevice 3.0.3 (lms, 3 nodes).
    const head =
      "Quorum information\n------------------\nQuorate:          Yes\n\nMembership information\n----------------------\n    Nodeid      Votes    Qdevice Name\n         1          1    A,V,NMW pve1 (local)\n";
    const probe = (quorumtool: string, rc: number, host = "10.0.0.2", algorithm = "lms") => {
      const sb = new Sandbox({
        "corosync-quorumtool": `cat <<'OUT'\n${quorumtool}\nOUT\nexit ${rc}`,
        "corosync-cmapctl": `case "$2" in quorum.device.net.host) echo "quorum.device.net.host (str) = ${host}" ;; quorum.device.net.algorithm) echo "quorum.device.net.algorithm (str) = ${algorithm}" ;; quorum.device.model) echo "quorum.device.model (str) = net" ;; *) exit 1 ;; esac`,
      });
      try {
        return sb.run(
          [
            ...deviceVotingProbe(),
            "if pvehl_device_voting 10.0.0.2 lms; then echo voting; else echo not; fi",
          ].join("\n"),
        ).stdout;
      } finally {
        sb.dispose();
      }
    };
    it("sees a device casting its votes", () =>
      assert.equal(probe(`${head}         0          2            Qdevice`, 0), "voting\n"));
    it("does not count a configured device that casts none", () =>
      assert.equal(probe(`${head}         0          0            Qdevice (votes 2)`, 0), "not\n"));
    it("does not count a device while the node is not quorate (exit 2)", () =>
      assert.equal(probe(`${head}         0          2            Qdevice`, 2), "not\n"));
    it("waits for corosync to run the declared host and algorithm", () => {
      assert.equal(probe(`${head}         0          2            Qdevice`, 0, "10.0.0.9"), "not\n");
      assert.equal(
        probe(`${head}         0          2            Qdevice`, 0, "10.0.0.2", "ffsplit"),
        "not\n",
      );
    });
  });

  describe("hostile input stops before anything runs", () => {
    /** Every tool a script could change the system with records its call instead. */
    const recorders = Object.fromEntries(
      [
        "apt-get",
        "systemctl",
        "corosync-qnetd-certutil",
        "corosync-qnetd-tool",
        "sshd",
        "pvecm",
        "pvesh",
        "ssh",
        "chgrp",
        "mkdir",
        "touch",
        "chmod",
      ].map((t) => [t, `echo ${t} "$@" >> "$PWD/CALLED"; exit 0`]),
    );

    it("the QNetd script refuses stdin that is not one public key line", () => {
      for (const input of [
        ...HOSTILE,
        "",
        "ssh-rsa",
        "ssh-rsa AAAA$(touch PWNED)",
        "ssh-dss AAAAB3NzaC1kc3M=",
      ]) {
        const sb = new Sandbox(recorders);
        try {
          const r = sb.run(qnetdScript(planOf(stack(3))), input);
          assert.equal(r.code, 1, `${JSON.stringify(input)}: ${r.stderr}`);
          assert.match(r.stderr, /stdin must be one SSH public key line/);
          assert.equal(existsSync(sb.file("CALLED")), false, "a tool ran");
          assert.equal(existsSync(sb.file("PWNED")), false);
        } finally {
          sb.dispose();
        }
      }
    });

    it("a node name that is not this host's stops every script at the first line, printed as data", () => {
      for (const name of HOSTILE) {
        const base = stack(3);
        const m: Model = { ...base, hosts: base.hosts.map((h, i) => (i === 0 ? { ...h, name } : h)) };
        const p = planOf(m);
        for (const text of [deviceScript(m), removeDeviceScript(m), rootKeyScript(p)]) {
          bashSyntaxOk(text);
          const sb = new Sandbox({ ...recorders, hostname: "echo pve-low" });
          try {
            const r = sb.run(text);
            assert.equal(r.code, 1, r.stderr);
            assert.ok(r.stderr.includes(`this host is 'pve-low', expected ${name}`), r.stderr);
            assert.equal(existsSync(sb.file("CALLED")), false);
            assert.equal(existsSync(sb.file("PWNED")), false);
          } finally {
            sb.dispose();
          }
        }
      }
    });

    it("hostile QNetd address and host key keep every script valid bash", () => {
      for (const v of HOSTILE) {
        const base = stack(3);
        const device = { ...base.quorum.device!, address: v, hostKey: `ssh-ed25519 ${v}` };
        const m: Model = { ...base, quorum: { ...base.quorum, device } };
        bashSyntaxOk(deviceScript(m));
        bashSyntaxOk(qnetdScript(planOf(m)));
        assert.ok(deviceScript(m).includes(`pvecm qdevice setup ${quote(v)} --force`));
      }
    });
  });
});
