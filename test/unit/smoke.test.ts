import { strict as assert } from "node:assert";
describe("toolchain", () => {
  it("runs on Node 22 or newer", () => {
    assert.ok(Number(process.versions.node.split(".")[0]) >= 22, process.versions.node);
  });
});
