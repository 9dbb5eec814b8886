// The explicit proxmoxve provider, built from the Model and the two secrets. Explicit so nothing is picked up
// from a PROXMOX_VE_* variable or ambient config by accident, and so the plan can build it with placeholders.
import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { Model } from "../core/model";

export interface ProxmoxCredentials {
  /** "USER@REALM!TOKENID=UUID". Defaults to none: the provider then reads PROXMOX_VE_API_TOKEN when it runs. */
  readonly apiToken?: pulumi.Input<string>;
  /** Private key (PEM/OpenSSH) for the provider's own SSH to the nodes (disk import). Defaults to none. */
  readonly sshPrivateKey?: pulumi.Input<string>;
}

/** Provider args as a pure function of the Model, so tests read them without a deployment. */
export function proxmoxProviderArgs(model: Model, creds: ProxmoxCredentials): proxmoxve.ProviderArgs {
  // The provider has one SSH user for all nodes: root (core/config refuses any other hosts[].sshUser).
  const main = model.hosts.find((h) => h.power === "always-on") ?? model.hosts[0];
  return {
    endpoint: model.proxmox.endpoint,
    // Wrapped here as well as inside the SDK, so secrecy does not depend on the SDK version.
    apiToken: creds.apiToken === undefined ? undefined : pulumi.secret(creds.apiToken),
    // Only for the self-signed default certificate; never sent as an explicit false (keeps the inputs minimal).
    insecure: model.proxmox.insecure ? true : undefined,
    ssh: {
      username: main?.sshUser,
      privateKey: creds.sshPrivateKey === undefined ? undefined : pulumi.secret(creds.sshPrivateKey),
      // With a key given, never let PROXMOX_VE_SSH_AGENT (which takes precedence over privateKey) switch to an agent.
      agent: creds.sshPrivateKey === undefined ? undefined : false,
      // The declared addresses, not what the API reports (which may be an unreachable cluster-link address).
      // Host keys: the provider checks $HOME/.ssh/known_hosts and records unknown hosts on first use; it has no
      // argument to pin them, so createVirtualMachines writes hosts[].hostKey there first (components/knownHosts).
      nodes: model.hosts.map((h) => ({ name: h.name, address: h.address, port: h.sshPort })),
    },
  };
}

export function proxmoxProvider(
  name: string,
  model: Model,
  creds: ProxmoxCredentials,
  opts: pulumi.CustomResourceOptions,
): proxmoxve.Provider {
  return new proxmoxve.Provider(name, proxmoxProviderArgs(model, creds), opts);
}
