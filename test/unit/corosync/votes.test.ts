import { strict as assert } from "node:assert";
import {
  CorosyncEditError,
  CorosyncParseError,
  resetVotes,
  setVotes,
  type CorosyncEditCode,
  type SetVotesOptions,
} from "../../../core/corosync";
import { conf } from "../../helpers/corosync-validate";

const THREE_NODES = conf`
  nodelist {
    node {
      name: pve1
      nodeid: 1
      quorum_votes: 1
      ring0_addr: 192.168.10.11
    }
    node {
      name: pve2
      nodeid: 2
      quorum_votes: 1
      ring0_addr: 192.168.10.12
    }
    node {
      name: pve3
      nodeid: 3
      quorum_votes: 1
      ring0_addr: 192.168.10.13
    }
  }

  quorum {
    provider: corosync_votequorum
  }

  totem {
    cluster_name: homelab
    config_version: 3
  }
`;

const WEIGHTED = { pve1: 3, pve2: 1, pve3: 1 };

/** The codes of all problems a refused edit reports, in order. */
function refusal(
  text: string,
  desired: Record<string, number>,
  options?: SetVotesOptions,
): CorosyncEditCode[] {
  try {
    setVotes(text, desired, options);
  } catch (e) {
    if (e instanceof CorosyncEditError) return e.problems.map((p) => p.code);
    throw e;
  }
  assert.fail("setVotes did not refuse");
}

describe("setVotes", () => {
  describe("edits", () => {
    it("sets quorum_votes and bumps config_version by one", () => {
      const edit = setVotes(THREE_NODES, WEIGHTED);
      assert.equal(
        edit.text,
        THREE_NODES.replace(
          "quorum_votes: 1\n    ring0_addr: 192.168.10.11",
          "quorum_votes: 3\n    ring0_addr: 192.168.10.11",
        ).replace("config_version: 3", "config_version: 4"),
      );
      assert.deepStrictEqual(
        { ...edit, text: undefined },
        { text: undefined, changed: true, versionBefore: 3, versionAfter: 4 },
      );
    });

    it("bumps the version once when several nodes change", () => {
      const edit = setVotes(THREE_NODES, { pve1: 2, pve2: 0, pve3: 2 });
      assert.equal(edit.versionAfter, 4);
      assert.equal(edit.text.match(/config_version: 4/g)?.length, 1);
    });

    it("inserts quorum_votes after the nodeid line with its indentation when a node has none", () => {
      const text =
        "nodelist {\n\tnode {\n\t\tname: a\n\t\tnodeid: 1\n\t\tring0_addr: 10.0.0.1\n\t}\n}\ntotem {\n config_version: 1\n}\n";
      assert.equal(
        setVotes(text, { a: 2 }).text,
        "nodelist {\n\tnode {\n\t\tname: a\n\t\tnodeid: 1\n\t\tquorum_votes: 2\n\t\tring0_addr: 10.0.0.1\n\t}\n}\ntotem {\n config_version: 2\n}\n",
      );
    });

    it("keeps comments, blanks and odd spacing around the changed values", () => {
      const text = conf`
        # managed by hand
        nodelist {
          node {
            name: a
            nodeid: 1
            # weight
            quorum_votes :\t1 \t
            ring0_addr: 10.0.0.1
          }
        }

        totem {
          config_version:   9
        }
      `;
      assert.equal(
        setVotes(text, { a: 2 }).text,
        text.replace(":\t1 \t", ":\t2 \t").replace("config_version:   9", "config_version:   10"),
      );
    });

    it("keeps CRLF line endings, also on an inserted line", () => {
      const text =
        "nodelist {\r\n node {\r\n  name: a\r\n  nodeid: 1\r\n  ring0_addr: x\r\n }\r\n}\r\ntotem {\r\n config_version: 1\r\n}";
      assert.equal(
        setVotes(text, { a: 2 }).text,
        "nodelist {\r\n node {\r\n  name: a\r\n  nodeid: 1\r\n  quorum_votes: 2\r\n  ring0_addr: x\r\n }\r\n}\r\ntotem {\r\n config_version: 2\r\n}",
      );
    });

    it("resetVotes sets every node back to 1", () => {
      const weighted = setVotes(THREE_NODES, WEIGHTED).text;
      const reset = resetVotes(weighted);
      assert.equal(reset.text, THREE_NODES.replace("config_version: 3", "config_version: 5"));
    });
  });

  describe("no-ops", () => {
    it("returns the same text without a version bump when the votes are in place", () => {
      const weighted = setVotes(THREE_NODES, WEIGHTED).text;
      assert.deepStrictEqual(setVotes(weighted, WEIGHTED), {
        text: weighted,
        changed: false,
        versionBefore: 4,
        versionAfter: 4,
      });
    });

    it("counts a missing quorum_votes line as corosync's default of 1", () => {
      const text =
        "nodelist {\n node {\n  name: a\n  nodeid: 1\n  ring0_addr: x\n }\n}\ntotem {\n config_version: 1\n}\n";
      assert.equal(setVotes(text, { a: 1 }).changed, false);
    });

    it("reads the votes as corosync does, so 03 already is 3", () => {
      const text = THREE_NODES.replace("quorum_votes: 1", "quorum_votes: 03");
      assert.equal(setVotes(text, WEIGHTED).changed, false);
    });
  });

  describe("refusals", () => {
    it("refuses a desired node that is not in the nodelist", () => {
      assert.deepStrictEqual(refusal(THREE_NODES, { ...WEIGHTED, pve4: 1 }), ["unknown-node"]);
    });

    it("refuses when nodelist nodes are not declared", () => {
      assert.deepStrictEqual(refusal(THREE_NODES, { pve1: 3, pve2: 1 }), ["undeclared-node"]);
    });

    it("names the undeclared nodes and the fix", () => {
      assert.throws(
        () => setVotes(THREE_NODES, { pve1: 3, pve2: 1 }),
        (e: unknown) =>
          e instanceof CorosyncEditError &&
          e.message ===
            "The nodelist has nodes the stack does not declare: pve3 (nodeid 3). " +
              "Fix: declare them in the stack's hosts; to remove a host, power it off and list it in retiredHosts (the retire step runs pvecm delnode before this push, in the same pulumi up)",
      );
    });

    it("refuses votes that are not whole numbers", () => {
      assert.deepStrictEqual(refusal(THREE_NODES, { pve1: 1.5, pve2: -1, pve3: 1 }), [
        "invalid-votes",
        "invalid-votes",
      ]);
    });

    it("refuses duplicate nodeids", () => {
      assert.deepStrictEqual(refusal(THREE_NODES.replace("nodeid: 3", "nodeid: 2"), WEIGHTED), [
        "duplicate-nodeid",
      ]);
    });

    it("refuses duplicate node names", () => {
      assert.deepStrictEqual(refusal(THREE_NODES.replace("name: pve3", "name: pve2"), WEIGHTED), [
        "duplicate-node-name",
      ]);
    });

    it("refuses a file without nodes", () => {
      assert.deepStrictEqual(refusal("totem {\n config_version: 1\n}\n", {}), ["no-nodelist"]);
    });

    it("refuses a missing config_version", () => {
      assert.deepStrictEqual(refusal(THREE_NODES.replace("  config_version: 3\n", ""), WEIGHTED), [
        "config-version-missing",
      ]);
    });

    it("refuses a non-numeric config_version", () => {
      assert.deepStrictEqual(
        refusal(THREE_NODES.replace("config_version: 3", "config_version: three"), WEIGHTED),
        ["config-version-invalid"],
      );
    });

    it("refuses a node whose quorum_votes line appears twice", () => {
      const text = THREE_NODES.replace("quorum_votes: 1\n", "quorum_votes: 1\n    quorum_votes: 2\n");
      assert.deepStrictEqual(refusal(text, WEIGHTED), ["repeated-key"]);
    });

    it("refuses a node without ring0_addr", () => {
      assert.deepStrictEqual(refusal(THREE_NODES.replace("    ring0_addr: 192.168.10.13\n", ""), WEIGHTED), [
        "node-missing-field",
      ]);
    });

    it("refuses a non-numeric nodeid", () => {
      assert.deepStrictEqual(refusal(THREE_NODES.replace("nodeid: 3", "nodeid: three"), WEIGHTED), [
        "invalid-number",
      ]);
    });

    it("refuses syntax errors with the parser's error", () => {
      assert.throws(() => setVotes(`${THREE_NODES}}\n`, WEIGHTED), CorosyncParseError);
    });

    describe("nodelist drift", () => {
      const expectNodes = {
        pve1: { nodeId: 1, address: "192.168.10.11" },
        pve2: { nodeId: 2, address: "192.168.10.12" },
        pve3: { nodeId: 3, address: "192.168.10.13" },
      };

      it("accepts a nodelist that matches the stack", () => {
        assert.equal(setVotes(THREE_NODES, WEIGHTED, { expectNodes }).changed, true);
      });

      it("refuses a changed nodeid", () => {
        assert.deepStrictEqual(
          refusal(THREE_NODES, WEIGHTED, {
            expectNodes: { ...expectNodes, pve3: { nodeId: 4, address: "192.168.10.13" } },
          }),
          ["nodelist-drift"],
        );
      });

      it("refuses a changed address and says which", () => {
        assert.throws(
          () =>
            setVotes(THREE_NODES, WEIGHTED, {
              expectNodes: { ...expectNodes, pve2: { nodeId: 2, address: "192.168.10.22" } },
            }),
          (e: unknown) =>
            e instanceof CorosyncEditError &&
            e.code === "nodelist-drift" &&
            e.message.startsWith(
              "The cluster's nodelist differs from the stack: pve2 has ring0_addr 192.168.10.12, expected 192.168.10.22.",
            ),
        );
      });

      it("refuses a node the stack expects but the cluster lacks", () => {
        const extra = { ...expectNodes, pve4: { nodeId: 4, address: "192.168.10.14" } };
        assert.deepStrictEqual(refusal(THREE_NODES, WEIGHTED, { expectNodes: extra }), ["nodelist-drift"]);
      });
    });

    describe("quorum of the always-on hosts", () => {
      it("accepts 3/1/1: the 3-vote host alone holds 3 of 5 votes, quorum 3", () => {
        assert.equal(setVotes(THREE_NODES, WEIGHTED, { alwaysOn: ["pve1"] }).changed, true);
      });

      it("refuses 2/1/1: the 2-vote host alone holds 2 of 4 votes, quorum 3", () => {
        assert.deepStrictEqual(refusal(THREE_NODES, { pve1: 2, pve2: 1, pve3: 1 }, { alwaysOn: ["pve1"] }), [
          "always-on-not-quorate",
        ]);
      });

      it("explains the vote count and the fix", () => {
        assert.throws(
          () => setVotes(THREE_NODES, { pve1: 2, pve2: 1, pve3: 1 }, { alwaysOn: ["pve1"] }),
          (e: unknown) =>
            e instanceof CorosyncEditError &&
            e.message ===
              "The always-on hosts (pve1) would hold 2 of 4 expected votes; quorum is 3, so they could not stay quorate on their own. " +
                "Fix: give the always-on hosts more votes together than all other hosts (now 2 against 2)",
        );
      });

      it("refuses resetting to 1 vote each while only the always-on host is a member", () => {
        const weighted = setVotes(THREE_NODES, WEIGHTED).text;
        assert.throws(
          () => resetVotes(weighted, { live: { members: [1], deviceCasting: false } }),
          (e: unknown) =>
            e instanceof CorosyncEditError &&
            e.code === "live-members-not-quorate" &&
            e.message.startsWith(
              "The hosts corosync reports as members right now (pve1) would hold 1 of 3 expected votes under the new file; quorum would be 2,",
            ),
        );
        assert.equal(resetVotes(weighted, { live: { members: [1, 2], deviceCasting: false } }).changed, true);
      });

      it("uses quorum.expected_votes when it is set", () => {
        const text = THREE_NODES.replace(
          "provider: corosync_votequorum",
          "expected_votes: 7\n    provider: corosync_votequorum",
        );
        assert.deepStrictEqual(refusal(text, WEIGHTED, { alwaysOn: ["pve1"] }), ["always-on-not-quorate"]);
      });

      it("refuses an always-on host that is not declared", () => {
        assert.deepStrictEqual(refusal(THREE_NODES, WEIGHTED, { alwaysOn: ["pve9"] }), ["unknown-node"]);
      });

      it("skips the check when no host is always on", () => {
        assert.equal(setVotes(THREE_NODES, { pve1: 1, pve2: 1, pve3: 2 }, { alwaysOn: [] }).changed, true);
      });
    });

    it("refuses weighted votes with a quorum device that has no votes of its own", () => {
      const text = THREE_NODES.replace(
        "  provider: corosync_votequorum",
        "  device {\n    model: net\n    net {\n      algorithm: lms\n      host: 192.168.10.50\n    }\n  }\n  provider: corosync_votequorum",
      );
      assert.deepStrictEqual(refusal(text, WEIGHTED), ["quorum-device-with-weighted-votes"]);
    });

    it("refuses weighted votes with last_man_standing", () => {
      const text = THREE_NODES.replace(
        "provider: corosync_votequorum",
        "last_man_standing: 1\n    provider: corosync_votequorum",
      );
      assert.deepStrictEqual(refusal(text, WEIGHTED), ["last-man-standing-with-weighted-votes"]);
    });

    it("reports several problems of the request together", () => {
      assert.deepStrictEqual(refusal(THREE_NODES, { pve1: 3, pve2: 1, pve9: 1 }), [
        "unknown-node",
        "undeclared-node",
      ]);
    });
  });
});

describe("setVotes: the stack's quorum options and the quorum check on the new file", () => {
  const withQuorum = (lines: string) =>
    THREE_NODES.replace("  provider: corosync_votequorum", `  provider: corosync_votequorum\n${lines}`);

  it("writes the stack's options after the section's last key, in the same locked edit as the votes", () => {
    const edit = setVotes(THREE_NODES, WEIGHTED, { quorum: { wait_for_all: 1 } });
    assert.equal(edit.versionAfter, 4);
    assert.match(edit.text, /quorum \{\n  provider: corosync_votequorum\n  wait_for_all: 1\n\}/);
    assert.match(edit.text, /quorum_votes: 3/);
  });

  it("removes options the stack does not set, changes differing values, keeps provider and device", () => {
    const text = withQuorum(
      "  expected_votes: 3\n  two_node: 1\n  wait_for_all: 1\n  device {\n    votes: 1\n  }",
    );
    const edit = setVotes(text, { pve1: 1, pve2: 1, pve3: 1 }, { quorum: { expected_votes: 4 } });
    assert.equal(
      edit.text,
      withQuorum("  expected_votes: 4\n  device {\n    votes: 1\n  }").replace(
        "config_version: 3",
        "config_version: 4",
      ),
    );
  });

  it("options already as declared: nothing written, no version bump", () => {
    const text = withQuorum("  wait_for_all: 1");
    const edit = setVotes(text, { pve1: 1, pve2: 1, pve3: 1 }, { quorum: { wait_for_all: 1 } });
    assert.deepEqual([edit.changed, edit.text], [false, text]);
  });

  it("a live expected_votes: 3 under 3/1/1 would let pve2 + pve3 be quorate: the stack's section replaces it", () => {
    const text = withQuorum("  expected_votes: 3");
    // Kept as it is (section not managed), the file would hand the others quorum: refused.
    assert.deepEqual(refusal(text, WEIGHTED, { alwaysOn: ["pve1"] }), ["others-quorate-without-always-on"]);
    // With the stack's section (no expected_votes) the same push writes, and drops the override.
    const edit = setVotes(text, WEIGHTED, { alwaysOn: ["pve1"], quorum: {} });
    assert.doesNotMatch(edit.text, /expected_votes/);
  });

  it("counts device votes in expected votes: 3/1/1 + 1 device vote = 6, quorum 4, pve1 alone 3", () => {
    const text = withQuorum("  device {\n    model: net\n    votes: 1\n  }");
    assert.throws(
      () => setVotes(text, WEIGHTED, { alwaysOn: ["pve1"], quorum: {} }),
      (e: unknown) =>
        e instanceof CorosyncEditError &&
        e.code === "always-on-not-quorate" &&
        e.message.startsWith(
          "The always-on hosts (pve1) would hold 3 of 6 expected votes (6 counts the quorum device's 1 vote(s)); quorum is 4, so they could not stay quorate on their own. Fix: remove the quorum device",
        ),
    );
    // 4/1/1 + 1: expected 7, quorum 4, pve1 alone 4: accepted.
    assert.equal(
      setVotes(text, { pve1: 4, pve2: 1, pve3: 1 }, { alwaysOn: ["pve1"], quorum: {} }).changed,
      true,
    );
  });

  it("refuses a write that takes quorum from the members corosync reports, naming the numbers", () => {
    assert.throws(
      () =>
        setVotes(THREE_NODES, WEIGHTED, {
          quorum: { expected_votes: 9 },
          live: { members: [1], deviceCasting: false },
        }),
      (e: unknown) =>
        e instanceof CorosyncEditError &&
        e.message ===
          "The hosts corosync reports as members right now (pve1) would hold 3 of 9 expected votes under the new file; quorum would be 5, so they would lose quorum and /etc/pve would turn read-only. " +
            "Fix: power on the other hosts and wait until `pvecm status` lists them as members, then re-run; the change itself is fine once they are up",
    );
    // The same file with nothing to change is not a write: no refusal.
    const applied = setVotes(THREE_NODES, WEIGHTED).text;
    assert.equal(
      setVotes(applied, WEIGHTED, { live: { members: [1], deviceCasting: false } }).changed,
      false,
    );
  });

  it("reset removes every managed option and refuses while only the 3-vote host is up", () => {
    const text = setVotes(THREE_NODES, WEIGHTED, { quorum: { wait_for_all: 1 } }).text;
    const reset = resetVotes(text, { live: { members: [1, 2, 3], deviceCasting: false } });
    assert.doesNotMatch(reset.text, /wait_for_all/);
    assert.deepEqual(
      refusal(
        text,
        { pve1: 1, pve2: 1, pve3: 1 },
        { quorum: {}, live: { members: [1], deviceCasting: false } },
      ),
      ["live-members-not-quorate"],
    );
  });

  it("refuses options for a file without a quorum section", () => {
    const text = THREE_NODES.replace(/quorum \{\n {2}provider: corosync_votequorum\n\}\n/, "");
    assert.deepEqual(refusal(text, WEIGHTED, { quorum: { two_node: 1 } }), ["quorum-section-missing"]);
  });
});
