import { strict as assert } from "node:assert";
import * as path from "node:path";
import { runProgram, SECRET, UNKNOWN, type ProgramResult } from "../../plan/engine";

// The engine's behaviour on a small fixture program (test/fixtures/plan/program), independent of the real one.
const FIXTURE = path.resolve(__dirname, "../fixtures/plan/program");

function runFixture(
  config: Record<string, unknown> = {},
  extra: { preview?: boolean } = {},
): Promise<ProgramResult> {
  return runProgram({
    projectDir: FIXTURE,
    project: "fixture",
    stack: "t",
    config: { name: "a", token: "tok-123", ...config },
    secretKeys: ["token"],
    ...extra,
  });
}

const byName = (run: ProgramResult, name: string) => {
  const found = run.resources.find((r) => r.name === name);
  assert.ok(found, `no resource named ${name} in ${run.resources.map((r) => r.name).join(", ")}`);
  return found;
};

describe("plan engine: runProgram", () => {
  let run: ProgramResult;
  before(async () => {
    run = await runFixture();
  });

  it("records every registration with its type, name and parent, the stack first", () => {
    assert.equal(run.error, undefined);
    assert.deepEqual(
      run.resources.map((r) => [r.type, r.name, r.parent]),
      [
        ["pulumi:pulumi:Stack", "fixture-t", null],
        ["fixture:index:Group", "group", "fixture-t"],
        ["fixture:index:Thing", "load-1", "fixture-t"],
        ["fixture:index:Thing", "named-a", "fixture-t"],
        ["fixture:index:Thing", "group-a", "group"],
        ["fixture:index:Thing", "group-b", "group"],
      ],
    );
    assert.equal(byName(run, "group-a").parentUrn, byName(run, "group").urn);
  });

  it("replaces secret inputs by [secret] and keeps the rest as registered", () => {
    const a = byName(run, "group-a");
    assert.deepEqual(a.inputs, { plain: "x", secret: SECRET, nested: { list: [1, SECRET] } });
    assert.deepEqual([...a.secretPaths].sort(), ["nested.list[1]", "secret"]);
    assert.deepEqual(a.plainInputs, { plain: "x", secret: "s3cret", nested: { list: [1, "t"] } });
    assert.ok(!JSON.stringify(a).includes("s3cret"), "plainInputs must not be serialized");
  });

  it("marks secret config passed into an input as [secret]", () => {
    assert.deepEqual(byName(run, "named-a").inputs, { token: SECRET });
    assert.deepEqual(byName(run, "named-a").plainInputs, { token: "tok-123" });
  });

  it("shows an output that is not known during preview as [unknown], and records the dependency", () => {
    const b = byName(run, "group-b");
    assert.deepEqual(b.inputs, { fromA: UNKNOWN, known: "x", idOfA: UNKNOWN });
    assert.deepEqual(b.dependsOn, [byName(run, "group-a").urn]);
    assert.equal(b.options.protect, true);
  });

  it("collects stack outputs (secrets hidden), component outputs and log messages", () => {
    assert.deepEqual(run.outputs, { answer: 42, hidden: SECRET });
    assert.deepEqual(byName(run, "group").outputs, { count: 2 });
    assert.deepEqual(
      run.logs.filter((l) => l.severity !== "debug"),
      [{ severity: "warning", message: "fixture warning" }],
    );
  });

  it("loads the program freshly on every run: module state and config do not leak between runs", async () => {
    const again = await runFixture({ name: "b" });
    assert.deepEqual(
      again.resources.map((r) => r.name),
      ["fixture-t", "group", "load-1", "named-b", "group-a", "group-b"],
    );
    const third = await runFixture({ token: "other" });
    assert.deepEqual(byName(third, "named-a").plainInputs, { token: "other" });
  });

  it("serializes concurrent runs", async () => {
    const [x, y] = await Promise.all([runFixture({ name: "x" }), runFixture({ name: "y" })]);
    assert.ok(
      x.resources.some((r) => r.name === "named-x") && !x.resources.some((r) => r.name === "named-y"),
    );
    assert.ok(
      y.resources.some((r) => r.name === "named-y") && !y.resources.some((r) => r.name === "named-x"),
    );
  });

  it("outside preview, gives created resources ids and leaves unset outputs undefined", async () => {
    const update = await runFixture({}, { preview: false });
    assert.deepEqual(byName(update, "group-b").inputs, { known: "x", idOfA: "group-a-id" });
  });

  it("returns what the program threw, with only the stack registered", async () => {
    const failed = await runFixture({ mode: "throw" });
    assert.equal(failed.error?.message, "fixture: refused before registering anything");
    assert.deepEqual(
      failed.resources.map((r) => r.type),
      ["pulumi:pulumi:Stack"],
    );
    assert.deepEqual(failed.outputs, {});
  });

  it("returns a rejection the program left unhandled as its error", async () => {
    const failed = await runFixture({ mode: "reject" });
    assert.equal(failed.error?.message, "fixture: unhandled rejection");
  });

  it("restores stack-trace settings after a run", async () => {
    const limit = Error.stackTraceLimit;
    const maps = process.sourceMapsEnabled;
    await runFixture({ mode: "throw" });
    assert.equal(Error.stackTraceLimit, limit);
    assert.equal(process.sourceMapsEnabled, maps);
  });
});
