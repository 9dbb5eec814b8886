// How a stack config value's text becomes a value: Pulumi hands every config value to the program as a
// string (objects and lists as JSON). Only the keys whose schema is structured (lists, objects, booleans) are
// JSON-parsed; every other key stays the exact text the user wrote, so `clusterName: "1234"` is the string
// "1234", not the number 1234.

/** Keys whose values are JSON: lists, objects and booleans of configSchema. */
export const STRUCTURED_KEYS: ReadonlySet<string> = new Set([
  "hosts",
  "vms",
  "quorum",
  "sharedStorage",
  "acknowledgeQuorumRisk",
  "proxmoxInsecure",
]);

/** The value the program validates for `key`, from the text Pulumi hands over. */
export function decodeConfigValue(key: string, text: string): unknown {
  if (!STRUCTURED_KEYS.has(key)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text; // the schema then reports the type the key needs
  }
}
