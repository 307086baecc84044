#!/usr/bin/perl
# SPDX-License-Identifier: BSD-3-Clause
#
# mkcountry.pl MAP OUT.mmdb — a GeoIP2-Country shaped MMDB (MaxMind's own writer,
# MaxMind::DB::Writer::Tree) from a map file of "a.b.c.d/len CC" lines, so the scanner
# e2e test checks SPEC.md A7 through libmaxminddb while tests/reference/scan_ref.py reads
# the same map as text.  Later lines may nest inside earlier ones (longest match wins in
# both readers: the writer keeps the more specific network).
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my ($map, $out) = @ARGV;
die "usage: mkcountry.pl MAP OUT.mmdb\n" unless defined $out;
my %types = (country => 'map', iso_code => 'utf8_string', names => 'map', en => 'utf8_string');
my $t = MaxMind::DB::Writer::Tree->new(
	ip_version => 6, record_size => 28, database_type => 'GeoIP2-Country',
	languages => ['en'], description => { en => 'obscura scan e2e countries' },
	map_key_type_callback => sub { $types{ $_[0] } },
	alias_ipv6_to_ipv4 => 1, remove_reserved_networks => 0,
);
open(my $in, '<', $map) or die "$map: $!\n";
my @rows;
while (<$in>) {
	s/#.*//;
	next unless /^\s*(\S+)\s+([A-Z]{2})\s*$/;
	push @rows, [$1, $2];
}
close($in);
# less specific first, so a more specific network overrides inside it
for my $r (sort { (split m{/}, $a->[0])[1] <=> (split m{/}, $b->[0])[1] } @rows) {
	$t->insert_network($r->[0], { country => { iso_code => $r->[1], names => { en => $r->[1] } } });
}
open(my $fh, '>:raw', $out) or die "$out: $!\n";
$t->write_tree($fh);
close($fh) or die "$out: $!\n";
