// Findings about the corosync quorum options (two_node, wait_for_all, auto_tie_breaker, last_man_standing,
// expected_votes, the device section): what corosync refuses and what defeats the stack's intent.
import type { Finding, Model } from "../../model";
import { error, warning } from "../../config/findings";
import { configuredDevice, deviceVotes, nodeVotes, renderedDeviceVotes } from "../arithmetic";
import { votesPattern } from "./helpers";

export function optionFindings(model: Model): Finding[] {
  const out: Finding[] = [];
  const q = model.quorum;
  const hosts = model.hosts;
  const nodeSum = nodeVotes(model);
  const allOnes = hosts.every((h) => h.votes === 1);

  // A qdevice mode without a device and a device outside qdevice mode are core/config errors
  // (quorum.device-missing, quorum.device-unused): here the device is simply the configured one.
  const device = configuredDevice(model);

  if (q.lastManStanding && hosts.some((h) => h.votes > 1)) {
    out.push(
      error(
        "quorum.lms-uneven-votes",
        "quorum.lastManStanding",
        `last_man_standing needs every node to vote 1, but votes are ${votesPattern(hosts)}; corosync turns it off`,
        "set quorum.lastManStanding: false (weighted votes already keep the always-on host quorate)",
      ),
    );
  }
  if (q.twoNode && hosts.length !== 2) {
    out.push(
      error(
        "quorum.two-node-host-count",
        "quorum.twoNode",
        `two_node is for exactly 2 hosts, this cluster has ${hosts.length}; with it any 2 hosts (or 1) would be quorate`,
        "set quorum.twoNode: false",
      ),
    );
  }
  if (q.twoNode && q.autoTieBreaker) {
    out.push(
      warning(
        "quorum.two-node-atb",
        "quorum.twoNode",
        "two_node and auto_tie_breaker are not compatible: corosync disables two_node (wait_for_all stays on)",
        "keep one of quorum.twoNode and quorum.autoTieBreaker",
      ),
    );
  }
  if (q.autoTieBreaker && !device && nodeSum % 2 === 1 && !(q.waitForAll || q.twoNode)) {
    out.push(
      q.lastManStanding
        ? error(
            "quorum.atb-lms-odd-votes",
            "quorum.autoTieBreaker",
            `auto_tie_breaker with last_man_standing and an odd vote total (${nodeSum}) without wait_for_all: corosync refuses to start`,
            "set quorum.waitForAll: true, or turn off quorum.autoTieBreaker",
          )
        : warning(
            "quorum.atb-odd-votes",
            "quorum.autoTieBreaker",
            `auto_tie_breaker with an odd vote total (${nodeSum}) needs wait_for_all: corosync disables it`,
            "set quorum.waitForAll: true, or turn off quorum.autoTieBreaker",
          ),
    );
  }
  if (device) {
    const refuse = "corosync refuses to start";
    if (q.twoNode) {
      out.push(
        error(
          "quorum.two-node-with-device",
          "quorum.twoNode",
          `two_node and a quorum device cannot be configured together: ${refuse}`,
          "set quorum.twoNode: false; the device already breaks the tie",
        ),
      );
    }
    if (q.autoTieBreaker) {
      out.push(
        error(
          "quorum.atb-with-device",
          "quorum.autoTieBreaker",
          `auto_tie_breaker is not compatible with a quorum device: ${refuse}`,
          "set quorum.autoTieBreaker: false; the device breaks ties",
        ),
      );
    }
    if (q.lastManStanding) {
      out.push(
        error(
          "quorum.lms-with-device",
          "quorum.lastManStanding",
          `last_man_standing is not compatible with a quorum device: ${refuse}`,
          "set quorum.lastManStanding: false; use algorithm lms on the device instead",
        ),
      );
    }
    const rendered = renderedDeviceVotes(model);
    if (rendered === undefined && nodeSum !== hosts.length) {
      out.push(
        error(
          "quorum.device-votes-required",
          "quorum.device.votes",
          `a quorum device without quorum.device.votes needs node votes that add up to the node count (every node voting 1), but votes are ${votesPattern(hosts)}: corosync exits with status 20 at start`,
          `set every host's votes to 1 (QDevice and weighted votes are exclusive modes), or set quorum.device.votes (lms default: ${Math.max(nodeSum - 1, 0)})`,
        ),
      );
    }
    if (rendered === undefined && q.expectedVotes) {
      out.push(
        error(
          "quorum.device-votes-with-expected",
          "quorum.device.votes",
          `quorum.expectedVotes is set but quorum.device.votes is not: ${refuse}`,
          "remove quorum.expectedVotes, or set quorum.device.votes",
        ),
      );
    }
    if (rendered !== undefined && q.expectedVotes && q.expectedVotes - rendered < 2) {
      out.push(
        error(
          "quorum.device-votes-too-high",
          "quorum.device.votes",
          `quorum.device.votes (${rendered}) must be at least 2 below quorum.expectedVotes (${q.expectedVotes}): ${refuse}`,
          "remove quorum.expectedVotes, or lower quorum.device.votes",
        ),
      );
    }
    if (device.algorithm === "ffsplit" && (!allOnes || rendered !== 1)) {
      out.push(
        error(
          "quorum.ffsplit-votes",
          device.votes !== undefined && device.votes !== 1 ? "quorum.device.votes" : "hosts",
          `algorithm ffsplit needs every node and the device to vote 1, but votes are ${votesPattern(hosts)} and the device has ${rendered}`,
          "set every host's votes and quorum.device.votes to 1",
        ),
      );
    }
    if (hosts.length % 2 === 1) {
      out.push(
        device.algorithm === "ffsplit"
          ? error(
              "quorum.ffsplit-odd-nodes",
              "quorum.device.algorithm",
              `algorithm ffsplit makes sense only for an even node count, this cluster has ${hosts.length}`,
              "use algorithm lms (what `pvecm qdevice setup --force` uses for odd node counts)",
            )
          : warning(
              "quorum.qdevice-odd-nodes",
              "quorum.device",
              `a QDevice with an odd node count (${hosts.length}) is not officially supported by Proxmox: \`pvecm qdevice setup\` needs --force and uses algorithm lms`,
              "accept it (the device then holds N-1 votes and any single host with it is quorate), or use mode: weighted",
            ),
      );
    }
    if (
      device.algorithm === "lms" &&
      device.votes !== undefined &&
      device.votes !== Math.max(nodeSum - 1, 0)
    ) {
      out.push(
        warning(
          "quorum.lms-device-votes",
          "quorum.device.votes",
          `algorithm lms expects the default device votes (${Math.max(nodeSum - 1, 0)}), got ${device.votes}`,
          "remove quorum.device.votes so corosync computes it",
        ),
      );
    }
  }
  if (q.expectedVotes && q.expectedVotes !== nodeSum + deviceVotes(model)) {
    out.push(
      warning(
        "quorum.expected-votes-override",
        "quorum.expectedVotes",
        `quorum.expectedVotes is ${q.expectedVotes} but the votes add up to ${nodeSum + deviceVotes(model)}; corosync raises expected votes to the votes it has seen, so quorum differs between a cold start and a running cluster`,
        "remove quorum.expectedVotes; use `pvecm expected` for a one-off recovery instead",
      ),
    );
  }
  return out;
}
