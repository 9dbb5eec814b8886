// The fixtures are files as Proxmox VE writes them (and as people hand-edit them), plus broken ones.
// Every edited result goes through the real `corosync -t`; so do the broken files, to prove that the
// parser rejects them at the same line and for the same reason as corosync.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CorosyncEditError,
  CorosyncParseError,
  parseCorosyncConf,
  printCorosyncConf,
  readConfigVersion,
  readNodelist,
  resetVotes,
  setVotes,
  type CorosyncParseCode,
} from "../../../core/corosync";
import { checkManyWithCorosync, type CorosyncCheck } from "../../helpers/corosync-validate";

const fixture = (name: string) => readFileSync(join(__dirname, "../../fixtures/corosync", name), "utf8");

/** Good fixtures: node names and config_version. */
const GOOD: ReadonlyArray<readonly [string, readonly string[], number]> = [
  ["pvecm-create.conf", ["pve1"], 1],
  ["three-nodes.conf", ["pve1", "pve2", "pve3"], 3],
  ["weighted.conf", ["pve1", "pve2", "pve3"], 4],
  ["two-links.conf", ["alpha", "beta", "gamma"], 5],
  ["qdevice-ffsplit.conf", ["pve-a", "pve-b"], 4],
  ["qdevice-lms.conf", ["pve1", "pve2", "pve3"], 6],
  ["hand-edited.conf", ["pve1", "pve2", "pve3"], 12],
  ["crlf-no-final-newline.conf", ["pve1", "pve2", "pve3"], 3],
];

/** Broken fixtures: the syntax error and its line, which corosync -t must report too. */
const BROKEN: ReadonlyArray<readonly [string, CorosyncParseCode, number]> = [
  ["broken-missing-brace.conf", "missing-close-brace", 41],
  ["broken-extra-brace.conf", "unexpected-close-brace", 26],
  ["broken-text-after-brace.conf", "extra-after-open-brace", 27],
  ["broken-trailing-garbage.conf", "not-section-or-key", 43],
  ["broken-comment-after-brace.conf", "extra-around-close-brace", 24],
  ["broken-brace-on-own-line.conf", "not-section-or-key", 27],
  ["broken-line-too-long.conf", "line-too-long", 33],
  ["broken-cr-line-endings.conf", "line-too-long", 1],
];

/** First node 3 votes, the others 1: the homelab's weighted setup. */
const weightedVotes = (text: string) =>
  Object.fromEntries(readNodelist(text).map((n, i) => [n.name, i === 0 ? 3 : 1]));

/** Lines that differ between two texts of equal line count, as [before, after] pairs. */
function changedLines(before: string, after: string): Array<[string, string]> {
  const a = before.split("\n");
  const b = after.split("\n");
  assert.equal(a.length, b.length, "line count changed");
  return a.flatMap((line, i): Array<[string, string]> => (line === b[i] ? [] : [[line, b[i] ?? ""]]));
}

describe("corosync.conf fixtures", () => {
  describe("good files", () => {
    for (const [name, nodes, version] of GOOD) {
      it(`reads ${name}: nodes ${nodes.join(", ")}, config_version ${version}`, () => {
        const text = fixture(name);
        assert.deepStrictEqual(
          readNodelist(text).map((n) => n.name),
          nodes,
        );
        assert.equal(readConfigVersion(text), version);
      });

      it(`prints ${name} back byte for byte`, () => {
        const text = fixture(name);
        assert.equal(printCorosyncConf(parseCorosyncConf(text)), text);
      });
    }
  });

  describe("broken files", () => {
    let verdicts: CorosyncCheck[] = [];
    before(function () {
      this.timeout(120_000);
      verdicts = checkManyWithCorosync(BROKEN.map(([name]) => fixture(name)));
    });

    BROKEN.forEach(([name, code, line], i) => {
      it(`rejects ${name} with ${code} at line ${line}, as corosync -t does`, () => {
        assert.throws(
          () => parseCorosyncConf(fixture(name)),
          (e: unknown) => e instanceof CorosyncParseError && e.code === code && e.line === line,
        );
        const verdict = verdicts[i];
        assert.ok(verdict && !verdict.ok, `corosync -t accepted ${name}`);
        let reason = "";
        try {
          parseCorosyncConf(fixture(name));
        } catch (e) {
          if (e instanceof CorosyncParseError) reason = e.reason;
        }
        assert.deepStrictEqual(verdict.parserError, { line, reason }, verdict.output);
      });
    });
  });

  describe("edits, each checked by corosync -t", () => {
    /** [what, edited text]; filled in `before`, validated in one batch. */
    const edits: Array<[string, string]> = [];
    let verdicts: CorosyncCheck[] = [];

    before(function () {
      this.timeout(120_000);
      for (const [name] of GOOD) {
        const text = fixture(name);
        if (name !== "qdevice-lms.conf")
          edits.push([`${name} set to 3/1/1`, setVotes(text, weightedVotes(text)).text]);
        const reset = resetVotes(text);
        if (reset.changed) edits.push([`${name} reset to 1 each`, reset.text]);
      }
      verdicts = checkManyWithCorosync(edits.map(([, text]) => text));
    });

    it("produced an edit for every fixture", () => {
      assert.equal(edits.length, 8);
    });

    it("every edited file is accepted by corosync -t", () => {
      const rejected = edits.flatMap(([what], i) =>
        verdicts[i]?.ok ? [] : [`${what}: ${verdicts[i]?.output ?? "no verdict"}`],
      );
      assert.deepStrictEqual(rejected, []);
    });

    it("changes only the vote and version lines of the Proxmox-written files", () => {
      const text = fixture("two-links.conf");
      assert.deepStrictEqual(changedLines(text, setVotes(text, weightedVotes(text)).text), [
        ["    quorum_votes: 1", "    quorum_votes: 3"],
        ["  config_version: 5", "  config_version: 6"],
      ]);
    });

    it("keeps CRLF endings and the missing final newline", () => {
      const text = fixture("crlf-no-final-newline.conf");
      assert.deepStrictEqual(changedLines(text, setVotes(text, weightedVotes(text)).text), [
        ["    quorum_votes: 1\r", "    quorum_votes: 3\r"],
        ["  config_version: 3\r", "  config_version: 4\r"],
      ]);
    });

    it("edits the hand-edited file in place and inserts the missing vote line with its tabs", () => {
      const text = fixture("hand-edited.conf");
      const edited = setVotes(text, { pve1: 3, pve2: 2, pve3: 1 }).text;
      assert.equal(
        edited,
        text
          .replace(
            "        quorum_votes: 1\n        ring0_addr: 192.168.10.11",
            "        quorum_votes: 3\n        ring0_addr: 192.168.10.11",
          )
          .replace("\t\tnodeid:   2   \n", "\t\tnodeid:   2   \n\t\tquorum_votes: 2\n")
          .replace("config_version: 12 ", "config_version: 13 "),
      );
    });

    it("leaves the already weighted file alone", () => {
      const text = fixture("weighted.conf");
      assert.equal(setVotes(text, weightedVotes(text)).text, text);
    });

    it("refuses weighted votes for the QDevice file without device votes", () => {
      const text = fixture("qdevice-lms.conf");
      assert.throws(
        () => setVotes(text, weightedVotes(text)),
        (e: unknown) => e instanceof CorosyncEditError && e.code === "quorum-device-with-weighted-votes",
      );
    });
  });
});
