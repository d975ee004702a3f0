# PostgreSQL in trouble, as an admin meets it (issue 17), through a whole
# nginx (master, two workers: t/lib/RoomsServer.pm), the REAL media worker
# and a PostgreSQL cluster of this suite's own (scripts/pg-cluster.sh), so
# that it can be stopped and killed without harming the other suites:
#
# - the database down at start: "nginx -t" fails with a line naming the
#   store and the cause, and never the URI's password; so do a database
#   that does not exist and a role that cannot create the tables;
# - the database killed (SIGKILL to all its processes: every connection
#   dies) while serving: creations and changes answer 503
#   storage_unavailable within a bounded time, a join is refused, a call
#   already in the room goes on, no nginx process crashes;
# - the database back: creations, changes and joins work again without
#   restarting nginx, and every room made before is there with its key;
# - the database stalled (SIGSTOP: it takes connections and statements
#   and answers nothing, as a hung host): creations and changes answer
#   503 within a bounded time rather than hanging nginx, the call in the
#   room goes on, and once it wakes changes work again.
#
# The faults of an SQLite store are t/021-store-faults.t's.  This suite
# runs under `make test-pg`, or when ROOMS_TEST_PG_FAULTS=1 (`make test`
# sets it: its cluster is its own, so CI covers the PostgreSQL engine).

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
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

my $dir = tempdir('rooms-pgfaults-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $dir;
my $pg = "$dir/pg";
my $port = $ENV{TEST_NGINX_SERVER_PORT} || free_port();
my $sock = "$dir/worker.sock";
$ENV{TEST_NGINX_SERVER_PORT} = $port;       # RoomsLive's clients

sub http { RoomsTest::http(@_, port => $port) }

sub cluster {
    my ($what) = @_;
    system('sh', 'scripts/pg-cluster.sh', $what, $pg) == 0
        or die "pg-cluster.sh $what failed\n";
}

END {
    if ($pg && -d "$pg/data") {
        system('sh', 'scripts/pg-cluster.sh', 'resume', $pg);
        system('sh', 'scripts/pg-cluster.sh', 'stop', $pg);
    }
}

# a password in the URI: the cluster trusts the socket and ignores it,
# and no line nginx writes may show it
my $secret = 'Sesame' . int(rand(1e9));
my $store = "postgresql://rooms:$secret\@/rooms?host=$pg";

cluster('init');
start_worker($sock, "$dir/worker.log");
nginx_conf($dir, $port, socket => $sock, store => $store);

# ---- the database down at start ----

my ($rc, $out) = nginx_test($dir);
isnt($rc, 0, 'with the database down, nginx -t fails');
like($out, qr/rooms_store "postgres[^"]*" cannot be used: .*\S/,
     '... naming the store and the cause') or diag($out);
unlike($out, qr/\Q$secret\E/, '... and not the password');

# ---- a room, a call ----

cluster('start');
my $admin = "postgresql://rooms\@/postgres?host=$pg";

# ---- up, but not a database nginx can use ----

($rc, $out) = nginx_test($dir);
isnt($rc, 0, 'with no database "rooms" on the server, nginx -t fails');
like($out, qr/rooms_store "postgres[^"]*" cannot be used: .*"rooms" does not exist/,
     '... saying the database does not exist') or diag($out);

# a role that may connect but not create tables (PostgreSQL 15 gives
# the public schema's CREATE to its owner only): refused at nginx -t,
# not at the first room
store_query($admin, 'CREATE DATABASE rooms');
store_query($admin, 'CREATE ROLE reader LOGIN');
nginx_conf($dir, $port, socket => $sock,
           store => "postgresql://reader:$secret\@/rooms?host=$pg");
($rc, $out) = nginx_test($dir);
isnt($rc, 0, 'a role that cannot create the tables fails nginx -t');
like($out, qr/rooms_store "postgres[^"]*" cannot be (used|written): .*permission denied/,
     '... saying permission is denied') or diag($out);
unlike($out, qr/\Q$secret\E/, '... and not the password');
is(store_query("postgresql://rooms\@/rooms?host=$pg",
               "SELECT count(*) FROM information_schema.tables "
               . "WHERE table_schema = 'public'"), "0\n",
   '... leaving the database as it was');
nginx_conf($dir, $port, socket => $sock, store => $store);

# ---- up ----

($rc, $out) = nginx_test($dir);
is($rc, 0, 'with the database up, nginx -t passes') or diag($out);
my $master = nginx_start($dir, $port);
ok($master, 'nginx runs') or BAIL_OUT(`tail -5 $dir/error.log`);
my @workers = sort(nginx_workers($master));
is(scalar(@workers), 2, 'two nginx workers');

my ($st, $h, $room) = http('POST', '/api/rooms', json => { title => 'Before' });
is($st, 201, 'a room is created');
my ($code, $key) = @{$room}{qw(code host_key)};
my ($host, $hw) = ws_join($code, name => 'Hanna', host_key => $key);
is($hw && $hw->{type}, 'welcome', 'the host joins');
my ($guest, $gw) = ws_join($code, name => 'Gino');
is($gw && $gw->{type}, 'welcome', 'a guest joins');
expect_type($host, 'participant_joined');

# ---- killed while serving ----

cluster('kill');
my $t0 = time;
($st, $h, my $r) = http('POST', '/api/rooms', json => { title => 'Down' });
my $took = time - $t0;
is("$st " . (ref $r ? $r->{error}{code} // '' : ''), '503 storage_unavailable',
   'with the database killed, a creation answers 503 storage_unavailable');
# (the bound of a call on a dead database: a connection refused at once,
# at worst the connect timeout; a hang would be a test timeout)
ok($took < 15, sprintf('... in %.1f s', $took));
($st, $h, $r) = http('PATCH', "/api/rooms/$code", key => $key,
                     json => { title => 'Changed while down' });
is("$st " . (ref $r ? $r->{error}{code} // '' : ''), '503 storage_unavailable',
   'a change answers 503 storage_unavailable');

# a newcomer: refused, at the handshake or by an error frame
my ($nw, $nhead) = RoomsTest::ws_open("/api/rooms/$code/ws",
                                      RoomsLive::join_frame(name => 'Nia'));
my $refusal = $nw ? (next_frame($nw) // ['nothing'])->[0]
                  : (($nhead // '') =~ m{^HTTP/1\.1 (\d+)} ? "HTTP $1" : 'none');
like($refusal, qr/storage_unavailable|HTTP 503/,
     'a join is refused while the database is down') or diag($refusal);
close $nw if $nw;

# the call in the room goes on: the guest's microphone reaches the host
send_json($guest, { type => 'media', audio => JSON::PP::true,
                    video => JSON::PP::false });
my $pm = expect_type($host, 'participant_media', 5);
is($pm && $pm->{id}, $gw->{id}, 'the call already in the room goes on');

ok(kill(0, $master), 'the nginx master lives');
is(join(' ', sort(nginx_workers($master))), join(' ', @workers),
   'and its workers are the same processes: none crashed');

# ---- back ----

cluster('start');
# each nginx worker finds its connection dead and opens another, trying
# at most every few seconds while the server stays away: each step is
# retried for a while, none needs nginx restarted
$t0 = time;
my $ok = wait_for(15, sub {
    my ($s) = http('POST', '/api/rooms', json => { title => 'After' });
    return $s == 201;
});
ok($ok, sprintf('with the database back, rooms are created again, nginx '
                . 'untouched (after %.1f s)', time - $t0))
    or diag(`tail -5 $pg/server.log; grep -i 'postgres\\|store' $dir/error.log | tail -5`);
$ok = wait_for(15, sub {
    ($st, $h, $r) = http('PATCH', "/api/rooms/$code", key => $key,
                         json => { title => 'Changed after' });
    return $st == 200;
});
ok($ok, 'the room made before takes its host\'s change');
($st, $h, $r) = http('GET', "/api/rooms/$code");
is($st == 200 && $r->{title}, 'Changed after', 'and reads it back');
my ($n2, $nw2, $line);
$ok = wait_for(15, sub {
    close $n2 if $n2;
    ($n2, $nw2, $line) = ws_join($code, name => 'Nia');
    return $nw2 && $nw2->{type} eq 'welcome';
});
ok($ok, 'a newcomer joins again') or diag($line);
close $n2 if $n2;

# ---- stalled: the server takes connections and statements, answers none ----

cluster('pause');
# a store call that waited for the server's answer without a bound would
# hang nginx until the server wakes: wake it after 20 s, and the times
# below fail rather than the suite hanging
local $SIG{ALRM} = sub { cluster('resume') };
alarm 20;
$t0 = time;
($st, $h, $r) = http('POST', '/api/rooms', json => { title => 'Stalled' });
$took = time - $t0;
is("$st " . (ref $r ? $r->{error}{code} // '' : ''), '503 storage_unavailable',
   'with the database stalled, a creation answers 503 storage_unavailable');
# (common/rooms_db_pg.c: a statement waits 3 s at most for its answer,
# then the connection is dropped and the next calls fail at once)
ok($took < 10, sprintf('... in %.1f s, not after the database wakes', $took));
$t0 = time;
($st, $h, $r) = http('PATCH', "/api/rooms/$code", key => $key,
                     json => { title => 'Changed while stalled' });
is($st, 503, 'a change answers 503 too');
ok(time - $t0 < 10, sprintf('... in %.1f s', time - $t0));
send_json($guest, { type => 'media', audio => JSON::PP::false,
                    video => JSON::PP::false });
$pm = expect_type($host, 'participant_media', 10);
is($pm && $pm->{id}, $gw->{id}, 'the call in the room goes on meanwhile');
alarm 0;
cluster('resume');
$t0 = time;
$ok = wait_for(15, sub {
    ($st, $h, $r) = http('PATCH', "/api/rooms/$code", key => $key,
                         json => { title => 'Changed at last' });
    return $st == 200;
});
ok($ok, sprintf('the database awake, changes work again (after %.1f s)',
               time - $t0));
($st, $h, $r) = http('GET', "/api/rooms/$code");
is($st == 200 && $r->{title}, 'Changed at last', 'and read back');
close $_ for grep { $_ } $host, $guest;

ok(kill(0, $master), 'the nginx master lives');
my @now = nginx_workers($master);
is(scalar(@now), 2, 'with its two workers');

my $log = do { local (@ARGV, $/) = ("$dir/error.log"); <> } // '';
unlike($log, qr/\Q$secret\E/, 'the error log never shows the password');
unlike($log, qr/exited on signal/, 'no nginx process died of a signal');

nginx_stop($dir);
stop_worker();

# the [emerg] of the refused nginx -t, and the store's errors while down
my @alerts = log_alerts($dir, qr/\[emerg\] .*rooms_store "postgres/,
                        qr/\[(?:alert|crit)\] .*(?:rooms_store|store|PostgreSQL|postgres|connection)/i);
is(join('', @alerts), '', 'no unexpected alert, crit or emerg in the error log');

done_testing();
