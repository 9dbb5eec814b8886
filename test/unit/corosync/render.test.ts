import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CorosyncEditError,
  readClusterName,
  readConfigVersion,
  readNodelist,
  readQuorum,
  renderCorosyncConf,
  type RenderInput,
} from "../../../core/corosync";
import { assertCorosyncAccepts, conf } from "../../helpers/corosync-validate";

const fixture = (name: string) => readFileSync(join(__dirname, "../../fixtures/corosync", name), "utf8");

const THREE: RenderInput = {
  clusterName: "homelab",
  configVersion: 3,
  nodes: [
    { name: "pve1", nodeId: 1, address: "192.168.10.11", votes: 1 },
    { name: "pve2", nodeId: 2, address: "192.168.10.12", votes: 1 },
    { name: "pve3", nodeId: 3, address: "192.168.10.13", votes: 1 },
  ],
};

describe("renderCorosyncConf", () => {
  it("writes what pvecm create and two pvecm add write, byte for byte", () => {
    assert.equal(renderCorosyncConf(THREE), fixture("three-nodes.conf"));
  });

  it("writes a QDevice section the way pvecm qdevice setup does", () => {
    const text = renderCorosyncConf({
      clusterName: "twonode",
      configVersion: 4,
      nodes: [
        { name: "pve-a", nodeId: 1, address: "172.16.0.21", votes: 1 },
        { name: "pve-b", nodeId: 2, address: "172.16.0.22", votes: 1 },
      ],
      quorum: { device: { host: "172.16.0.50", algorithm: "ffsplit", votes: 1 } },
    });
    assert.equal(text, fixture("qdevice-ffsplit.conf"));
  });

  it("sorts nodes by name, as Proxmox does", () => {
    const text = renderCorosyncConf({ ...THREE, nodes: [...THREE.nodes].reverse() });
    assert.deepStrictEqual(
      readNodelist(text).map((n) => n.name),
      ["pve1", "pve2", "pve3"],
    );
  });

  it("writes a second link on every node and a second interface", () => {
    const text = renderCorosyncConf({
      clusterName: "c",
      configVersion: 1,
      nodes: [{ name: "a", nodeId: 1, address: "10.0.0.1", address1: "10.1.0.1", votes: 2 }],
    });
    assert.equal(
      text,
      conf`
        logging {
          debug: off
          to_syslog: yes
        }

        nodelist {
          node {
            name: a
            nodeid: 1
            quorum_votes: 2
            ring0_addr: 10.0.0.1
            ring1_addr: 10.1.0.1
          }
        }

        quorum {
          provider: corosync_votequorum
        }

        totem {
          cluster_name: c
          config_version: 1
          interface {
            linknumber: 0
          }
          interface {
            linknumber: 1
          }
          ip_version: ipv4-6
          link_mode: passive
          secauth: on
          version: 2
        }

      `,
    );
  });

  it("writes given quorum flags as 1 or 0, sorted with the other keys", () => {
    const text = renderCorosyncConf({
      ...THREE,
      quorum: { expectedVotes: 5, waitForAll: true, twoNode: false },
    });
    assert.ok(
      text.includes(
        "quorum {\n  expected_votes: 5\n  provider: corosync_votequorum\n  two_node: 0\n  wait_for_all: 1\n}\n",
      ),
    );
  });

  it("reads back as it was given", () => {
    const text = renderCorosyncConf({ ...THREE, quorum: { lastManStanding: true } });
    assert.deepStrictEqual(
      {
        name: readClusterName(text),
        version: readConfigVersion(text),
        nodes: readNodelist(text),
        quorum: readQuorum(text),
      },
      {
        name: "homelab",
        version: 3,
        nodes: THREE.nodes.map((n) => ({
          name: n.name,
          nodeId: n.nodeId,
          ring0Addr: n.address,
          quorumVotes: n.votes,
        })),
        quorum: { provider: "corosync_votequorum", lastManStanding: true },
      },
    );
  });

  it("lists every bad field of the input together", () => {
    const bad: RenderInput = {
      clusterName: "home lab",
      configVersion: 1,
      nodes: [
        { name: "a", nodeId: 1, address: "10.0.0.1", votes: 1 },
        { name: "a", nodeId: 0, address: "10.0.0.2", votes: -1 },
      ],
    };
    assert.throws(
      () => renderCorosyncConf(bad),
      (e: unknown) =>
        e instanceof CorosyncEditError &&
        e.code === "invalid-render-input" &&
        e.problems.map((p) => p.message).join("\n") ===
          [
            'renderCorosyncConf: clusterName "home lab" must be non-empty without blanks or braces.',
            "renderCorosyncConf: nodes[1].nodeId 0 must be a whole number from 1 to 4294967295.",
            "renderCorosyncConf: nodes[1].votes -1 must be a whole number from 0 to 4294967295.",
            "renderCorosyncConf: node name a is repeated.",
          ].join("\n"),
    );
  });

  it("produces files corosync -t accepts", function () {
    this.timeout(60_000);
    assertCorosyncAccepts(
      renderCorosyncConf({ ...THREE, nodes: THREE.nodes.map((n, i) => ({ ...n, votes: i === 0 ? 3 : 1 })) }),
    );
    assertCorosyncAccepts(
      renderCorosyncConf({
        ...THREE,
        nodes: THREE.nodes.map((n, i) => ({ ...n, address1: `10.20.0.${i + 1}` })),
        quorum: { device: { host: "192.168.10.50", algorithm: "lms" } },
      }),
    );
  });
});
