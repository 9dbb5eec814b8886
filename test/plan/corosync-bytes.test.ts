// Differential: the plan's corosync edit (plan/corosync.ts, the TypeScript engine on the file's bytes) and the
// vote push's on-host edit (the awk step of core/scripts/votes, run here with bash and each installed awk under
// LC_ALL=C) agree byte for byte on files holding Latin-1 and invalid UTF-8 bytes: same verdict, same refusal
// code and line, the same output bytes.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { loadModel } from "../../core/config";
import type { Model } from "../../core/model";
import { corosyncEditFunctions, voteLayout } from "../../core/scripts/votes";
import { corosyncEdit } from "../../plan/corosync";
import { homelabValues, TEST_SECRET_KEYS } from "../fixtures/stacks";

const FIXTURE = readFileSync(path.resolve(__dirname, "../fixtures/plan/corosync.conf"));
const AWKS = ["mawk", "gawk"].filter((a) => existsSync(`/usr/bin/${a}`));

function homelab(): Model {
  const { model, findings } = loadModel({ values: homelabValues(), secretKeys: TEST_SECRET_KEYS });
  assert.ok(model, JSON.stringify(findings));
  return model;
}

/** The fixture with `lines` (bytes) inserted as the second line of the file. */
const withLines = (...lines: Buffer[]): Buffer => {
  const eol = FIXTURE.indexOf(0x0a) + 1;
  return Buffer.concat([
    FIXTURE.subarray(0, eol),
    ...lines.flatMap((l) => [l, Buffer.from("\n")]),
    FIXTURE.subarray(eol),
  ]);
};
const bytes = (...parts: (string | number[])[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))));

const CASES: readonly { why: string; file: Buffer }[] = [
  {
    why: "a Latin-1 comment (é as the single byte E9)",
    file: withLines(bytes("# caf", [0xe9], " ", [0xe0], " la cave")),
  },
  {
    why: "invalid UTF-8 in comments (C3 28, FF, a lone 80)",
    file: withLines(bytes("# ", [0xc3, 0x28]), bytes("#", [0xff, 0x80, 0xfe])),
  },
  // 300 bytes: corosync and awk accept it; decoded as UTF-8 it would be 300 U+FFFD = 900 bytes ("too long").
  { why: "a 300-byte comment of invalid bytes", file: withLines(bytes("#", Array(300).fill(0xff))) },
  {
    why: "a 511-byte Latin-1 line (too long for corosync)",
    file: withLines(bytes("#", Array(510).fill(0xe9))),
  },
  {
    why: "a valid UTF-8 comment next to a Latin-1 value",
    file: withLines(
      Buffer.from("# ünïcödé ✓", "utf8"),
      bytes("logging {\n  logfile: /var/log/", [0xe9], "\n}"),
    ),
  },
  {
    why: "a Latin-1 byte in a node name (drift)",
    file: Buffer.from(FIXTURE.toString("latin1").replace("name: pve-mid", "name: pve-m\xefd"), "latin1"),
  },
];

interface Outcome {
  readonly kind: string;
  readonly code?: string;
  readonly line?: number;
  readonly versions?: string;
  readonly text?: string;
}

/** The on-host edit: pvehl_edit set CONF LAYOUT NEW ALWAYS_ON..., as the vote push script runs it. */
function hostEdit(
  awk: string,
  dir: string,
  conf: Buffer,
  layout: string,
  alwaysOn: readonly string[],
): Outcome {
  writeFileSync(path.join(dir, "conf"), conf);
  writeFileSync(path.join(dir, "layout"), layout);
  rmSync(path.join(dir, "new"), { force: true });
  const script = [
    "set -euo pipefail",
    "export LC_ALL=C",
    ...corosyncEditFunctions(),
    'pvehl_edit set "$@"',
  ].join("\n");
  const r = spawnSync("bash", ["-c", script, "bash", "conf", "layout", "new", ...alwaysOn], {
    cwd: dir,
    encoding: "latin1",
    env: { PATH: `${path.join(dir, "bin")}:/usr/bin:/bin` },
  });
  const [status = ""] = r.stdout.split("\n");
  const [kind = "", a = "", b = ""] = status.split(" ");
  if (kind === "changed") {
    return { kind, versions: `${a} ${b}`, text: readFileSync(path.join(dir, "new")).toString("latin1") };
  }
  if (kind === "unchanged") return { kind, versions: a };
  if (kind === "refused") return { kind, code: a, line: Number(b) };
  throw new Error(`edit step broke (exit ${r.status}): ${r.stdout}${r.stderr}`);
}

/** The plan's edit, as `npm run plan -- --corosync FILE` makes it (plan/corosync.ts on the file's bytes). */
function planEdit(model: Model, conf: Buffer): Outcome {
  const r = corosyncEdit(model, "corosync.conf", conf);
  if ("finding" in r) {
    const f = r.finding[0]!;
    const line = /^corosync\.conf:(\d+)$/.exec(f.path)?.[1];
    return {
      kind: "refused",
      code: f.code.replace(/^corosync\./, ""),
      line: line === undefined ? 0 : Number(line),
    };
  }
  return r.changed
    ? {
        kind: "changed",
        versions: `${r.versionBefore} ${r.versionAfter}`,
        text: r.afterBytes.toString("latin1"),
      }
    : { kind: "unchanged", versions: String(r.versionBefore) };
}

describe("plan --corosync and the on-host awk agree byte for byte", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "pvehl-bytes-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const model = homelab();
  const layout = voteLayout(model.hosts);
  const alwaysOn = model.hosts.filter((h) => h.power === "always-on").map((h) => h.name);

  it("has both awks to compare with", () => assert.deepEqual(AWKS, ["mawk", "gawk"]));

  for (const c of CASES) {
    for (const awk of AWKS) {
      it(`${c.why} (${awk})`, () => {
        spawnSync("mkdir", ["-p", path.join(dir, "bin")]);
        rmSync(path.join(dir, "bin", "awk"), { force: true });
        spawnSync("ln", ["-s", `/usr/bin/${awk}`, path.join(dir, "bin", "awk")]);
        const host = hostEdit(awk, dir, c.file, layout, alwaysOn);
        const plan = planEdit(model, c.file);
        // Refusals from the engine carry line 0 for edit (not syntax) problems; the awk names a line then.
        if (plan.kind === "refused" && plan.line === 0) assert.deepEqual({ ...host, line: 0 }, plan);
        else assert.deepEqual(host, plan);
        if (host.kind === "changed") {
          // Every byte but the two edited lines is kept, Latin-1 and invalid bytes included.
          const kept = (t: string) => t.split("\n").filter((l) => !/quorum_votes|config_version/.test(l));
          assert.deepEqual(kept(host.text!), kept(c.file.toString("latin1")));
        }
      });
    }
  }

  it("the cases cover a change, a syntax refusal and a drift refusal", () => {
    const kinds = CASES.map((c) => {
      const o = planEdit(model, c.file);
      return o.kind === "refused" ? o.code : o.kind;
    });
    assert.deepEqual(kinds, ["changed", "changed", "changed", "line-too-long", "changed", kinds[5]]);
    assert.notEqual(kinds[5], "changed");
  });

  it("decoding the file as UTF-8 first (the old plan) would disagree on invalid bytes", () => {
    const utf8 = corosyncEdit(model, "corosync.conf", CASES[2]!.file.toString("utf8"));
    assert.ok("finding" in utf8 && utf8.finding[0]?.code === "corosync.line-too-long");
  });
});
