# The host-absent policy (docs/protocol.md "When the last host leaves",
# docs/api.md host_absent), end to end through two nginx workers and the
# REAL media worker, with rooms_host_grace 1s:
#
# - create and PATCH take host_absent (422 for another value); the host
#   view shows it, the public view does not; it survives a restart;
# - lock: the host's leave locks the room at once; the guests get
#   {"type":"room","locked":true,"reason":"host_absent"}, GET shows it, a
#   new guest is refused locked, the host gets back in;
# - end: the host's leave ends the room; the guests get room_ended with
#   reason host_absent and close 4403; GET shows it ended;
# - a host whose WebSocket just closes: the policy applies after the
#   grace, not before; a host back within the grace keeps the room as it
#   was;
# - stay_open: nothing happens; a co-host still in keeps the room open
#   until it leaves too.

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

our %S;

if (!-x $Worker) {
    plan(skip_all => "no media worker at $Worker: run make first");
}

plan('no_plan');

sub host_view {
    my ($code, $key) = @_;
    my ($st, $h, $room) = RoomsTest::http('GET', "/api/rooms/$code",
                                          key => $key);
    return ref $room ? $room : {};
}

# a room with policy $policy, its host and one guest in it
sub room_with {
    my ($policy) = @_;
    my $room = create_room(title => "Absent $policy", host_absent => $policy);
    my ($code, $key) = @{$room}{qw(code host_key)};
    my ($h, $hw) = ws_join($code, name => 'Hanna', host_key => $key);
    my ($g, $gw) = ws_join($code, name => 'Gino');
    expect_type($h, 'participant_joined');
    return ($code, $key, $h, $hw, $g, $gw);
}

sub check {
    my ($block) = @_;
    my $name = $block->name;

    if ($name =~ /the API/) {
        my ($st, $h, $r) = RoomsTest::http('POST', '/api/rooms',
                                           json => { host_absent => 'lock' });
        is($st, 201, 'create with host_absent lock');
        is($r->{host_absent}, 'lock', 'the host view has it');
        my ($code, $key) = @{$r}{qw(code host_key)};
        ok(!exists get_room($code)->{host_absent},
           'the public view does not');

        ($st, $h, $r) = RoomsTest::http('POST', '/api/rooms');
        is($r->{host_absent}, 'stay_open', 'the default is stay_open');

        for my $bad ('close', '', 1, JSON::PP::true) {
            ($st, $h, $r) = RoomsTest::http('POST', '/api/rooms',
                                            json => { host_absent => $bad });
            is($st, 422, "create with host_absent '$bad': 422");
            is($r->{error}{code}, 'invalid_field', 'invalid_field');
        }

        ($st, $h, $r) = RoomsTest::http('PATCH', "/api/rooms/$code",
                                        json => { host_absent => 'nope' },
                                        key => $key);
        is($st, 422, 'PATCH with a bad value: 422');
        is(host_view($code, $key)->{host_absent}, 'lock', 'nothing changed');
        ($st, $h, $r) = RoomsTest::http('PATCH', "/api/rooms/$code",
                                        json => { host_absent => 'end' },
                                        key => $key);
        is($st, 200, 'PATCH host_absent end');
        is($r->{host_absent}, 'end', 'the answer has it');
        @S{qw(code key)} = ($code, $key);
    }

    if ($name =~ /restart/) {
        is(host_view($S{code}, $S{key})->{host_absent}, 'end',
           'after an nginx restart the policy is still end');
    }

    if ($name =~ /lock on leave/) {
        my ($code, $key, $h, $hw, $g) = room_with('lock');
        my $t0 = time;
        send_json($h, { type => 'leave' });
        my $rm = expect_type($g, 'room', 3);
        ok($rm && $rm->{locked}, 'the host leaves: the guest hears locked');
        is($rm && $rm->{reason}, 'host_absent', 'with reason host_absent');
        ok(time - $t0 < 0.9, 'at once, not after the grace');
        ok(host_view($code, $key)->{locked}, 'GET shows locked');
        my ($n, $nw) = ws_join($code, name => 'Nina');
        is($nw && $nw->{code}, 'locked', 'a new guest: locked');
        my ($h2, $h2w) = ws_join($code, name => 'Hanna', host_key => $key);
        is($h2w && $h2w->{role}, 'host', 'the host gets back in');
        close $_ for $g, $h2;

        # the policy applies to an empty room too
        my $room = create_room(title => 'Alone', host_absent => 'lock');
        my ($a, $aw) = ws_join($room->{code}, name => 'Hanna',
                               host_key => $room->{host_key});
        send_json($a, { type => 'leave' });
        my $deadline = time + 3;
        my $locked;
        while (time < $deadline) {
            last if $locked = get_room($room->{code})->{locked};
            sleep 0.05;
        }
        ok($locked, 'a host alone leaves: the empty room is locked');
    }

    if ($name =~ /end on leave/) {
        my ($code, $key, $h, $hw, $g) = room_with('end');
        send_json($h, { type => 'leave' });
        my $e = expect_type($g, 'error', 3);
        is($e && $e->{code}, 'room_ended', 'the guest: room_ended');
        is($e && $e->{reason}, 'host_absent', 'with reason host_absent');
        like(expect_close($g) // '', qr/^close 4403/, 'close 4403');
        is(host_view($code, $key)->{state}, 'ended', 'GET shows ended');
        my ($n, $nw) = ws_join($code, name => 'Nina');
        is($nw && $nw->{code}, 'room_ended', 'a later join: room_ended');
    }

    if ($name =~ /grace/) {
        my ($code, $key, $h, $hw, $g) = room_with('lock');
        close $h;
        my $t0 = time;
        expect_type($g, 'participant_left', 2);
        sleep 0.5;
        ok(!host_view($code, $key)->{locked},
           'half a second after the host dropped: not locked yet');
        my $rm = expect_type($g, 'room', 3);
        my $dt = time - $t0;
        ok($rm && $rm->{locked}, 'after the grace the guest hears locked');
        is($rm && $rm->{reason}, 'host_absent', 'with reason host_absent');
        ok($dt >= 0.9 && $dt < 2.5, "after about 1 s ($dt)");
        ok(host_view($code, $key)->{locked}, 'GET shows locked');
        close $g;

        # back within the grace
        ($code, $key, $h, $hw, $g) = room_with('end');
        close $h;
        sleep 0.3;
        ($h, $hw) = ws_join($code, name => 'Hanna', host_key => $key,
                            guest_token => $hw->{guest_token});
        is($hw && $hw->{role}, 'host', 'the host is back within the grace');
        sleep 1.7;
        unlike(drain($g), qr/room_ended|"type":"room"/,
               'the guest hears nothing of the policy');
        is(host_view($code, $key)->{state}, 'open', 'the room is open');
        close $_ for $g, $h;
    }

    if ($name =~ /stay_open/) {
        my ($code, $key, $h, $hw, $g) = room_with('stay_open');
        send_json($h, { type => 'leave' });
        sleep 1.5;
        unlike(drain($g), qr/room_ended|"type":"room"/,
               'stay_open: the host leaves, nothing happens');
        my $v = host_view($code, $key);
        ok(!$v->{locked} && $v->{state} eq 'open', 'open and unlocked');
        close $g;

        # a co-host keeps it open
        ($code, $key, $h, $hw, $g) = room_with('lock');
        my ($c, $cw) = ws_join($code, name => 'Carla');
        send_json($h, { type => 'cohost', id => $cw->{id} });
        my $role = expect_type($c, 'role');
        is($role && $role->{role}, 'cohost', 'Carla is co-host');
        send_json($h, { type => 'leave' });
        sleep 1.5;
        unlike(drain($g), qr/"type":"room"/,
               'the host leaves, a co-host is in: nothing happens');
        ok(!host_view($code, $key)->{locked}, 'the room is not locked');
        send_json($c, { type => 'leave' });
        my $rm = expect_type($g, 'room', 3);
        ok($rm && $rm->{locked}, 'the co-host leaves too: locked');
        is($rm && $rm->{reason}, 'host_absent', 'with reason host_absent');
        close $g;
    }
}

add_response_body_check(\&check);

$RoomsTest::HttpConfig = <<"_EOC_";
    rooms_zone   rooms:1m;
    rooms_store  $ENV{TEST_NGINX_ROOMS_STORE};
    rooms_media_socket $Sock;
    rooms_host_grace 1s;
_EOC_

start_worker($Sock, $WorkerLog);

master_on();
workers(2);
no_root_location();
no_shuffle();
run_tests();

stop_worker();

__DATA__

=== TEST 1: the API takes host_absent
--- request
GET /
--- error_code: 200
--- no_error_log
[error]
[alert]



=== TEST 2: the policy survives a restart
--- request
GET /
--- error_code: 200
--- no_error_log
[error]
[alert]



=== TEST 3: lock on leave
--- request
GET /
--- error_code: 200
--- timeout: 20
--- no_error_log
[error]
[alert]



=== TEST 4: end on leave
--- request
GET /
--- error_code: 200
--- timeout: 20
--- no_error_log
[error]
[alert]



=== TEST 5: the grace of a dropped host
--- request
GET /
--- error_code: 200
--- timeout: 20
--- no_error_log
[error]
[alert]



=== TEST 6: stay_open, and a co-host who stays
--- request
GET /
--- error_code: 200
--- timeout: 20
--- no_error_log
[error]
[alert]
