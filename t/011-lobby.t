# The lobby and the live participant count (docs/protocol.md "The lobby"
# and "Live participant count"), end to end through two nginx workers and
# the REAL media worker (build/rooms-worker, started here on a unix
# socket in TEST_NGINX_ROOMS_DIR and a free UDP port):
#
# - in a knock room a guest's join is answered {"type":"waiting"} only
#   (no id, no participant list, no token yet); the host's welcome lists
#   the lobby, and a knock reaches it with the guest's name;
# - admit from a waiting guest: not_host; the host admits one: its
#   welcome carries a guest token (nginx adds it although the welcome is
#   not the first message), the host hears participant_joined and
#   lobby_left; the host denies another: denied and close 4403; a waiting
#   guest that disconnects: lobby_left; a locked room refuses a new guest
#   before the lobby (locked);
# - GET /api/rooms/<code> reports participants live, through either
#   nginx worker: 0, 1 with the host, 2 and 3 as guests are admitted, down
#   again as they leave (polled: the count arrives asynchronously);
# - PATCH admission "open" lets the waiting guest in, and later guests
#   come straight in; PATCH max_participants below the live count is 409
#   too_many_participants, at the count it is 200;
# - DELETE closes the waiting guests too (room_ended, 4403);
# - the counts go to 0 when the media worker goes away.

use lib 't/lib';
use Test::Nginx::Socket;
use RoomsTest;
use RoomsLive;
use JSON::PP;
use Time::HiRes qw(sleep time);

our $Dir = $ENV{TEST_NGINX_ROOMS_DIR};
our $Worker = worker_path();
our $Sock = "$Dir/worker.sock";
our $WorkerLog = "$Dir/worker.log";

# a second listener with reuseport, so that GETs reach both nginx workers
our $Port2 = $ENV{TEST_NGINX_ROOMS_PORT2} ||= server_port() + 9;

if (!-x $Worker) {
    plan(skip_all => "no media worker at $Worker: run make first");
}

plan('no_plan');

# Polls GET /api/rooms/<code> (on $port, or the main one) until it
# reports $n participants; returns the last count seen.
sub wait_count {
    my ($code, $n, $port) = @_;
    my $deadline = time + 5;
    my $got;
    for (;;) {
        my ($st, $h, $room) = RoomsTest::http('GET', "/api/rooms/$code",
                                              $port ? (port => $port) : ());
        $got = ref $room ? $room->{participants} : undef;
        return $got if (defined $got && $got == $n) || time > $deadline;
        sleep 0.05;
    }
}

# GET through each nginx worker (the reuseport listener spreads them):
# {pid => participants}
sub count_by_worker {
    my ($code) = @_;
    my %by;
    for (1 .. 40) {
        my ($st, $h, $room) = RoomsTest::http('GET', "/api/rooms/$code",
                                              port => $Port2);
        $by{$h->{'x-worker'}} = $room->{participants}
            if $h->{'x-worker'} && ref $room;
        last if keys %by >= 2;
    }
    return \%by;
}

sub patch {
    my ($code, $key, %fields) = @_;
    my ($st, $h, $body) = RoomsTest::http('PATCH', "/api/rooms/$code",
                                          json => \%fields, key => $key);
    return ($st, $body);
}

sub check {
    my ($block) = @_;
    my $name = $block->name;

    if ($name =~ /knock, admit and deny/) {
        my $room = create_room(title => 'Lobby', admission => 'knock',
                               max_participants => 4);
        my ($code, $key) = @{$room}{qw(code host_key)};
        is($room->{participants}, 0, 'a new room: participants 0');

        # the host never waits
        my ($host, $w) = ws_join($code, name => 'Hanna', host_key => $key);
        is($w->{type}, 'welcome', 'the host is welcome at once');
        is(ref $w->{lobby}, 'ARRAY', 'its welcome has a lobby');
        is(scalar @{ $w->{lobby} // [] }, 0, 'an empty one');
        is(wait_count($code, 1), 1, 'GET: participants 1 (the host)');

        # a guest knocks
        my ($g, $gw, $line) = ws_join($code, name => 'Gino');
        is($line, 'text {"type":"waiting"}',
           'a guest: {"type":"waiting"} and nothing more');
        my $k = expect_type($host, 'knock');
        is($k && $k->{name}, 'Gino', 'the host sees the knock, by name');
        like($k && $k->{id} // '', qr/^\S+$/, 'with an id');
        my $g_id = $k ? $k->{id} : '';
        sleep 0.3;
        is(wait_count($code, 1), 1, 'a waiting guest is not counted');

        # a waiting guest cannot let itself in
        send_json($g, { type => 'admit', id => $g_id });
        my $e = expect_type($g, 'error');
        is($e && $e->{code}, 'not_host', 'admit from a guest: not_host');
        send_json($g, { type => 'deny', id => $g_id });
        $e = expect_type($g, 'error');
        is($e && $e->{code}, 'not_host', 'deny from a guest: not_host');
        is(drain($g), '', 'it still waits, told nothing else');
        is(drain($host), '', 'the host hears nothing of it');

        send_json($host, { type => 'admit', id => 'nobody00' });
        $e = expect_type($host, 'error');
        is($e && $e->{code}, 'no_such_participant',
           'admit of an unknown id: no_such_participant');

        # admit
        send_json($host, { type => 'admit', id => $g_id });
        my $welcome = expect_type($g, 'welcome');
        ok($welcome, 'admitted: the guest gets its welcome');
        is($welcome && $welcome->{id}, $g_id, 'with the id it knocked with');
        like($welcome && $welcome->{guest_token} // '',
             qr/^[A-Za-z0-9_-]{22}$/,
             'and a guest token: nginx adds it to a welcome that comes late');
        my ($seen) = grep { $_->{role} eq 'host' }
                     @{ $welcome ? $welcome->{participants} : [] };
        ok($seen, 'it sees the host');
        ok(!exists $welcome->{lobby}, 'a guest sees no lobby');
        my $pj = expect_type($host, 'participant_joined');
        is($pj && $pj->{id}, $g_id, 'the host: participant_joined');
        my $ll = expect_type($host, 'lobby_left');
        is($ll && $ll->{id}, $g_id, 'and lobby_left');
        is(wait_count($code, 2), 2, 'GET: participants 2');
        my $by = count_by_worker($code);
        is(scalar keys %$by, 2, 'GET through both nginx workers');
        is(join(',', values %$by), '2,2', 'both report 2');

        # deny
        my ($d, $dw) = ws_join($code, name => 'Dora');
        is($dw && $dw->{type}, 'waiting', 'another guest waits');
        $k = expect_type($host, 'knock');
        is($k && $k->{name}, 'Dora', 'knock: Dora');
        send_json($host, { type => 'deny', id => $k->{id} });
        $e = expect_type($d, 'error');
        is($e && $e->{code}, 'denied', 'deny: the guest gets denied');
        is(expect_close($d), 'close 4403 denied', 'and close 4403');
        $ll = expect_type($host, 'lobby_left');
        is($ll && $ll->{id}, $k->{id}, 'the host: lobby_left');
        is(drain($g), '', 'the guest in the room hears nothing of the lobby');

        # a waiting guest that goes away
        my ($c, $cw) = ws_join($code, name => 'Carlo');
        is($cw && $cw->{type}, 'waiting', 'a third guest waits');
        $k = expect_type($host, 'knock');
        close $c;
        $ll = expect_type($host, 'lobby_left');
        is($ll && $ll->{id}, $k && $k->{id},
           'it disconnects: the host gets lobby_left');

        # a switch to open lets the waiting guest in
        my ($o, $ow) = ws_join($code, name => 'Olga');
        is($ow && $ow->{type}, 'waiting', 'Olga waits');
        $k = expect_type($host, 'knock');
        my ($st, $body) = patch($code, $key, admission => 'open');
        is($st, 200, 'PATCH admission open');
        is($body->{admission}, 'open', 'the room is open');
        $welcome = expect_type($o, 'welcome');
        is($welcome && $welcome->{id}, $k && $k->{id},
           'the waiting guest is let in');
        like($welcome && $welcome->{guest_token} // '',
             qr/^[A-Za-z0-9_-]{22}$/, 'with its guest token');
        $ll = expect_type($host, 'lobby_left');
        is($ll && $ll->{id}, $k && $k->{id}, 'the host: lobby_left');
        is(wait_count($code, 3), 3, 'GET: participants 3');

        # the cap against the live count
        ($st, $body) = patch($code, $key, max_participants => 2);
        is($st, 409, 'PATCH max_participants 2 with 3 in the room: 409');
        is($body->{error}{code}, 'too_many_participants',
           'too_many_participants');
        ($st, $body) = patch($code, $key, max_participants => 3);
        is($st, 200, 'PATCH max_participants 3 (the count): 200');

        # the room is full now for a guest who comes straight in
        my ($late, $lm) = ws_join($code, name => 'Late');
        is($lm && $lm->{code}, 'room_full',
           'an open room at its new cap: room_full');

        # leaving brings the count down
        send_json($g, { type => 'leave' });
        is(expect_close($g), 'close 1000 bye', 'a guest leaves');
        is(wait_count($code, 2), 2, 'GET: participants 2');
        close $o;
        is(wait_count($code, 1), 1, 'GET: participants 1 after a leave');

        # a locked room refuses a guest before the lobby
        ($st) = patch($code, $key, admission => 'knock', locked => JSON::PP::true);
        is($st, 200, 'back to knock, and locked');
        expect_type($host, 'room');
        my ($n, $nm) = ws_join($code, name => 'Nina');
        is($nm && $nm->{code}, 'locked', 'a new guest: locked, not waiting');
        is(expect_close($n), 'close 4403 locked', 'close 4403');
        is(drain($host), '', 'the host sees no knock');

        close $host;
        is(wait_count($code, 0), 0, 'GET: participants 0 once all left');
    }

    if ($name =~ /end closes the lobby/) {
        my $room = create_room(title => 'End', admission => 'knock');
        my ($code, $key) = @{$room}{qw(code host_key)};
        my ($w1, $m1) = ws_join($code, name => 'Wait1');
        is($m1 && $m1->{type}, 'waiting', 'a guest waits with no host in');
        my ($host, $hw) = ws_join($code, name => 'Hanna', host_key => $key);
        is(scalar @{ $hw->{lobby} // [] }, 1, 'the host finds it in its lobby');
        is($hw->{lobby}[0]{name}, 'Wait1', 'by name');

        my ($st) = RoomsTest::http('DELETE', "/api/rooms/$code", key => $key);
        is($st, 200, 'DELETE');
        my $e = expect_type($w1, 'error');
        is($e && $e->{code}, 'room_ended', 'the waiting guest: room_ended');
        is(expect_close($w1), 'close 4403 room_ended', 'close 4403');
        $e = expect_type($host, 'error');
        is($e && $e->{code}, 'room_ended', 'the host too');
        is(wait_count($code, 0), 0, 'GET: participants 0');
    }

    if ($name =~ /media worker goes away/) {
        my $room = create_room(title => 'Gone');
        my ($code, $key) = @{$room}{qw(code host_key)};
        my ($host) = ws_join($code, name => 'Hanna', host_key => $key);
        my ($g) = ws_join($code, name => 'Gino');
        is(wait_count($code, 2), 2, 'GET: participants 2');

        stop_worker();
        is(expect_close($host), 'close 1012 media worker restarting',
           'the worker stops: 1012');
        is(wait_count($code, 0), 0, 'GET: participants 0 without it');
        my $by = count_by_worker($code);
        is(join(',', values %$by), '0,0', 'on both nginx workers');

        start_worker($Sock, $WorkerLog);
        my ($again, $aw) = ws_join($code, name => 'Hanna', host_key => $key);
        is($aw && $aw->{type}, 'welcome', 'it is back: the host rejoins');
        is(wait_count($code, 1), 1, 'GET: participants 1');
        close $again;
    }
}

add_response_body_check(\&check);

$RoomsTest::HttpConfig = <<"_EOC_";
    rooms_zone   rooms:1m;
    rooms_store  $ENV{TEST_NGINX_ROOMS_STORE};
    rooms_media_socket $Sock;

    server {
        listen 127.0.0.1:$Port2 reuseport;
        location / {
            rooms;
            add_header X-Worker \$pid always;
        }
    }
_EOC_

# a test killed from outside still stops the media worker (RoomsLive)
start_worker($Sock, $WorkerLog);

master_on();
workers(2);
no_root_location();
no_shuffle();
run_tests();

stop_worker();

__DATA__

=== TEST 1: knock, admit and deny; the live count; PATCH admission and the cap
--- request
GET /
--- error_code: 200
--- timeout: 30
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: the end closes the lobby
--- request
GET /
--- error_code: 200
--- no_error_log
[error]
[alert]



=== TEST 3: the counts go to 0 when the media worker goes away
--- request
GET /
--- error_code: 200
--- timeout: 20
--- no_error_log
[alert]
[crit]
