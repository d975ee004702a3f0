# A store that takes long to answer never stops nginx's event loop
# (issue 17, "Store calls never block nginx's event loop"), as a user and
# an admin notice it: one nginx worker (worker_processes 1: one event
# loop serves everything), the REAL media worker and a PostgreSQL cluster
# of this suite's own (scripts/pg-cluster.sh), stalled on purpose with
# SIGSTOP (pg-cluster.sh pause: it takes connections and statements and
# answers nothing) and woken with SIGCONT.  Each case is ordered, never
# timed:
#
# 1. a read (a room's API read once its cached copy is stale, an unknown
#    code) waits in PostgreSQL; a page asset asked for after it is
#    answered whole while the read has not a byte; woken, the read gets
#    its right answer (200 with what the store holds, 404), not an error;
# 2. the same with a host's change (PATCH): woken, it is 200 and seen;
# 3. a call already in the room goes on meanwhile: its WebSocket answers
#    a ping, and a participant's microphone state reaches the host; when
#    nginx stores something of its own (a room in use, who is in the
#    calls, after a guest leaves), the asset is answered before nginx
#    gives up on that store call; and when a guest leaves while a read
#    waits, the host is told and the asset is answered;
# 4. the server ended nginx's connection (a psql session kept open asks
#    it to) while it takes no new connection (its postmaster stopped): a
#    read makes a new one, and the asset is answered while the read waits
#    for it to be taken; taken, the read is 404;
# 5. past the store's bound (the database never wakes in time) the read
#    is 503 storage_unavailable, and the asset asked for after it was
#    answered before it.
#
# "Waits in PostgreSQL" is seen, not guessed: the request's statement (or
# its connection) sits unread in the queue of the stalled server's socket
# (ss: its Recv-Q), and only then is the asset asked for.  A store call
# of nginx's own has no client to watch: its end is the line nginx logs
# when it gives up on it ("no answer within"), which must come after the
# asset's answer.
#
# Why not a lock held by a psql session: the module sets lock_timeout
# (ROOMS_DB_PG_LOCK_MS, 50 ms) on its connection, so a read or write that
# meets a table, row or advisory lock fails in 50 ms with 503; an order
# within 50 ms is a race, not a test.  Why not SQLite: its only wait is
# for the write lock, ROOMS_STORE_WAIT_MS (50 ms), then 503 storage_busy
# (t/021-store-faults.t), the same race.
#
# Runs where t/041-pg-faults.t does: `make test` (ROOMS_TEST_PG_FAULTS=1)
# and `make test-pg`.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);

use RoomsTest;
use RoomsLive;
use RoomsServer;
use RoomsStore;

plan(skip_all => 'PostgreSQL: make test, make test-pg (or ROOMS_TEST_PG_FAULTS=1)')
    unless store_pg() || $ENV{ROOMS_TEST_PG_FAULTS};
plan(skip_all => 'no media worker: run make first') unless -x worker_path();
plan(skip_all => "no PostgreSQL server (Debian's postgresql: scripts/deps.sh)")
    unless $ENV{PGBIN} ? -x "$ENV{PGBIN}/initdb"
                       : glob('/usr/lib/postgresql/*/bin/initdb');
plan(skip_all => 'no ss (iproute2: scripts/deps.sh)')
    unless system('ss -V >/dev/null 2>&1') == 0;

my $top = abs_path(dirname(__FILE__) . '/..');
my $dir = tempdir('rooms-storewait-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $dir;
my $pg = "$dir/pg";
my $port = $ENV{TEST_NGINX_SERVER_PORT} || free_port();
my $sock = "$dir/worker.sock";
$ENV{TEST_NGINX_SERVER_PORT} = $port;       # RoomsLive's clients

# (generous: only to stop a hang, never to decide)
my $HANG = 10;


sub cluster {
    my ($what) = @_;
    system('sh', "$top/scripts/pg-cluster.sh", $what, $pg) == 0
        or die "pg-cluster.sh $what failed\n";
}

my @workers;

END {
    # a worker stuck for good outlives its master's SIGKILL, and keeps
    # the port (reuseport) from the next run
    nginx_stop($dir) if defined $dir;
    kill 'KILL', grep { kill 0, $_ } @workers;
    if ($pg && -d "$pg/data") {
        system('sh', "$top/scripts/pg-cluster.sh", 'resume', $pg);
        system('sh', "$top/scripts/pg-cluster.sh", 'stop', $pg);
    }
}

# ---- requests left open ----

# Sends a request and returns its socket, unread.
sub send_request {
    my ($method, $path, %opt) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => $HANG)
        or die "connect: $!";
    binmode $s;
    my $body = defined $opt{json} ? encode_json($opt{json}) : '';
    my $req = "$method $path HTTP/1.1\r\nHost: localhost\r\n"
            . "Connection: close\r\n";
    $req .= "Content-Type: application/json\r\n"
            . 'Content-Length: ' . length($body) . "\r\n" if length $body;
    $req .= "Authorization: Bearer $opt{key}\r\n" if $opt{key};
    syswrite $s, "$req\r\n$body";
    return $s;
}

# 1 when nginx wrote something on $s (or closed it): it was answered
sub answered {
    my ($s) = @_;
    return IO::Select->new($s)->can_read(0) ? 1 : 0;
}

# Reads the whole answer (nginx closes after it), $HANG s at most:
# (status, {lower-case header => value}, decoded JSON or the raw body)
sub response {
    my ($s) = @_;
    my ($buf, $sel) = ('', IO::Select->new($s));
    my $until = time + $HANG;
    while ((my $left = $until - time) > 0) {
        last unless $sel->can_read($left);
        my $n = sysread $s, $buf, 65536, length $buf;
        last unless $n;
    }
    close $s;
    my ($head, $body) = split /\r\n\r\n/, $buf, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};
    my %h = map { /^([^:]+):\s*(.*)$/ ? (lc $1 => $2) : () }
            split /\r\n/, $head // '';
    my $json = eval { decode_json($body // '') };
    return ($status // 0, \%h, $json // $body // '');
}

# A request and its answer, both bounded (RoomsTest::http() waits for
# the answer as long as it takes)
sub http { response(send_request(@_)) }

sub error_code {
    my ($st, $r) = @_;
    return "$st " . (ref $r ? $r->{error}{code} // '' : '');
}

# ---- the stalled server's queue ----

# What waits unread for the stalled server: the bytes of statements sent
# on its connections and the connections not yet taken, summed over the
# sockets it listens and serves on (ss's Recv-Q); only the connections
# not yet taken with $state 'LISTEN'.
sub pg_queued {
    my ($state) = @_;
    my $path = "$pg/.s.PGSQL.5432";
    my $n = 0;
    for (`ss -xanH 2>/dev/null`) {
        my @f = split ' ';
        next unless @f > 4 && $f[4] eq $path && $f[2] =~ /^\d+$/;
        $n += $f[2] if !$state || $f[1] eq $state;
    }
    return $n;
}

# A request sent to the stalled server is seen in its queue (with
# $state 'LISTEN': a connection it makes): 1 when it is, undef when it
# never came ($HANG s).
sub stall_with {
    my ($state) = @_;
    return wait_for($HANG, sub { pg_queued($state) > 0 });
}

# ---- a request that needs no store: a page asset ----

my $asset = 'room.js';
my $asset_body = do {
    local (@ARGV, $/) = ("$top/ngx_rooms_module/web/$asset");
    <>;
};

# The asset asked for while $waiting waits: 1 when it came whole while
# $waiting had not a byte of its answer.
sub asset_while_waiting {
    my ($what, $waiting) = @_;
    my $t0 = time;
    my $s = send_request('GET', "/assets/$asset");
    my ($st, $h, $body) = response($s);
    my $pending = !answered($waiting);
    ok($st == 200 && $body eq $asset_body,
       "$what: the page asset is answered whole") or diag("status $st");
    # (the time is said, never judged: it tells how long the loop stopped)
    ok($pending, "$what: ... while the store's request had no answer yet "
                 . '(the event loop was free)')
        or diag(sprintf('the asset came %.1f s after it was asked for, '
                        . 'once the store\'s request had its answer',
                        time - $t0));
    return $pending;
}

# The store answers again (after a stall past its bound the connection
# is made again, at most every few seconds): an unknown code's read
# answers 404 rather than 503.
sub store_ready {
    my $ok = wait_for(15, sub {
        my ($st) = http('GET', '/api/rooms/AAAAAAAAAAAAAAAAAAAAAA');
        return $st == 404;
    });
    # (a worker that answers nothing: where it sleeps)
    diag(join '', map { "nginx worker $_ waits in " . (do {
        local (@ARGV, $/) = ("/proc/$_/wchan");
        eval { <> } // '?';
    }) . "\n" } @workers) unless $ok;
    return $ok;
}

# The lines nginx logged after the first $at bytes of its error log.
sub log_since {
    my ($at) = @_;
    open my $f, '<', "$dir/error.log" or return ();
    seek $f, $at, 0;
    return <$f>;
}

# The store answers, or nginx answers nothing at all any more (a worker
# stuck for good): then the cases left are not run.
sub store_ready_or_end {
    return if ok(store_ready(), 'the store answers');
    diag('nginx answers nothing: the cases left are not run');
    done_testing();
    exit;
}

# ---- the server's processes ----

# psql on $store, kept open: statements are printed to {fh}
sub psql_session {
    my ($uri) = @_;
    pipe my $rd, my $wr or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        close $wr;
        open STDIN, '<&', $rd or POSIX::_exit(127);
        open STDOUT, '>', '/dev/null';
        $ENV{PGAPPNAME} = 'rooms_t_session';
        exec('psql', '-X', '-q', '-d', $uri) or POSIX::_exit(127);
    }
    close $rd;
    $wr->autoflush(1);
    # connected before the caller stops the postmaster
    wait_for($HANG, sub {
        store_query($uri, 'SELECT count(*) FROM pg_stat_activity WHERE '
                          . "application_name = 'rooms_t_session'") eq "1\n";
    }) or die "psql did not connect\n";
    return { pid => $pid, fh => $wr };
}

# 1 while process $pid runs (a zombie has ended: its parent is stopped)
sub alive {
    my ($pid) = @_;
    open my $f, '<', "/proc/$pid/stat" or return 0;
    my $stat = <$f> // '';
    return $stat =~ /^\d+ \(.*\) [^Z]/s ? 1 : 0;
}

# ---- set up ----

cluster('init');
cluster('start');
store_query("postgresql://rooms\@/postgres?host=$pg", 'CREATE DATABASE rooms');
my $store = "postgresql://rooms\@/rooms?host=$pg";

start_worker($sock, "$dir/worker.log");
nginx_conf($dir, $port, socket => $sock, store => $store, workers => 1);
my $master = nginx_start($dir, $port);
ok($master, 'nginx runs') or BAIL_OUT(`tail -5 $dir/error.log`);
@workers = nginx_workers($master);
is(scalar(@workers), 1, 'with one worker: one event loop serves everything');

my ($st, $h, $room) = http('POST', '/api/rooms', json => { title => 'Before' });
is($st, 201, 'a room is created');
my ($code, $key) = @{$room}{qw(code host_key)};

# changed in the store behind nginx's back: only a read of the store
# answers with this title once the cached copy is stale
# (ngx_rooms_directory.c, NGX_ROOMS_FRESH_MS, 1 s)
store_query($store, "UPDATE rooms SET title = 'Renamed in the store' "
                    . "WHERE code = '$code'");
is($?, 0, 'its title is changed in the store directly');
my $renamed_at = time;

# ---- 1. reads ----

# an unknown code: no cached copy, the store says "no such room"
store_ready_or_end();
cluster('pause');
my $waiting = send_request('GET', '/api/rooms/AAAAAAAAAAAAAAAAAAAAAB');
ok(stall_with(), 'the read of an unknown code waits in PostgreSQL');
asset_while_waiting('read of an unknown code', $waiting);
cluster('resume');
($st, $h, my $r) = response($waiting);
is(error_code($st, $r), '404 not_found',
   'the database awake, the read gets its answer: 404 not_found');

# a room whose cached copy is stale: read again from the store
store_ready_or_end();
# (waits for the cache to age, which decides nothing: a copy still fresh
# would be answered at once and fail the check of its order below)
sleep(1.2 - (time - $renamed_at)) if time - $renamed_at < 1.2;
cluster('pause');
$waiting = send_request('GET', "/api/rooms/$code");
ok(stall_with(), 'the read of a room (its cached copy stale) waits in '
                   . 'PostgreSQL');
asset_while_waiting('read of a room', $waiting);
cluster('resume');
($st, $h, $r) = response($waiting);
is($st == 200 && ref $r && $r->{title}, 'Renamed in the store',
   'the database awake, the read gets 200 with what the store holds')
    or diag(error_code($st, $r));

# ---- 2. a host's change ----

store_ready_or_end();
cluster('pause');
$waiting = send_request('PATCH', "/api/rooms/$code", key => $key,
                  json => { title => 'Changed while waiting' });
ok(stall_with(), 'a host\'s change waits in PostgreSQL');
asset_while_waiting('host\'s change', $waiting);
cluster('resume');
($st, $h, $r) = response($waiting);
is($st == 200 && ref $r && $r->{title}, 'Changed while waiting',
   'the database awake, the change is 200') or diag(error_code($st, $r));
($st, $h, $r) = http('GET', "/api/rooms/$code");
is($st == 200 && $r->{title}, 'Changed while waiting',
   '... and read back');
is(store_query($store, "SELECT title FROM rooms WHERE code = '$code'"),
   "Changed while waiting\n", '... and in the store');

# ---- 3. a call in the room ----

store_ready_or_end();
my ($host, $hw) = ws_join($code, name => 'Hanna', host_key => $key);
is($hw && $hw->{type}, 'welcome', 'the host joins');
my @guests;
for my $name ('Gino', 'Gia') {
    my ($ws, $welcome) = ws_join($code, name => $name);
    is($welcome && $welcome->{type}, 'welcome', "guest $name joins");
    ok(expect_type($host, 'participant_joined', $HANG),
       '... and the host sees them');
    push @guests, [$ws, $welcome && $welcome->{id}];
}
my ($guest, $gid) = @{ $guests[0] };
drain($host, 0.2);

cluster('pause');
$waiting = send_request('GET', '/api/rooms/AAAAAAAAAAAAAAAAAAAAAC');
ok(stall_with(), 'a read waits in PostgreSQL');
RoomsTest::ws_send($host, RoomsTest::ws_frame(ping => 'still there?'));
# (the first frame of that kind: a message of the room may come before)
my $pong = '';
my $until = time + $HANG;
while ((my $left = $until - time) > 0) {
    my $f = next_frame($host, $left) or last;
    if ($f->[0] =~ /^(?:pong|close|EOF)/) {
        $pong = $f->[0];
        last;
    }
}
my $calm = !answered($waiting);
is($pong, 'pong still there?', 'the host\'s WebSocket answers a ping');
send_json($guest, { type => 'media', audio => JSON::PP::true,
                    video => JSON::PP::false });
my $pm = expect_type($host, 'participant_media', $HANG);
$calm &&= !answered($waiting);
is($pm && $pm->{id}, $gid, 'a guest\'s microphone state reaches the host');
ok($calm, '... both while the read had no answer yet');
cluster('resume');
($st, $h, $r) = response($waiting);
is(error_code($st, $r), '404 not_found',
   'the database awake, the read gets its answer');

# ---- 3b. what a call stores on its own ----

# nginx stores on its own, with no request waiting for it, that a room
# is in use (a COUNT record of the media worker, ngx_rooms_records.c)
# and who is in the calls (a timer of ngx_rooms_people.c): here, after a
# guest leaves
store_ready_or_end();
my $log_at = -s "$dir/error.log";
cluster('pause');
close $guest;
my $left = expect_type($host, 'participant_left', $HANG);
is($left && $left->{id}, $gid, 'a guest leaves, and the host is told');
ok(stall_with(), 'a store call of nginx\'s own, no request\'s, waits in '
                 . 'PostgreSQL');
my ($ast, $ah, $abody) = response(send_request('GET', "/assets/$asset"));
my $gave_up = grep { /no (?:answer|connection) within/ } log_since($log_at);
ok($ast == 200 && $abody eq $asset_body,
   'the page asset is answered whole') or diag("status $ast");
ok(!$gave_up, '... before nginx gave up on that store call (the event '
              . 'loop was free)') or diag(join '', log_since($log_at));
cluster('resume');

# ---- 3c. a guest leaves while a read waits ----

# the media worker's records of the leave (the room's count) meet the
# room directory, which the waiting read is using
store_ready_or_end();
my ($guest2, $gid2) = @{ $guests[1] };
cluster('pause');
$waiting = send_request('GET', '/api/rooms/AAAAAAAAAAAAAAAAAAAAAF');
ok(stall_with(), 'a read waits in PostgreSQL');
close $guest2;
$left = expect_type($host, 'participant_left', $HANG);
is($left && $left->{id}, $gid2, 'the other guest leaves, and the host is told');
asset_while_waiting('guest left', $waiting);
cluster('resume');
($st, $h, $r) = response($waiting);
is(error_code($st, $r), '404 not_found',
   'the database awake, the read gets its answer');
close $host;

# ---- 4. a connection made again to a stalled server ----

# nginx's connection ended by the server (a restart, an administrator)
# while the server takes no new connection (its postmaster stopped; the
# other processes run): the next store call makes a new one at once
# (common/rooms_db_pg_conn.c), which waits to be taken
store_ready_or_end();
my @backends = split ' ', store_query($store,
    "SELECT pid FROM pg_stat_activity WHERE application_name = 'ngx_rooms'");
ok(@backends, 'nginx is connected to PostgreSQL');
my $session = psql_session($store);
my ($postmaster) = split ' ', do {
    local (@ARGV, $/) = ("$pg/data/postmaster.pid");
    <>;
};
kill 'STOP', $postmaster;
print { $session->{fh} } 'SELECT pg_terminate_backend(pid) FROM '
    . "pg_stat_activity WHERE application_name = 'ngx_rooms';\n";
ok(wait_for($HANG, sub { !grep { alive($_) } @backends }),
   'the server ends nginx\'s connection');
$waiting = send_request('GET', '/api/rooms/AAAAAAAAAAAAAAAAAAAAAE');
ok(stall_with('LISTEN'), 'a read waits for its new connection to be taken');
asset_while_waiting('connection made again', $waiting);
kill 'CONT', $postmaster;
($st, $h, $r) = response($waiting);
is(error_code($st, $r), '404 not_found',
   'the connection taken, the read gets its answer');
close $session->{fh};
waitpid $session->{pid}, 0;

# ---- 5. stalled past the store's bound ----

store_ready_or_end();
cluster('pause');
my $t0 = time;
$waiting = send_request('GET', '/api/rooms/AAAAAAAAAAAAAAAAAAAAAD');
ok(stall_with(), 'a read waits in PostgreSQL, which never wakes in time');
asset_while_waiting('database stalled', $waiting);
($st, $h, $r) = response($waiting);
my $took = time - $t0;
is(error_code($st, $r), '503 storage_unavailable',
   'the read ends 503 storage_unavailable');
# (common/rooms_db_pg.h: ROOMS_DB_PG_ANSWER_MS, 3 s; a hang would be $HANG)
ok($took < $HANG, sprintf('... in %.1f s, not after the database wakes',
                          $took));
cluster('resume');
ok(store_ready(), 'the database awake, reads work again');

# ---- nginx unharmed ----

ok(kill(0, $master), 'the nginx master lives');
is(join(' ', nginx_workers($master)), join(' ', @workers),
   'and its worker is the same process: it never crashed');

my $log = do { local (@ARGV, $/) = ("$dir/error.log"); <> } // '';
unlike($log, qr/exited on signal/, 'no nginx process died of a signal');

nginx_stop($dir);
stop_worker();

# (a store that stalls is an [error] or a [warn], never more)
my @alerts = log_alerts($dir);
is(join('', @alerts), '', 'no unexpected alert, crit or emerg in the error log');

done_testing();
