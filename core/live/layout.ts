// The live cluster as a Model for the quorum arithmetic: the live nodelist with its live votes and the live
// votequorum options, so `npm run status` can show the same compact quorum summary as the plan, for the
// layout the cluster really has.
import type { HostSpec, Model } from "../model";
import type { LiveFacts } from "./facts";

export function liveLayout(model: Model, live: LiveFacts): Model | undefined {
  if (live.nodes.length === 0) return undefined;
  const declared = new Map(model.hosts.map((h) => [h.name, h]));
  const hosts: HostSpec[] = live.nodes.map((n) => ({
    name: n.name,
    address: n.address,
    power: declared.get(n.name)?.power ?? "sometimes-on",
    votes: n.votes,
    nodeId: n.nodeId,
    sshUser: "root",
    sshPort: 22,
  }));
  const q = live.quorumConfig;
  const algorithm = live.qdevice.algorithm === "lms" ? "lms" : "ffsplit";
  return {
    ...model,
    hosts,
    quorum: {
      mode: live.qdevice.configured
        ? "qdevice"
        : model.quorum.mode === "qdevice"
          ? "default"
          : model.quorum.mode,
      expectedVotes: q.expectedVotes,
      twoNode: q.twoNode ?? false,
      lastManStanding: q.lastManStanding ?? false,
      autoTieBreaker: q.autoTieBreaker ?? false,
      waitForAll: q.waitForAll ?? false,
      device: live.qdevice.configured
        ? {
            address: live.qdevice.host ?? "?",
            hostKey: "",
            sshUser: "root",
            sshPort: 22,
            algorithm,
            votes: live.qdevice.votes,
          }
        : undefined,
    },
  };
}
