// The QDevice (issue 9): an external corosync-qnetd vote, set up with `pvecm qdevice setup` from the always-on
// host. The scripts are core/scripts/qdevice's; this file only turns the Model into remote.Commands and fixes
// their order against the vote push.
//
// Children, named from the component name:
//   <name>-config    ALWAYS registered, on the always-on host. qdevice mode: create/update = ensure the device
//                    (all-online check, corosync-qdevice everywhere, QNetd host key pinned, pvecm qdevice setup,
//                    bounded wait until it votes). Any other mode: create/update = ensure NO device (`pvecm
//                    qdevice remove` when one is configured). Delete (`pulumi destroy`) = ensure no device.
//   <name>-root-key  qdevice mode only, on the always-on host: prints root's id_rsa.pub (pvecm logs in with it).
//   <name>-qnetd     qdevice mode only, on the QNetd host: corosync-qnetd installed, its CA, running; that key
//                    authorized for root (stdin = <name>-root-key's stdout). No delete: a dead QNetd host must
//                    never block a later `pulumi up` (pulumi-command runs deletes on the old connection, #104);
//                    the key line stays, marked `pve-homelab-qdevice@<cluster>`.
//
// Why <name>-config exists in every mode. Pulumi deletes resources that left the program only AFTER every
// create and update of the deployment, and not at all once a step failed (pkg/resource/deploy
// deployment_executor.go: performDeletes runs when the program has finished; a failed step cancels the
// deployment first). If the device command existed only in qdevice mode, switching back to weighted would run
// the vote push (3/1/1) BEFORE `pvecm qdevice remove`: the push refuses a device section without votes
// (corosync would refuse to start with it), the deployment stops, the removal never runs, and every later
// `pulumi up` repeats that. With <name>-config kept, the switch is an UPDATE of it (its script changes), and
// ordinary dependsOn orders it (orderQuorumSteps below):
//   qdevice mode:      votes (all 1) → QuorumDevice   (pvecm's lms device has no votes: nodes must vote 1 first)
//   other modes:       QuorumDevice (removal) → votes (the weights are pushed once the device is gone)
// `pulumi destroy` deletes in reverse dependency order, so in qdevice mode the device goes before the votes.
import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import type { HostSpec, Model, QuorumMode } from "../core/model";
import {
  deviceScript,
  qdeviceFindings,
  qdevicePlan,
  qnetdScript,
  removeDeviceScript,
  rootKeyScript,
} from "../core/scripts/qdevice";
import { hostScript } from "./ssh";

export interface QuorumDeviceArgs {
  /** The validated stack. qdevice mode sets the device up; every other mode makes sure none is configured. */
  readonly model: Model;
  /** SSH private key for the hosts' and the QNetd host's sshUser (secret). */
  readonly sshPrivateKey: pulumi.Input<string>;
}

export interface QuorumDeviceResources {
  /** Ensures the device (qdevice mode) or its absence (other modes); its delete removes the device. */
  readonly config: command.remote.Command;
  /** qdevice mode only. */
  readonly rootKey?: command.remote.Command;
  /** qdevice mode only. */
  readonly qnetd?: command.remote.Command;
}

/** Registers the QDevice commands under `parent`. Throws, before registering anything, on a stack this
 *  project cannot provision through pvecm, naming every problem. */
export function createQuorumDevice(
  name: string,
  args: QuorumDeviceArgs,
  parent: pulumi.Resource,
): QuorumDeviceResources {
  const { model } = args;
  const problems = qdeviceFindings(model).filter((f) => f.level === "error");
  if (problems.length > 0) {
    throw new pulumi.InputPropertiesError({
      message: `${name}: the QDevice cannot be set up with pvecm as declared (${problems.length} problem(s))`,
      errors: problems.map((f) => ({
        propertyPath: f.path,
        reason: `${f.message} (fix: ${f.fix}) [${f.code}]`,
      })),
    });
  }
  const privateKey = args.sshPrivateKey;
  const plan = qdevicePlan(model);
  if (!plan) {
    const alwaysOn = alwaysOnHost(model);
    const config = hostScript(
      `${name}-config`,
      { target: alwaysOn, privateKey, create: deviceScript(model), delete: removeDeviceScript(model) },
      { parent },
    );
    return { config };
  }
  const rootKey = hostScript(
    `${name}-root-key`,
    { target: plan.alwaysOn, privateKey, create: rootKeyScript(plan) },
    { parent },
  );
  const d = plan.device;
  const qnetd = hostScript(
    `${name}-qnetd`,
    {
      target: {
        name: "QNetd host",
        address: d.address,
        sshPort: d.sshPort,
        sshUser: d.sshUser,
        hostKey: d.hostKey,
      },
      privateKey,
      create: qnetdScript(plan),
      // The always-on host's root public key (not a secret); also orders this after <name>-root-key.
      stdin: rootKey.stdout,
    },
    { parent },
  );
  const config = hostScript(
    `${name}-config`,
    { target: plan.alwaysOn, privateKey, create: deviceScript(model), delete: removeDeviceScript(model) },
    { parent, dependsOn: [qnetd] },
  );
  return { config, rootKey, qnetd };
}

function alwaysOnHost(model: Model): HostSpec {
  const host = model.hosts.find((h) => h.power === "always-on");
  if (!host) throw new Error("no host has power: always-on; the QDevice commands run on it");
  return host;
}

export class QuorumDevice extends pulumi.ComponentResource {
  public readonly mode: QuorumMode;
  /** Resources to order against (dependsOn this component waits for all of them). */
  public readonly commands: QuorumDeviceResources;
  /** Votes the device holds once set up; 0 outside qdevice mode. */
  public readonly deviceVotes: pulumi.Output<number>;
  /** The config command's last stdout ("qdevice ADDRESS algorithm=... votes=..." or "no qdevice"). */
  public readonly status: pulumi.Output<string>;

  constructor(name: string, args: QuorumDeviceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pve-homelab:quorum:QuorumDevice", name, {}, opts);
    this.mode = args.model.quorum.mode;
    this.commands = createQuorumDevice(name, args, this);
    this.deviceVotes = pulumi.output(qdevicePlan(args.model)?.deviceVotes ?? 0);
    this.status = this.commands.config.stdout;
    this.registerOutputs({ deviceVotes: this.deviceVotes, status: this.status });
  }
}

/**
 * Builds the vote push and the QuorumDevice in the order every mode switch needs (see the header):
 * qdevice mode: votes first, then the device; any other mode: the device (its removal) first, then votes.
 * `after` (e.g. the membership component) comes before both. Returns both, for outputs and further ordering.
 */
export function orderQuorumSteps<V extends pulumi.Resource>(
  model: Model,
  makeVotes: (dependsOn: pulumi.Resource[]) => V,
  makeDevice: (dependsOn: pulumi.Resource[]) => QuorumDevice,
  after: readonly pulumi.Resource[] = [],
): { votes: V; device: QuorumDevice } {
  if (model.quorum.mode === "qdevice") {
    const votes = makeVotes([...after]);
    return { votes, device: makeDevice([...after, votes]) };
  }
  const device = makeDevice([...after]);
  return { device, votes: makeVotes([...after, device]) };
}
