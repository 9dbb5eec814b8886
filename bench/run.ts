// `npm run bench`: runs every bench script in bench/ (each a fresh `tsx` process, one after the other, so they do
// not disturb each other's timings) and prints all their `key: value` lines on stdout, nothing else. A script that
// fails is reported on stderr with its last output lines; the exit status is then 1, after all scripts ran.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const BENCH = __dirname;
const TSX = path.resolve(BENCH, "../node_modules/.bin/tsx");
/** `key: value` with a snake_case (or dotted) key, as the bench scripts print their figures. */
const FIGURE = /^[A-Za-z][\w.-]*: \S.*$/;

/** Bench scripts: every .ts file here except this runner and helpers whose name starts with "_". */
export function benchScripts(dir = BENCH): string[] {
  return fs
    .readdirSync(dir)
    .filter(
      (f) =>
        f.endsWith(".ts") && !f.endsWith(".d.ts") && f !== path.basename(__filename) && !f.startsWith("_"),
    )
    .sort()
    .map((f) => path.join(dir, f));
}

function run(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`,
  };
  return new Promise((resolve) => {
    const child = spawn(TSX, [script], { cwd: path.dirname(BENCH), env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", (e) => resolve({ code: -1, stdout, stderr: stderr + String(e) }));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function main(): Promise<number> {
  let failed = 0;
  for (const script of benchScripts()) {
    const name = path.relative(path.dirname(BENCH), script);
    const result = await run(script);
    const figures = result.stdout.split("\n").filter((l) => FIGURE.test(l));
    for (const line of figures) process.stdout.write(`${line}\n`);
    if (result.code !== 0 || figures.length === 0) {
      failed++;
      const tail = (result.stderr || result.stdout).trim().split("\n").slice(-5).join("\n  ");
      process.stderr.write(
        `bench: ${name} ${result.code !== 0 ? `exited ${result.code}` : "printed no figures"}\n  ${tail}\n`,
      );
    }
  }
  return failed === 0 ? 0 : 1;
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
