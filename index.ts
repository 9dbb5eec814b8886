// pve-homelab: read and validate the stack config, build the cluster, export what a user checks.
import { HomelabCluster } from "./components/HomelabCluster";
import { loadStack } from "./components/stackConfig";

const stack = loadStack();
const cluster = new HomelabCluster(stack.model.clusterName, { model: stack.model, secrets: stack.secrets });

export const votes = cluster.votes;
export const expectedVotes = cluster.expectedVotes;
export const quorum = cluster.quorum;
export const whatIf = cluster.whatIf;
export const vms = cluster.vms;
export const members = cluster.members;
