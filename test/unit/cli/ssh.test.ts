import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  classifySshFailure,
  pinnedKey,
  runOnFirstReachable,
  runScript,
  sshArgv,
  type SshHost,
} from "../../../cli/ssh";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJx1Y2Vub3QtYS1yZWFsLWtleS1qdXN0LWEtdGVzdA";
const host = (over: Partial<SshHost> = {}): SshHost => ({
  name: "pve-low",
  address: "192.0.2.21",
  sshPort: 2222,
  sshUser: "admin",
  hostKey: `${KEY} root@pve-low`,
  configPath: "hosts[0]",
  ...over,
});

/** A stand-in ssh client: records its argv and stdin, then behaves as the test says (exit code, stderr). */
function fakeSsh(dir: string, behaviour: { code: number; stderr?: string; stdout?: string }): string {
  const file = path.join(dir, "ssh");
  fs.writeFileSync(
    file,
    [
      "#!/bin/bash",
      `printf '%s\\n' "$@" > ${dir}/argv`,
      `cat > ${dir}/stdin`,
      // The known_hosts file the client was given, read while it exists.
      `for a in "$@"; do case "$a" in UserKnownHostsFile=*) cp "\${a#UserKnownHostsFile=}" ${dir}/kh ;; esac; done`,
      `printf '%s' ${JSON.stringify(behaviour.stdout ?? "")}`,
      `printf '%s' ${JSON.stringify(behaviour.stderr ?? "")} >&2`,
      `exit ${behaviour.code}`,
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  return file;
}

describe("cli/ssh: the one SSH path", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "cli-ssh-test-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("pins the host key under the host's name, strict, batch, declared port and user", () => {
    const argv = sshArgv(host(), "/tmp/kh", { identity: "/keys/id" }, "bash -s");
    const opts = argv.filter((_, i) => argv[i - 1] === "-o");
    assert.deepEqual(
      opts.filter((o) =>
        /^(HostKeyAlias|UserKnownHostsFile|GlobalKnownHostsFile|StrictHostKeyChecking|BatchMode|IdentitiesOnly|UpdateHostKeys)=/.test(
          o,
        ),
      ),
      [
        "IdentitiesOnly=yes",
        "HostKeyAlias=pve-low",
        "UserKnownHostsFile=/tmp/kh",
        "GlobalKnownHostsFile=/dev/null",
        "StrictHostKeyChecking=yes",
        "UpdateHostKeys=no",
        "BatchMode=yes",
      ],
    );
    assert.deepEqual(argv.slice(0, 4), ["-F", "/dev/null", "-i", "/keys/id"]);
    assert.deepEqual(argv.slice(-7), ["-p", "2222", "-l", "admin", "192.0.2.21", "--", "bash -s"]);
  });

  it("offers no -i without --identity (the agent and ssh's default keys)", () => {
    const argv = sshArgv(host(), "/tmp/kh", {}, "bash -s");
    assert.ok(!argv.includes("-i"));
    assert.ok(!argv.includes("IdentitiesOnly=yes"));
  });

  it("reads the pinned key without its comment, and refuses a line that is not a key", () => {
    assert.equal(pinnedKey(`  ${KEY} root@pve-low \n`), KEY);
    assert.equal(pinnedKey("not a key"), undefined);
    assert.equal(pinnedKey(undefined), undefined);
  });

  const cases: [string, string, ReturnType<typeof classifySshFailure>][] = [
    [
      "changed key",
      "@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key verification failed.\n",
      "host-key",
    ],
    [
      "unknown key type",
      "No ED25519 host key is known for pve-low and you have requested strict checking.\nHost key verification failed.\n",
      "host-key",
    ],
    ["refused key", "admin@192.0.2.21: Permission denied (publickey).\n", "auth"],
    ["no route", "ssh: connect to host 192.0.2.21 port 2222: No route to host\n", "no-route"],
    ["refused", "ssh: connect to host 192.0.2.21 port 2222: Connection refused\n", "no-route"],
    ["timeout", "ssh: connect to host 192.0.2.21 port 2222: Connection timed out\n", "no-route"],
    ["unreachable", "ssh: connect to host 192.0.2.21 port 2222: Network is unreachable\n", "no-route"],
    ["other ssh error", "ssh: Could not load host key\n", "ssh"],
    ["the script's own output", "pvesh: something\n", undefined],
  ];
  for (const [what, stderr, reason] of cases) {
    it(`classifies ${what} as ${reason ?? "not ssh's own failure"}`, () => {
      assert.equal(classifySshFailure(stderr), reason);
    });
  }

  it("runs one session: the script on stdin of `bash -s`, the pinned key in a private known_hosts", async () => {
    const ssh = fakeSsh(dir, { code: 0, stdout: "hello" });
    const r = await runScript(host(), "echo hi\n", { sshCommand: ssh });
    assert.ok(r.ok);
    assert.equal(r.ok && r.stdout, "hello");
    assert.equal(fs.readFileSync(path.join(dir, "stdin"), "utf8"), "echo hi\n");
    assert.equal(fs.readFileSync(path.join(dir, "kh"), "utf8"), `pve-low ${KEY}\n`);
    const argv = fs.readFileSync(path.join(dir, "argv"), "utf8").trim().split("\n");
    const kh = argv.find((a) => a.startsWith("UserKnownHostsFile="))!.slice("UserKnownHostsFile=".length);
    assert.ok(!fs.existsSync(kh), "the temp known_hosts is removed after the session");
  });

  it("names the host, the pinned key and the field on a host key mismatch", async () => {
    const ssh = fakeSsh(dir, {
      code: 255,
      stderr:
        "@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nThe fingerprint for the ED25519 key sent by the remote host is\nSHA256:abcDEF123.\nHost key verification failed.\n",
    });
    const r = await runScript(host(), "true\n", { sshCommand: ssh });
    assert.ok(!r.ok);
    assert.equal(!r.ok && r.reason, "host-key");
    assert.match(
      !r.ok ? r.message : "",
      /^pve-low \(admin@192\.0\.2\.21 port 2222\): host key mismatch: the host did not present the pinned hosts\[0\]\.hostKey ssh-ed25519 AAAAC3NzaC1l…EtdGVzdA.*presented SHA256:abcDEF123/,
    );
  });

  it("refuses a host without a pinned key without running ssh", async () => {
    const ssh = fakeSsh(dir, { code: 0 });
    const r = await runScript(host({ hostKey: undefined }), "true\n", { sshCommand: ssh });
    assert.equal(!r.ok && r.reason, "host-key");
    assert.ok(!fs.existsSync(path.join(dir, "argv")));
  });

  it("keeps the remote exit status when ssh itself did not fail", async () => {
    const ssh = fakeSsh(dir, { code: 3, stderr: "the script said no\n" });
    const r = await runScript(host(), "exit 3\n", { sshCommand: ssh });
    assert.ok(r.ok);
    assert.equal(r.ok && r.code, 3);
  });

  it("moves on to the next host on no route only", async () => {
    const ssh = fakeSsh(dir, { code: 255, stderr: "ssh: connect to host x port 22: No route to host\n" });
    const two = [host({ name: "a" }), host({ name: "b" })];
    const r = await runOnFirstReachable(two, "true\n", { sshCommand: ssh });
    assert.deepEqual(
      r.skipped.map((s) => s.host.name),
      ["a", "b"],
    );
    const auth = fakeSsh(dir, { code: 255, stderr: "root@x: Permission denied (publickey).\n" });
    const r2 = await runOnFirstReachable(two, "true\n", { sshCommand: auth });
    assert.equal(r2.skipped.length, 0);
    assert.equal(r2.outcome && !r2.outcome.ok && r2.outcome.reason, "auth");
  });
});
