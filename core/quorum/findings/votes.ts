// Findings about the vote layout itself (zero votes, equal weights, uneven default mode, uint8 overflow).
import type { Finding, Model } from "../../model";
import { error, warning } from "../../config/findings";
import { expectedVotes, majority, quorumThreshold } from "../arithmetic";
import { votesPattern } from "./helpers";

export function voteFindings(model: Model): Finding[] {
  const out: Finding[] = [];
  const hosts = model.hosts;
  if (hosts.length > 0 && hosts.every((h) => h.votes === 0)) {
    out.push(
      error(
        "votes.all-zero",
        "hosts",
        "every host has votes: 0, so the cluster can never be quorate",
        "give the always-on host votes > 0 (e.g. 3/1/1)",
      ),
    );
  } else {
    hosts.forEach((h, i) => {
      if (h.votes === 0) {
        out.push(
          warning(
            "votes.zero",
            `hosts[${i}].votes`,
            `host ${h.name} has votes: 0 and never counts towards quorum`,
            "give it votes: 1 unless it should never matter for quorum",
          ),
        );
      }
    });
  }
  const distinct = new Set(hosts.map((h) => h.votes));
  if (model.quorum.mode === "weighted" && hosts.length > 1 && distinct.size === 1 && !distinct.has(0)) {
    out.push(
      warning(
        "votes.weighted-equal",
        "quorum.mode",
        `quorum.mode is weighted but every host has ${hosts[0]!.votes} vote(s): this is plain majority (default mode)`,
        "give the always-on host more votes (e.g. 3/1/1), or set quorum.mode: default",
      ),
    );
  }
  if (model.quorum.mode === "default" && hosts.some((h) => h.votes !== 1)) {
    out.push(
      error(
        "votes.default-uneven",
        "quorum.mode",
        `quorum.mode is default (1 vote each) but votes are ${votesPattern(hosts)}`,
        "set every host's votes to 1, or set quorum.mode: weighted",
      ),
    );
  }
  const expected = expectedVotes(model);
  if (majority(expected) > 255) {
    out.push(
      error(
        "votes.quorum-overflow",
        "hosts",
        `expected votes ${expected} need a quorum of ${majority(expected)}, but corosync keeps quorum in 8 bits and would use ${quorumThreshold(model)}`,
        "keep the vote total below 510; small weights such as 3/1/1 do the same job",
      ),
    );
  }
  return out;
}
