// VirtualMachines under the SDK's mocks: the exact inputs each child is registered with, its options, and
// what reaches the engine as a secret. Models come from the real config loader, so the defaults are the real ones.
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { VirtualMachines, type VirtualMachinesArgs } from "../../components/VirtualMachines";
import { loadModel } from "../../core/config";
import type { Model } from "../../core/model";
import { KEY_LOW, withEdit, TEST_SECRET_KEYS } from "../fixtures/stacks";
import { isSecret, promiseOf, recordMocks, type Inputs, type Registered } from "../helpers/mocks";

type Edit = Parameters<typeof withEdit>[0];

const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const FILE = "proxmoxve:download/file:File";
const PROVIDER = "pulumi:providers:proxmoxve";

const TOKEN = "pulumi@pve!homelab=00000000-1111-2222-3333-444444444444";
const PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
const DEBIAN = "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2";
const OPS_KEY = KEY_LOW;

function model(edit: Edit = () => {}): Model {
  const loaded = loadModel({ values: withEdit(edit), secretKeys: TEST_SECRET_KEYS });
  assert.ok(loaded.model, JSON.stringify(loaded.findings));
  return loaded.model;
}

interface Run {
  readonly component: VirtualMachines;
  readonly registered: Registered[];
  /** Resource options each child was constructed with, by resource name (seen through a transformation). */
  readonly options: Map<string, pulumi.ResourceOptions>;
  readonly vms: Registered[];
  readonly files: Registered[];
  readonly providers: Registered[];
}

/** Registers one VirtualMachines under fresh mocks and waits until every child is registered. */
async function run(m: Model, extra: Partial<VirtualMachinesArgs> = {}): Promise<Run> {
  const recorder = await recordMocks({
    id: (args) => {
      const inputs = args.inputs as Inputs;
      // What the provider returns as a file's id: "<datastore>:<content>/<file name>".
      if (args.type === VM) return String(inputs.vmId);
      return args.type === FILE
        ? `${inputs.datastoreId}:${inputs.contentType}/${inputs.fileName}`
        : `${args.name}-id`;
    },
    state: (args) => {
      const inputs = args.inputs as Inputs;
      if (args.type !== VM) return inputs;
      const agent = inputs.agent as { enabled?: boolean } | undefined;
      return { ...inputs, ipv4Addresses: agent?.enabled ? [["127.0.0.1"], ["192.168.1.50"]] : [] };
    },
  });
  const component = new VirtualMachines(
    "homelab-vms",
    { model: m, apiToken: pulumi.secret(TOKEN), sshPrivateKey: pulumi.secret(PRIVATE_KEY), ...extra },
    { transformations: recorder.transformations },
  );
  await promiseOf(component.vms);
  await Promise.all([
    promiseOf(component.urn),
    ...Object.values(component.machines).map((r) => promiseOf(r.urn)),
    ...Object.values(component.images).map((r) => promiseOf(r.urn)),
    ...(component.provider ? [promiseOf(component.provider.urn)] : []),
  ]);
  // Registration order follows promise resolution, not construction order: compare by name.
  const { registered, options, ofType } = recorder;
  return {
    component,
    registered,
    options,
    vms: ofType(VM),
    files: ofType(FILE),
    providers: ofType(PROVIDER),
  };
}

const byName = (list: Registered[], name: string): Registered => {
  const found = list.find((r) => r.name === name);
  assert.ok(found, `no resource named ${name} among ${list.map((r) => r.name).join(", ")}`);
  return found;
};

/** The inputs every VM gets whatever its spec (timeouts, migration, destroy behaviour). */
const COMMON = {
  migrate: true,
  stopOnDestroy: true,
  timeoutCreate: 900,
  timeoutClone: 1800,
  timeoutMigrate: 1800,
  timeoutStartVm: 300,
  timeoutShutdownVm: 300,
  timeoutStopVm: 120,
  timeoutReboot: 300,
};

describe("VirtualMachines (mocks)", () => {
  it("clones a VM from a template on another node, in full, onto the VM's datastore", async () => {
    const { vms, files } = await run(
      model((v) => {
        v.vms = [
          {
            name: "media",
            host: "pve-mid",
            vmId: 110,
            cores: 4,
            memoryMiB: 8192,
            diskGiB: 64,
            cloneFrom: { vmId: 9000, node: "pve-low" },
            tags: ["Media", "arr"],
          },
        ];
      }),
    );
    assert.equal(files.length, 0);
    assert.equal(vms.length, 1);
    assert.deepEqual(byName(vms, "homelab-vms-media").inputs, {
      ...COMMON,
      nodeName: "pve-mid",
      vmId: 110,
      name: "media",
      clone: { vmId: 9000, nodeName: "pve-low", datastoreId: "local-lvm", full: true, retries: 3 },
      cpu: { cores: 4, type: "x86-64-v2-AES" },
      memory: { dedicated: 8192 },
      disks: [{ interface: "scsi0", datastoreId: "local-lvm", size: 64, fileFormat: "raw" }],
      networkDevices: [{ bridge: "vmbr0", model: "virtio" }],
      agent: { enabled: false },
      started: true,
      onBoot: true,
      tags: ["arr", "media"],
      protection: false,
    });
  });

  it("names the template's node as the VM's own host when cloneFrom.node is left out", async () => {
    const { vms } = await run(
      model((v) => (v.vms = [{ name: "media", host: "pve-mid", vmId: 110, cloneFrom: { vmId: 9000 } }])),
    );
    assert.deepEqual(byName(vms, "homelab-vms-media").inputs.clone, {
      vmId: 9000,
      nodeName: "pve-mid",
      datastoreId: "local-lvm",
      full: true,
      retries: 3,
    });
  });

  it("imports a cloud image downloaded once to the host, with a static address from cloud-init", async () => {
    const { vms, files } = await run(
      model((v) => {
        v.vms = [
          {
            name: "home-assistant",
            host: "pve-low",
            vmId: 102,
            cores: 2,
            memoryMiB: 4096,
            diskGiB: 32,
            vlan: 20,
            alwaysOn: true,
            protect: true,
            image: {
              url: DEBIAN,
              fileName: "debian-12-genericcloud-amd64.img",
              checksum: "ab12",
              checksumAlgorithm: "sha512",
            },
            cloudInit: {
              user: "ops",
              sshKeys: [OPS_KEY],
              ipv4: { address: "192.168.1.102/24", gateway: "192.168.1.1" },
              dns: ["192.168.1.101"],
            },
            tags: ["home"],
          },
        ];
      }),
    );
    assert.equal(files.length, 1);
    assert.deepEqual(byName(files, "homelab-vms-image-pve-low-debian-12-genericcloud-amd64.img").inputs, {
      nodeName: "pve-low",
      datastoreId: "local",
      contentType: "iso",
      url: DEBIAN,
      fileName: "debian-12-genericcloud-amd64.img",
      checksum: "ab12",
      checksumAlgorithm: "sha512",
      overwrite: false,
      uploadTimeout: 1800,
    });
    assert.deepEqual(byName(vms, "homelab-vms-home-assistant").inputs, {
      ...COMMON,
      nodeName: "pve-low",
      vmId: 102,
      name: "home-assistant",
      cpu: { cores: 2, type: "x86-64-v2-AES" },
      memory: { dedicated: 4096 },
      disks: [
        {
          interface: "scsi0",
          datastoreId: "local-lvm",
          size: 32,
          fileFormat: "raw",
          fileId: "local:iso/debian-12-genericcloud-amd64.img",
        },
      ],
      networkDevices: [{ bridge: "vmbr0", model: "virtio", vlanId: 20 }],
      initialization: {
        datastoreId: "local-lvm",
        userAccount: { username: "ops", keys: [OPS_KEY] },
        ipConfigs: [{ ipv4: { address: "192.168.1.102/24", gateway: "192.168.1.1" } }],
        dns: { servers: ["192.168.1.101"] },
      },
      agent: { enabled: false },
      started: true,
      onBoot: true,
      tags: ["home"],
      protection: true,
    });
  });

  it("shares one download per host and image, and names a .qcow2 image .img for iso storage", async () => {
    const { vms, files } = await run(
      model((v) => {
        v.vms = [
          { name: "a", host: "pve-low", vmId: 102, image: { url: DEBIAN }, cloudInit: {} },
          { name: "b", host: "pve-low", vmId: 103, image: { url: DEBIAN } },
          {
            name: "c",
            host: "pve-mid",
            vmId: 110,
            image: { url: DEBIAN },
            datastore: "tank",
            bridge: "vmbr1",
          },
        ];
      }),
      { imageDatastore: "images", diskFormats: { tank: "qcow2" } },
    );
    assert.deepEqual(
      files.map((f) => [f.name, f.inputs.nodeName, f.inputs.datastoreId, f.inputs.fileName]),
      [
        [
          "homelab-vms-image-pve-low-debian-12-genericcloud-amd64.qcow2",
          "pve-low",
          "images",
          "debian-12-genericcloud-amd64.qcow2.img",
        ],
        [
          "homelab-vms-image-pve-mid-debian-12-genericcloud-amd64.qcow2",
          "pve-mid",
          "images",
          "debian-12-genericcloud-amd64.qcow2.img",
        ],
      ],
    );
    assert.deepEqual(
      vms.map((vm) => [vm.name, vm.inputs.disks]),
      [
        [
          "homelab-vms-a",
          [
            {
              interface: "scsi0",
              datastoreId: "local-lvm",
              size: 8,
              fileFormat: "raw",
              fileId: "images:iso/debian-12-genericcloud-amd64.qcow2.img",
            },
          ],
        ],
        [
          "homelab-vms-b",
          [
            {
              interface: "scsi0",
              datastoreId: "local-lvm",
              size: 8,
              fileFormat: "raw",
              fileId: "images:iso/debian-12-genericcloud-amd64.qcow2.img",
            },
          ],
        ],
        [
          "homelab-vms-c",
          [
            {
              interface: "scsi0",
              datastoreId: "tank",
              size: 8,
              fileFormat: "qcow2",
              fileId: "images:iso/debian-12-genericcloud-amd64.qcow2.img",
            },
          ],
        ],
      ],
    );
    // cloudInit: {} → DHCP, no user account and no DNS block.
    assert.deepEqual(byName(vms, "homelab-vms-a").inputs.initialization, {
      datastoreId: "local-lvm",
      ipConfigs: [{ ipv4: { address: "dhcp" } }],
    });
    assert.deepEqual(byName(vms, "homelab-vms-c").inputs.networkDevices, [
      { bridge: "vmbr1", model: "virtio" },
    ]);
  });

  it("leaves a VM on a usually-off host stopped and off at boot by default", async () => {
    const { vms } = await run(
      model(
        (v) =>
          (v.vms = [
            { name: "build", host: "pve-high", vmId: 201, cloneFrom: { vmId: 9000, node: "pve-mid" } },
          ]),
      ),
    );
    const build = byName(vms, "homelab-vms-build").inputs;
    assert.equal(build.nodeName, "pve-high");
    assert.equal(build.started, false);
    assert.equal(build.onBoot, false);
  });

  it("keeps the explicit started/onBoot of a VM on a usually-off host", async () => {
    const { vms } = await run(
      model((v) => (v.vms = [{ name: "build", host: "pve-high", vmId: 201, started: true, onBoot: true }])),
    );
    const build = byName(vms, "homelab-vms-build").inputs;
    assert.deepEqual([build.started, build.onBoot], [true, true]);
  });

  it("migrates a VM whose host changed: same resource, new nodeName, migrate set, no replacement options", async () => {
    const vm = (host: string) => ({
      name: "media",
      host,
      vmId: 110,
      cloneFrom: { vmId: 9000, node: "pve-mid" },
    });
    const before = await run(model((v) => (v.vms = [vm("pve-mid")])));
    const after = await run(model((v) => (v.vms = [vm("pve-high")])));
    const [a, b] = [byName(before.vms, "homelab-vms-media"), byName(after.vms, "homelab-vms-media")];
    // Same type and name under the same parent = the same URN: the engine diffs it (an update), not a new VM.
    assert.equal(
      await promiseOf(before.component.machines.media!.urn),
      await promiseOf(after.component.machines.media!.urn),
    );
    assert.deepEqual([a.inputs.nodeName, b.inputs.nodeName], ["pve-mid", "pve-high"]);
    assert.equal(b.inputs.migrate, true);
    // Only nodeName and the host-derived power defaults (usually-off → not started) differ; the clone source
    // names the template's node explicitly, so it does not move with the VM.
    const changed = Object.keys({ ...a.inputs, ...b.inputs }).filter(
      (k) => JSON.stringify(a.inputs[k]) !== JSON.stringify(b.inputs[k]),
    );
    assert.deepEqual(changed.sort(), ["nodeName", "onBoot", "started"]);
    const opts = after.options.get("homelab-vms-media");
    assert.ok(opts);
    const custom = opts as pulumi.CustomResourceOptions;
    assert.equal(custom.replaceOnChanges, undefined);
    assert.equal(custom.deleteBeforeReplace, undefined);
    assert.deepEqual(custom.ignoreChanges, ["disks[*].speed"]);
  });

  it("keeps a migrated cloud-image VM's disk source unchanged (the new host gets its own download)", async () => {
    const vm = (host: string) => ({
      name: "web",
      host,
      vmId: 120,
      image: { url: DEBIAN, fileName: "debian.img" },
    });
    const before = await run(model((v) => (v.vms = [vm("pve-low")])));
    const after = await run(model((v) => (v.vms = [vm("pve-mid")])));
    assert.deepEqual(
      after.files.map((f) => [f.name, f.inputs.nodeName]),
      [["homelab-vms-image-pve-mid-debian.img", "pve-mid"]],
    );
    assert.deepEqual(
      byName(before.vms, "homelab-vms-web").inputs.disks,
      byName(after.vms, "homelab-vms-web").inputs.disks,
    );
  });

  it("builds an explicit provider from the model, with the token and the SSH key as secrets", async () => {
    const { providers, vms, files, registered } = await run(
      model((v) => {
        v.vms.push({ name: "web", host: "pve-low", vmId: 120, image: { url: DEBIAN } });
        v.hosts[2]!.sshPort = 2222;
      }),
    );
    assert.equal(providers.length, 1);
    const p = byName(providers, "homelab-vms-provider").inputs;
    assert.deepEqual(Object.keys(p).sort(), ["apiToken", "endpoint", "ssh"]);
    assert.equal(p.endpoint, "https://192.168.1.21:8006/");
    assert.ok(isSecret(p.apiToken), "apiToken must reach the engine as a secret");
    assert.equal(p.apiToken.value, TOKEN);
    assert.ok(isSecret(p.ssh), "the ssh block (it holds the private key) must reach the engine as a secret");
    assert.deepEqual(JSON.parse(String(p.ssh.value)), {
      username: "root",
      privateKey: PRIVATE_KEY,
      agent: false,
      nodes: [
        { name: "pve-low", address: "192.168.1.21", port: 22 },
        { name: "pve-mid", address: "192.168.1.22", port: 22 },
        { name: "pve-high", address: "192.168.1.23", port: 2222 },
      ],
    });
    // Every child uses it.
    const ref = [...vms, ...files].map((r) => r.provider);
    assert.equal(ref.length, 3);
    for (const r of ref) {
      assert.equal(
        r,
        "urn:pulumi:test::pve-homelab::pve-homelab:vms:VirtualMachines$pulumi:providers:proxmoxve::homelab-vms-provider::homelab-vms-provider-id",
      );
    }
    // No plain (non-secret) input anywhere carries the token or the key.
    const leaks: string[] = [];
    const walk = (v: unknown, where: string): void => {
      if (isSecret(v)) return;
      if (typeof v === "string" && (v.includes(TOKEN) || v.includes("OPENSSH PRIVATE KEY")))
        leaks.push(where);
      if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, `${where}.${k}`);
    };
    for (const r of registered) walk(r.inputs, `${r.type}::${r.name}`);
    assert.deepEqual(leaks, []);
  });

  it("passes insecure only when the stack asks for it", async () => {
    const { providers } = await run(model((v) => (v.proxmoxInsecure = true)));
    assert.equal(byName(providers, "homelab-vms-provider").inputs.insecure, "true");
  });

  it("still builds the provider without secrets (plan mode): no token, no key, agent left to the provider", async () => {
    const { providers, vms } = await run(model(), { apiToken: undefined, sshPrivateKey: undefined });
    const p = byName(providers, "homelab-vms-provider").inputs;
    assert.deepEqual(Object.keys(p).sort(), ["endpoint", "ssh"]);
    assert.deepEqual(JSON.parse(String(p.ssh)), {
      username: "root",
      nodes: [
        { name: "pve-low", address: "192.168.1.21", port: 22 },
        { name: "pve-mid", address: "192.168.1.22", port: 22 },
        { name: "pve-high", address: "192.168.1.23", port: 22 },
      ],
    });
    assert.equal(vms.length, 1);
  });

  it("registers nothing but itself for a stack without VMs", async () => {
    const { registered, component } = await run(model((v) => (v.vms = [])));
    assert.deepEqual(
      registered.map((r) => r.type),
      ["pve-homelab:vms:VirtualMachines"],
    );
    assert.equal(component.provider, undefined);
    assert.deepEqual(await promiseOf(component.vms), {});
  });

  it("enables the agent only when asked, with a bounded timeout, and reports its addresses", async () => {
    const { vms, component } = await run(
      model((v) => v.vms.push({ name: "ci", host: "pve-low", vmId: 130, agent: true })),
    );
    assert.deepEqual(byName(vms, "homelab-vms-ci").inputs.agent, { enabled: true, timeout: "2m" });
    assert.deepEqual(byName(vms, "homelab-vms-dns").inputs.agent, { enabled: false });
    assert.deepEqual(await promiseOf(component.vms), {
      dns: { id: "101", host: "pve-low", ipv4Addresses: [] },
      ci: { id: "130", host: "pve-low", ipv4Addresses: ["192.168.1.50"] },
    });
  });

  it("parents every child to the component and names it from the component name", async () => {
    const { registered, options } = await run(
      model((v) =>
        v.vms.push({ name: "web", host: "pve-mid", vmId: 120, image: { url: DEBIAN, fileName: "d.img" } }),
      ),
    );
    assert.deepEqual(
      registered.map((r) => [r.type, r.name]).sort((a, b) => a[1]!.localeCompare(b[1]!)),
      [
        ["pve-homelab:vms:VirtualMachines", "homelab-vms"],
        [VM, "homelab-vms-dns"],
        [FILE, "homelab-vms-image-pve-mid-d.img"],
        [PROVIDER, "homelab-vms-provider"],
        [VM, "homelab-vms-web"],
      ],
    );
    for (const name of [
      "homelab-vms-provider",
      "homelab-vms-image-pve-mid-d.img",
      "homelab-vms-dns",
      "homelab-vms-web",
    ]) {
      const parent = options.get(name)?.parent;
      assert.ok(parent instanceof VirtualMachines, `${name} is not parented to the component`);
    }
  });
});
