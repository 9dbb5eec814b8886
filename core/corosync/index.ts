// corosync.conf engine: lossless parser, queries, the vote edit, and the Proxmox-shaped renderer.
export { CorosyncEditError, CorosyncParseError } from "./errors";
export type { CorosyncEditCode, CorosyncParseCode, CorosyncProblem } from "./errors";
export { parseCorosyncConf, printCorosyncConf } from "./syntax";
export type {
  CorosyncDocument,
  CorosyncEntry,
  CorosyncItem,
  CorosyncSection,
  SourceLine,
  TextEncoding,
} from "./syntax";
export { readClusterName, readConfigVersion, readNodelist, readQuorum } from "./query";
export type { CorosyncNode, CorosyncQuorum, CorosyncQuorumDevice, CorosyncSource } from "./query";
export { resetVotes, setVotes } from "./votes";
export { QUORUM_OPTION_KEYS, quorumOptionsOf } from "./quorum-options";
export type { QuorumOptionKey, QuorumOptions } from "./quorum-options";
export type { ExpectedNode, SetVotesOptions, VotesEdit } from "./votes";
export { renderCorosyncConf } from "./render";
export type { RenderInput, RenderNode, RenderQuorum, RenderQuorumDevice } from "./render";
