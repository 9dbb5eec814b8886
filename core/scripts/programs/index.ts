// Host programs that are not shell (awk, Perl) live as real files beside this one, so editors, `awk -f` and
// `perl -c` can read them and a diff shows them as code. The generators embed their text in the registered
// command (a quoted argument or a quoted heredoc): still one SSH session, nothing installed on the hosts.
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The programs, by file name; each is read once. */
export const HOST_PROGRAMS = [
  "corosync-edit.awk",
  "corosync-flatten.awk",
  "corosync-node-votes.awk",
  "cluster-status-online.pl",
  "pvesh-fields.pl",
  "node-config-wakeonlan.awk",
  "retire-quorum.pl",
] as const;
export type HostProgram = (typeof HOST_PROGRAMS)[number];

const cache = new Map<HostProgram, string>();

/** The program's text exactly as in its file (ends with a newline). */
export function hostProgram(name: HostProgram): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(programPath(name), "latin1");
    if (!text.endsWith("\n")) throw new Error(`host program ${name} must end with a newline`);
    cache.set(name, text);
  }
  return text;
}

/** The program as one command-line argument (`awk PROGRAM`, `perl -e PROGRAM`): without its final newline. */
export function hostProgramArgument(name: HostProgram): string {
  return hostProgram(name).slice(0, -1);
}

export function programPath(name: HostProgram): string {
  return join(__dirname, name);
}
