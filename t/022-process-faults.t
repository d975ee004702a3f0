# Processes dying and a store locked during a call, through a whole nginx
# (master, two workers: t/lib/RoomsServer.pm) and the REAL media worker,
# asserting what people in a room notice:
#
# - the media worker is killed (SIGKILL) in a call: every WebSocket is
#   closed 1012, a join meanwhile is refused media_unavailable, the room
#   shows nobody in it; once the worker is back (as its service manager
#   restarts it), the same people join again by themselves, the room
#   shows them, and the room itself is as it was;
# - an nginx worker is killed (SIGKILL): the master starts another, the
#   WebSockets it held end and the others live on, the room's count comes
#   down to the people still there, and back up when the others rejoin;
# - the store is locked by another program in a call: a host's lock over
#   the WebSocket is refused storage_busy (the connection stays open, the
#   room unlocked); a host removes a guest meanwhile: the guest is out at
#   once, and its ban, kept by nginx until the store is free, is stored
#   then: the token stays refused after the lock is gone and after a
#   restart; the last host leaves a room of policy lock meanwhile: the
#   policy is kept, and once the store is free the room locks itself and
#   the guest hears it.
# The stalled nginx worker (SIGSTOP) is t/020-ring-overflow.t's.

use strict;
use warnings;

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

my $dir = tempdir('rooms-faults-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $dir;
my $port = $ENV{TEST_NGINX_SERVER_PORT} || free_port();
my $sock = "$dir/worker.sock";
my $db = store_of($dir);
$ENV{TEST_NGINX_SERVER_PORT} = $port;       # RoomsLive's clients

sub http { RoomsTest::http(@_, port => $port) }

sub participants {
    my ($code) = @_;
    my ($st, undef, $r) = http('GET', "/api/rooms/$code");
    return ref $r ? $r->{participants} : -1;
}

sub worker_pid {
    my $p = `pgrep -f '^[^ ]*rooms-worker .*$sock'`;
    chomp $p;
    return $p =~ /^\d+$/ ? $p : undef;
}

start_worker($sock, "$dir/worker.log");
nginx_conf($dir, $port, socket => $sock);
my $master = nginx_start($dir, $port);
ok($master, 'nginx runs') or BAIL_OUT(`tail -5 $dir/error.log`);

my $room = create_room(title => 'Faults');
my ($code, $key) = @{$room}{qw(code host_key)};

# ---- the media worker is killed in a call ----

my ($host, $hw) = ws_join($code, name => 'Hanna', host_key => $key);
my ($guest, $gw) = ws_join($code, name => 'Gino');
is("$hw->{type} $gw->{type}", 'welcome welcome', 'a host and a guest are in');
my $token = $gw->{guest_token};
is(wait_for(5, sub { participants($code) == 2 }) && participants($code), 2,
   'the room shows 2 people');

my $old = worker_pid();
ok($old, "the media worker runs ($old)");
kill 'KILL', $old;
waitpid $old, 0;

like(expect_close($host, 10), qr/^close 1012 /,
     'the host\'s WebSocket is closed 1012');
like(expect_close($guest, 10), qr/^close 1012 /, 'and the guest\'s');
my ($ws, $m) = RoomsTest::ws_open("/api/rooms/$code/ws",
                                  join_frame(name => 'Early'));
my $f = $ws && next_frame($ws);
like($f ? $f->[0] : '', qr/media_unavailable/,
     'a join meanwhile is refused media_unavailable');
is(wait_for(5, sub { participants($code) == 0 }) ? 0 : participants($code), 0,
   'the room shows nobody in it');

# its service manager starts it again
start_worker($sock, "$dir/worker.log");
my $deadline = time + 20;
($host, $hw) = (undef, undef);
while (time < $deadline) {
    ($host, $hw) = ws_join($code, name => 'Hanna', host_key => $key);
    last if $hw && $hw->{type} eq 'welcome';
    sleep 0.5;
}
is($hw && $hw->{type}, 'welcome', 'once the worker is back, the host joins '
   . 'again');
($guest, $gw) = ws_join($code, name => 'Gino', guest_token => $token);
is($gw && $gw->{type}, 'welcome', 'and the guest, with its token');
is(wait_for(5, sub { participants($code) == 2 }) && participants($code), 2,
   'the room shows 2 people again');
my ($st, undef, $r) = http('GET', "/api/rooms/$code");
ok($st == 200 && $r->{title} eq 'Faults' && !$r->{locked},
   'the room is as it was');

# ---- an nginx worker is killed ----

my @before = nginx_workers($master);
is(scalar @before, 2, 'nginx has two workers');

# more guests, so both workers hold some
my @guests;
for my $i (1 .. 4) {
    my ($g, $w) = ws_join($code, name => "G$i");
    push @guests, $g if $w && $w->{type} eq 'welcome';
}
is(scalar @guests, 4, 'four more guests are in');
is(wait_for(5, sub { participants($code) == 6 }) && participants($code), 6,
   'the room shows 6 people');

# the victim: a worker that holds some of the WebSockets (the other's
# live on); ss tells which process holds each connection
my %held;
for (`ss -Htnp state established '( sport = :$port )'`) {
    $held{$1}++ if /pid=(\d+)/;
}
my ($victim) = sort { $held{$a} <=> $held{$b} }
               grep { $held{$_} } @before;
my $survivors = 6 - ($held{$victim} // 6);
note("the workers hold " . join(', ', map { "$_: " . ($held{$_} // 0) }
                                          @before) . "; killing $victim");

kill 'KILL', $victim;
my @after = @{ wait_for(10, sub {
    my @w = nginx_workers($master);
    return @w == 2 && !grep({ $_ == $victim } @w) ? \@w : undef;
}) // [] };
is(scalar @after, 2, 'the master starts another worker');

# the WebSockets the killed worker held are gone; the rest live on
my @alive = grep { defined } map {
    my $s = $_;
    RoomsTest::ws_send($s, RoomsTest::ws_frame(ping => 'alive?'));
    drain($s, 1) =~ /^pong alive\?$/m ? $s : undef;
} ($host, $guest, @guests);
my $n = scalar @alive;
is($n, $survivors, "the other worker's WebSockets live on ($n of 6)");
is(wait_for(10, sub { participants($code) == $n }) ? $n : participants($code),
   $n, "the room's count comes down to the people still there");

my $rejoined = 0;
for (1 .. 6 - $n) {
    my ($g, $w) = ws_join($code, name => "R$_");
    if ($w && $w->{type} eq 'welcome') {
        $rejoined++;
        push @alive, $g;
    }
}
is($rejoined, 6 - $n, 'the others join again');
is(wait_for(10, sub { participants($code) == 6 }) && participants($code), 6,
   'and the room shows 6 people');
($st) = http('GET', '/');
is($st, 200, 'nginx serves its page');
close $_ for @alive;

# ---- the store is locked by another program in a call ----

$room = create_room(title => 'Locked store');
($code, $key) = @{$room}{qw(code host_key)};
($host, $hw) = ws_join($code, name => 'Hanna', host_key => $key);
($guest, $gw) = ws_join($code, name => 'Gino');
$token = $gw->{guest_token};
my $gid = $gw->{id};
expect_type($host, 'participant_joined');

my $lock = store_lock($db);
ok(wait_for(5, sub { store_locked($db) }),
   'another program holds the write lock');

send_json($host, { type => 'lock', locked => JSON::PP::true });
my $e = expect_type($host, 'error');
is($e && $e->{code}, 'storage_busy', 'a host\'s lock: storage_busy');
($st, undef, $r) = http('GET', "/api/rooms/$code");
ok($st == 200 && !$r->{locked}, 'the room stays unlocked, and reads answer');

send_json($host, { type => 'remove', id => $gid });
$e = expect_type($guest, 'error');
is($e && $e->{code}, 'removed', 'a removed guest is told at once');
is(expect_close($guest), 'close 4403 removed', 'and is out');
my $left = expect_type($host, 'participant_left');
is($left && $left->{id}, $gid, 'the host sees it leave');

store_unlock($lock);

my $hash = do { require Digest::SHA; Digest::SHA::sha256_hex($token) };
is(wait_for(5, sub {
       store_query($db, "SELECT count(*) FROM bans WHERE "
                   . store_hex('token_hash') . " = upper('$hash')") == 1
   }) ? 1 : 0, 1, 'once the store is free, the ban is stored');
like(`cat $dir/error.log`, qr/a deferred ban of room \d+ is stored/,
     'the error log says so');

my ($g2, $m2) = ws_join($code, name => 'Gino', guest_token => $token);
is($m2 && $m2->{code}, 'removed', 'the removed token is refused');

send_json($host, { type => 'lock', locked => JSON::PP::true });
my $rm = expect_type($host, 'room');
ok($rm && $rm->{locked}, 'the host\'s lock now works');
close $host;

nginx_stop($dir);
$master = nginx_start($dir, $port);
($g2, $m2) = ws_join($code, name => 'Gino', guest_token => $token);
ok($m2 && ($m2->{code} // '') =~ /^(removed|locked)$/,
   'after a restart the removed guest is still kept out');
is(store_query($db, "SELECT count(*) FROM bans") + 0, 1,
   'and the store has its ban');

# the last host leaves a room whose policy is lock, while the store is
# locked: the policy is kept, and applied once the store is free
$room = create_room(title => 'Absent host', host_absent => 'lock');
($code, $key) = @{$room}{qw(code host_key)};
($host, $hw) = ws_join($code, name => 'Hanna', host_key => $key);
($guest, $gw) = ws_join($code, name => 'Gino');
expect_type($host, 'participant_joined');

$lock = store_lock($db);
ok(wait_for(5, sub { store_locked($db) }), 'the store is locked again');

send_json($host, { type => 'leave' });
$left = expect_type($guest, 'participant_left');
ok($left, 'the host leaves');
ok(wait_for(5, sub { `cat $dir/error.log` =~ /a host-absent policy of room \d+ is kept/ }),
   'its policy is kept while the store is locked');
($st, undef, $r) = http('GET', "/api/rooms/$code");
ok($st == 200 && !$r->{locked}, 'the room is not locked yet');

store_unlock($lock);

$rm = expect_type($guest, 'room', 5);
ok($rm && $rm->{locked} && ($rm->{reason} // '') eq 'host_absent',
   'once the store is free, the guest hears the room locked itself');
($st, undef, $r) = http('GET', "/api/rooms/$code");
ok($st == 200 && $r->{locked}, 'and the room is locked');

# the one [alert] is the nginx worker this suite kills
my @alerts = log_alerts($dir, qr/\[alert\] .*exited on signal 9$/);
is(join('', @alerts), '', 'no unexpected alert, crit or emerg in the error log');

done_testing();
