import { strict as assert } from "node:assert";
import fc from "fast-check";
import type { Model, QuorumSpec } from "../../core/model";
import { quorumModel } from "../fixtures/stacks";
import { FULL_TABLE_MAX_HOSTS, quorumBoundary, quorumSummary, whatIf } from "../../core/quorum";
import { quorumSummaryLines } from "../../cli/quorum";

const layout = (votes: readonly number[], quorum: Partial<QuorumSpec> = {}): Model =>
  quorumModel(votes, { clusterName: "big", name: (i) => `pve-${String(i + 1).padStart(2, "0")}`, quorum });

/** Minimal quorate and maximal non-quorate host sets, by brute force over the full what-if table. */
function bruteForce(model: Model): { minimal: number; maximal: number } {
  const quorate = new Map(whatIf(model).scenarios.map((s) => [s.up.join(","), s.quorate]));
  const names = model.hosts.map((h) => h.name);
  const key = (set: readonly string[]) => names.filter((n) => set.includes(n)).join(",");
  let minimal = 0;
  let maximal = 0;
  for (const s of whatIf(model).scenarios) {
    if (s.quorate && s.up.every((h) => !quorate.get(key(s.up.filter((x) => x !== h))))) minimal++;
    const out = names.filter((n) => !s.up.includes(n));
    if (!s.quorate && out.every((h) => quorate.get(key([...s.up, h])))) maximal++;
  }
  return { minimal, maximal };
}

describe("core/quorum/boundary: the compact quorum summary", () => {
  it("keeps the full what-if table up to 5 hosts", () => {
    const s = quorumSummary(layout([3, 1, 1]));
    assert.equal(s.kind, "table");
    assert.equal(s.kind === "table" && s.table.scenarios.length, 8);
    assert.equal(FULL_TABLE_MAX_HOSTS, 5);
  });

  it("describes 16 hosts (16/1 x 15) by two patterns instead of 65,536 rows", () => {
    const s = quorumSummary(layout([16, ...Array<number>(15).fill(1)]));
    assert.equal(s.kind, "boundary");
    if (s.kind !== "boundary") return;
    assert.deepEqual(
      s.classes.map((c) => [c.hosts.length, c.votes]),
      [
        [1, 16],
        [15, 1],
      ],
    );
    const [b] = s.boundaries;
    assert.deepEqual(
      b!.minimalQuorate.map((p) => [p.text, p.votes, p.sets]),
      [["pve-01", 16, 1]],
    );
    assert.deepEqual(
      b!.maximalNonQuorate.map((p) => [p.text, p.votes, p.sets]),
      [["all 15 of pve-02…pve-16 (1 vote each)", 15, 1]],
    );
    const lines = quorumSummaryLines(s, []);
    assert.ok(lines.length < 10, lines.join("\n"));
  });

  it("counts the concrete sets a pattern stands for: 16 equal hosts, any 9 of 16", () => {
    const b = quorumBoundary(layout(Array<number>(16).fill(1))).boundaries[0]!;
    assert.deepEqual(
      b.minimalQuorate.map((p) => [p.text, p.sets]),
      [["any 9 of pve-01…pve-16 (1 vote each)", 11440]],
    );
    assert.deepEqual(
      b.maximalNonQuorate.map((p) => [p.text, p.sets]),
      [["any 8 of pve-01…pve-16 (1 vote each)", 12870]],
    );
  });

  it("gives both device states in qdevice mode", () => {
    const m = layout(Array<number>(6).fill(1), {
      mode: "qdevice",
      device: { address: "192.168.1.5", hostKey: "k", sshUser: "root", sshPort: 22, algorithm: "ffsplit" },
    });
    const s = quorumBoundary(m);
    assert.deepEqual(
      s.boundaries.map((b) => [b.deviceUp, b.minimalQuorate.map((p) => p.text)]),
      [
        [true, ["any 3 of pve-01…pve-06 (1 vote each)"]],
        [false, ["any 4 of pve-01…pve-06 (1 vote each)"]],
      ],
    );
  });

  it("agrees with the brute-force table on the number of minimal and maximal sets (random layouts)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 6, maxLength: 10 }),
        fc.boolean(),
        (votes, atb) => {
          fc.pre(votes.some((v) => v > 0));
          const model = layout(votes, { autoTieBreaker: atb, waitForAll: atb });
          const [b] = quorumBoundary(model).boundaries;
          const sum = (ps: readonly { sets: number }[]) => ps.reduce((a, p) => a + p.sets, 0);
          fc.pre(b!.minimalQuorateCount <= 12 && b!.maximalNonQuorateCount <= 12);
          assert.deepEqual(
            { minimal: sum(b!.minimalQuorate), maximal: sum(b!.maximalNonQuorate) },
            bruteForce(model),
          );
        },
      ),
      { numRuns: 60 },
    );
  });
});
