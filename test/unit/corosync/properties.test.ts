// Property tests on generated Proxmox-like files with hand-edit noise: odd indentation, tabs, CRLF,
// comments and blank lines anywhere, shuffled keys, missing quorum_votes lines, no final newline.
import { strict as assert } from "node:assert";
import { diffArrays } from "diff";
import fc from "fast-check";
import {
  CorosyncParseError,
  parseCorosyncConf,
  printCorosyncConf,
  readConfigVersion,
  readNodelist,
  setVotes,
} from "../../../core/corosync";

interface GeneratedNode {
  readonly name: string;
  readonly nodeId: number;
  readonly votes?: number;
}

interface GeneratedConf {
  readonly text: string;
  readonly nodes: readonly GeneratedNode[];
  readonly version: number;
}

const blanks = fc.constantFrom("", " ", "\t", "  ", " \t");
const trivia = fc.oneof(
  blanks,
  fc.tuple(blanks, fc.stringMatching(/^[ -~]{0,16}$/)).map(([b, t]) => `${b}#${t}`),
);

const nodesArb = fc
  .uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,7}$/), { minLength: 1, maxLength: 6 })
  .chain((names) =>
    fc
      .tuple(
        fc.shuffledSubarray(
          Array.from({ length: 40 }, (_, i) => i + 1),
          { minLength: names.length, maxLength: names.length },
        ),
        fc.array(fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }), {
          minLength: names.length,
          maxLength: names.length,
        }),
      )
      .map(([ids, votes]) =>
        names.map((name, i): GeneratedNode => ({
          name,
          nodeId: ids[i] ?? i + 1,
          ...(votes[i] === undefined ? {} : { votes: votes[i] }),
        })),
      ),
  );

const confArb: fc.Arbitrary<GeneratedConf> = fc
  .record({
    nodes: nodesArb,
    version: fc.integer({ min: 0, max: 1_000_000 }),
    unit: fc.constantFrom("  ", "    ", "\t", " \t"),
    open: fc.constantFrom(" {", "{", "  {", "\t{", ": {"),
    separator: fc.constantFrom(": ", ":", " : ", ":\t", ":  "),
    trailing: fc.array(fc.constantFrom("", "", "", " ", "\t "), { minLength: 16, maxLength: 16 }),
    fieldOrder: fc.shuffledSubarray(["name", "nodeid", "votes", "ring0"] as const, {
      minLength: 4,
      maxLength: 4,
    }),
    sectionOrder: fc.shuffledSubarray(["logging", "nodelist", "quorum", "totem"] as const, {
      minLength: 4,
      maxLength: 4,
    }),
    noise: fc.array(fc.tuple(fc.nat(), trivia), { maxLength: 8 }),
    eol: fc.constantFrom("\n", "\r\n"),
    finalNewline: fc.boolean(),
  })
  .map((g) => {
    const lines: string[] = [];
    const line = (depth: number, content: string) =>
      lines.push(g.unit.repeat(depth) + content + (g.trailing[lines.length % g.trailing.length] ?? ""));
    const entry = (depth: number, key: string, value: string | number) =>
      line(depth, `${key}${g.separator}${value}`);
    const section = (depth: number, name: string, body: () => void) => {
      line(depth, `${name}${g.open}`);
      body();
      line(depth, "}");
    };
    const blocks = {
      logging: () => section(0, "logging", () => entry(1, "debug", "off")),
      nodelist: () =>
        section(0, "nodelist", () => {
          g.nodes.forEach((n, i) =>
            section(1, "node", () => {
              for (const field of g.fieldOrder) {
                if (field === "name") entry(2, "name", n.name);
                if (field === "nodeid") entry(2, "nodeid", n.nodeId);
                if (field === "votes" && n.votes !== undefined) entry(2, "quorum_votes", n.votes);
                if (field === "ring0") entry(2, "ring0_addr", `10.0.0.${i + 1}`);
              }
            }),
          );
        }),
      quorum: () => section(0, "quorum", () => entry(1, "provider", "corosync_votequorum")),
      totem: () =>
        section(0, "totem", () => {
          entry(1, "cluster_name", "c");
          entry(1, "config_version", g.version);
        }),
    };
    for (const name of g.sectionOrder) blocks[name]();
    // Comments and blank lines are allowed anywhere: sprinkle them.
    for (const [position, text] of g.noise) lines.splice(position % (lines.length + 1), 0, text);
    const text = lines.join(g.eol) + (g.finalNewline ? g.eol : "");
    return { text, nodes: g.nodes, version: g.version };
  });

const desiredArb = (nodes: readonly GeneratedNode[]) =>
  fc
    .tuple(...nodes.map((n) => fc.integer({ min: 0, max: 5 }).map((v) => [n.name, v] as const)))
    .map((pairs) => Object.fromEntries(pairs));

const confWithDesired = confArb.chain((c) => desiredArb(c.nodes).map((desired) => ({ conf: c, desired })));

const VOTE_OR_VERSION = /^[ \t]*(quorum_votes|config_version)[ \t]*:/;

describe("corosync.conf properties", () => {
  it("print(parse(text)) is the text, for generated files", () => {
    fc.assert(
      fc.property(confArb, ({ text }) => {
        assert.equal(printCorosyncConf(parseCorosyncConf(text)), text);
      }),
    );
  });

  it("print(parse(text)) is the text, or parse throws CorosyncParseError, for any line soup", () => {
    // Characters that matter to the grammar, plus a few that only look like blanks to humans.
    const unit = fc.constantFrom(..."ab:{}# \t\r\0\f\vé\u00a0\u2028".split(""));
    const soupLine = fc.oneof(
      fc.string({ unit, maxLength: 12 }),
      fc.constantFrom("a {", "}", "k: v", "# c", "", " ", "\r", "{", ":", "a: {"),
    );
    fc.assert(
      fc.property(fc.array(soupLine, { maxLength: 12 }), (lines) => {
        const text = lines.join("\n");
        try {
          assert.equal(printCorosyncConf(parseCorosyncConf(text)), text);
        } catch (e) {
          if (!(e instanceof CorosyncParseError)) throw e;
        }
      }),
      { numRuns: 500 },
    );
  });

  it("reads back the generated nodes", () => {
    fc.assert(
      fc.property(confArb, ({ text, nodes, version }) => {
        assert.deepStrictEqual(
          readNodelist(text).map((n) => ({ name: n.name, nodeId: n.nodeId, votes: n.quorumVotes })),
          nodes.map((n) => ({ name: n.name, nodeId: n.nodeId, votes: n.votes })),
        );
        assert.equal(readConfigVersion(text), version);
      }),
    );
  });

  it("setVotes changes only vote lines and the version line", () => {
    fc.assert(
      fc.property(confWithDesired, ({ conf, desired }) => {
        const edit = setVotes(conf.text, desired);
        const touched = diffArrays(conf.text.split("\n"), edit.text.split("\n"))
          .filter((part) => part.added || part.removed)
          .flatMap((part) => part.value);
        assert.deepStrictEqual(
          touched.filter((l) => !VOTE_OR_VERSION.test(l)),
          [],
        );
        assert.deepStrictEqual(
          readNodelist(edit.text).map((n) => [n.name, n.quorumVotes ?? 1]),
          conf.nodes.map((n) => [n.name, desired[n.name]]),
        );
        assert.equal(readConfigVersion(edit.text), edit.changed ? conf.version + 1 : conf.version);
        assert.equal(edit.changed, edit.text !== conf.text);
      }),
    );
  });

  it("setVotes twice is a no-op the second time", () => {
    fc.assert(
      fc.property(confWithDesired, ({ conf, desired }) => {
        const once = setVotes(conf.text, desired);
        const twice = setVotes(once.text, desired);
        assert.deepStrictEqual(twice, {
          text: once.text,
          changed: false,
          versionBefore: once.versionAfter,
          versionAfter: once.versionAfter,
        });
      }),
    );
  });
});
