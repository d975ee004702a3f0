# ICE over TCP (worker/tcp.c, worker/frame.c) against bad peers: the
# real media worker, alone, on free ports, and TCP connections that send
# a zero length, a huge length, well-framed garbage, one byte now and
# then (slowloris), or nothing (half-open), and more connections than the
# bounds, in all and from one address (each from its own address on
# 127/8).  Each is closed without a byte back, and the worker lives on.
# Then --announce-ip given twice and --tcp-port 0.

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
my $MAX_PER_IP = 8;

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
    exec($worker, '--workers', 1, '--udp-port', $port,
         '--announce-ip', '127.0.0.1',
         '--control', "$dir/worker.sock", '--log-level', 'debug')
        or POSIX::_exit(127);
}
END { if ($pid) { kill 'TERM', $pid; waitpid $pid, 0; } }

my $until = time + 10;
sleep 0.05 while !-S "$dir/worker.sock" && time < $until;
ok(-S "$dir/worker.sock", 'the worker starts, ICE-TCP on its UDP port')
    or BAIL_OUT(`cat $dir/worker.log`);

# a connection from $from (an address on 127/8)
sub conn {
    my ($from) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  LocalAddr => $from,
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

# first the bound in all, from as many addresses, and two more: each
# of those pushes out the oldest connection that has no answered check
my @many = map { conn('127.0.1.' . $_) } 1 .. $MAX_CONNS + 2;
sleep 0.5;

# then more than the bound from one address: the ones over it are closed
my @one = map { conn('127.0.0.50') } 1 .. $MAX_PER_IP + 2;
sleep 0.5;

my (%sock, %closed, %got);
my $from = 10;
for my $what (sort keys %peer) {
    $sock{$what} = conn('127.0.0.' . $from++);
    syswrite($sock{$what}, $peer{$what}) if length $peer{$what};
    $got{$what} = '';
}

my $sel = IO::Select->new(values %sock, @many, @one);
my %name = map { ($sock{$_} => $_) } keys %sock;
my %is_one = map { ($_ => 1) } @one;
my (%many_closed, %one_closed);
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
            } elsif ($is_one{$s}) {
                $one_closed{$s} = time - $start;
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

# the pushed out: 2 of @many, then one per connection of @one admitted
# and one per peer above, all within a few seconds of the start
my $pushed = grep { $_ < 5 } values %many_closed;
my $want = 2 + $MAX_PER_IP + keys %peer;
ok($pushed >= $want, "over $MAX_CONNS connections, the oldest without an"
   . " answered check are pushed out ($pushed of " . scalar(@many)
   . ", at least $want)");
my $refused = grep { $_ < 5 } values %one_closed;
is($refused, 2, "over $MAX_PER_IP from one address, the next are closed"
   . ' at once');

ok(kill(0, $pid), 'the worker still runs');
my $log = `cat $dir/logs/worker.log 2>/dev/null; cat $dir/worker.log`;
like($log, qr/ICE-TCP .*: bad framing/, 'bad framing is logged (debug)');
unlike($log, qr/\[error\]/, 'and no error');

# --announce-ip, twice, overrides the interface list; --tcp-port 0 turns
# ICE-TCP off: only UDP candidates, in the order given
{
    kill 'TERM', $pid;
    waitpid $pid, 0;
    undef $pid;
    my $out = `timeout -s TERM 2 $worker --workers 1 --udp-port $port --announce-ip 192.0.2.10 --announce-ip 2001:db8::10 --tcp-port 0 --control $dir/w2.sock 2>&1`;
    my @ann = $out =~ /announced: (\w+ \S+) port $port priority (\d+)/g;
    is("@ann[0, 2]", 'udp 192.0.2.10 udp 2001:db8::10',
       '--announce-ip twice: both announced, in order, over UDP alone')
        or diag($out);
    ok(@ann == 4 && $ann[1] > $ann[3], 'the first with the higher priority');
    like($out, qr/ICE-TCP off/, 'ICE-TCP off with --tcp-port 0');
}

done_testing();
