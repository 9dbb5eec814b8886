// Small helpers shared by the quorum finding modules.
import type { HostSpec, Model } from "../../model";
import { arithmetic, evaluate } from "../arithmetic";

export const isAlwaysOn = (h: HostSpec) => h.power === "always-on";
export const votesPattern = (hosts: readonly HostSpec[], override?: ReadonlyMap<string, number>) =>
  hosts.map((h) => override?.get(h.name) ?? h.votes).join("/");
export const hostList = (hosts: readonly HostSpec[]) => hosts.map((h) => h.name).join(" + ");

export function withVotes(model: Model, votes: ReadonlyMap<string, number>): Model {
  return { ...model, hosts: model.hosts.map((h) => ({ ...h, votes: votes.get(h.name) ?? h.votes })) };
}
export const hostsQuorate = (model: Model, hosts: readonly HostSpec[], deviceUp: boolean) =>
  evaluate(arithmetic(model), hosts, deviceUp).quorate;
