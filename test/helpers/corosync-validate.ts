// Runs the real `corosync -t` on corosync.conf text, for any test that wants corosync's own verdict.
// `corosync -t` needs an authkey at /etc/corosync/authkey and a nodelist address on a local interface, so
// each run happens in a throwaway network namespace (only `lo`, carrying the node address: nothing can
// leave it) and a private mount namespace where a temp dir with a fresh authkey covers /etc/corosync.
// Needs root and corosync; it throws when either is missing, so a test can never pass without checking.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface CorosyncCheck {
  /** corosync -t exited 0. */
  readonly ok: boolean;
  /** 0 good, 8 bad config, as seen with corosync 3.1. */
  readonly exitCode: number;
  /** stdout and stderr. */
  readonly output: string;
  /** From "parser error: FILE:LINE: REASON", when corosync printed one. */
  readonly parserError?: { readonly line: number; readonly reason: string };
}

export interface CorosyncCheckOptions {
  /** Address to make local; defaults to the first `ring0_addr:` in the text. Must be an IP literal. */
  readonly localAddress?: string;
}

/** corosync -t's verdict on one text. */
export function checkWithCorosync(text: string, options: CorosyncCheckOptions = {}): CorosyncCheck {
  const [check] = checkManyWithCorosync([text], options);
  if (check === undefined) throw new Error("checkManyWithCorosync returned nothing");
  return check;
}

/** Throws, with corosync's output, unless corosync -t accepts the text. */
export function assertCorosyncAccepts(text: string, options: CorosyncCheckOptions = {}): void {
  const check = checkWithCorosync(text, options);
  if (!check.ok) {
    throw new Error(
      `corosync -t rejected the file (exit ${check.exitCode}):\n${check.output}\n--- file ---\n${text}`,
    );
  }
}

/** Verdicts for many texts, in order; texts sharing a local address share one namespace and one shell. */
export function checkManyWithCorosync(
  texts: readonly string[],
  options: CorosyncCheckOptions = {},
): CorosyncCheck[] {
  preflight();
  const results: CorosyncCheck[] = new Array<CorosyncCheck>(texts.length);
  const groups = new Map<string, number[]>();
  texts.forEach((text, i) => {
    const address = options.localAddress ?? firstRing0Address(text) ?? "";
    groups.set(address, [...(groups.get(address) ?? []), i]);
  });
  for (const [address, indexes] of groups) {
    const checks = inNamespace(
      address,
      indexes.map((i) => texts[i] ?? ""),
    );
    indexes.forEach((textIndex, k) => {
      const check = checks[k];
      if (check) results[textIndex] = check;
    });
  }
  return results;
}

let namespaceCounter = 0;

function inNamespace(address: string, texts: readonly string[]): CorosyncCheck[] {
  if (address !== "" && isIP(address) === 0) {
    throw new Error(`ring0_addr ${JSON.stringify(address)} is not an IP literal; pass options.localAddress`);
  }
  const ns = `pvehl-ct-${process.pid}-${++namespaceCounter}`;
  const dir = mkdtempSync(join(tmpdir(), "pvehl-ct-"));
  const etc = join(dir, "etc");
  mkdirSync(etc);
  writeFileSync(join(etc, "authkey"), randomBytes(256), { mode: 0o400 });
  must("ip", ["netns", "add", ns]);
  try {
    must("ip", ["-n", ns, "link", "set", "lo", "up"]);
    if (address !== "") {
      const prefix = isIP(address) === 6 ? ["128", "nodad"] : ["32"];
      must("ip", ["-n", ns, "addr", "add", `${address}/${prefix[0]}`, "dev", "lo", ...prefix.slice(1)]);
    }
    const files = texts.map((text, i) => {
      const file = join(dir, `corosync-${i}.conf`);
      writeFileSync(file, text);
      return file;
    });
    // One shell runs every check (spawning ip/unshare per file costs more than corosync -t itself).
    // The bind mount stays inside the private mount namespace that unshare creates.
    const script =
      'mount --bind "$1" /etc/corosync || exit 1; shift; for f; do corosync -t -c "$f" >"$f.out" 2>&1; echo $? >"$f.rc"; done';
    must("ip", [
      "netns",
      "exec",
      ns,
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      script,
      "sh",
      etc,
      ...files,
    ]);
    return files.map((file) =>
      toCheck(Number(readFileSync(`${file}.rc`, "utf8")), readFileSync(`${file}.out`, "utf8"), file),
    );
  } finally {
    const del = run("ip", ["netns", "del", ns]);
    rmSync(dir, { recursive: true, force: true });
    if (del.status !== 0) process.emitWarning(`could not delete network namespace ${ns}: ${del.stderr}`);
  }
}

function toCheck(exitCode: number, output: string, file: string): CorosyncCheck {
  const prefix = `parser error: ${file}:`;
  const errorLine = output.split("\n").find((l) => l.startsWith(prefix));
  const match = errorLine && /^(\d+): (.*)$/.exec(errorLine.slice(prefix.length));
  const check = { ok: exitCode === 0, exitCode, output };
  return match ? { ...check, parserError: { line: Number(match[1]), reason: match[2] ?? "" } } : check;
}

const firstRing0Address = (text: string): string | undefined =>
  /^[ \t]*ring0_addr[ \t]*:[ \t]*([^\s#]+)/m.exec(text)?.[1];

let installedVersion: string | undefined;

/** The installed corosync's version, e.g. "3.1.7" (its parser rules changed in 3.1.8 and 3.1.10). */
export function corosyncVersion(): string {
  preflight();
  return installedVersion ?? "";
}

function preflight(): void {
  if (installedVersion !== undefined) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      "corosync -t validation needs root (it creates network namespaces); run these tests as root",
    );
  }
  const version = spawnSync("corosync", ["-v"], { encoding: "utf8" });
  const found = /version '([^']+)'/.exec(version.stdout ?? "")?.[1];
  if (version.error || version.status !== 0 || found === undefined) {
    throw new Error(
      "the corosync binary is missing (apt-get install corosync); these tests need the real one",
    );
  }
  installedVersion = found;
}

function run(command: string, args: readonly string[]): SpawnSyncReturns<string> {
  const r = spawnSync(command, args, { encoding: "utf8", timeout: 120_000 });
  if (r.error) throw new Error(`${command} ${args.join(" ")}: ${r.error.message}`);
  return r;
}

function must(command: string, args: readonly string[]): void {
  const r = run(command, args);
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
}

/**
 * Dedents a template literal, for small configs written inside tests (the pcs test style): drops the
 * first line break and the last line's indentation, and removes the indentation common to all lines.
 */
export function conf(strings: TemplateStringsArray, ...values: readonly (string | number)[]): string {
  const text = strings.reduce((out, s, i) => out + s + (i < values.length ? String(values[i]) : ""), "");
  const lines = text
    .replace(/^\n/, "")
    .replace(/\n[ ]*$/, "\n")
    .split("\n");
  const indents = lines.filter((l) => l.trim() !== "").map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const common = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(Math.min(common, /^ */.exec(l)?.[0].length ?? 0))).join("\n");
}
