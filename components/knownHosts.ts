// Writes the pinned host keys into the known_hosts file the Proxmox provider reads ($HOME/.ssh/known_hosts, see
// core/knownHosts), synchronously, before the provider is registered: its first SSH connection to a node is then
// verified against hosts[].hostKey instead of trusting whatever key answers first. Only in a real update
// (`pulumi up`); previews and the offline plan never touch the file.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { updateKnownHosts, type PinnedHost } from "../core/knownHosts";
import type { Model } from "../core/model";
import { NAMESPACE } from "./stackConfig";

/** The file bpg's openNodeShell reads: os.UserHomeDir()/.ssh/known_hosts (Go and Node both use $HOME). */
export function providerKnownHostsFile(): string {
  return path.join(os.homedir(), ".ssh", "known_hosts");
}

export function pinnedHosts(model: Model): PinnedHost[] {
  return model.hosts.flatMap((h, i) =>
    h.hostKey === undefined
      ? []
      : [
          {
            path: `hosts[${i}].hostKey`,
            name: h.name,
            address: h.address,
            port: h.sshPort,
            hostKey: h.hostKey,
          },
        ],
  );
}

/** Adds the missing pinned keys (write .new + rename, mode 0600); refuses, naming the lines, when the file
 *  would let the provider accept another key for a node. Returns the file path, or undefined in a preview. */
export function pinProviderHostKeys(model: Model): string | undefined {
  if (pulumi.runtime.isDryRun()) return undefined;
  const file = providerKnownHostsFile();
  const existing = fs.existsSync(file) ? fs.readFileSync(file, "latin1") : "";
  const update = updateKnownHosts(existing, pinnedHosts(model));
  if (update.conflicts.length > 0) {
    throw new pulumi.InputPropertiesError({
      message: `pve-homelab: ${file} names cluster nodes with other keys; the Proxmox provider would accept them. Nothing was registered for VMs`,
      errors: update.conflicts.map((c) => ({
        propertyPath: `${NAMESPACE}:${c.host.path}`,
        reason: `line ${c.line} of ${file} covers ${c.host.name} (${c.host.address}) with another key: ${c.text} (fix: check the node's key on a trusted network, then remove that line, e.g. \`ssh-keygen -R ${c.host.address}\`)`,
      })),
    });
  }
  if (update.added.length > 0) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.pve-homelab-new`;
    fs.writeFileSync(tmp, update.text, { encoding: "latin1", mode: 0o600 });
    fs.renameSync(tmp, file);
    pulumi.log.info(
      `pinned host keys of ${update.added.map((h) => h.name).join(", ")} in ${file} for the Proxmox provider`,
    );
  }
  return file;
}
