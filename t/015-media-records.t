# The nginx side of co-hosts and the host-absent policy, against the fake
# media worker (t/lib/fake_media_worker.c), which logs every record nginx
# sends and answers cohost/uncohost with ROLE records and a host's leave
# with HOST_ABSENT (when the JOIN said lock or end).  What the browser and
# the store see of each record, independent of the real worker's rules
# (t/012-cohost.t and t/013-host-absent.t run those end to end):
#
# - ROLE "cohost": the browser gets {"type":"role","role":"cohost",
#   "cohost_key"} and GET /cohosts lists the name; a join with that key and
#   the same guest token is a "cohost" JOIN, with another token a guest's;
# - a co-host's lock is stored and becomes a ROOM record with the next
#   revision; its end, cohost and uncohost are not_host;
# - DELETE /cohosts/<id>: 204, a ROOM record with "demote" (that guest's
#   token hash), the key no longer makes a co-host, and the co-host's lock
#   is refused not_host;
# - ROLE "guest": the browser gets {"type":"role","role":"guest"} and the
#   credential is revoked;
# - HOST_ABSENT lock and end are stored and announced with
#   "reason":"host_absent"; a PATCH of host_absent is a ROOM record.
# - COUNT and RESYNC (the fake sends them when a "view" asks): the count
#   of the highest seq stays (a lower seq read later is stale, and leaves
#   the PATCH of a cap below the live count refused or accepted as the
#   newer count says); a RESYNC empties the rooms whose counts are that
#   old, and a count older than it read later changes nothing; a newer
#   one does.

use lib 't/lib';
use Test::Nginx::Socket;
use RoomsTest;
use RoomsFake;
use RoomsLive;
use Digest::SHA qw(sha256_hex);
use JSON::PP;
use Time::HiRes qw(sleep time);

our $Dir = $ENV{TEST_NGINX_ROOMS_DIR};

plan('no_plan');

sub room_record {
    my ($mark, $re) = @_;
    my $line = fake_line($mark, qr/^ROOM .*$re/);
    my ($json) = $line =~ /^ROOM (.*)$/;
    return $json ? decode_json($json) : {};
}

sub cohosts {
    my ($code, $key) = @_;
    my ($st, $h, $body) = RoomsTest::http('GET', "/api/rooms/$code/cohosts",
                                          key => $key);
    return ($st, $body);
}

sub host_view {
    my ($code, $key) = @_;
    my ($st, $h, $room) = RoomsTest::http('GET', "/api/rooms/$code",
                                          key => $key);
    return ref $room ? $room : {};
}

sub check {
    my ($block) = @_;
    my $name = $block->name;

    if ($name =~ /co-host records/) {
        my $room = create_room(title => 'Fake co-hosts');
        my ($code, $key) = @{$room}{qw(code host_key)};

        my ($host, $hw) = ws_join($code, name => 'Hanna', host_key => $key);
        is($hw && $hw->{type}, 'welcome', 'the host joins');
        my ($g, $gw) = ws_join($code, name => 'Gino');
        my $token = $gw->{guest_token};
        my $gid = $gw->{id};

        # a guest may not promote
        send_json($g, { type => 'cohost', id => $gid });
        my $e = expect_type($g, 'error');
        is($e && $e->{code}, 'not_host', 'cohost from a guest: not_host');

        my $mark = length fake_log();
        send_json($host, { type => 'cohost', id => $gid });
        ok(fake_line($mark, qr/^SIGNAL (?=.*"type":"cohost")(?=.*"id":"\Q$gid\E")/),
           'the host\'s cohost goes to the media worker as it is');
        my $role = expect_type($g, 'role');
        is($role && $role->{role}, 'cohost', 'ROLE cohost: the browser is '
           . 'told it is co-host');
        my $ckey = $role && $role->{cohost_key} // '';
        like($ckey, qr/^[A-Za-z0-9_-]{43}$/, 'with a co-host key');
        is(drain($host), '', 'the host is not sent the key');

        my ($st, $list) = cohosts($code, $key);
        is($st, 200, 'GET cohosts: 200');
        is(scalar @{ $list->{cohosts} // [] }, 1, 'one co-host');
        my $c = $list->{cohosts}[0] // {};
        is($c->{name}, 'Gino', 'named as it joined');
        like($c->{id} // '', qr/^[1-9]\d*$/, 'with an integer id');
        like($c->{created_at} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
             'and an RFC 3339 time');
        is(join(',', sort keys %$c), 'created_at,id,name',
           'and nothing else (never the key)');

        # the co-host's host actions
        for my $t (qw(end cohost uncohost)) {
            send_json($g, { type => $t, $t eq 'end' ? () : (id => $gid) });
            $e = expect_type($g, 'error');
            is($e && $e->{code}, 'not_host', "$t from a co-host: not_host");
        }
        ok(host_view($code, $key)->{state} eq 'open', 'the room is open');

        $mark = length fake_log();
        send_json($g, { type => 'mute', id => $hw->{id} });
        ok(fake_line($mark, qr/^SIGNAL .*"type":"mute"/),
           'a co-host\'s mute goes to the media worker');

        $mark = length fake_log();
        send_json($g, { type => 'lock', locked => JSON::PP::true });
        my $rec = room_record($mark, qr/"locked":true/);
        ok($rec->{locked}, 'a co-host\'s lock: a ROOM record');
        ok(($rec->{rev} // 0) >= 1, 'with a revision');
        ok(host_view($code, $key)->{locked}, 'the room is locked (GET)');

        # the key rejoins as co-host with the same token, past the lock
        close $g;
        $mark = length fake_log();
        ($g, $gw) = ws_join($code, name => 'Gino', guest_token => $token,
                            cohost_key => $ckey);
        is($gw && $gw->{type}, 'welcome',
           'with the key and its token: past the lock');
        my $join = fake_line($mark, qr/^JOIN /);
        like($join, qr/"role":"cohost"/, 'the JOIN says cohost');
        like($join, qr/"rev":$rec->{rev},/, 'and the room\'s revision');
        like($join, qr/"locked":true/, 'and that it is locked');

        my ($o, $ow) = ws_join($code, name => 'Otto', cohost_key => $ckey);
        is($ow && $ow->{code}, 'locked',
           'the key with another token: a guest, refused locked');

        send_json($host, { type => 'lock', locked => JSON::PP::false });
        expect_type($host, 'nothing', 0.5);
        $mark = length fake_log();
        ($o, $ow) = ws_join($code, name => 'Otto', cohost_key => $ckey);
        like(fake_line($mark, qr/^JOIN /), qr/"role":"guest"/,
             'unlocked, the key with another token joins as a guest');
        close $o;

        ($o, $ow) = ws_join($code, name => 'Otto', cohost_key => 'short');
        is($ow && $ow->{code}, 'bad_message',
           'a malformed cohost_key: bad_message');
        is(expect_close($o), 'close 4400 bad_message', 'close 4400');
        ($o, $ow) = ws_join($code, name => 'Otto', cohost_key => undef);
        is($ow && $ow->{type}, 'welcome', 'a null cohost_key is absent');
        close $o;

        # the co-host key does not open the HTTP API
        ($st) = cohosts($code, $ckey);
        is($st, 403, 'the co-host key on GET cohosts: 403');
        ($st) = RoomsTest::http('PATCH', "/api/rooms/$code",
                                json => { locked => JSON::PP::true },
                                key => $ckey);
        is($st, 403, 'and on PATCH: 403');

        # DELETE revokes
        $mark = length fake_log();
        my ($dst, $dh, $dbody) = RoomsTest::http('DELETE',
            "/api/rooms/$code/cohosts/$c->{id}", key => $key);
        is($dst, 204, 'DELETE cohosts/<id>: 204');
        is($dbody, '', 'no body');
        $rec = room_record($mark, qr/"demote"/);
        is($rec->{demote}, sha256_hex($token),
           'a ROOM record demotes that guest token\'s co-host');
        ok(defined $rec->{rev}, 'with a revision');
        ($st, $list) = cohosts($code, $key);
        is(scalar @{ $list->{cohosts} }, 0, 'the list is empty');

        send_json($g, { type => 'lock', locked => JSON::PP::true });
        $e = expect_type($g, 'error');
        is($e && $e->{code}, 'not_host',
           'the revoked co-host\'s lock, still in the room: not_host');
        ok(!host_view($code, $key)->{locked}, 'the room stays unlocked');

        ($dst) = RoomsTest::http('DELETE',
                                 "/api/rooms/$code/cohosts/$c->{id}",
                                 key => $key);
        is($dst, 404, 'DELETE again: 404');

        close $g;
        $mark = length fake_log();
        ($g, $gw) = ws_join($code, name => 'Gino', guest_token => $token,
                            cohost_key => $ckey);
        like(fake_line($mark, qr/^JOIN /), qr/"role":"guest"/,
             'the revoked key rejoins as a guest');

        # promoted again, then uncohost: ROLE guest
        send_json($host, { type => 'cohost', id => $gw->{id} });
        $role = expect_type($g, 'role');
        my $ckey2 = $role && $role->{cohost_key} // '';
        isnt($ckey2, $ckey, 'promoted again: a new key');
        send_json($host, { type => 'uncohost', id => $gw->{id} });
        $role = expect_type($g, 'role');
        is($role && $role->{role}, 'guest', 'ROLE guest: told it is a guest');
        ok(!exists $role->{cohost_key}, 'without a key');
        ($st, $list) = cohosts($code, $key);
        is(scalar @{ $list->{cohosts} }, 0, 'and the key is revoked');
        send_json($g, { type => 'mute', id => $hw->{id} });
        $e = expect_type($g, 'error');
        is($e && $e->{code}, 'not_host', 'its mute: not_host');

        close $g;
        close $host;
    }

    if ($name =~ /host-absent records/) {
        my $room = create_room(title => 'Fake absent', host_absent => 'lock');
        my ($code, $key) = @{$room}{qw(code host_key)};

        my $mark = length fake_log();
        my ($st, $h, $r) = RoomsTest::http('PATCH', "/api/rooms/$code",
                                           json => { host_absent => 'end' },
                                           key => $key);
        is($st, 200, 'PATCH host_absent');
        my $rec = room_record($mark, qr/"host_absent"/);
        is($rec->{host_absent}, 'end', 'a ROOM record with the policy');
        ok(!exists $rec->{locked}, 'and nothing else changed');

        ($st) = RoomsTest::http('PATCH', "/api/rooms/$code",
                                json => { host_absent => 'lock' },
                                key => $key);
        $mark = length fake_log();
        my ($host) = ws_join($code, name => 'Hanna', host_key => $key);
        like(fake_line($mark, qr/^JOIN /), qr/"host_absent":"lock","grace":2500,"video_slots":4,"audio_slots":2,"resume":"[0-9a-f]{64}"\}/,
             'the JOIN carries the policy, rooms_host_grace, '
             . 'rooms_video_slots and rooms_audio_slots');
        my ($g) = ws_join($code, name => 'Gino');

        $mark = length fake_log();
        send_json($host, { type => 'leave' });
        $rec = room_record($mark, qr/"reason"/);
        ok($rec->{locked}, 'HOST_ABSENT lock: a ROOM record locks');
        is($rec->{reason}, 'host_absent', 'with the reason');
        my $v = host_view($code, $key);
        ok($v->{locked}, 'the room is locked (GET)');

        # locked already: nothing more
        ($host) = ws_join($code, name => 'Hanna', host_key => $key);
        $mark = length fake_log();
        send_json($host, { type => 'leave' });
        fake_line($mark, qr/^push 8/);
        sleep 0.3;
        unlike(substr(fake_log(), $mark), qr/^ROOM /m,
               'a second HOST_ABSENT on a locked room: no ROOM record');

        # stay_open by then: nothing
        RoomsTest::http('PATCH', "/api/rooms/$code",
                        json => { locked => JSON::PP::false,
                                  host_absent => 'end' }, key => $key);
        ($host) = ws_join($code, name => 'Hanna', host_key => $key);
        $mark = length fake_log();
        RoomsTest::http('PATCH', "/api/rooms/$code",
                        json => { host_absent => 'stay_open' }, key => $key);
        # the PATCH's own ROOM record first, so it is not taken for one
        # the leave caused (it may reach the worker after the answer)
        is(room_record($mark, 'stay_open')->{host_absent}, 'stay_open',
           'the change to stay_open reaches the media worker');
        $mark = length fake_log();
        send_json($host, { type => 'leave' });
        fake_line($mark, qr/^push 8/);
        sleep 0.3;
        unlike(substr(fake_log(), $mark), qr/^ROOM /m,
               'a policy changed to stay_open since: nothing applied');
        is(host_view($code, $key)->{state}, 'open', 'the room is open');

        # end
        RoomsTest::http('PATCH', "/api/rooms/$code",
                        json => { host_absent => 'end' }, key => $key);
        ($host) = ws_join($code, name => 'Hanna', host_key => $key);
        $mark = length fake_log();
        send_json($host, { type => 'leave' });
        $rec = room_record($mark, qr/"ended"/);
        ok($rec->{ended}, 'HOST_ABSENT end: a ROOM record ends');
        is($rec->{reason}, 'host_absent', 'with the reason');
        is(host_view($code, $key)->{state}, 'ended', 'the room is ended');
        close $g;
    }

    if ($name =~ /counts in order/) {
        my $room = create_room(title => 'Fake counts');
        my ($code, $key) = @{$room}{qw(code host_key)};
        my ($host, $hw) = ws_join($code, name => 'Hanna', host_key => $key);
        is($hw && $hw->{type}, 'welcome', 'the host joins');

        # the fake answers a view with count and seq by that COUNT record
        my $count = sub {
            my ($n, $seq) = @_;
            my $mark = length fake_log();
            send_json($host, { type => 'view', ids => [], count => $n,
                               seq => $seq });
            fake_line($mark, qr/^push 7 ok/);
        };
        my $resync = sub {
            my ($seq) = @_;
            my $mark = length fake_log();
            send_json($host, { type => 'view', ids => [], resync => $seq });
            fake_line($mark, qr/^push 10 ok/);
        };
        my $live = sub {
            my ($want) = @_;
            my $n;
            for (1 .. 50) {
                $n = host_view($code, $key)->{participants} // -1;
                return $n if $n == $want;
                sleep 0.05;
            }
            return $n;
        };
        my $cap = sub {
            my ($max) = @_;
            my ($st) = RoomsTest::http('PATCH', "/api/rooms/$code",
                                       json => { max_participants => $max },
                                       key => $key);
            return $st;
        };

        $count->(5, 100);
        is($live->(5), 5, 'COUNT 5 (seq 100): 5 participants');
        $count->(3, 99);
        sleep 0.3;
        is($live->(5), 5, 'COUNT 3 of seq 99, read after it: stale, still 5');
        is($cap->(4), 409, 'a cap of 4 is below the live count: 409');
        $count->(3, 101);
        is($live->(3), 3, 'COUNT 3 of seq 101: 3');
        is($cap->(4), 200, 'a cap of 4 is accepted now');
        $count->(7, 101);
        is($live->(7), 7, 'the same seq again (another ring): it is written');

        $resync->(150);
        is($live->(0), 0, 'RESYNC 150: a room counted at seq 101 is empty');
        $count->(9, 140);
        sleep 0.3;
        is($live->(0), 0, 'a COUNT of seq 140 read after it: stale');
        $count->(2, 151);
        is($live->(2), 2, 'a COUNT of seq 151: 2');
        $resync->(120);
        sleep 0.3;
        is($live->(2), 2, 'an older RESYNC (120) leaves the newer count');
        close $host;
    }
}

add_response_body_check(\&check);

$RoomsTest::HttpConfig = <<"_EOC_";
    rooms_zone   rooms:1m;
    rooms_store  $ENV{TEST_NGINX_ROOMS_STORE};
    rooms_media_socket $FakeSock;
    rooms_host_grace 2500ms;
    rooms_video_slots 4;
    rooms_audio_slots 2;
_EOC_

start_fake();

master_on();
workers(1);
no_root_location();
no_shuffle();
run_tests();

stop_fake();

__DATA__

=== TEST 1: co-host records
--- request
GET /
--- error_code: 200
--- timeout: 30
--- no_error_log
[error]
[alert]



=== TEST 2: host-absent records
--- request
GET /
--- error_code: 200
--- timeout: 30
--- no_error_log
[error]
[alert]



=== TEST 3: counts in order
--- request
GET /
--- error_code: 200
--- timeout: 30
--- no_error_log
[error]
[alert]
