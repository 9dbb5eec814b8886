// TEST DOUBLE — NOT Proxmox VE. The power calls of the pve-homelab power step, on the testbed's nodes, following
// pve-manager's own code (PVE/API2/Nodes.pm, PVE/NodeConfig.pm; checked with the `fetch` tool):
//
//   pvenode wakeonlan NODE           (POST /nodes/{node}/wakeonlan, no proxyto: THIS node sends) refuses the local
//       node and nodes missing from the nodelist; the MAC comes from /etc/pve/nodes/NODE/config `wakeonlan:`
//       ("No wake on LAN MAC address defined for 'NODE'!"), broadcast-address from THIS node's own config
//       (default 255.255.255.255); sends the real magic packet (6 x 0xff + 16 x MAC) by UDP to port 9
//       (discard) and prints "Wake on LAN packet send for 'MAC'". It only sends; the harness's NIC double
//       (power.ts) receives the packet on the bridge and boots the node whose MAC it carries.
//       Deviation: bind-interface is not applied (Node's dgram has no SO_BINDTODEVICE); it is logged.
//   pvesh create /nodes/NODE/status --command shutdown   proxied to NODE (over the nodes' root SSH trust instead
//       of HTTPS), which runs `(sleep 2; poweroff) &` like Proxmox: the poweroff double stops the guests
//       (pve-guests, logged), corosync (systemctl double), then every process of the node.
//   pvesh create /nodes/NODE/migrateall --target T      moves NODE's guest configs to T in /etc/pve (the guests
//       are config files in the testbed); refuses when T is not online.
//   pvesh get /nodes/NODE/status --output-format json   {memory: {free, total, used}}: free from
//       /root/.pve-standin/memory-free-bytes when present (tests set it), else /proc/meminfo MemAvailable.
import { spawn, spawnSync } from "node:child_process";
import * as dgram from "node:dgram";
import * as fs from "node:fs";
import * as os from "node:os";
import { readNodelist } from "../../../core/corosync";
import { wakeOnLanMac } from "../../../core/scripts/power-nodeconfig";

const LOCAL_CONF = "/etc/corosync/corosync.conf";
export const POWER_LOG = "/root/.pve-standin/power.log";
export const MEMORY_FREE_FILE = "/root/.pve-standin/memory-free-bytes";

class PowerDie extends Error {
  constructor(
    message: string,
    readonly code = 255,
  ) {
    super(message);
  }
}
const die = (message: string, code = 255): never => {
  throw new PowerDie(message, code);
};
const log = (line: string) => fs.appendFileSync(POWER_LOG, `${Date.now()} ${os.hostname()} ${line}\n`);

function nodeConfig(node: string): string {
  try {
    return fs.readFileSync(`/etc/pve/nodes/${node}/config`, "utf8");
  } catch {
    return "";
  }
}

/** The wakeonlan property string's named key (`bind-interface`, `broadcast-address`) from a node config. */
function wolOption(text: string, key: string): string | undefined {
  const line = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^wakeonlan:/.test(l))
    .pop();
  return line
    ?.replace(/^wakeonlan:\s*/, "")
    .split(",")
    .find((p) => p.startsWith(`${key}=`))
    ?.slice(key.length + 1);
}

function members(): string[] {
  if (!fs.existsSync(LOCAL_CONF)) return [];
  return readNodelist(fs.readFileSync(LOCAL_CONF, "utf8")).map((n) => n.name);
}

function wakeonlan(node: string | undefined): void {
  if (!node) die("400 not enough arguments\npvenode wakeonlan <node>");
  const local = os.hostname();
  if (node === "localhost" || node === local) die(`'${node}' is local node, cannot wake my self!`);
  if (!members().includes(node!)) die(`no such cluster node '${node}'`);
  const mac = wakeOnLanMac(nodeConfig(node!));
  if (mac === undefined) die(`No wake on LAN MAC address defined for '${node}'!`);
  const mine = nodeConfig(local);
  const broadcast = wolOption(mine, "broadcast-address") ?? "255.255.255.255";
  const bind = wolOption(mine, "bind-interface");
  const hex = mac!.replace(/:/g, "");
  const packet = Buffer.concat([
    Buffer.alloc(6, 0xff),
    ...Array.from({ length: 16 }, () => Buffer.from(hex, "hex")),
  ]);
  log(
    `wakeonlan ${node} mac=${mac} to=${broadcast}:9${bind ? ` bind-interface=${bind} (not applied by the double)` : ""}`,
  );
  const sock = dgram.createSocket("udp4");
  sock.bind(() => {
    sock.setBroadcast(true);
    sock.send(packet, 9, broadcast, (err) => {
      sock.close();
      if (err) {
        process.stderr.write(`Unable to send packet: ${err.message}\n`);
        process.exitCode = 255;
        return;
      }
      process.stdout.write(`Wake on LAN packet send for '${mac}'\n`);
    });
  });
}

/** The poweroff double, run on the node being shut down (detached, after 2 s, as Proxmox's `(sleep 2;/sbin/poweroff)&`). */
const POWEROFF = `sleep 2
echo "$(date +%s%3N) $(hostname) pve-guests: stopping guests in reverse startup order (TEST DOUBLE)" >> ${POWER_LOG}
systemctl stop corosync
echo "$(date +%s%3N) $(hostname) poweroff (TEST DOUBLE): every process of this node" >> ${POWER_LOG}
self=$(readlink /proc/self/ns/net)
for p in $(ls /proc | grep -E '^[0-9]+$'); do
  [ "$p" = "$$" ] && continue
  [ "$(readlink /proc/$p/ns/net 2>/dev/null)" = "$self" ] && kill -KILL "$p" 2>/dev/null
done
exit 0
`;

function shutdown(node: string): void {
  if (node !== os.hostname()) {
    // proxyto => 'node'
    const r = spawnSync(
      "ssh",
      [
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=5",
        `root@${node}`,
        "--",
        "pvesh",
        "create",
        `/nodes/${node}/status`,
        "--command",
        "shutdown",
      ],
      { encoding: "utf8", timeout: 30_000 },
    );
    if (r.status !== 0) die(`proxy to ${node} failed: ${(r.stderr ?? "").trim()}`);
    return;
  }
  log("status command=shutdown");
  const child = spawn("setsid", ["sh", "-c", POWEROFF], { detached: true, stdio: "ignore" });
  child.unref();
}

function migrateall(node: string, target: string | undefined): void {
  if (!target) die("400 Parameter verification failed.\ntarget: property is missing and it is not optional");
  const r = spawnSync("pvesh", ["get", "/cluster/status", "--output-format", "json"], { encoding: "utf8" });
  const status = JSON.parse(r.stdout || "[]") as { type: string; name?: string; online?: number }[];
  if (!status.some((e) => e.type === "node" && e.name === target && e.online === 1)) {
    die(`target node '${target}' is not online`);
  }
  for (const kind of ["qemu-server", "lxc"]) {
    const from = `/etc/pve/nodes/${node}/${kind}`;
    if (!fs.existsSync(from)) continue;
    const to = `/etc/pve/nodes/${target}/${kind}`;
    fs.mkdirSync(to, { recursive: true });
    for (const f of fs.readdirSync(from).filter((x) => x.endsWith(".conf"))) {
      fs.renameSync(`${from}/${f}`, `${to}/${f}`);
      log(`migrateall ${node}: ${kind}/${f} -> ${target}`);
    }
  }
}

function nodeStatus(): unknown {
  const meminfo = fs.readFileSync("/proc/meminfo", "utf8");
  const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(meminfo)?.[1] ?? 0) * 1024;
  const free = fs.existsSync(MEMORY_FREE_FILE)
    ? Number(fs.readFileSync(MEMORY_FREE_FILE, "utf8").trim())
    : kib("MemAvailable");
  return { memory: { free, total: kib("MemTotal"), used: kib("MemTotal") - free } };
}

/** Handles the power calls; undefined when `tool args` is not one of them. Exit code otherwise. */
export function powerCommand(tool: string, args: readonly string[]): number | undefined {
  try {
    if (tool === "pvenode" && args[0] === "wakeonlan") {
      wakeonlan(args[1]);
      return 0;
    }
    const [verb, path, ...rest] = args;
    const m = /^\/nodes\/([^/]+)\/(status|migrateall)\/?$/.exec(path ?? "");
    if (tool !== "pvesh" || !m) return undefined;
    const opt = (name: string) => {
      const i = rest.indexOf(`--${name}`);
      return i >= 0 ? rest[i + 1] : undefined;
    };
    if (verb === "create" && m[2] === "status") {
      if (opt("command") !== "shutdown")
        die("stand-in (TEST DOUBLE): only --command shutdown is modelled", 2);
      shutdown(m[1]!);
    } else if (verb === "create" && m[2] === "migrateall") migrateall(m[1]!, opt("target"));
    else if (verb === "get" && m[2] === "status") process.stdout.write(`${JSON.stringify(nodeStatus())}\n`);
    else return undefined;
    return 0;
  } catch (e) {
    if (e instanceof PowerDie) {
      process.stderr.write(`${e.message}\n`);
      return e.code;
    }
    throw e;
  }
}
