# ICE over TCP (worker/tcp.c, worker/frame.c) against bad peers: the
# real media worker, alone, on free ports, and TCP connections that send
# a zero length, a huge length, well-framed garbage, one byte now and
# then (slowloris), or nothing (half-open), and more connections than the
# bound.  Each is closed without a byte back, and the worker lives on.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

my $top = abs_path(dirname(__FILE__) . '/..');
my $worker = "$top/build/rooms-worker";

plan(skip_all => 'run make first') unless -x $worker;

# limits of worker/tcp.h
my $MAX_CONNS = 128;

my $dir = tempdir('rooms-icetcp-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;

my $port;
for (1 .. 50) {
    my $u = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'udp') or next;
    $port = $u->sockport;
    close $u;
    my $t = IO::Socket::INET->new(LocalAddr => '0.0.0.0', LocalPort => $port,
                                  Proto => 'tcp', Listen => 1, ReuseAddr => 1);
    last if $t;
}

my $pid = fork // die "fork: $!";
if ($pid == 0) {
    open STDERR, '>', "$dir/worker.log" or POSIX::_exit(127);
    exec($worker, '--udp-port', $port, '--announce-ip', '127.0.0.1',
         '--control', "$dir/worker.sock", '--log-level', 'debug')
        or POSIX::_exit(127);
}
END { if ($pid) { kill 'TERM', $pid; waitpid $pid, 0; } }

my $until = time + 10;
sleep 0.05 while !-S "$dir/worker.sock" && time < $until;
ok(-S "$dir/worker.sock", 'the worker starts, ICE-TCP on its UDP port')
    or BAIL_OUT(`cat $dir/worker.log`);

sub conn {
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Proto => 'tcp') or die "connect: $!";
    $s->autoflush(1);
    return $s;
}

# what each peer sends first; the slowloris sends more as it goes
my %peer = (
    'a zero length'           => "\x00\x00\x16\xfe\xfd",
    'a length over the bound' => "\xff\xff" . ("A" x 4000),
    'well-framed garbage'     => join('', map { pack('n', 200) . ("\x5a" x 200) }
                                          1 .. 50),
    'a STUN request without integrity' =>
        pack('n', 20) . pack('nnN', 0x0001, 0, 0x2112A442) . ("\x07" x 12),
    'a slowloris'             => "\x00\x64",
    'a half-open peer'        => '',
);

my (%sock, %closed, %got);
for my $what (sort keys %peer) {
    $sock{$what} = conn();
    syswrite($sock{$what}, $peer{$what}) if length $peer{$what};
    $got{$what} = '';
}

# more than the bound at once: the ones over it are closed at once
my @many = map { conn() } 1 .. $MAX_CONNS + 2;

my $sel = IO::Select->new(values %sock, @many);
my %name = map { ($sock{$_} => $_) } keys %sock;
my %many_closed;
my $start = time;
my $last_drip = time;
$until = time + 40;

while (time < $until && (keys %closed < keys %sock)) {
    for my $s ($sel->can_read(0.2)) {
        my $n = sysread($s, my $buf, 65536);
        if (!$n) {
            $sel->remove($s);
            if (defined $name{$s}) {
                $closed{$name{$s}} = time - $start;
            } else {
                $many_closed{$s} = time - $start;
            }
        } elsif (defined $name{$s}) {
            $got{$name{$s}} .= $buf;
        }
    }
    if (time - $last_drip > 0.5 && !$closed{'a slowloris'}) {
        syswrite($sock{'a slowloris'}, "\x01");
        $last_drip = time;
    }
}

for my $what (sort keys %peer) {
    ok(defined $closed{$what}, "$what: closed by the worker"
       . (defined $closed{$what} ? sprintf(' (after %.1f s)', $closed{$what})
                                 : ''));
    is(length $got{$what}, 0, "$what: not a byte back");
}

my $early = grep { $_ < 5 } values %many_closed;
ok($early >= 2, "connections over the bound ($MAX_CONNS) are closed at once"
   . " ($early of " . scalar(@many) . ')');

ok(kill(0, $pid), 'the worker still runs');
my $log = `cat $dir/logs/worker.log 2>/dev/null; cat $dir/worker.log`;
like($log, qr/ICE-TCP .*: bad framing/, 'bad framing is logged (debug)');
unlike($log, qr/\[error\]/, 'and no error');

done_testing();
