// Turns zod issues into Findings whose path is the config path a user edits ("hosts[2].address").
import type { z } from "zod";
import type { Finding } from "../model";

export function configPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, seg) => {
    if (typeof seg === "number") return `${acc}[${seg}]`;
    return acc ? `${acc}.${String(seg)}` : String(seg);
  }, "");
}

export function error(code: string, path: string, message: string, fix: string): Finding {
  return { level: "error", code, path, message, fix };
}
export function warning(code: string, path: string, message: string, fix: string): Finding {
  return { level: "warning", code, path, message, fix };
}

const DOCS = "see the config reference in README.md";

export function issueToFindings(issue: z.core.$ZodIssue): Finding[] {
  const path = configPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => {
      const where = path ? `${path}.${key}` : key;
      return error(
        "config.unknown-key",
        where,
        `unknown key "${key}"`,
        `remove it or fix its spelling; ${DOCS}`,
      );
    });
  }
  // Zod's own wording starts with "Invalid input"; anything else is a message the schema wrote on purpose.
  const schemaMessage = !issue.message.startsWith("Invalid input");
  if (issue.code === "invalid_type" && issue.input === undefined) {
    const message = schemaMessage ? issue.message : `${path || "value"} is required`;
    return [error("config.missing", path, message, `add it to the stack file; ${DOCS}`)];
  }
  if (issue.code === "invalid_type" && schemaMessage) {
    return [error("config.type", path, issue.message, fixFor(issue.message))];
  }
  if (issue.code === "invalid_type") {
    return [
      error(
        "config.type",
        path,
        `expected ${issue.expected}, got ${describe(issue.input)}`,
        `write a ${issue.expected}; ${DOCS}`,
      ),
    ];
  }
  return [error(`config.${issue.code}`, path, issue.message, fixFor(issue.message))];
}

// Most schema messages already say what to write ("must be ...", "; get the real one with ..."); repeat
// the actionable part as the fix so every finding has one.
function fixFor(message: string): string {
  const hint = message.split("; ")[1];
  return hint ?? `change the value: ${message}`;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "string" ? `the string ${JSON.stringify(v)}` : typeof v;
}
