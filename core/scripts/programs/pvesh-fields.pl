use strict; use warnings;
my $text = do { local $/; <STDIN> };
my $data = eval { JSON::PP->new->decode($text) };
if (ref($data) ne "ARRAY") {
  print STDERR "pvesh did not return a JSON array: ", substr($text // "", 0, 300), "\n"; exit 3;
}
my %f;
for my $e (@$data) {
  next if ref($e) ne "HASH";
  my $type = $e->{type} // "";
  my $prefix;
  if ($type eq "cluster") { $prefix = "cluster"; }
  elsif ($type eq "node" && defined $e->{name}) { $prefix = "node.$e->{name}"; $f{local} = $e->{name} if $e->{local}; }
  elsif (defined $e->{node}) { $prefix = "nodelist.$e->{node}"; }
  else { next; }
  for my $k (keys %$e) {
    my $v = $e->{$k};
    $v = $v ? 1 : 0 if JSON::PP::is_bool($v);
    $f{"$prefix.$k"} = $v if defined $v && !ref $v;
  }
}
my @out = map { my $v = $f{$_} // "-"; $v =~ s{[^A-Za-z0-9_.:=/+-]}{?}g; $v eq "" ? "-" : $v } @ARGV;
print join(" ", @out), "\n";
