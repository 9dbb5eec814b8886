my $s = JSON::PP->new->decode(do { local $/; <STDIN> }); for my $e (@$s) { next unless ($e->{type} // "") eq "node"; printf "%s %d\n", $e->{name}, $e->{online} ? 1 : 0 }
