// Rules for `retiredHosts`: hosts that leave the cluster. A retired host is removed with `pvecm delnode` on the
// always-on host in the same `pulumi up` that pushes the remaining votes (before the push), so it must not also
// be a declared host. Each retired host also gets a note saying what stays on the removed machine.
import type { Finding } from "../model";
import { error, warning } from "./findings";
import type { ParsedConfig } from "./schema";

/** Files the rejoin step (RejoinGuard) installs on a host that is not always on; they stay on a removed host. */
export const REJOIN_LEFTOVERS =
  "/etc/systemd/system/corosync.service.d/pve-homelab-rejoin.conf and /usr/local/sbin/pve-homelab-rejoin";

export function retiredHostRules(cfg: ParsedConfig): Finding[] {
  const out: Finding[] = [];
  const declared = new Map(cfg.hosts.map((h, i) => [h.name.toLowerCase(), i]));
  const seen = new Map<string, number>();
  const founder = cfg.hosts.find((h) => h.power === "always-on")?.name ?? "the always-on host";
  cfg.retiredHosts.forEach((r, i) => {
    const key = r.name.toLowerCase();
    const path = `retiredHosts[${i}].name`;
    const inHosts = declared.get(key);
    const first = seen.get(key);
    if (inHosts !== undefined) {
      out.push(
        error(
          "retiredHosts.also-declared",
          path,
          `host ${r.name} is in retiredHosts and also in hosts[${inHosts}]`,
          `delete hosts[${inHosts}] to remove ${r.name} from the cluster, or drop it from retiredHosts to keep it. ` +
            `To re-add a reinstalled ${r.name}: first retire it (\`pulumi up\`), then move it back to hosts with its new hostKey`,
        ),
      );
      return;
    }
    if (first !== undefined) {
      out.push(
        error(
          "retiredHosts.duplicate-name",
          path,
          `host ${r.name} is listed twice in retiredHosts (also retiredHosts[${first}])`,
          "list each retired host once",
        ),
      );
      return;
    }
    seen.set(key, i);
    out.push(
      warning(
        "retiredHosts.leftovers",
        path,
        `${r.name} is removed from cluster ${cfg.clusterName} with \`pvecm delnode\` on ${founder} (refused while it is online). ` +
          `Left on the removed machine: its /etc/corosync/corosync.conf and authkey, its copy of /etc/pve and, if it was not always on, ` +
          `the rejoin step (${REJOIN_LEFTOVERS}); booted like that it tries to rejoin, but the members no longer list it, so it stays alone and ` +
          `not quorate. Left in the cluster: /etc/pve/nodes/${r.name} (old certificate and ssh_known_hosts) and its root key in ` +
          `/etc/pve/priv/authorized_keys`,
        `reinstall ${r.name} (or separate it: Proxmox docs "Separate a Node Without Reinstalling", and remove the rejoin step files) before ` +
          `it boots on this network again; to re-add it later, put it back in hosts with its new hostKey and remove it from retiredHosts`,
      ),
    );
  });
  return out;
}
