// Times the vote edit on a 32-node corosync.conf: parse + setVotes (which parses, checks and edits).
// Prints `corosync_edit_ms: <ms per edit>`; it must stay well under 1 ms. Run: npx tsx bench/corosync.ts
import { performance } from "node:perf_hooks";
import { parseCorosyncConf, renderCorosyncConf, setVotes, type SetVotesOptions } from "../core/corosync";

const NODES = 32;

export interface CorosyncBenchResult {
  readonly corosync_edit_ms: number;
  readonly iterations: number;
  readonly nodes: number;
}

export function main(iterations = 5000): CorosyncBenchResult {
  const nodes = Array.from({ length: NODES }, (_, i) => ({
    name: `pve${String(i + 1).padStart(2, "0")}`,
    nodeId: i + 1,
    address: `10.0.0.${i + 1}`,
    votes: 1,
  }));
  const options: SetVotesOptions = {
    alwaysOn: ["pve01"],
    expectNodes: Object.fromEntries(nodes.map((n) => [n.name, { nodeId: n.nodeId, address: n.address }])),
  };
  // Alternate between two vote sets so that every edit really changes the file.
  const voteSets = [NODES, NODES + 2].map((main) =>
    Object.fromEntries(nodes.map((n, i) => [n.name, i === 0 ? main : 1])),
  );
  let text = renderCorosyncConf({ clusterName: "bench", configVersion: 1, nodes });
  const edit = (i: number) => {
    parseCorosyncConf(text);
    const result = setVotes(text, voteSets[i % 2] ?? {}, options);
    if (!result.changed) throw new Error("bench edit changed nothing");
    text = result.text;
  };

  for (let i = 0; i < 500; i++) edit(i); // warm up the JIT
  const start = performance.now();
  for (let i = 0; i < iterations; i++) edit(i);
  const perEdit = (performance.now() - start) / iterations;

  console.log(`corosync_edit_ms: ${perEdit.toFixed(4)}`);
  console.log(`corosync_edit_iterations: ${iterations}`);
  console.log(`corosync_edit_nodes: ${NODES}`);
  return { corosync_edit_ms: perEdit, iterations, nodes: NODES };
}

if (require.main === module) main();
