// How a stack config value's text becomes a value: Pulumi hands every config value to the program as a
// string (objects and lists as JSON). Only the keys whose schema is structured (lists, objects, booleans,
// numbers) are JSON-parsed; every key whose schema is a string stays the exact text the user wrote, so
// `clusterName: "1234"` is the string "1234", not the number 1234. Derived from the schema, so a new key is
// decoded by its own type.
import type { z } from "zod";
import { configSchema } from "./schema";

/** The schema's type under defaults and optionals (zod 4 `def.type`). */
function baseType(schema: z.core.$ZodType): string {
  const def = schema._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
  if ((def.type === "default" || def.type === "optional") && def.innerType) return baseType(def.innerType);
  if (def.type === "pipe" && def.in) return baseType(def.in);
  return def.type;
}

/** Keys whose values are JSON: every key of configSchema whose type is not a string. */
export const STRUCTURED_KEYS: ReadonlySet<string> = new Set(
  Object.entries(configSchema.shape)
    .filter(([, schema]) => baseType(schema) !== "string")
    .map(([key]) => key),
);

/** The value the program validates for `key`, from the text Pulumi hands over. */
export function decodeConfigValue(key: string, text: string): unknown {
  if (!STRUCTURED_KEYS.has(key)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text; // the schema then reports the type the key needs
  }
}
