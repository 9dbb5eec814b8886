import { strict as assert } from "node:assert";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { FINDING_CODES, FINDING_SOURCES, duplicateFindingCodes } from "../../core/finding-codes";

const ROOT = join(__dirname, "..", "..");

function tsFiles(path: string): string[] {
  const full = join(ROOT, path);
  if (statSync(full).isFile()) return [path];
  return readdirSync(full).flatMap((name) => tsFiles(join(path, name)));
}

/** Code literals a source produces: the first argument of error()/warning()/info()/make(), or `code: "..."`. */
function producedCodes(text: string): string[] {
  const pattern = /(?:\b(?:error|warning|info|make)\(\s*|\bcode: )["`]([a-zA-Z]+\.[a-z0-9-]+)["`]/g;
  return [...text.matchAll(pattern)].map((m) => m[1]!);
}

/** code → the files that produce it, over every .ts file under core/, plan/ and components/. */
function producers(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const file of ["core", "plan", "components"].flatMap(tsFiles).filter((f) => f.endsWith(".ts"))) {
    for (const code of producedCodes(readFileSync(join(ROOT, file), "utf8"))) {
      out.set(code, new Set([...(out.get(code) ?? []), relative(ROOT, join(ROOT, file))]));
    }
  }
  return out;
}

describe("finding code registry", () => {
  it("registers every code under exactly one module", () => {
    assert.deepEqual(duplicateFindingCodes(), []);
  });

  it("finds a code registered under two modules", () => {
    assert.deepEqual(duplicateFindingCodes({ a: ["x.one", "x.two"], b: ["x.two"] }), [
      { code: "x.two", modules: ["a", "b"] },
    ]);
  });

  it("has every produced code produced by one file only", () => {
    const twice = [...producers()]
      .filter(([, files]) => files.size > 1)
      .map(([code, f]) => `${code}: ${[...f]}`);
    assert.deepEqual(twice, []);
  });

  it("has every produced code registered, under the module whose sources produce it", () => {
    const wrong: string[] = [];
    for (const [code, files] of producers()) {
      const file = [...files][0]!;
      const module = Object.entries(FINDING_CODES).find(([, codes]) =>
        (codes as readonly string[]).includes(code),
      );
      if (!module) wrong.push(`${code} (in ${file}) is not in core/finding-codes.ts`);
      else if (!FINDING_SOURCES[module[0] as keyof typeof FINDING_SOURCES].some((s) => file.startsWith(s)))
        wrong.push(`${code} is registered under ${module[0]} but produced in ${file}`);
    }
    assert.deepEqual(wrong, []);
  });

  it("has every registered code produced somewhere", () => {
    const produced = producers();
    const unused = Object.values(FINDING_CODES)
      .flat()
      .filter((code) => !produced.has(code));
    assert.deepEqual(unused, []);
  });
});
