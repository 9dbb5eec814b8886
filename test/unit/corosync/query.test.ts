import { strict as assert } from "node:assert";
import {
  CorosyncEditError,
  parseCorosyncConf,
  readClusterName,
  readConfigVersion,
  readNodelist,
  readQuorum,
  type CorosyncEditCode,
} from "../../../core/corosync";
import { conf } from "../../helpers/corosync-validate";

const refusedWith = (code: CorosyncEditCode) => (e: unknown) =>
  e instanceof CorosyncEditError && e.code === code;

const TWO_NODES = conf`
  nodelist {
    node {
      name: pve1
      nodeid: 1
      quorum_votes: 3
      ring0_addr: 192.168.10.11
    }
    node {
      name: pve2
      nodeid: 2
      ring0_addr: 192.168.10.12
      ring1_addr: 10.20.0.12
    }
  }

  totem {
    cluster_name: homelab
    config_version: 7
  }
`;

describe("corosync.conf queries", () => {
  describe("readNodelist", () => {
    it("reads every node with its votes and addresses", () => {
      assert.deepStrictEqual(readNodelist(TWO_NODES), [
        { name: "pve1", nodeId: 1, ring0Addr: "192.168.10.11", quorumVotes: 3 },
        { name: "pve2", nodeId: 2, ring0Addr: "192.168.10.12", ring1Addr: "10.20.0.12" },
      ]);
    });

    it("accepts an already parsed document", () => {
      assert.equal(readNodelist(parseCorosyncConf(TWO_NODES)).length, 2);
    });

    it("returns no nodes when there is no nodelist", () => {
      assert.deepStrictEqual(readNodelist("totem {\n}\n"), []);
    });

    it("refuses a node without a nodeid", () => {
      assert.throws(
        () => readNodelist("nodelist {\n node {\n  name: a\n  ring0_addr: 10.0.0.1\n }\n}\n"),
        (e: unknown) =>
          e instanceof CorosyncEditError &&
          e.code === "node-missing-field" &&
          e.message.startsWith("The nodelist node at line 2 has no nodeid line."),
      );
    });

    it("refuses a nodeid that is not a number", () => {
      assert.throws(
        () => readNodelist("nodelist {\n node {\n  name: a\n  nodeid: one\n  ring0_addr: 10.0.0.1\n }\n}\n"),
        refusedWith("invalid-number"),
      );
    });

    it("refuses votes followed by a would-be comment, which corosync reads as part of the value", () => {
      const text =
        "nodelist {\n node {\n  name: a\n  nodeid: 1\n  quorum_votes: 2 # main\n  ring0_addr: x\n }\n}\n";
      assert.throws(() => readNodelist(text), refusedWith("invalid-number"));
    });

    it("refuses a key that appears twice in a node", () => {
      const text = "nodelist {\n node {\n  name: a\n  nodeid: 1\n  nodeid: 2\n  ring0_addr: x\n }\n}\n";
      assert.throws(() => readNodelist(text), refusedWith("repeated-key"));
    });

    it("refuses two nodelist sections", () => {
      assert.throws(() => readNodelist("nodelist {\n}\nnodelist {\n}\n"), refusedWith("repeated-section"));
    });
  });

  describe("totem", () => {
    it("reads config_version", () => {
      assert.equal(readConfigVersion(TWO_NODES), 7);
    });

    it("reads cluster_name", () => {
      assert.equal(readClusterName(TWO_NODES), "homelab");
    });

    it("reads no cluster_name when there is none", () => {
      assert.equal(readClusterName("totem {\n}\n"), undefined);
    });

    it("refuses a missing config_version", () => {
      assert.throws(() => readConfigVersion("totem {\n}\n"), refusedWith("config-version-missing"));
    });

    it("refuses a config_version that is not plain digits", () => {
      assert.throws(
        () => readConfigVersion("totem {\n config_version: +3\n}\n"),
        refusedWith("config-version-invalid"),
      );
    });
  });

  describe("readQuorum", () => {
    it("reads the quorum section as pvecm writes it", () => {
      assert.deepStrictEqual(readQuorum("quorum {\n  provider: corosync_votequorum\n}\n"), {
        provider: "corosync_votequorum",
      });
    });

    it("reads flags, expected votes and the quorum device", () => {
      const text = conf`
        quorum {
          auto_tie_breaker: 0
          device {
            model: net
            net {
              algorithm: lms
              host: 192.168.10.50
              tls: on
            }
            votes: 2
          }
          expected_votes: 5
          last_man_standing: 0
          provider: corosync_votequorum
          two_node: 1
          wait_for_all: 1
        }
      `;
      assert.deepStrictEqual(readQuorum(text), {
        provider: "corosync_votequorum",
        expectedVotes: 5,
        twoNode: true,
        lastManStanding: false,
        autoTieBreaker: false,
        waitForAll: true,
        device: { model: "net", votes: 2, net: { host: "192.168.10.50", algorithm: "lms" } },
      });
    });

    it("reads no quorum section when there is none", () => {
      assert.equal(readQuorum("totem {\n}\n"), undefined);
    });

    it("refuses a flag that is not a number", () => {
      assert.throws(() => readQuorum("quorum {\n two_node: yes\n}\n"), refusedWith("invalid-number"));
    });

    it("refuses a flag above corosync's uint8 range", () => {
      assert.throws(() => readQuorum("quorum {\n wait_for_all: 256\n}\n"), refusedWith("invalid-number"));
    });
  });
});
