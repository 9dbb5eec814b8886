// Reads this stack's config from the Pulumi runtime exactly once, validates it with core/, and fails with
// every error at once (before any resource is registered). Secrets stay Outputs and never enter the Model.
import * as pulumi from "@pulumi/pulumi";
import { analyzeStack } from "../core/analyze";
import { decodeConfigValue, SECRET_KEYS, type SecretKey } from "../core/config";
import type { Finding, Model } from "../core/model";

export const NAMESPACE = "pve-homelab";

export type StackSecrets = { readonly [K in SecretKey]?: pulumi.Output<string> };

export interface Stack {
  readonly model: Model;
  readonly warnings: readonly Finding[];
  readonly secrets: StackSecrets;
}

// The SDK keeps the secret-key list in its runtime config module without a public type for it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };

/** Values under our namespace: structured keys JSON-decoded, every other key kept as its text (core/config/decode). */
export function readRawConfig(): { values: Record<string, unknown>; secretKeys: Set<string> } {
  const values: Record<string, unknown> = {};
  const secretKeys = new Set<string>();
  for (const [fullKey, text] of Object.entries(pulumi.runtime.allConfig())) {
    const [ns, key] = fullKey.split(":", 2);
    if (ns !== NAMESPACE || key === undefined) continue;
    values[key] = decodeConfigValue(key, text);
    if (runtimeConfig.isConfigSecret(fullKey)) secretKeys.add(key);
  }
  return { values, secretKeys };
}

export function loadStack(): Stack {
  const raw = readRawConfig();
  const { model, findings } = analyzeStack(raw);
  const errors = findings.filter((f) => f.level === "error");
  if (!model || errors.length > 0) {
    throw new pulumi.InputPropertiesError({
      message: `pve-homelab: ${errors.length} problem(s) in the stack config; nothing was registered`,
      errors: errors.map((f) => ({
        propertyPath: `${NAMESPACE}:${f.path}`,
        reason: `${f.message} (fix: ${f.fix}) [${f.code}]`,
      })),
    });
  }
  const warnings = findings.filter((f) => f.level === "warning");
  for (const w of warnings)
    pulumi.log.warn(`${NAMESPACE}:${w.path}: ${w.message} (fix: ${w.fix}) [${w.code}]`);
  const config = new pulumi.Config(NAMESPACE);
  const secrets: { [K in SecretKey]?: pulumi.Output<string> } = {};
  for (const key of SECRET_KEYS) {
    const value = config.getSecret(key);
    if (value) secrets[key] = value;
  }
  return { model, warnings, secrets };
}
