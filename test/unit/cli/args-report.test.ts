import { strict as assert } from "node:assert";
import { COMMON_OPTIONS, isResult, parseCommandLine } from "../../../cli/args";
import { EXIT, findingsCode } from "../../../cli/exit";
import { findingsSection, table, wrap } from "../../../cli/report";

const CL = {
  tool: "status",
  usage: "usage: npm run status -- --stack <name>",
  help: "HELP",
  options: { stack: COMMON_OPTIONS.stack, json: COMMON_OPTIONS.json, help: COMMON_OPTIONS.help },
};

describe("cli/args, cli/exit, cli/report", () => {
  it("parses the shared options", () => {
    const v = parseCommandLine(CL, ["--stack", "homelab", "--json"]);
    assert.ok(!isResult(v));
    assert.deepEqual({ ...v }, { stack: "homelab", json: true });
  });

  it("gives exit 2 with one line naming the tool and usage for an unknown option or a missing --stack", () => {
    for (const argv of [["--stack", "x", "--bogus"], [], ["stray"]]) {
      const r = parseCommandLine(CL, argv);
      assert.ok(isResult(r));
      assert.equal(r.code, EXIT.usage);
      assert.match(r.stderr, /^status: .+ \(usage: npm run status -- --stack <name>\)\n$/);
    }
  });

  it("gives the help text with exit 0", () => {
    const r = parseCommandLine(CL, ["--help"]);
    assert.ok(isResult(r));
    assert.deepEqual(r, { code: 0, stdout: "HELP\n", stderr: "" });
  });

  it("exits 1 for error and drift findings, 0 for warnings and info", () => {
    assert.equal(findingsCode([{ level: "warning" }, { level: "info" }]), 0);
    assert.equal(findingsCode([{ level: "info" }, { level: "drift" }]), 1);
    assert.equal(findingsCode([{ level: "error" }]), 1);
  });

  it("aligns table columns and right-aligns where asked", () => {
    assert.deepEqual(
      table(
        [
          ["a", "bb"],
          ["ccc", "1"],
        ],
        [false, true],
      ),
      ["a    bb", "ccc   1"],
    );
  });

  it("wraps long lines to the width with an indent", () => {
    const lines = wrap(`  ${"word ".repeat(30).trim()}`, 40, 6);
    assert.ok(lines.every((l) => l.length <= 40));
    assert.ok(lines.slice(1).every((l) => l.startsWith("      word")));
    assert.equal(lines.join(" ").replace(/\s+/g, " ").trim(), "word ".repeat(30).trim());
  });

  it("renders findings with their fix, wrapped to 80 columns when asked", () => {
    const f = {
      level: "drift",
      code: "drift.votes",
      path: "pve-low",
      message: "m ".repeat(60).trim(),
      fix: "f",
    };
    const text = findingsSection([f], 80);
    assert.ok(text.split("\n").every((l) => l.length <= 80));
    assert.match(text, /drift: pve-low: m m/);
    assert.match(text, /\[drift\.votes\]/);
  });
});
