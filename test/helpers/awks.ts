// The awks the on-host programs must run on: mawk (Debian's and Proxmox's default awk) and gawk are required
// (.ci/run installs both), the one-true-awk is used when present.
import { existsSync } from "node:fs";
import { join } from "node:path";

const REQUIRED = ["mawk", "gawk"] as const;
const OPTIONAL = ["original-awk"] as const;

const installed = (awk: string) => ["/usr/bin", "/bin"].some((d) => existsSync(join(d, awk)));

/** Every awk to test with; throws naming the package when a required one is missing. */
export function testAwks(): string[] {
  const missing = REQUIRED.filter((a) => !installed(a));
  if (missing.length > 0) {
    throw new Error(
      `missing ${missing.join(", ")}: apt-get install ${missing.join(" ")} (.ci/run installs them)`,
    );
  }
  return [...REQUIRED, ...OPTIONAL.filter(installed)];
}
