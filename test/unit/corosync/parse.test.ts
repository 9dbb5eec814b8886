import { strict as assert } from "node:assert";
import {
  CorosyncParseError,
  parseCorosyncConf,
  printCorosyncConf,
  type CorosyncItem,
  type CorosyncParseCode,
} from "../../../core/corosync";
import { conf } from "../../helpers/corosync-validate";

/** Items without positions, for compact expectations. */
type Shape = { key: string; value: string } | { section: string; children: Shape[] };
const shape = (items: readonly CorosyncItem[]): Shape[] =>
  items.map((i) =>
    i.kind === "entry" ? { key: i.key, value: i.value } : { section: i.name, children: shape(i.children) },
  );

function rejection(text: string): { code: CorosyncParseCode; line: number; reason: string } {
  try {
    parseCorosyncConf(text);
  } catch (e) {
    if (e instanceof CorosyncParseError) return { code: e.code, line: e.line, reason: e.reason };
    throw e;
  }
  assert.fail("parse accepted the text");
}

describe("corosync.conf parser", () => {
  describe("accepts what corosync accepts", () => {
    const rows: ReadonlyArray<readonly [string, string, Shape[]]> = [
      ["an empty file", "", []],
      ["comment and blank lines only", "# a\n\n  \t\n   # b {\n", []],
      [
        "a nested section",
        "totem {\n interface {\n  linknumber: 0\n }\n}\n",
        [
          {
            section: "totem",
            children: [{ section: "interface", children: [{ key: "linknumber", value: "0" }] }],
          },
        ],
      ],
      [
        "a key without a blank after the colon",
        "a {\nkey:value\n}\n",
        [{ section: "a", children: [{ key: "key", value: "value" }] }],
      ],
      [
        "blanks around the key and value",
        "a {\n\t key \t:  v w \t\n}\n",
        [{ section: "a", children: [{ key: "key", value: "v w" }] }],
      ],
      [
        "a value split only at the first colon",
        "a {\nhost: fe80::1\n}\n",
        [{ section: "a", children: [{ key: "host", value: "fe80::1" }] }],
      ],
      [
        "a trailing # as part of the value",
        "a {\nk: 1 # one\n}\n",
        [{ section: "a", children: [{ key: "k", value: "1 # one" }] }],
      ],
      [
        "a closing brace inside a value",
        "a {\nk: x}\n}\n",
        [{ section: "a", children: [{ key: "k", value: "x}" }] }],
      ],
      ["an empty value", "a {\nk:\n}\n", [{ section: "a", children: [{ key: "k", value: "" }] }]],
      ["a colon before the brace of a section", "totem: {\n}\n", [{ section: "totem", children: [] }]],
      ["a section name with inner blanks", "a b {\n}\n", [{ section: "a b", children: [] }]],
      ["top-level keys", "k: v\n", [{ key: "k", value: "v" }]],
      [
        "CRLF line endings",
        "a {\r\n k: v\r\n}\r\n",
        [{ section: "a", children: [{ key: "k", value: "v" }] }],
      ],
      ["a last line without newline", "a {\n}", [{ section: "a", children: [] }]],
      // Quirks of coroparse.c, reproduced on purpose (checked against corosync -t in differential.test.ts).
      ["a lone colon followed by a blank as a key", ": v\n", [{ key: ":", value: "v" }]],
      ["a closing brace followed by a colon as a key", "}: v\n", [{ key: "}", value: "v" }]],
      ["a 510-byte line", `#${"x".repeat(509)}\n`, []],
      [
        "a 253-byte top-level section name",
        `${"s".repeat(253)} {\n}\n`,
        [{ section: "s".repeat(253), children: [] }],
      ],
    ];
    for (const [what, text, expected] of rows) {
      it(`accepts ${what}`, () => {
        assert.deepStrictEqual(shape(parseCorosyncConf(text).items), expected);
      });
    }
  });

  describe("rejects what corosync rejects, naming the line", () => {
    const rows: ReadonlyArray<readonly [string, string, CorosyncParseCode, number]> = [
      ["text after an opening brace", "totem { version: 2\n}\n", "extra-after-open-brace", 1],
      ["a brace without a section name", "{\n}\n", "missing-section-name", 1],
      ["a brace directly followed by text", "{x\n}\n", "missing-section-name", 1],
      ["a brace, a blank and text (corosync then sees a name)", "{ x\n}\n", "extra-after-open-brace", 1],
      ["an extra closing brace", "a {\n}\n}\n", "unexpected-close-brace", 3],
      ["a closing brace at the top", "}\n", "unexpected-close-brace", 1],
      ["a section that is never closed", "a {\n b {\n }\n\n", "missing-close-brace", 4],
      ["a comment after a closing brace", "a {\n} # end\n", "extra-around-close-brace", 2],
      ["text before a closing brace", "a {\nx }\n", "extra-around-close-brace", 2],
      ["a line without colon or brace", "a {\n version 2\n}\n", "not-section-or-key", 2],
      ["a form feed line (not a blank to corosync)", "\f\n", "not-section-or-key", 1],
      ["an empty key", "a {\n:v\n}\n", "empty-key", 2],
      ["a blank key", "a {\n \t:v\n}\n", "empty-key", 2],
      ["a 511-byte line, even a comment", `#${"x".repeat(510)}\n`, "line-too-long", 1],
      ["a 511-byte last line without newline", `#${"x".repeat(510)}`, "line-too-long", 1],
      ["a line over 510 bytes only in UTF-8", `# ${"é".repeat(255)}\n`, "line-too-long", 1],
      ["a 254-byte top-level section name", `${"s".repeat(254)} {\n}\n`, "section-path-too-long", 1],
      ["a key path of 255 bytes", `s {\n${"k".repeat(253)}: v\n}\n`, "key-path-too-long", 2],
      ["a NUL byte", "a {\nk: v\0w\n}\n", "nul-byte", 2],
    ];
    for (const [what, text, code, line] of rows) {
      it(`rejects ${what}`, () => {
        assert.deepStrictEqual({ code: rejection(text).code, line: rejection(text).line }, { code, line });
      });
    }

    it("uses corosync's own wording as the reason", () => {
      assert.equal(rejection("a {\n").reason, "Missing closing brace");
    });

    it("names the line number, the line and the fix in the message", () => {
      assert.throws(
        () => parseCorosyncConf("totem {\n  version 2\n}\n"),
        (e: unknown) =>
          e instanceof CorosyncParseError &&
          e.message ===
            'corosync.conf line 2: Line is not opening or closing section or key value: "  version 2". ' +
              "Fix: each line must be `name {`, `}`, `key: value`, a `#` comment or blank.",
      );
    });
  });

  describe("records positions", () => {
    it("gives sections their opening and closing line numbers", () => {
      const doc = parseCorosyncConf(conf`
        # header
        totem {
          interface {
            linknumber: 0
          }
        }
      `);
      const totem = doc.items[0];
      assert.ok(totem?.kind === "section");
      assert.deepStrictEqual([totem.line, totem.endLine], [2, 6]);
      const iface = totem.children[0];
      assert.ok(iface?.kind === "section");
      assert.deepStrictEqual([iface.line, iface.endLine], [3, 5]);
    });

    it("gives entries the span of their value inside the line", () => {
      const doc = parseCorosyncConf("k :  v w  \r\n");
      assert.deepStrictEqual(doc.items[0], {
        kind: "entry",
        key: "k",
        value: "v w",
        line: 1,
        valueStart: 5,
        valueEnd: 8,
      });
    });
  });

  describe("is lossless", () => {
    const texts: ReadonlyArray<readonly [string, string]> = [
      ["comments, blanks and tabs", "# c\n\ntotem {\n\t  version:\t2  \n   # inner\n}\n\n\n"],
      ["CRLF line endings", "a {\r\n k: v\r\n}\r\n"],
      ["mixed line endings without final newline", "a {\r\n k: v\n}"],
      ["a stray carriage return in a value", "a {\n k: v\rw\n}\n"],
    ];
    for (const [what, text] of texts) {
      it(`prints back ${what} exactly`, () => {
        assert.equal(printCorosyncConf(parseCorosyncConf(text)), text);
      });
    }

    it("keeps comment and blank lines in the line list", () => {
      assert.deepStrictEqual(parseCorosyncConf("# c\n\nk: v").lines, [
        { text: "# c", eol: "\n" },
        { text: "", eol: "\n" },
        { text: "k: v", eol: "" },
      ]);
    });
  });
});
