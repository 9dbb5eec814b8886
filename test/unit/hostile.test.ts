// core/config against hostile and malformed values (test/fixtures/hostile.ts): each is refused with a finding
// naming its field; the values this project carries (comments, IPv6 spellings, digit-only names) are
// carried in one safe form.
import { strict as assert } from "node:assert";
import { loadModel } from "../../core/config";
import { decodeConfigValue, STRUCTURED_KEYS } from "../../core/config/decode";
import { HOSTILE } from "../fixtures/hostile";
import { KEY_MID, TEST_SECRET_KEYS, withEdit, type Values } from "../fixtures/stacks";

const load = (values: Values) => loadModel({ values, secretKeys: new Set(TEST_SECRET_KEYS) });

describe("hostile and malformed config values", () => {
  it("the table has at least 40 rows", () => assert.ok(HOSTILE.length >= 40, String(HOSTILE.length)));

  for (const row of HOSTILE) {
    it(`refuses: ${row.why}`, () => {
      const { model, findings } = load(row.values);
      assert.equal(model, undefined, "no model");
      const at = findings.filter((f) => f.level === "error" && f.path === row.path);
      assert.ok(at.length > 0, `an error at ${row.path}: ${JSON.stringify(findings)}`);
      assert.ok(
        at.some((f) => f.message.includes(row.says)),
        `says "${row.says}": ${JSON.stringify(at)}`,
      );
      for (const f of findings) {
        assert.ok(!f.message.includes("\0") && !f.message.includes("\n"), `one printable line: ${f.message}`);
        assert.ok(f.message.length < 600, `bounded message: ${f.message.length}`);
      }
    });
  }

  describe("carried safely", () => {
    it("a host key comment never reaches a connection (the key is kept without it)", () => {
      const { model } = load(withEdit((v) => (v.hosts[1]!.hostKey = `${KEY_MID} $(touch /tmp/pwn); 'x'`)));
      assert.equal(model?.hosts[1]?.hostKey, KEY_MID);
    });

    it("IPv6 addresses are stored, compared and rendered in their canonical form", () => {
      const { model, findings } = load(
        withEdit((v) => {
          v.hosts[0]!.address = "2001:DB8:0:0::21";
          v.hosts[1]!.address = "2001:0db8::0:22";
        }),
      );
      assert.ok(model, JSON.stringify(findings));
      assert.deepEqual(
        model.hosts.map((h) => h.address),
        ["2001:db8::21", "2001:db8::22", "192.168.1.23"],
      );
      assert.equal(model.proxmox.endpoint, "https://[2001:db8::21]:8006/");
    });

    it("only structured keys are JSON: a digit-only cluster name stays a string", () => {
      for (const key of ["clusterName", "sshUser", "proxmoxEndpoint"])
        assert.ok(!STRUCTURED_KEYS.has(key), key);
      for (const key of [
        "hosts",
        "vms",
        "quorum",
        "sharedStorage",
        "acknowledgeQuorumRisk",
        "proxmoxInsecure",
      ])
        assert.ok(STRUCTURED_KEYS.has(key), key);
      assert.equal(decodeConfigValue("clusterName", "1234"), "1234");
      assert.equal(decodeConfigValue("sshUser", '"root"'), '"root"');
      assert.deepEqual(decodeConfigValue("hosts", "[]"), []);
      assert.equal(decodeConfigValue("proxmoxInsecure", "true"), true);
      const { model, findings } = load(
        withEdit((v) => (v.clusterName = decodeConfigValue("clusterName", "1234"))),
      );
      assert.equal(model?.clusterName, "1234", JSON.stringify(findings));
    });
  });
});
