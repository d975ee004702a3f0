#!/usr/bin/perl
# tests/load/load.t: a small room through rooms-load (tests/load/): six
# participants, each with a WebSocket through the real nginx and real
# ICE, DTLS and SRTP to the real media worker, sending VP8 and Opus for a
# few seconds.  It asserts behaviour only, never a timing: everyone gets
# in; everyone's video reaches everyone, and audio as top-N audio sends
# it (the 3 loudest voices; each one who talks is heard); every sampled packet
# decrypts to a payload a publisher encoded, on a line of its kind; and
# everyone leaves with close 1000.  Runs as root (tests/load/run.sh makes
# a network namespace with unshare -n).

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);

my $top = abs_path(dirname(__FILE__) . '/../..');
$| = 1;

my @missing;
push @missing, 'run as root (unshare -n needs it)' if $> != 0;
push @missing, "$_ (make all)" for grep { !-e "$top/$_" }
    qw(build/rooms-load build/rooms-worker build/ngx_rooms_module.so);
if (@missing) {
    print "1..1\nnot ok 1 - the load test can run\n";
    print "# missing: $_\n" for @missing;
    exit 1;
}

my $dir = tempdir(CLEANUP => 1);
$ENV{ROOMS_LOAD_JSON_DIR} = $dir;
my $out = `sh $top/tests/load/run.sh small 2>&1`;
my $status = $? >> 8;
print "# $_\n" for split /\n/, $out;

my $n = 0;
my $failed = 0;
sub ok {
    my ($cond, $name) = @_;
    $n++;
    print(($cond ? 'ok ' : 'not ok ') . "$n - $name\n");
    $failed++ unless $cond;
}

my %r;
if (open my $f, '<', "$dir/small.json") {
    local $/;
    my $j = <$f>;
    # flat JSON of numbers, booleans and one string: no module needed
    %r = $j =~ /"(\w+)":("[^"]*"|[^,}]+)/g;
    s/^"|"$//g for values %r;
}

ok(exists $r{participants}, 'rooms-load ran and reported');
ok(($r{participants} // 0) == 6, 'six participants were played');
ok(($r{complete} // 0) == 6,
   "everyone got everyone's video and heard who talked ($r{complete}/6)");
ok(($r{sampled} // 0) > 0 && ($r{corrupt} // 1) == 0,
   "no corrupt or misrouted packet among the sampled ("
   . ($r{sampled} // 0) . ' decrypted and compared)');
ok(($r{left} // 0) == 6, "everyone left cleanly, close 1000 ($r{left}/6)");
ok($out !~ /the media worker died/, 'the media worker is still running');
ok($status == 0, 'run.sh says the behaviour held');

print "1..$n\n";
exit($failed ? 1 : 0);
