// The codes core/quorum's findings use, and which of them describe files corosync refuses to start with.
/** Every code quorumFindings can return. */
export const QUORUM_FINDING_CODES = [
  "votes.always-on-not-quorate",
  "votes.always-on-cold-start",
  "votes.spot-hosts-quorate",
  "votes.zero",
  "votes.all-zero",
  "votes.weighted-equal",
  "votes.default-uneven",
  "votes.quorum-overflow",
  "quorum.weighted-shared-storage",
  "quorum.lms-uneven-votes",
  "quorum.two-node-host-count",
  "quorum.two-node-atb",
  "quorum.atb-odd-votes",
  "quorum.atb-lms-odd-votes",
  "quorum.two-node-with-device",
  "quorum.atb-with-device",
  "quorum.lms-with-device",
  "quorum.device-votes-required",
  "quorum.device-votes-with-expected",
  "quorum.device-votes-too-high",
  "quorum.ffsplit-votes",
  "quorum.ffsplit-odd-nodes",
  "quorum.qdevice-odd-nodes",
  "quorum.lms-device-votes",
  "quorum.expected-votes-override",
] as const;

/** Finding codes for configurations corosync refuses to start with (votequorum_readconfig errors). */
export const COROSYNC_REFUSES: ReadonlySet<string> = new Set([
  "quorum.two-node-with-device",
  "quorum.atb-with-device",
  "quorum.lms-with-device",
  "quorum.atb-lms-odd-votes",
  "quorum.device-votes-required",
  "quorum.device-votes-with-expected",
  "quorum.device-votes-too-high",
]);
