use strict; use warnings;
# Reads two lines on stdin: the JSON of `pvesh get /cluster/config/nodes` and of `pvesh get /cluster/status`.
# Arguments: the node to remove, and corosync's quorum.expected_votes override ("-" when none).
# Prints "EXPECTED QUORUM LIVE" as they will be once the node is gone from the nodelist: expected votes (the
# override, else the sum of the remaining nodes' quorum_votes, default 1), votequorum's quorum (expected / 2 + 1)
# and the votes of the remaining nodes that are online now. Exit 3 when the input is not what pvesh returns.
my ($gone, $override) = @ARGV;
my @docs = map { scalar <STDIN> } 1 .. 2;
my ($nodes, $status) = map { my $t = $_ // ""; eval { JSON::PP->new->decode($t) } } @docs;
if (ref($nodes) ne "ARRAY" || ref($status) ne "ARRAY") { print STDERR "pvesh did not return JSON arrays\n"; exit 3; }
my %online;
for my $e (@$status) {
  next if ref($e) ne "HASH" || ($e->{type} // "") ne "node" || !defined $e->{name};
  $online{$e->{name}} = $e->{online} ? 1 : 0;
}
my ($expected, $live) = (0, 0);
for my $n (@$nodes) {
  next if ref($n) ne "HASH" || !defined $n->{node} || $n->{node} eq $gone;
  my $v = $n->{quorum_votes} // 1;
  $expected += $v;
  $live += $v if $online{$n->{node}};
}
$expected = $override if defined $override && $override =~ /^[0-9]+$/;
printf "%d %d %d\n", $expected, int($expected / 2) + 1, $live;
