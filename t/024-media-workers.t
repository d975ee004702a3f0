# A media worker per core (rooms-worker --workers 2, docs/architecture.md,
# "A media worker per core"), through a whole nginx (master, two workers:
# t/lib/RoomsServer.pm) and the REAL media workers, asserting what people
# in rooms notice:
#
# - rooms spread over both media workers, each on the one
#   rooms_shard_pick() names (computed here from the store's ids, as
#   common/rooms_shard.c does): each media worker counts exactly the people
#   of its rooms (rooms_media_worker_participants), whichever nginx worker
#   holds their WebSockets, so the same room is on the same media worker
#   from both nginx workers;
# - media worker 0 is killed (SIGKILL) in a call: the WebSockets of its
#   rooms, and only those, are closed 1012 and those rooms show nobody;
#   the other rooms stay in their call: their WebSockets live, their counts
#   stay, and someone joining one of them is announced to the people in
#   it; the supervisor starts media worker 0 again, and the people of its
#   rooms join again and are counted;
# - SIGTERM to rooms-worker stops both media workers and removes both
#   control sockets.

use strict;
use warnings;
no warnings 'portable';             # 64-bit constants, as in rooms_shard.c

use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use POSIX ();
use Time::HiRes qw(sleep time);

use RoomsTest;
use RoomsLive;
use RoomsServer;
use RoomsStore;

plan(skip_all => 'no media worker: run make first') unless -x worker_path();
plan(skip_all => 'sqlite3 is needed to read the rooms\' ids')
    unless store_pg() || `sqlite3 -version 2>/dev/null`;

my $dir = tempdir('rooms-workers-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $dir;
my $port = $ENV{TEST_NGINX_SERVER_PORT} || free_port();
my $mport = free_port();
my $sock = "$dir/worker.sock";
my $db = store_of($dir);
my $log = "$dir/worker.log";
$ENV{TEST_NGINX_SERVER_PORT} = $port;       # RoomsLive's clients

sub http { RoomsTest::http(@_, port => $port) }

sub participants {
    my ($code) = @_;
    my ($st, undef, $r) = http('GET', "/api/rooms/$code");
    return ref $r ? $r->{participants} : -1;
}

# rooms_shard_pick() of common/rooms_shard.c: SplitMix64 weights, the
# heaviest wins (64-bit wrapping arithmetic under "use integer"; shifts
# and xor outside it work on unsigned values)
sub mul64 { use integer; return $_[0] * $_[1] }
sub add64 { use integer; return $_[0] + $_[1] }

sub mix {
    my ($x) = @_;
    $x = add64($x, 0x9e3779b97f4a7c15);
    $x = mul64($x ^ ($x >> 30), 0xbf58476d1ce4e5b9);
    $x = mul64($x ^ ($x >> 27), 0x94d049bb133111eb);
    return $x ^ ($x >> 31);
}

sub pick {
    my ($room, $n) = @_;
    my $r = mix($room);
    my ($best, $top) = (0, 0);
    for my $i (0 .. $n - 1) {
        my $w = mix($r ^ mix($i + 1));
        ($best, $top) = ($i, $w) if $i == 0 || $w > $top;
    }
    return $best;
}

is(join(' ', map { pick($_, 2) } 1 .. 8), '0 1 1 1 1 1 0 0',
   'rooms_shard_pick() computed here as test_shard fixes it');

# The figures of each media worker's latest STATS record (every 5 s).
sub worker_participants {
    my ($st, undef, $body) = RoomsTest::http('GET', '/metrics',
                                              port => $mport);
    my %n;
    $n{$1} = $2 while ($body // '') =~
        /^rooms_media_worker_participants\{worker="(\d+)"\} (\d+)$/mg;
    return \%n;
}

# The pid of media worker $i, from the supervisor's latest line about it.
sub child_pid {
    my ($i) = @_;
    open my $f, '<', $log or return undef;
    my $pid;
    while (my $line = <$f>) {
        $pid = $1 if $line =~ /media worker $i of 2: pid (\d+)/;
    }
    return $pid && kill(0, $pid) ? $pid : undef;
}

start_worker($sock, $log, '--workers', 2,
             $> == 0 ? ('--socket-user', 'nobody') : ());
ok(-S $sock && wait_for(5, sub { -S "$sock.1" }),
   'rooms-worker --workers 2: a control socket each, the second beside the '
   . 'first');
my $supervisor = `pgrep -f '^[^ ]*rooms-worker .*$sock --workers 2'`;
chomp $supervisor;
$supervisor = (split /\n/, $supervisor)[0];

nginx_conf($dir, $port, socket => $sock, http => <<"HTTP");
    server {
        listen 127.0.0.1:$mport;
        location = /metrics { rooms_metrics; }
    }
HTTP
my $master = nginx_start($dir, $port);
ok($master, 'nginx runs') or BAIL_OUT(`tail -5 $dir/error.log`);
is(scalar nginx_workers($master), 2, 'with two workers');

# ---- rooms spread over both media workers ----

my (@rooms, %on);
for my $i (1 .. 8) {
    my $room = create_room(title => "Room $i");
    my $id = store_query($db, "SELECT id FROM rooms WHERE code = '$room->{code}'");
    chomp $id;
    $room->{worker} = pick($id, 2);
    push @rooms, $room;
    push @{ $on{$room->{worker}} }, $room;
}
ok(@{ $on{0} // [] } && @{ $on{1} // [] },
   'the 8 rooms are on both media workers ('
   . scalar(@{ $on{0} // [] }) . ' and ' . scalar(@{ $on{1} // [] }) . ')');

# three people a room: their WebSockets spread over both nginx workers
my $people = 0;
for my $room (@rooms) {
    my ($h, $hw) = ws_join($room->{code}, name => 'Host',
                           host_key => $room->{host_key});
    $room->{ws} = [$h];
    $room->{ok} = $hw && $hw->{type} eq 'welcome';
    for my $g (1 .. 2) {
        my ($ws, $w) = ws_join($room->{code}, name => "Guest $g");
        push @{ $room->{ws} }, $ws;
        $room->{ok} &&= $w && $w->{type} eq 'welcome';
        $room->{tokens}{"Guest $g"} = $w && $w->{guest_token};
    }
    $people += 3 if $room->{ok};
}
is($people, 24, 'three people are in each of the 8 rooms');

my %nginx;
for (`ss -Htnp state established '( sport = :$port )'`) {
    $nginx{$1}++ if /pid=(\d+)/;
}
is(scalar keys %nginx, 2, 'their WebSockets are held by both nginx workers ('
   . join(', ', map { $nginx{$_} } sort keys %nginx) . ')');

my %want = (0 => 3 * @{ $on{0} }, 1 => 3 * @{ $on{1} });
my $got = wait_for(15, sub {
    my $n = worker_participants();
    return ($n->{0} // -1) == $want{0} && ($n->{1} // -1) == $want{1}
           ? $n : undef;
}) // worker_participants();
is(join(' ', map { $got->{$_} // '-' } 0, 1), "$want{0} $want{1}",
   'each media worker counts the people of its rooms, from both nginx '
   . 'workers');
ok(wait_for(5, sub { !grep { participants($_->{code}) != 3 } @rooms }),
   'every room shows 3 people');

# ---- media worker 0 is killed in a call ----

my $victim = child_pid(0);
ok($victim, "media worker 0 runs (pid $victim)");
kill 'KILL', $victim;

my $closed = 0;
for my $room (@{ $on{0} }) {
    $closed += (expect_close($_, 10) // '') =~ /^close 1012 / for
        @{ $room->{ws} };
}
is($closed, $want{0}, "every WebSocket of media worker 0's rooms is closed "
   . "1012 ($closed)");
ok(wait_for(5, sub { !grep { participants($_->{code}) != 0 } @{ $on{0} } }),
   'and those rooms show nobody');

my $alive = 0;
for my $room (@{ $on{1} }) {
    for my $ws (@{ $room->{ws} }) {
        RoomsTest::ws_send($ws, RoomsTest::ws_frame(ping => 'alive?'));
        $alive++ if drain($ws, 1) =~ /^pong alive\?$/m;
    }
}
is($alive, $want{1}, "the WebSockets of media worker 1's rooms live on "
   . "($alive)");
is(scalar(grep { participants($_->{code}) == 3 } @{ $on{1} }),
   scalar @{ $on{1} }, 'and those rooms still show 3 people');

# the other rooms' calls go on: a newcomer is announced to those in them
my $heard = 0;
for my $room (@{ $on{1} }) {
    my ($ws, $w) = ws_join($room->{code}, name => 'Late');
    next unless $w && $w->{type} eq 'welcome';
    push @{ $room->{ws} }, $ws;
    my $j = expect_type($room->{ws}[0], 'participant_joined', 5);
    $heard++ if $j && $j->{name} eq 'Late';
}
is($heard, scalar @{ $on{1} },
   "someone joining a room of media worker 1 is announced to its host");

# the supervisor starts media worker 0 again; its rooms' people come back
my $new = wait_for(10, sub { my $p = child_pid(0); $p && $p != $victim && $p });
ok($new, "the supervisor starts media worker 0 again (pid "
   . ($new // '-') . ')');
like(`cat $log`, qr/media worker 0 \(pid $victim\) was killed by signal 9/,
     'and says why');

my $back = 0;
for my $room (@{ $on{0} }) {
    my ($h, $hw) = ws_join($room->{code}, name => 'Host',
                           host_key => $room->{host_key});
    my @ws = ($h);
    my $ok = $hw && $hw->{type} eq 'welcome';
    for my $g (1 .. 2) {
        my ($ws, $w) = ws_join($room->{code}, name => "Guest $g",
                               guest_token => $room->{tokens}{"Guest $g"});
        push @ws, $ws;
        $ok &&= $w && $w->{type} eq 'welcome';
    }
    $room->{ws} = \@ws;
    $back++ if $ok;
}
is($back, scalar @{ $on{0} }, "the people of media worker 0's rooms join "
   . 'again');
ok(wait_for(10, sub { !grep { participants($_->{code}) != 3 } @{ $on{0} } }),
   'and are counted');
$want{1} += @{ $on{1} };
$got = wait_for(15, sub {
    my $n = worker_participants();
    return ($n->{0} // -1) == $want{0} && ($n->{1} // -1) == $want{1}
           ? $n : undef;
}) // worker_participants();
is(join(' ', map { $got->{$_} // '-' } 0, 1), "$want{0} $want{1}",
   'each media worker counts its rooms\' people again');

for my $room (@rooms) {
    close $_ for grep { $_ } @{ $room->{ws} };
}

# ---- SIGTERM stops both ----

my @children = grep { $_ } map { child_pid($_) } 0, 1;
is(scalar @children, 2, 'two media workers run');
stop_worker();
ok(!grep({ kill 0, $_ } @children), 'SIGTERM to rooms-worker stops both');
ok(!-e $sock && !-e "$sock.1", 'and both control sockets are gone');

nginx_stop($dir, $master);
is(join('', log_alerts($dir)), '', 'no [alert], [crit] or [emerg] in the '
   . 'error log');

done_testing();
