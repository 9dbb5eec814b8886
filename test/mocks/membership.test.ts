// ClusterMembership under the SDK's mocks: the exact resource graph, join order (dependsOn), exact inputs, where
// the root password may and may not appear, the one-shot joins, and what each host's inputs depend on.
import { strict as assert } from "node:assert";
import { withoutConnectionNote } from "../../components/ssh";
import * as pulumi from "@pulumi/pulumi";
import { loadModel } from "../../core/config";
import type { HostSpec, Model } from "../../core/model";
import { createClusterScript, delnodeScript, joinScript, memberScript } from "../../core/scripts/membership";
import { ClusterMembership, JOIN_IGNORE_CHANGES } from "../../components/ClusterMembership";
import { KEY_HIGH, KEY_LOW, KEY_MID, TEST_SECRET_KEYS, withEdit } from "../fixtures/stacks";
import {
  captureMembership,
  COMMAND_TYPE,
  FAKE_FINGERPRINT,
  isSecret,
  promiseOf,
  unwrap,
  type Capture,
  type CapturedCommand,
} from "../integration/pve-standin/capture";

type Edit = Parameters<typeof withEdit>[0];

const PASSWORD = "root-pw 'x' $(id)";
const PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
const M = "homelab-membership";
const NAMES = [
  `${M}-create`,
  `${M}-join-pve-mid`,
  `${M}-member-pve-mid`,
  `${M}-join-pve-high`,
  `${M}-member-pve-high`,
];

function model(edit: Edit = () => {}): Model {
  const loaded = loadModel({ values: withEdit(edit), secretKeys: TEST_SECRET_KEYS });
  assert.ok(loaded.model, JSON.stringify(loaded.findings));
  return loaded.model;
}

const capture = (m: Model, rootPassword: string | undefined = PASSWORD): Promise<Capture> =>
  captureMembership(m, { rootPassword, sshPrivateKey: PRIVATE_KEY });

const host = (m: Model, name: string): HostSpec => {
  const h = m.hosts.find((x) => x.name === name);
  assert.ok(h, name);
  return h;
};

/** Everything a command sends that a diff could see (secrets unwrapped). */
const inputsOf = (c: CapturedCommand) => unwrap(c.wire);

describe("mocks: ClusterMembership", () => {
  it("registers a create on the always-on host, then per other host a join on it and a member check on the always-on host", async () => {
    const { registered, commands } = await capture(model());
    assert.deepEqual(registered, [
      { type: "pve-homelab:cluster:ClusterMembership", name: M },
      ...NAMES.map((name) => ({ type: COMMAND_TYPE, name })),
    ]);
    assert.deepEqual(
      commands.map((c) => [c.name, c.host]),
      [
        [`${M}-create`, "192.168.1.21"],
        [`${M}-join-pve-mid`, "192.168.1.22"],
        [`${M}-member-pve-mid`, "192.168.1.21"],
        [`${M}-join-pve-high`, "192.168.1.23"],
        [`${M}-member-pve-high`, "192.168.1.21"],
      ],
    );
  });

  it("chains the commands so hosts join one at a time, each after the previous join is confirmed", async () => {
    const { commands } = await capture(model());
    assert.deepEqual(
      commands.map((c) => [c.name, c.dependsOn]),
      [
        [`${M}-create`, []],
        [`${M}-join-pve-mid`, [`${M}-create`]],
        [`${M}-member-pve-mid`, [`${M}-join-pve-mid`]],
        [`${M}-join-pve-high`, [`${M}-member-pve-mid`]],
        [`${M}-member-pve-high`, [`${M}-join-pve-high`]],
      ],
    );
  });

  it("sends exactly the scripts core/scripts/membership renders, and deletes only through the always-on host", async () => {
    const m = model();
    const c = await capture(m);
    const mid = host(m, "pve-mid");
    const high = host(m, "pve-high");
    const scripts = (x: CapturedCommand) =>
      [x.create, x.update, x.delete].map((t) => (t === undefined ? t : withoutConnectionNote(t)));
    assert.deepEqual(scripts(c.byName(`${M}-create`)), [createClusterScript(m), undefined, undefined]);
    assert.deepEqual(scripts(c.byName(`${M}-join-pve-mid`)), [joinScript(m, mid), undefined, undefined]);
    assert.deepEqual(scripts(c.byName(`${M}-join-pve-high`)), [joinScript(m, high), undefined, undefined]);
    assert.deepEqual(scripts(c.byName(`${M}-member-pve-mid`)), [
      memberScript(m, mid),
      undefined,
      delnodeScript(m, mid),
    ]);
    assert.deepEqual(scripts(c.byName(`${M}-member-pve-high`)), [
      memberScript(m, high),
      undefined,
      delnodeScript(m, high),
    ]);
    // Only commands connected to the always-on host have a delete (pulumi-command runs it on the old connection).
    for (const x of c.commands) if (x.delete !== undefined) assert.equal(x.host, "192.168.1.21", x.name);
  });

  it("pins each host's key and never exports a previous run's output into the next", async () => {
    const { commands } = await capture(model());
    const keyOf: Record<string, string> = {
      "192.168.1.21": KEY_LOW,
      "192.168.1.22": KEY_MID,
      "192.168.1.23": KEY_HIGH,
    };
    for (const c of commands) {
      assert.deepEqual(c.connection, {
        host: c.host,
        port: 22,
        user: "root",
        privateKey: PRIVATE_KEY,
        hostKey: keyOf[c.host],
        dialErrorLimit: 4,
        perDialTimeout: 15,
      });
      assert.equal(c.addPreviousOutputInEnv, false, c.name);
      assert.ok(
        isSecret(c.wire.connection) || isSecret((c.wire.connection as { privateKey?: unknown }).privateKey),
      );
    }
  });

  it("puts the root password only into the joins' secret stdin, after the create's fingerprint, with their output secret and unlogged", async () => {
    const { commands } = await capture(model());
    for (const c of commands) {
      const isJoin = c.name.includes("-join-");
      if (isJoin) {
        assert.equal(c.stdinIsSecret, true, c.name);
        assert.equal(c.stdin, `${FAKE_FINGERPRINT}\n${PASSWORD}\n`);
        assert.equal(c.logging, "none");
        assert.ok(
          c.additionalSecretOutputs.includes("stdout") && c.additionalSecretOutputs.includes("stderr"),
        );
      } else {
        assert.equal(c.stdin, undefined, c.name);
        assert.equal(c.logging, "stdoutAndStderr");
      }
      const rest = { ...(inputsOf(c) as Record<string, unknown>) };
      delete rest.stdin;
      assert.ok(!JSON.stringify(rest).includes(PASSWORD), `${c.name}: the password outside stdin`);
      assert.ok(!JSON.stringify(rest).includes("root-pw"), `${c.name}: part of the password outside stdin`);
    }
  });

  it("makes each join a one-shot: later changes of its connection, script and stdin are ignored", async () => {
    const { commands } = await capture(model());
    assert.deepEqual(JOIN_IGNORE_CHANGES, ["connection", "create", "stdin"]);
    for (const c of commands) {
      assert.deepEqual(c.ignoreChanges, c.name.includes("-join-") ? JOIN_IGNORE_CHANGES : [], c.name);
    }
  });

  it("retains every membership command on delete by default: pulumi destroy never runs pvecm delnode", async () => {
    const m = model();
    assert.equal(m.dismantleOnDestroy ?? false, false);
    const { commands, byName } = await capture(m);
    assert.deepEqual(
      commands.map((c) => [c.name, c.retainOnDelete]),
      NAMES.map((n) => [n, true]),
    );
    // The delete is kept, for the opt-in.
    assert.equal(
      withoutConnectionNote(byName(`${M}-member-pve-high`).delete ?? ""),
      delnodeScript(m, host(m, "pve-high")),
    );
  });

  it("dismantleOnDestroy: true lets destroy run the member commands' delete (pvecm delnode)", async () => {
    const m = model((v) => (v.dismantleOnDestroy = true));
    assert.equal(m.dismantleOnDestroy, true);
    const { commands, byName } = await capture(m);
    assert.deepEqual(
      commands.map((c) => [c.name, c.retainOnDelete]),
      NAMES.map((n) => [n, false]),
    );
    assert.equal(
      withoutConnectionNote(byName(`${M}-member-pve-high`).delete ?? ""),
      delnodeScript(m, host(m, "pve-high")),
    );
  });

  it("changing one host's votes changes only that host's join script", async () => {
    const before = await capture(model());
    const after = await capture(model((v) => (v.hosts[2]!.votes = 2)));
    for (const c of before.commands) {
      const same = c.name === `${M}-join-pve-high` ? "notDeepEqual" : "deepEqual";
      assert[same](inputsOf(after.byName(c.name)), inputsOf(c), c.name);
    }
    const changed = after.byName(`${M}-join-pve-high`);
    assert.match(changed.create ?? "", /--votes 2 --link0 address=192\.168\.1\.23/);
  });

  it("a host's commands depend only on that host and the always-on host: other hosts' changes leave them as they are", async () => {
    const before = await capture(model());
    const highNames = [`${M}-join-pve-high`, `${M}-member-pve-high`];
    const variants: Edit[] = [
      (v) => (v.hosts[1]!.address = "192.168.1.42"), // pve-mid moves
      (v) => (v.hosts[1]!.votes = 2), // pve-mid's votes
      // pve-mid leaves the stack; pve-high keeps its nodeId (the default is the list position, so a stack that
      // removes a host from the middle of the list must pin the nodeIds after it: the member check says so).
      (v) => {
        v.hosts[2]!.nodeId = 3;
        v.hosts.splice(1, 1);
      },
      (v) => (v.hosts[0]!.votes = 4), // the always-on host's votes (not a fact a join uses)
      (v) =>
        v.hosts.push({
          name: "pve-extra",
          address: "192.168.1.24",
          power: "usually-off",
          votes: 1,
          hostKey: KEY_MID,
        }),
    ];
    for (const [i, edit] of variants.entries()) {
      const after = await capture(model(edit));
      for (const name of highNames) {
        assert.deepEqual(
          inputsOf(after.byName(name)),
          inputsOf(before.byName(name)),
          `variant ${i}: ${name}`,
        );
      }
    }
  });

  it("exposes every command in execution order, the fingerprint, and a ready output naming the hosts", async () => {
    const { component } = await capture(model());
    assert.deepEqual(
      await Promise.all(component.commands.map((c) => promiseOf(c.urn).then((u) => u.split("::").pop()))),
      NAMES,
    );
    assert.equal(component.commands[0], component.create);
    assert.deepEqual(Object.keys(component.joins), ["pve-mid", "pve-high"]);
    assert.deepEqual(Object.keys(component.members), ["pve-mid", "pve-high"]);
    assert.equal(await promiseOf(component.fingerprint), FAKE_FINGERPRINT);
    assert.deepEqual(await promiseOf(component.ready), ["pve-low", "pve-mid", "pve-high"]);
  });

  it("creates on the first always-on host wherever it is listed", async () => {
    const m = model((v) => {
      v.hosts[0]!.power = "sometimes-on";
      v.hosts[1]!.power = "always-on";
    });
    const { commands } = await capture(m);
    assert.deepEqual(
      commands.map((c) => [c.name, c.host]),
      [
        [`${M}-create`, "192.168.1.22"],
        [`${M}-join-pve-low`, "192.168.1.21"],
        [`${M}-member-pve-low`, "192.168.1.22"],
        [`${M}-join-pve-high`, "192.168.1.23"],
        [`${M}-member-pve-high`, "192.168.1.22"],
      ],
    );
    assert.match(
      commands[0]!.create ?? "",
      /pvecm create homelab --nodeid 2 --votes 1 --link0 address=192\.168\.1\.22/,
    );
  });

  it("a single-host stack needs no root password: only the create command", async () => {
    const m = model((v) => v.hosts.splice(1, 2));
    const { commands } = await capture(m, undefined);
    assert.deepEqual(
      commands.map((c) => c.name),
      [`${M}-create`],
    );
  });

  describe("refuses a stack it cannot build, naming every problem before registering anything", () => {
    const rows: { what: string; model: () => Model; password?: string; errors: [string, RegExp][] }[] = [
      {
        what: "no rootPassword while hosts must join",
        model: () => model(),
        errors: [
          [
            "rootPassword",
            /joining pve-mid, pve-high needs the root password of pve-low.*pulumi config set --secret pve-homelab:rootPassword/,
          ],
        ],
      },
      {
        what: "an always-on host with 0 votes (pvecm create needs 1 or more)",
        model: () => ({ ...model(), hosts: model().hosts.map((h, i) => (i === 0 ? { ...h, votes: 0 } : h)) }),
        password: PASSWORD,
        errors: [
          [
            "hosts[0].votes",
            /pvecm create --votes 0.*fix: give pve-low \(the always-on host\) 1 or more votes.*\[membership\.founder-votes\]/,
          ],
        ],
      },
      {
        what: "both at once",
        model: () => ({ ...model(), hosts: model().hosts.map((h, i) => (i === 0 ? { ...h, votes: 0 } : h)) }),
        errors: [
          ["hosts[0].votes", /membership\.founder-votes/],
          ["rootPassword", /needs the root password/],
        ],
      },
    ];
    for (const row of rows) {
      it(row.what, async () => {
        const types: string[] = [];
        await pulumi.runtime.setMocks(
          {
            newResource: (args) => {
              types.push(args.type);
              return { id: `${args.name}-id`, state: args.inputs };
            },
            call: (args) => args.inputs,
          },
          "pve-homelab",
          "test",
          false,
        );
        const password = row.password === undefined ? {} : { rootPassword: pulumi.secret(row.password) };
        assert.throws(
          () =>
            new ClusterMembership(M, {
              model: row.model(),
              sshPrivateKey: pulumi.secret(PRIVATE_KEY),
              ...password,
            }),
          (e: unknown) => {
            assert.ok(pulumi.InputPropertiesError.isInstance(e), String(e));
            assert.deepEqual(
              e.errors.map((x) => x.propertyPath),
              row.errors.map(([p]) => `pve-homelab:${p}`),
            );
            e.errors.forEach((x, i) => assert.match(x.reason, row.errors[i]![1]));
            return true;
          },
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.ok(!types.includes(COMMAND_TYPE), `registered: ${types.join(", ")}`);
      });
    }
  });
});
