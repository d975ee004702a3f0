# Draining a node (docs/scaling.md, "Draining a node"), through a whole
# nginx (master, two workers: t/lib/RoomsServer.pm) and the REAL media
# worker, asserting what the browsers in a call are told:
#
# - the media worker's SIGQUIT first: every WebSocket in a call or a
#   lobby is closed 4412 (moved); a join meanwhile, and a resume, are
#   closed 4412 without a welcome; the room counts nobody; the worker
#   stops by itself once nobody is left ("drained"); the room (policy
#   end when its last host goes) is not ended;
# - nginx -s quit (QUIT to the master) with a call on: each WebSocket is
#   closed 4412, not 1001 as a reload's (t/023-resume.t), and the media
#   worker is told LEAVE, not DETACH: it logs the participants as left at
#   once, none waits to be resumed.

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

my $dir = tempdir('rooms-drain-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $dir;
my $port = $ENV{TEST_NGINX_SERVER_PORT} || free_port();
my $sock = "$dir/worker.sock";
my $wlog = "$dir/worker.log";
$ENV{TEST_NGINX_SERVER_PORT} = $port;       # RoomsLive's clients

sub participants {
    my ($code) = @_;
    my ($st, undef, $r) = RoomsTest::http('GET', "/api/rooms/$code",
                                          port => $port);
    return ref $r ? $r->{participants} : -1;
}

sub worker_log {
    open my $in, '<', $wlog or return '';
    local $/;
    return <$in>;
}

# ---- the media worker drains first ----

sub worker_pid {
    my $p = `pgrep -f '^[^ ]*rooms-worker .*$sock'`;
    chomp $p;
    return $p =~ /^\d+$/ ? $p : undef;
}

start_worker($sock, $wlog);
my $wpid = worker_pid();
nginx_conf($dir, $port, socket => $sock);
my $master = nginx_start($dir, $port);
ok($master, 'nginx runs') or BAIL_OUT(`tail -5 $dir/error.log`);

my $room = create_room(title => 'Drain', host_absent => 'end');
my ($code, $key) = @{$room}{qw(code host_key)};
my $knock = create_room(title => 'Knock', admission => 'knock');

my ($host, $hw) = ws_join($code, name => 'Hanna', host_key => $key);
my ($guest, $gw) = ws_join($code, name => 'Gino');
my ($wait, $ww) = ws_join($knock->{code}, name => 'Wanda');
is("$hw->{type} $gw->{type} $ww->{type}", 'welcome welcome waiting',
   'a host and a guest are in a call, a guest waits in a lobby');
is(wait_for(5, sub { participants($code) == 2 }) && participants($code), 2,
   'the room shows 2 people');

kill 'QUIT', $wpid;
like(expect_close($host, 10) // 'nothing', qr/^close 4412 /,
     'SIGQUIT to the media worker: the host is told to move (4412)');
like(expect_close($guest, 10) // 'nothing', qr/^close 4412 /, 'the guest too');
like(expect_close($wait, 10) // 'nothing', qr/^close 4412 /,
     'and the guest waiting in the lobby');
is(wait_for(5, sub { participants($code) == 0 }) ? 0 : participants($code), 0,
   'the room shows nobody in it');

# a join and a resume meanwhile (the worker lingers 1 s once empty)
my ($late, $lw, $ll) = ws_join($code, name => 'Late');
like($ll // '', qr/^close 4412 /, 'a join meanwhile is closed 4412, no '
     . 'welcome');
my ($res) = RoomsTest::ws_open("/api/rooms/$code/ws",
    RoomsTest::ws_frame(text => JSON::PP::encode_json({
        type => 'resume', resume_token => $gw->{resume_token},
        guest_token => $gw->{guest_token} })));
my $rf = $res && next_frame($res);
like($rf ? $rf->[0] : '', qr/^close 4412 |media_unavailable/,
     'a resume too (or, once the worker is gone, media_unavailable)');

my $gone = wait_for(10, sub { waitpid($wpid, POSIX::WNOHANG()) == $wpid });
ok($gone, 'the media worker stopped by itself once nobody was left');
RoomsLive::forget_worker();
like(worker_log(), qr/draining: 3 participants told to move/,
     'it says it told 3 to move');
like(worker_log(), qr/drained: 0 participants left/,
     'and that it drained with nobody left');
my ($st, undef, $r) = RoomsTest::http('GET', "/api/rooms/$code",
                                      port => $port);
ok($st == 200 && !$r->{ended}, 'the room is not ended: it goes on elsewhere');

# ---- nginx -s quit with a call on ----

start_worker($sock, $wlog);
($host, $hw) = ws_join($code, name => 'Hanna', host_key => $key);
($guest, $gw) = ws_join($code, name => 'Gino', guest_token => $gw->{guest_token});
is("$hw->{type} $gw->{type}", 'welcome welcome', 'a new call');
my $left = () = worker_log() =~ /participant left:/g;

kill 'QUIT', $master;
like(expect_close($host, 10) // 'nothing', qr/^close 4412 moved/,
     'nginx -s quit: the host is told to move (4412), not to resume');
like(expect_close($guest, 10) // 'nothing', qr/^close 4412 moved/,
     'the guest too');
nginx_stop($dir);                   # QUIT again, and waits for the master
ok(!kill(0, $master), 'nginx stopped');
ok(wait_for(5, sub { (() = worker_log() =~ /participant left:/g) == $left + 2 }),
   'the media worker let both go at once (LEAVE)');
unlike(worker_log(), qr/detached/, 'none was kept to be resumed (no DETACH)');
stop_worker();

my @alerts = log_alerts($dir);
ok(!@alerts, 'no [alert], [crit] or [emerg] in the error log')
    or diag join '', @alerts;

done_testing();
