// core/knownHosts: the known_hosts file the Proxmox provider reads, holding exactly the pinned keys.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { updateKnownHosts, type PinnedHost } from "../../core/knownHosts";
import { KEY_HIGH, KEY_LOW, KEY_MID } from "../fixtures/stacks";

const pin = (name: string, address: string, hostKey: string, i: number): PinnedHost => ({
  path: `hosts[${i}].hostKey`,
  name,
  address,
  port: 22,
  hostKey,
});
const LOW = pin("pve-low", "192.168.1.21", KEY_LOW, 0);
const MID = pin("pve-mid", "2001:db8::22", KEY_MID, 1);

/** OpenSSH's own hashing of a known_hosts file (ssh-keygen -H), so the hashed form is not ours. */
function hashed(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "kh-"));
  try {
    const file = path.join(dir, "known_hosts");
    writeFileSync(file, text);
    execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
    return readFileSync(file, "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("known_hosts for the Proxmox provider", () => {
  it("appends every missing pinned key, keeping the other lines byte for byte", () => {
    const other = "example.org ssh-ed25519 AAAAother\n# a comment\n";
    const u = updateKnownHosts(other, [LOW, MID]);
    assert.deepEqual(u.conflicts, []);
    assert.deepEqual(u.added, [LOW, MID]);
    assert.equal(u.text, `${other}192.168.1.21 ${KEY_LOW}\n2001:db8::22 ${KEY_MID}\n`);
  });

  it("adds a newline before its lines when the file has none at the end", () => {
    assert.equal(updateKnownHosts("a b c", [LOW]).text, `a b c\n192.168.1.21 ${KEY_LOW}\n`);
  });

  it("leaves a file that already pins the keys unchanged, hashed or not", () => {
    const plain = `192.168.1.21,pve-low ${KEY_LOW}\n`;
    assert.deepEqual(updateKnownHosts(plain, [LOW]), { text: plain, added: [], conflicts: [] });
    const h = hashed(`192.168.1.21 ${KEY_LOW}\n`);
    assert.match(h, /^\|1\|/);
    assert.deepEqual(updateKnownHosts(h, [LOW]), { text: h, added: [], conflicts: [] });
  });

  for (const [why, line] of [
    ["another key for the address", `192.168.1.21 ${KEY_HIGH}`],
    ["another key under a hashed name (ssh-keygen -H)", hashed(`192.168.1.21 ${KEY_HIGH}\n`).trim()],
    ["a wildcard covering the address", `192.168.1.* ${KEY_HIGH}`],
    ["a certificate authority for the address", `@cert-authority 192.168.1.2? ${KEY_HIGH}`],
  ] as const) {
    it(`refuses ${why}, naming the line, and writes nothing`, () => {
      const text = `example.org ${KEY_MID}\n${line}\n`;
      const u = updateKnownHosts(text, [LOW]);
      assert.equal(u.text, text);
      assert.deepEqual(u.added, []);
      assert.deepEqual(
        u.conflicts.map((c) => [c.host.name, c.line]),
        [["pve-low", 2]],
      );
    });
  }

  it("a pinned key next to another key for the same host is still a conflict", () => {
    const u = updateKnownHosts(`192.168.1.21 ${KEY_LOW}\n192.168.1.21 ${KEY_HIGH}\n`, [LOW]);
    assert.deepEqual(
      u.conflicts.map((c) => c.line),
      [2],
    );
  });

  it("ignores revoked keys and patterns negated for the host", () => {
    const text = `@revoked 192.168.1.21 ${KEY_HIGH}\n192.168.1.*,!192.168.1.21 ${KEY_HIGH}\n`;
    const u = updateKnownHosts(text, [LOW]);
    assert.deepEqual(u.conflicts, []);
    assert.deepEqual(u.added, [LOW]);
  });
});
