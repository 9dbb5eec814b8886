// Reads a stack the way the Pulumi CLI would hand it to the program: Pulumi.yaml (project name, config
// defaults) plus Pulumi.<stack>.yaml (config values, `secure:` ciphertexts), without the CLI and without
// decrypting anything. Secrets the plan cannot or need not read get a placeholder value, marked secret.
import * as fs from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { decodeConfigValue, SECRET_KEYS } from "../core/config";
import type { RawStackConfig } from "../core/config";
import { UsageError } from "../cli/exit";

// The CLI's one UsageError (exit 2), re-exported for the plan's modules and tests.
export { UsageError } from "../cli/exit";

/** The value the program sees for a secret the plan has no plaintext for (shown as "[secret]"). */
export const PLACEHOLDER_SECRET = "plan-placeholder-secret";

export interface StackFiles {
  /** Project name from Pulumi.yaml: the config namespace. */
  readonly project: string;
  readonly stack: string;
  /** Directory holding Pulumi.yaml and the stack file. */
  readonly dir: string;
  readonly stackFile: string;
  /** Project-namespace values, key without namespace, after Pulumi.yaml defaults; secrets hold PLACEHOLDER_SECRET. */
  readonly values: Readonly<Record<string, unknown>>;
  /** Keys (without namespace) of `values` that are secrets. */
  readonly secretKeys: ReadonlySet<string>;
  /**
   * Where each secret of SECRET_KEYS comes from: the stack file (`secure:`, never decrypted), the stack file in
   * plain text (an error finding; the value is never shown either), or a placeholder because it is not set.
   */
  readonly secrets: readonly { readonly key: string; readonly source: SecretSource }[];
  /** Config of other namespaces (e.g. "proxmoxve:endpoint"), full key → value, passed through to the program. */
  readonly otherConfig: Readonly<Record<string, unknown>>;
}

export type SecretSource = "stack file" | "plain text" | "placeholder";

/** The `name:` of the Pulumi.yaml in `dir`. */
export function projectName(dir: string): string {
  const file = firstExisting(dir, ["Pulumi.yaml", "Pulumi.yml"]);
  if (!file) throw new UsageError(`no Pulumi.yaml in ${dir}`);
  const name = asMap(readYaml(file), file).name;
  if (typeof name !== "string" || name === "") throw new UsageError(`${file}: no project name (name:)`);
  return name;
}

const STACK_NAME = /^[A-Za-z0-9_.-]+$/;

export function loadStackFiles(dir: string, stack: string): StackFiles {
  if (!STACK_NAME.test(stack)) {
    throw new UsageError(
      `invalid stack name ${JSON.stringify(stack)}: letters, digits, '-', '_' and '.' only`,
    );
  }
  const projectFile = firstExisting(dir, ["Pulumi.yaml", "Pulumi.yml"]);
  if (!projectFile) throw new UsageError(`no Pulumi.yaml in ${dir}`);
  const projectDoc = asMap(readYaml(projectFile), projectFile);
  const project = projectDoc.name;
  if (typeof project !== "string" || project === "")
    throw new UsageError(`${projectFile}: no project name (name:)`);

  const stackFile = firstExisting(dir, [`Pulumi.${stack}.yaml`, `Pulumi.${stack}.yml`]);
  if (!stackFile) {
    const known = fs
      .readdirSync(dir)
      .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
      .filter((s): s is string => s !== undefined)
      .sort();
    throw new UsageError(
      `unknown stack "${stack}": no Pulumi.${stack}.yaml in ${dir} (stacks: ${known.join(", ") || "none"})`,
    );
  }
  const stackDoc = readYaml(stackFile);
  const stackConfig =
    stackDoc === null || stackDoc === undefined ? {} : (asMap(stackDoc, stackFile).config ?? {});

  const values: Record<string, unknown> = {};
  const otherConfig: Record<string, unknown> = {};
  const secretKeys = new Set<string>();
  const put = (fullKey: string, value: unknown, secret: boolean) => {
    const [ns, key] = splitKey(project, fullKey);
    if (ns !== project) {
      otherConfig[`${ns}:${key}`] = value;
      return;
    }
    values[key] = value;
    if (secret) secretKeys.add(key);
    else secretKeys.delete(key);
  };

  // Pulumi.yaml `config:` declares keys; a declared default applies when the stack file does not set the key.
  for (const [key, decl] of Object.entries(asMap(projectDoc.config ?? {}, `${projectFile} config`))) {
    const value = declaredDefault(decl);
    if (value !== undefined) put(key, value, false);
  }
  for (const [key, raw] of Object.entries(asMap(stackConfig, `${stackFile} config`))) {
    const { value, secret } = withoutCiphertexts(raw);
    put(key, value, secret);
  }

  const secrets = SECRET_KEYS.map((key): { key: string; source: SecretSource } => {
    if (key in values) return { key, source: secretKeys.has(key) ? "stack file" : "plain text" };
    values[key] = PLACEHOLDER_SECRET;
    secretKeys.add(key);
    return { key, source: "placeholder" };
  });
  return { project, stack, dir, stackFile, values, secretKeys, secrets, otherConfig };
}

/**
 * The config as the program decodes it (components/stackConfig.ts readRawConfig): Pulumi hands strings over
 * as they are and everything else as JSON; the program JSON-parses the structured keys only (core/config/decode)
 * and keeps every other key as its text. So `clusterName: "1234"` stays the string "1234", here as well.
 */
export function rawStackConfig(files: StackFiles): RawStackConfig {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(files.values))
    values[key] = decodeConfigValue(key, encodeLikeCli(value));
  return { values, secretKeys: files.secretKeys };
}

/** Full keys and wire values for the engine's setAllConfig. */
export function programConfig(files: StackFiles): { config: Record<string, unknown>; secretKeys: string[] } {
  const config: Record<string, unknown> = { ...files.otherConfig };
  for (const [key, value] of Object.entries(files.values)) config[`${files.project}:${key}`] = value;
  return { config, secretKeys: [...files.secretKeys].map((k) => `${files.project}:${k}`) };
}

const encodeLikeCli = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));

function splitKey(project: string, fullKey: string): [string, string] {
  const i = fullKey.indexOf(":");
  return i < 0 ? [project, fullKey] : [fullKey.slice(0, i), fullKey.slice(i + 1)];
}

const DECLARATION_KEYS = new Set(["type", "default", "value", "description", "items", "secret"]);

/** A Pulumi.yaml config entry: `{type, default, description, ...}` or a bare value that is the default. */
function declaredDefault(decl: unknown): unknown {
  if (decl !== null && typeof decl === "object" && !Array.isArray(decl)) {
    const keys = Object.keys(decl);
    if (keys.length > 0 && keys.every((k) => DECLARATION_KEYS.has(k))) {
      const d = decl as Record<string, unknown>;
      return d.default ?? d.value;
    }
  }
  return decl;
}

/** `{secure: "..."}` anywhere in a value makes the whole key secret; the ciphertext becomes the placeholder. */
function withoutCiphertexts(value: unknown): { value: unknown; secret: boolean } {
  let secret = false;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") {
      const entries = Object.entries(v);
      if (entries.length === 1 && entries[0]![0] === "secure" && typeof entries[0]![1] === "string") {
        secret = true;
        return PLACEHOLDER_SECRET;
      }
      return Object.fromEntries(entries.map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  const out = walk(value);
  return { value: out, secret };
}

function firstExisting(dir: string, names: readonly string[]): string | undefined {
  return names.map((n) => path.join(dir, n)).find((f) => fs.existsSync(f));
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const early = prefetched.get(file);
  const parsed = early?.text === text ? early : parseYaml(text);
  if ("error" in parsed) throw new UsageError(`${file} is not valid YAML: ${parsed.error}`);
  return parsed.value;
}

type Parsed = { readonly value: unknown } | { readonly error: string };

function parseYaml(text: string): Parsed {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when not parsed in advance
  const { parse } = require("yaml") as typeof import("yaml");
  try {
    return { value: parse(text) };
  } catch (e) {
    return { error: String((e as Error).message).split("\n")[0] ?? "" };
  }
}

/** Files parsed on a worker thread by prefetchStackFiles, with the text they were parsed from. */
const prefetched = new Map<string, Parsed & { readonly text: string }>();

// Plain CommonJS for the worker (no tsx there: it only needs the yaml package).
const PREFETCH_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const { parse } = require(workerData.yaml);
const out = [];
for (const file of workerData.files) {
  let text;
  try { text = fs.readFileSync(file, "utf8"); } catch { continue; }
  try { out.push({ file, text, value: parse(text) }); }
  catch (e) { out.push({ file, text, error: String(e && e.message).split("\\n")[0] }); }
}
parentPort.postMessage(out);
`;

/**
 * Parses Pulumi.yaml and the stack file on a worker thread, while the caller goes on loading the Pulumi SDK
 * (which takes a second or two on the main thread): the yaml package needs about 0.6 s for a 500-VM stack
 * file. loadStackFiles then uses these results (for files whose text has not changed since). Never rejects:
 * whatever the worker did not parse is parsed on the main thread as usual.
 */
export function prefetchStackFiles(dir: string, stack: string): Promise<void> {
  const names = ["Pulumi.yaml", "Pulumi.yml", `Pulumi.${stack}.yaml`, `Pulumi.${stack}.yml`];
  if (!STACK_NAME.test(stack)) return Promise.resolve();
  return new Promise((resolve) => {
    try {
      const worker = new Worker(PREFETCH_WORKER, {
        eval: true,
        execArgv: [],
        workerData: { files: names.map((n) => path.join(dir, n)), yaml: require.resolve("yaml") },
      });
      worker.once("message", (parsed: (Parsed & { file: string; text: string })[]) => {
        for (const { file, ...rest } of parsed) prefetched.set(file, rest);
        resolve();
      });
      worker.once("error", () => resolve());
      worker.once("exit", () => resolve());
    } catch {
      resolve();
    }
  });
}

function asMap(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new UsageError(`${where}: expected a mapping of keys to values`);
  }
  return value as Record<string, unknown>;
}
