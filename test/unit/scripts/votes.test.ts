// The vote push's generators, and its on-host edit run locally with bash and every awk on this machine,
// compared with the TypeScript engine (core/corosync setVotes/resetVotes) on the fixtures and on generated
// files: same bytes out, same refusal code (and the same message) in.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import {
  CorosyncEditError,
  CorosyncParseError,
  readNodelist,
  resetVotes,
  setVotes,
} from "../../../core/corosync";
import { quote, sh } from "../../../core/shell";
import { inquorateAdvice } from "../../../core/scripts/lib";
import { testAwks } from "../../helpers/awks";
import {
  corosyncEditFunctions,
  heredocFunction,
  parseLayoutQuorum,
  parseVoteLayout,
  voteLayout,
  votesApplyScript,
  votesResetScript,
  VOTES_AWK,
} from "../../../core/scripts/votes";

const FIXTURES = join(__dirname, "../../fixtures/corosync");
const fixture = (name: string) => readFileSync(join(FIXTURES, name), "utf8");

/** mawk and gawk (required), and the one-true-awk when installed. */
const AWKS = testAwks();

/** bash -c SCRIPT with args; stdin is /dev/null (a socket on stdin would make bash read ~/.bashrc). */
function bash(
  script: string,
  opts: { args?: readonly string[]; env?: NodeJS.ProcessEnv; cwd?: string } = {},
) {
  return spawnSync("bash", ["-c", script, "bash", ...(opts.args ?? [])], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: opts.env ?? { PATH: "/usr/bin:/bin" },
    cwd: opts.cwd,
    maxBuffer: 64 * 1024 * 1024,
  });
}

let scratch = "";
/** A PATH directory per awk whose `awk` is that awk. */
const awkPath = new Map<string, string>();

before(() => {
  scratch = mkdtempSync(join(tmpdir(), "pvehl-votes-unit-"));
  for (const a of AWKS) {
    const dir = join(scratch, `bin-${a}`);
    mkdirSync(dir);
    symlinkSync(`/usr/bin/${a}`, join(dir, "awk"));
    awkPath.set(a, dir);
  }
});

after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------
// Running the real script's edit step.

const APPLY = votesApplyScript("pve-low", ["pve-low"]);
const RESET = votesResetScript("pve-low");
const EDIT_STEP = corosyncEditFunctions().join("\n");

type Outcome =
  | { readonly kind: "changed"; readonly text: string; readonly before: string; readonly after: string }
  | { readonly kind: "unchanged"; readonly version: string }
  | { readonly kind: "refused"; readonly code: string; readonly line: number; readonly messages: string[] };

interface EditCase {
  readonly mode: "set" | "reset";
  readonly conf: string;
  readonly layout: string;
  readonly alwaysOn: readonly string[];
  /** What corosync reports right now; omitted = no live check (PVEHL_LIVE_MEMBERS unset). */
  readonly live?: { readonly members: readonly number[]; readonly deviceCasting: boolean };
}

let batchNo = 0;

type ScriptOutcome = Outcome & { readonly undo?: string; readonly want?: string };

/**
 * The edit step exactly as it appears in the generated scripts, run with bash and the given awk on many cases
 * in one bash process (spawning is what costs here).
 */
function runScriptEdits(awk: string, cases: readonly EditCase[]): ScriptOutcome[] {
  const root = join(scratch, `batch-${++batchNo}`);
  mkdirSync(root);
  try {
    const dirs = cases.map((c, i) => {
      const dir = join(root, String(i));
      mkdirSync(dir);
      writeFileSync(join(dir, "conf"), c.conf);
      writeFileSync(join(dir, "layout"), c.layout);
      writeFileSync(join(dir, "mode"), `${c.mode}\n`);
      writeFileSync(join(dir, "always"), c.alwaysOn.join(" "));
      if (c.live) {
        writeFileSync(join(dir, "members"), c.live.members.join(" "));
        writeFileSync(join(dir, "device"), c.live.deviceCasting ? "1" : "0");
      }
      return dir;
    });
    const driver = [
      "set -euo pipefail",
      "export LC_ALL=C",
      EDIT_STEP,
      'for d in "$@"; do',
      '  rc=0; read -r mode < "$d/mode"; always=$(< "$d/always")',
      '  if [ -f "$d/members" ]; then',
      '    PVEHL_LIVE_MEMBERS=$(< "$d/members") PVEHL_LIVE_DEVICE=$(< "$d/device") PVEHL_UNDO="$d/undo" PVEHL_WANT="$d/want" pvehl_edit "$mode" "$d/conf" "$d/layout" "$d/new" $always > "$d/out" || rc=$?',
      "  else",
      '    PVEHL_UNDO="$d/undo" PVEHL_WANT="$d/want" pvehl_edit "$mode" "$d/conf" "$d/layout" "$d/new" $always > "$d/out" || rc=$?',
      "  fi",
      '  echo "$rc" > "$d/rc"',
      "done",
    ].join("\n");
    const r = bash(driver, { args: dirs, env: { PATH: `${awkPath.get(awk)}:/usr/bin:/bin` } });
    assert.equal(r.status, 0, `batch driver failed: ${r.stderr}`);
    return dirs.map((dir) => {
      const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), "utf8") : undefined);
      const rc = Number(read("rc"));
      const lines = (read("out") ?? "").split("\n");
      if (lines.at(-1) === "") lines.pop();
      const [status = "", ...rest] = lines;
      const words = status.split(" ");
      if (rc === 0 && words[0] === "changed") {
        return {
          kind: "changed",
          text: read("new") ?? "",
          before: words[1] ?? "",
          after: words[2] ?? "",
          undo: read("undo"),
          want: read("want"),
        };
      }
      if (rc === 0 && words[0] === "unchanged") return { kind: "unchanged", version: words[1] ?? "" };
      if ((rc === 3 || rc === 4) && words[0] === "refused") {
        return { kind: "refused", code: words[1] ?? "", line: Number(words[2]), messages: rest };
      }
      throw new Error(`edit step broke (exit ${rc}, ${awk}): ${lines.join("\n")}`);
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const runScriptEdit = (awk: string, c: EditCase): ScriptOutcome => runScriptEdits(awk, [c])[0]!;

/** What the TypeScript engine says for the same request. */
function engine(c: EditCase): Outcome {
  const layout = parseVoteLayout(c.layout);
  const expectNodes = Object.fromEntries(
    layout.map((l) => [l.name, { nodeId: l.nodeId, address: l.address }]),
  );
  try {
    const edit =
      c.mode === "set"
        ? setVotes(c.conf, Object.fromEntries(layout.map((l) => [l.name, l.votes])), {
            alwaysOn: c.alwaysOn,
            expectNodes,
            quorum: parseLayoutQuorum(c.layout),
            ...(c.live ? { live: c.live } : {}),
          })
        : resetVotes(c.conf, { expectNodes, ...(c.live ? { live: c.live } : {}) });
    return edit.changed
      ? {
          kind: "changed",
          text: edit.text,
          before: String(edit.versionBefore),
          after: String(edit.versionAfter),
        }
      : { kind: "unchanged", version: String(edit.versionBefore) };
  } catch (e) {
    if (e instanceof CorosyncParseError) {
      return { kind: "refused", code: e.code, line: e.line, messages: [e.message] };
    }
    if (e instanceof CorosyncEditError) {
      return {
        kind: "refused",
        code: e.code,
        line: 0,
        messages: e.problems.map((p) => `${p.message} Fix: ${p.fix}`),
      };
    }
    throw e;
  }
}

/** Same outcome as the engine; messages compared too, except where awks cannot show the line the same way
 *  (a NUL byte; previews of non-ASCII lines, cut at 80 UTF-16 units by the engine and at 80 bytes here). */
function assertSame(c: EditCase, awk: string, outcome: ScriptOutcome = runScriptEdit(awk, c)): void {
  const want = engine(c);
  const got: Outcome =
    outcome.kind === "changed"
      ? { kind: "changed", text: outcome.text, before: outcome.before, after: outcome.after }
      : outcome;
  const comparable = /^[\x01-\x7f]*$/.test(c.conf);
  if (want.kind === "refused" && got.kind === "refused" && !comparable) {
    assert.deepStrictEqual(
      { ...got, messages: [] },
      { ...want, messages: [] },
      `${awk}: ${JSON.stringify(c)}`,
    );
    return;
  }
  assert.deepStrictEqual(got, want, `${awk}: ${JSON.stringify(c)}`);
}

const layoutOf = (text: string, votes: (i: number) => number = () => 1) =>
  voteLayout(
    readNodelist(text).map((n, i) => ({
      name: n.name,
      nodeId: n.nodeId,
      address: n.ring0Addr,
      votes: votes(i),
    })),
  );

// ---------------------------------------------------------------------------------------------------------
// Generated cases: Proxmox-like files with hand-edit noise and faults, and layouts near the file's nodelist.

interface GenNode {
  readonly name: string;
  readonly nodeId: number;
  readonly votes: string | undefined;
}

const blanks = fc.constantFrom("", " ", "\t", "  ");
const voteValue = fc.oneof(
  { weight: 30, arbitrary: fc.integer({ min: 0, max: 5 }).map(String) },
  { weight: 2, arbitrary: fc.constantFrom("+2", "03", "-0", "00") },
  { weight: 1, arbitrary: fc.constantFrom("-1", "x", "", "4294967296", "3 # c") },
);

const fileArb = fc
  .record({
    names: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,5}$/), { minLength: 1, maxLength: 5 }),
    ids: fc.shuffledSubarray([1, 2, 3, 4, 5, 6, 7, 8], { minLength: 5, maxLength: 5 }),
    votes: fc.array(fc.option(voteValue, { nil: undefined }), { minLength: 5, maxLength: 5 }),
    version: fc.oneof(
      { weight: 20, arbitrary: fc.integer({ min: 0, max: 99999 }).map(String) },
      { weight: 1, arbitrary: fc.constantFrom("08", "9007199254740991", "x", "1 # c") },
    ),
    unit: fc.constantFrom("  ", "\t", "    "),
    separator: fc.constantFrom(": ", ":", " : ", ":\t"),
    open: fc.constantFrom(" {", "{", "\t{"),
    trailing: fc.constantFrom("", " ", "\t"),
    quorumExtra: fc.constantFrom<string[]>(
      [],
      ["expected_votes: 7"],
      ["last_man_standing: 1"],
      ["two_node: 0"],
      ["device {", "  model: net", "}"],
      ["device {", "  votes: 2", "}"],
      ["device {", "  votes: 1", "}"],
      ["wait_for_all: 1", "auto_tie_breaker: 1"],
      ["expected_votes: 3", "two_node: 1", "wait_for_all: 0"],
    ),
    fault: fc.oneof(
      { weight: 12, arbitrary: fc.constant("none") },
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          "dup-id",
          "dup-name",
          "dup-key",
          "missing-ring0",
          "bad-line",
          "extra-brace",
        ),
      },
    ),
    noise: fc.array(
      fc.tuple(
        fc.nat(),
        fc.oneof(
          blanks,
          blanks.map((b) => `${b}# note`),
        ),
      ),
      { maxLength: 4 },
    ),
    crlf: fc.boolean(),
    finalNewline: fc.boolean(),
  })
  .map((g) => {
    const nodes: GenNode[] = g.names.map((name, i) => ({
      name,
      nodeId: g.ids[i] ?? i + 1,
      votes: g.votes[i],
    }));
    const lines: string[] = [];
    const put = (depth: number, s: string) => lines.push(g.unit.repeat(depth) + s + g.trailing);
    const kv = (depth: number, k: string, v: string | number) => put(depth, `${k}${g.separator}${v}`);
    put(0, `logging${g.open}`);
    kv(1, "debug", "off");
    put(0, "}");
    put(0, `nodelist${g.open}`);
    nodes.forEach((n, i) => {
      put(1, `node${g.open}`);
      kv(2, "name", g.fault === "dup-name" && i === 1 ? nodes[0]!.name : n.name);
      kv(2, "nodeid", g.fault === "dup-id" && i === 1 ? nodes[0]!.nodeId : n.nodeId);
      if (n.votes !== undefined) kv(2, "quorum_votes", n.votes);
      if (!(g.fault === "missing-ring0" && i === 0)) kv(2, "ring0_addr", `10.0.0.${n.nodeId}`);
      if (g.fault === "dup-key" && i === 0) kv(2, "nodeid", n.nodeId);
      put(1, "}");
    });
    put(0, "}");
    put(0, `quorum${g.open}`);
    kv(1, "provider", "corosync_votequorum");
    for (const l of g.quorumExtra) put(1, l);
    put(0, "}");
    put(0, `totem${g.open}`);
    kv(1, "cluster_name", "homelab");
    kv(1, "config_version", g.version);
    put(0, "}");
    if (g.fault === "bad-line") lines.splice(3, 0, "this is not corosync");
    if (g.fault === "extra-brace") lines.push("}");
    for (const [at, text] of g.noise) lines.splice(at % (lines.length + 1), 0, text);
    const eol = g.crlf ? "\r\n" : "\n";
    return { text: lines.join(eol) + (g.finalNewline ? eol : ""), nodes };
  });

const editCaseArb: fc.Arbitrary<EditCase> = fileArb.chain(({ text, nodes }) =>
  fc
    .record({
      mode: fc.constantFrom("set", "set", "reset"),
      votes: fc.array(
        fc.oneof(
          { weight: 9, arbitrary: fc.integer({ min: 0, max: 5 }) },
          { weight: 1, arbitrary: fc.constant(4294967296) },
        ),
        {
          minLength: nodes.length,
          maxLength: nodes.length,
        },
      ),
      drift: fc.oneof(
        { weight: 10, arbitrary: fc.constant("none") },
        { weight: 1, arbitrary: fc.constantFrom("addr", "id", "drop", "add") },
      ),
      always: fc.subarray(nodes.map((n) => n.name)),
      alwaysUnknown: fc.integer({ min: 0, max: 15 }).map((x) => x === 0),
      quorum: fc.oneof(
        { weight: 3, arbitrary: fc.constant({}) },
        {
          weight: 2,
          arbitrary: fc.record(
            {
              expected_votes: fc.integer({ min: 1, max: 9 }),
              two_node: fc.constant(1),
              last_man_standing: fc.constant(1),
              auto_tie_breaker: fc.constant(1),
              wait_for_all: fc.constant(1),
            },
            { requiredKeys: [] },
          ),
        },
      ),
      live: fc.option(
        fc.record({
          members: fc.subarray([...nodes.map((n) => n.nodeId), 42]),
          deviceCasting: fc.boolean(),
        }),
        { nil: undefined },
      ),
    })
    .map((d): EditCase => {
      let hosts = nodes.map((n, i) => ({
        name: n.name,
        nodeId: n.nodeId,
        address: `10.0.0.${n.nodeId}`,
        votes: d.votes[i] ?? 1,
      }));
      if (d.drift === "addr") hosts = hosts.map((h, i) => (i === 0 ? { ...h, address: "10.9.9.9" } : h));
      if (d.drift === "id") hosts = hosts.map((h, i) => (i === 0 ? { ...h, nodeId: 42 } : h));
      if (d.drift === "drop" && hosts.length > 1) hosts = hosts.slice(1);
      if (d.drift === "add")
        hosts = [...hosts, { name: "zz-new", nodeId: 99, address: "10.0.0.99", votes: 1 }];
      const layout = voteLayout(hosts, d.quorum);
      return {
        mode: d.mode as "set" | "reset",
        conf: text,
        layout,
        alwaysOn: d.mode === "reset" ? [] : [...d.always, ...(d.alwaysUnknown ? ["ghost"] : [])],
        ...(d.live ? { live: d.live } : {}),
      };
    }),
);

// ---------------------------------------------------------------------------------------------------------

describe("vote push: generators", () => {
  it("writes the layout as sorted name=votes lines with nodeid and ring0 address", () => {
    assert.equal(
      voteLayout([
        { name: "pve-low", nodeId: 1, address: "192.168.1.21", votes: 3 },
        { name: "pve-mid", nodeId: 2, address: "192.168.1.22", votes: 1 },
        { name: "pve-high", nodeId: 3, address: "192.168.1.23", votes: 1 },
      ]),
      [
        "pve-high nodeid=3 ring0_addr=192.168.1.23 votes=1",
        "pve-low nodeid=1 ring0_addr=192.168.1.21 votes=3",
        "pve-mid nodeid=2 ring0_addr=192.168.1.22 votes=1",
        "",
      ].join("\n"),
    );
  });

  const badLayouts: ReadonlyArray<
    readonly [string, { name: string; nodeId: number; address: string; votes: number }[], RegExp]
  > = [
    [
      "a name with a space",
      [{ name: "pve low", nodeId: 1, address: "10.0.0.1", votes: 1 }],
      /host name "pve low" is not a single word/,
    ],
    [
      "a name with a newline",
      [{ name: "pve\nlow", nodeId: 1, address: "10.0.0.1", votes: 1 }],
      /host name "pve\\nlow"/,
    ],
    ["a name with =", [{ name: "a=b", nodeId: 1, address: "10.0.0.1", votes: 1 }], /host name "a=b"/],
    [
      "an address with a space",
      [{ name: "a", nodeId: 1, address: "10.0.0.1 x", votes: 1 }],
      /address "10.0.0.1 x" of a/,
    ],
    ["fractional votes", [{ name: "a", nodeId: 1, address: "10.0.0.1", votes: 1.5 }], /votes of a are 1.5/],
    ["negative votes", [{ name: "a", nodeId: 1, address: "10.0.0.1", votes: -1 }], /votes of a are -1/],
    ["no hosts", [], /no hosts/],
    [
      "a duplicate name",
      [
        { name: "a", nodeId: 1, address: "10.0.0.1", votes: 1 },
        { name: "a", nodeId: 2, address: "10.0.0.2", votes: 1 },
      ],
      /duplicate host names: a, a/,
    ],
  ];
  for (const [what, hosts, message] of badLayouts) {
    it(`refuses a layout with ${what}`, () => {
      assert.throws(() => voteLayout(hosts), message);
    });
  }

  it("reads a layout back", () => {
    assert.deepStrictEqual(
      parseVoteLayout("b nodeid=2 ring0_addr=10.0.0.2 votes=0\na nodeid=1 ring0_addr=h.lan votes=7\n"),
      [
        { name: "b", nodeId: 2, address: "10.0.0.2", votes: 0 },
        { name: "a", nodeId: 1, address: "h.lan", votes: 7 },
      ],
    );
  });

  it("scripts start with bash strict mode, parse with bash -n, and contain the edit step verbatim", () => {
    for (const text of [APPLY, RESET]) {
      assert.ok(text.startsWith("#!/bin/bash\nset -euo pipefail\nexport LC_ALL=C\n"));
      assert.ok(text.includes(EDIT_STEP), "the tested edit step is the one in the script");
      const r = spawnSync("bash", ["-n", "-c", text], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      assert.equal(r.status, 0, r.stderr);
    }
  });

  it("are pure functions of host, always-on hosts and bounds (no votes inside)", () => {
    assert.equal(votesApplyScript("pve-low", ["pve-low"]), APPLY);
    assert.notEqual(votesApplyScript("pve-low", ["pve-low"], { waitSeconds: 5 }), APPLY);
    assert.doesNotMatch(APPLY, /votes=[0-9]/);
    assert.match(
      APPLY,
      /pvehl_edit set "\$pvehl_tmp\/old" "\$pvehl_tmp\/layout" "\$pvehl_tmp\/new" pve-low\)/,
    );
    assert.match(RESET, /pvehl_edit reset "\$pvehl_tmp\/old" "\$pvehl_tmp\/layout" "\$pvehl_tmp\/new"\)/);
  });

  it("takes Proxmox's corosync.conf lock, checks host and quorum, backs up, renames, waits", () => {
    const order = [
      'if [ "$(hostname)" != pve-low ]; then',
      "pvehl_q_rc=0; corosync-quorumtool -s",
      'mkdir "$pvehl_lock"',
      'cat > "$pvehl_tmp/layout"',
      "\npvehl_live_read\n",
      "PVEHL_LIVE_MEMBERS=",
      'cp "$pvehl_tmp/old" "$pvehl_backup"',
      'cat "$pvehl_tmp/new" > /etc/pve/corosync.conf.new',
      "mv -f /etc/pve/corosync.conf.new /etc/pve/corosync.conf",
      "until pvehl_votes_live; do",
    ].map((needle) => {
      const at = APPLY.indexOf(needle, APPLY.indexOf("\n# The votes asked for"));
      assert.ok(at > 0, `script lacks ${needle}`);
      return at;
    });
    assert.deepStrictEqual(
      [...order].sort((a, b) => a - b),
      order,
      "steps in order",
    );
    assert.match(APPLY, /pvehl_lock=\/etc\/pve\/priv\/lock\/file-corosync_conf/);
    // Mode-right advice: the weighted push runs on the always-on host, the only side where lowering expected
    // votes is safe; the reset (any mode) never suggests it.
    const refusal = (alwaysOnHere: boolean) =>
      quote(
        `the cluster is not quorate, so /etc/pve is read-only. ${inquorateAdvice("pve-low", alwaysOnHere)}`,
      );
    assert.ok(APPLY.includes(refusal(true)));
    assert.match(inquorateAdvice("pve-low", true), /on pve-low, and on no other host, run 'pvecm expected'/);
    assert.doesNotMatch(APPLY, /pvecm expected 1/);
    assert.ok(RESET.includes(refusal(false)));
    assert.match(inquorateAdvice("pve-low", false), /Do not lower expected votes \('pvecm expected'\) here/);
    assert.ok(votesApplyScript("pve-low", []).includes(refusal(false)));
    assert.match(APPLY, /\/var\/backups\/pve-homelab\/corosync\.conf\.\$\(date -u \+%Y%m%dT%H%M%SZ\)/);
    assert.match(APPLY, /for pvehl_i in \$\(seq 1 60\)/);
    assert.match(APPLY, /pvehl_deadline=\$\(\( \$\(date \+%s\) \+ 60 \)\)/);
    assert.match(APPLY, /journalctl -b -u corosync/);
  });

  it("refuses bad bounds and hosts it cannot name safely", () => {
    assert.throws(() => votesApplyScript("pve-low", ["pve-low"], { waitSeconds: 0 }), /waitSeconds must be/);
    assert.throws(
      () => votesApplyScript("pve-low", ["pve-low"], { lockSeconds: 1.5 }),
      /lockSeconds must be/,
    );
    assert.throws(() => votesApplyScript("pve low", ["pve low"]), /not a single word/);
    assert.throws(() => votesResetScript("a\nb"), /not a single word/);
  });

  it("heredoc bodies cannot end the heredoc early", () => {
    assert.throws(() => heredocFunction("f", "END", "a\nEND\nb\n"), /contains END/);
    assert.throws(() => heredocFunction("f", "END", "no newline"), /must end with a newline/);
    assert.ok(!VOTES_AWK.split("\n").includes("PVEHL_AWK_END"));
  });
});

describe("vote push: quoting holds for hostile names", () => {
  // No blanks: the generators refuse names that are not single words before quoting matters.
  const hostile = [
    "$(touch${IFS}CANARY)",
    "`touch${IFS}CANARY`",
    "x';touch${IFS}CANARY;'",
    '";touch${IFS}CANARY;"',
    "a;touch${IFS}CANARY",
  ];

  it("quote() round-trips any string through bash, newlines and quotes included", () => {
    const samples = [
      // Shell-special characters, blanks, control characters and some non-ASCII ones.
      ...fc.sample(
        fc.string({
          unit: fc.constantFrom(..."ab '\"\\$`!\n\t\r;|&*?~#(){}[]<>=%\x01\x7fé☕\u2028"),
          maxLength: 24,
        }),
        {
          numRuns: 400,
          seed: 7,
        },
      ),
      ...hostile,
      "line1\nline2",
      "'; rm -rf /",
      "",
      "'",
      "\\'\"",
    ];
    // One bash prints them all, NUL-separated (no sample contains a NUL).
    const r = bash(`printf '%s\\0' ${samples.map((x) => quote(x)).join(" ")}`);
    assert.equal(r.status, 0, r.stderr);
    assert.deepStrictEqual(r.stdout.split("\0").slice(0, -1), samples);
    assert.equal(bash(sh`printf %s ${"$(id)"} ${"`id`"}`).stdout, "$(id)`id`");
  });

  for (const name of hostile) {
    it(`a host named ${JSON.stringify(name)} stops at the node-name check, running nothing`, () => {
      const dir = mkdtempSync(join(scratch, "hostile-"));
      const text = votesApplyScript(name, [name]);
      const r = bash(text, { cwd: dir });
      assert.equal(r.status, 1);
      assert.ok(
        r.stderr.includes(`expected ${name}`) || r.stderr.includes(`expected ${quote(name)}`),
        r.stderr,
      );
      assert.deepStrictEqual(readdirSync(dir), [], "no command ran");
    });
  }
});

describe("vote push: pure parts run locally", () => {
  /** Runs one function of the apply script with stub corosync tools on PATH. */
  function live(want: string, cmap: string, members: string, after = "5"): number {
    const dir = mkdtempSync(join(scratch, "live-"));
    writeFileSync(join(dir, "want"), want);
    writeFileSync(join(dir, "corosync-cmapctl"), `#!/bin/sh\nprintf '%s\\n' ${quote(cmap)}\n`, {
      mode: 0o755,
    });
    writeFileSync(join(dir, "corosync-quorumtool"), `#!/bin/sh\nprintf '%s' ${quote(members)}\n`, {
      mode: 0o755,
    });
    const fns = APPLY.slice(
      APPLY.indexOf("pvehl_votes_live() {"),
      APPLY.indexOf("\n}\n", APPLY.indexOf("pvehl_votes_live() {")) + 3,
    );
    const r = bash(
      `set -euo pipefail\npvehl_tmp=${quote(dir)}; pvehl_after=${quote(after)}\n${fns}\npvehl_votes_live`,
      {
        env: { PATH: `${dir}:/usr/bin:/bin` },
      },
    );
    return r.status ?? -1;
  }
  const table = [
    "",
    "Membership information",
    "----------------------",
    "    Nodeid      Votes    Qdevice Name",
    "         1          3         NR pve-low (local)",
    "         2          1         NR pve-mid",
    "",
  ].join("\n");

  it("sees the new votes when cmap has the new version and every member votes as wanted", () => {
    assert.equal(
      live("1 3 pve-low\n2 1 pve-mid\n3 1 pve-high\n", "totem.config_version (u64) = 5", table),
      0,
    );
  });
  it("keeps waiting while corosync runs the old config_version", () => {
    assert.equal(
      live("1 3 pve-low\n2 1 pve-mid\n3 1 pve-high\n", "totem.config_version (u64) = 4", table),
      1,
    );
  });
  it("keeps waiting while a member still votes the old way", () => {
    assert.equal(live("1 3 pve-low\n2 2 pve-mid\n", "totem.config_version (u64) = 5", table), 1);
  });
  it("keeps waiting when corosync lists no member", () => {
    assert.equal(live("1 3 pve-low\n", "totem.config_version (u64) = 5", "Membership information\n"), 1);
  });
});

describe("vote push: the on-host edit equals the TypeScript engine", () => {
  const GOOD = [
    "pvecm-create.conf",
    "three-nodes.conf",
    "weighted.conf",
    "two-links.conf",
    "qdevice-ffsplit.conf",
    "qdevice-lms.conf",
    "hand-edited.conf",
    "crlf-no-final-newline.conf",
  ];
  const BROKEN = readdirSync(FIXTURES).filter((f) => f.startsWith("broken-"));

  /** Per fixture: 3/1/1, 1 each, 2 each, reset, drift, unknown and undeclared nodes, bad votes, and the
   *  engine's own 3/1/1 result again (must be a no-op). */
  function fixtureCases(name: string): EditCase[] {
    const conf = fixture(name);
    const first = readNodelist(conf)[0]!.name;
    const weighted = layoutOf(conf, (i) => (i === 0 ? 3 : 1));
    const cases: EditCase[] = [
      { mode: "set", conf, layout: weighted, alwaysOn: [first] },
      { mode: "set", conf, layout: layoutOf(conf), alwaysOn: [] },
      { mode: "set", conf, layout: layoutOf(conf, () => 2), alwaysOn: [first] },
      { mode: "reset", conf, layout: weighted, alwaysOn: [] },
      {
        mode: "set",
        conf,
        layout: weighted.replace(/ring0_addr=\S+/, "ring0_addr=10.9.9.9"),
        alwaysOn: [first],
      },
      { mode: "set", conf, layout: weighted.replace(/nodeid=\d+/, "nodeid=77"), alwaysOn: [] },
      { mode: "reset", conf, layout: weighted + "zz nodeid=99 ring0_addr=10.9.9.99 votes=1\n", alwaysOn: [] },
      { mode: "set", conf, layout: weighted.split("\n").slice(1).join("\n"), alwaysOn: [] },
      { mode: "set", conf, layout: weighted.replace(/votes=3/, "votes=4294967296"), alwaysOn: [] },
      { mode: "set", conf, layout: weighted, alwaysOn: ["nobody"] },
    ];
    const once = engine(cases[0]!);
    if (once.kind === "changed") cases.push({ ...cases[0]!, conf: once.text });
    return cases;
  }

  function cornerCases(): Array<[string, EditCase]> {
    const base = fixture("weighted.conf");
    const layout = layoutOf(base, (i) => (i === 0 ? 3 : 1));
    const variants: Record<string, string> = {
      "empty file": "",
      "NUL byte": base.replace("debug: off", "debug: o\0ff"),
      "NUL at the start": "\0" + base,
      "NUL after a bad line": "x\n" + base.replace("debug: off", "debug: o\0ff"),
      "no final newline": base.slice(0, -2),
      "votes +03": base.replace("quorum_votes: 3", "quorum_votes: +03"),
      "votes -0": base.replace("quorum_votes: 3", "quorum_votes: -0"),
      "votes -1": base.replace("quorum_votes: 3", "quorum_votes: -1"),
      "votes with trailing comment": base.replace("quorum_votes: 3", "quorum_votes: 3 # three"),
      "version 007": base.replace("config_version: 4", "config_version: 007"),
      "version 99": base.replace("config_version: 4", "config_version: 99"),
      "version 9007199254740990": base.replace("config_version: 4", "config_version: 9007199254740990"),
      "version 9007199254740991": base.replace("config_version: 4", "config_version: 9007199254740991"),
      "version +4": base.replace("config_version: 4", "config_version: +4"),
      "empty version": base.replace("config_version: 4", "config_version:"),
      "two totems": base + "totem {\n  version: 2\n}\n",
      "two config_versions": base.replace("config_version: 4", "config_version: 4\n  config_version: 5"),
      "repeated ring0 then name": base
        .replace(
          "    ring0_addr: 192.168.10.12",
          "    ring0_addr: 192.168.10.12\n    ring0_addr: 192.168.10.12",
        )
        .replace("    name: pve3", "    name: pve3\n    name: pve3"),
      "node without nodeid": base.replace("    nodeid: 2\n", ""),
      "bad nodeid and votes": base
        .replace("nodeid: 2", "nodeid: two")
        .replace("quorum_votes: 3", "quorum_votes: x\ty"),
      "duplicate nodeid": base.replace("nodeid: 3", "nodeid: 1"),
      "duplicate name": base.replace("name: pve3", "name: pve2"),
      "qdevice without votes": base.replace(
        "provider: corosync_votequorum",
        "provider: corosync_votequorum\n  device {\n    model: net\n  }",
      ),
      "qdevice with votes": base.replace(
        "provider: corosync_votequorum",
        "provider: corosync_votequorum\n  device {\n    votes: 1\n    net {\n      host: q\n    }\n  }",
      ),
      "two qdevice nets": base.replace(
        "provider: corosync_votequorum",
        "provider: corosync_votequorum\n  device {\n    net {\n    }\n    net {\n    }\n  }",
      ),
      last_man_standing: base.replace(
        "provider: corosync_votequorum",
        "provider: corosync_votequorum\n  last_man_standing: 1",
      ),
      "expected_votes 9": base.replace(
        "provider: corosync_votequorum",
        "provider: corosync_votequorum\n  expected_votes: 9",
      ),
      "expected_votes bad, two_node twice": base.replace(
        "provider: corosync_votequorum",
        "provider: corosync_votequorum\n  expected_votes: many\n  two_node: 1\n  two_node: 0",
      ),
      "no nodelist": base.replace(/nodelist \{[\s\S]*?\n\}\n/, ""),
      "nodelist without nodes": base.replace(/nodelist \{[\s\S]*?\n\}\n/, "nodelist {\n}\n"),
      "two nodelists": base + "nodelist {\n}\n",
      "CRLF, tab indent, node without quorum_votes": base
        .replace("    quorum_votes: 1\n    ring0_addr: 192.168.10.13", "    ring0_addr: 192.168.10.13")
        .replace("    nodeid: 3", "\tnodeid: 3")
        .replace(/\n/g, "\r\n"),
      "long key path": base.replace("debug: off", `${"k".repeat(253)}: v`),
      "long key path, one byte shorter": base.replace("debug: off", `${"k".repeat(252)}: v`),
      "long section path": base.replace("  debug: off", `  ${"s".repeat(250)} {\n  }`),
      "long line": base.replace("debug: off", `debug: ${"x".repeat(504)}`),
      "long line, one byte shorter": base.replace("debug: off", `debug: ${"x".repeat(501)}`),
      "UTF-8 values": base.replace("to_syslog: yes", "note: café ☕ à"),
      "section names ending in à": base.replace("  debug: off", `  ${"à".repeat(126)} {\n  }`),
      "unexpected brace": "}\n" + base,
      "key: {x}": base.replace("debug: off", "debug: {x}"),
      "colon only": base.replace("debug: off", ":"),
      "brace only": base.replace("debug: off", "{"),
      "name then brace then text": base.replace("debug: off", "a{b"),
      "blank lines with tabs and comments": base.replace(/\n\n/g, "\n\t\n  # c\n"),
    };
    return Object.entries(variants).flatMap(([what, conf]) =>
      (["set", "reset"] as const).map((mode): [string, EditCase] => [
        `${what} (${mode})`,
        { mode, conf, layout, alwaysOn: ["pve1"] },
      ]),
    );
  }

  it(`runs on every awk found here (${AWKS.join(", ")}), mawk included`, () => {
    assert.ok(AWKS.includes("mawk"), "mawk (Debian's default awk) must be installed");
  });

  for (const awk of AWKS) {
    describe(`with ${awk}`, () => {
      const fixtures = new Map(GOOD.map((name) => [name, fixtureCases(name)]));
      const broken = BROKEN.map((name): EditCase => ({
        mode: "set",
        conf: fixture(name),
        layout: "pve1 nodeid=1 ring0_addr=192.168.10.11 votes=3\n",
        alwaysOn: [],
      }));
      const corners = cornerCases();
      // Sampled, not fc.assert: one bash process runs them all (a seed makes a failure reproducible).
      const seed = Number(process.env.PVEHL_SEED ?? 20260611);
      const generated = fc.sample(editCaseArb, { numRuns: awk === "mawk" ? 200 : 60, seed });
      const all = [...[...fixtures.values()].flat(), ...broken, ...corners.map(([, c]) => c), ...generated];
      let outcomes: ScriptOutcome[] = [];
      const outcomeOf = (c: EditCase) => outcomes[all.indexOf(c)]!;

      before(function () {
        this.timeout(180_000);
        outcomes = runScriptEdits(awk, all);
      });

      for (const name of GOOD) {
        it(`${name}: 3/1/1, again (no-op), 1 and 2 each, reset, drift and refusals match`, () => {
          const cases = fixtures.get(name)!;
          for (const c of cases) assertSame(c, awk, outcomeOf(c));
          if (engine(cases[0]!).kind === "changed") {
            const again = outcomeOf(cases.at(-1)!);
            assert.equal(again.kind, "unchanged", "applying the result again changes nothing");
          }
        });
      }

      BROKEN.forEach((name, i) => {
        it(`${name}: refused at the same line with the same message`, () => {
          assertSame(broken[i]!, awk, outcomeOf(broken[i]!));
        });
      });

      it("hand-written corner cases match", () => {
        for (const [what, c] of corners) {
          assert.doesNotThrow(() => assertSame(c, awk, outcomeOf(c)), what);
        }
      });

      it(`matches on ${generated.length} generated files, layouts and always-on sets (seed ${seed})`, () => {
        const kinds = new Map<string, number>();
        for (const c of generated) {
          assertSame(c, awk, outcomeOf(c));
          const o = outcomeOf(c);
          const k = o.kind === "refused" ? `refused ${o.code}` : o.kind;
          kinds.set(k, (kinds.get(k) ?? 0) + 1);
        }
        // The generator must reach edits, no-ops and refusals alike, or the comparison proves little.
        assert.ok((kinds.get("changed") ?? 0) > generated.length / 10, JSON.stringify([...kinds]));
        assert.ok((kinds.get("unchanged") ?? 0) > 0, JSON.stringify([...kinds]));
        assert.ok(
          [...kinds.keys()].filter((k) => k.startsWith("refused")).length >= 6,
          JSON.stringify([...kinds]),
        );
      });
    });
  }

  it("also writes the undo layout and the wanted votes the push uses", () => {
    const conf = fixture("hand-edited.conf");
    const out = runScriptEdit("mawk", {
      mode: "set",
      conf,
      layout: layoutOf(conf, (i) => (i === 0 ? 3 : 1)),
      alwaysOn: ["pve1"],
    });
    assert.equal(out.kind, "changed");
    assert.equal(
      out.undo,
      "pve1 nodeid=1 ring0_addr=192.168.10.11 votes=1\npve2 nodeid=2 ring0_addr=192.168.10.12 votes=1\npve3 nodeid=3 ring0_addr=192.168.10.13 votes=1\n",
    );
    assert.equal(out.want, "1 3 pve1\n2 1 pve2\n3 1 pve3\n");
  });

  it("refuses a malformed layout on stdin before reading the file", () => {
    const conf = fixture("weighted.conf");
    for (const layout of [
      "pve1 votes=3\n",
      "pve1 nodeid=1 ring0_addr=10.0.0.1 votes=3\npve1 nodeid=1 ring0_addr=10.0.0.1 votes=3\n",
      "\n",
    ]) {
      const out = runScriptEdit("mawk", { mode: "set", conf, layout, alwaysOn: [] });
      assert.equal(out.kind, "refused");
      if (out.kind === "refused") {
        assert.equal(out.code, "bad-input");
        assert.match(out.messages.join("\n"), /stdin/);
      }
    }
  });

  it("inspects a file: version, cluster name, nodelist", () => {
    const out = bash(`set -euo pipefail\n${EDIT_STEP}\npvehl_edit inspect "$1" /dev/null /dev/null`, {
      args: [join(FIXTURES, "hand-edited.conf")],
    });
    assert.equal(out.status, 0, out.stderr);
    assert.equal(
      out.stdout,
      "inspected 12\ncluster homelab\nprovider corosync_votequorum\nnode pve1 1 192.168.10.11\nnode pve2 2 192.168.10.12\nnode pve3 3 192.168.10.13\n",
    );
  });
});
