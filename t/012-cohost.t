# Co-hosts (docs/protocol.md "Co-hosts", "Revoking a co-host"; docs/api.md
# GET and DELETE cohosts), end to end through two nginx workers and the
# REAL media worker:
#
# - a host's cohost: the new co-host gets {"type":"role","role":"cohost",
#   "cohost_key"}, everyone participant_role;
# - a co-host locks (GET shows it, a new guest is refused locked), admits
#   and denies in a knock room, removes a guest (the ban holds);
# - a co-host's end, cohost, uncohost and remove of the host are not_host
#   and change nothing; a guest's cohost is not_host;
# - the key rejoins as co-host with its guest token, as a guest with
#   another; a malformed cohost_key is bad_message;
# - GET cohosts lists it; DELETE revokes it: the co-host in the room is
#   told it is a guest and its lock is refused; the key then joins as a
#   guest whose host actions are refused; the host's remove of a co-host
#   bans it and revokes its key;
# - the HTTP API takes the host key only (a co-host key is 403), with the
#   errors of every host action.

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

if (!-x $Worker) {
    plan(skip_all => "no media worker at $Worker: run make first");
}

plan('no_plan');

sub http_json {
    my ($method, $path, %opt) = @_;
    my ($st, $h, $body) = RoomsTest::http($method, $path, %opt);
    return ($st, $body, $h);
}

sub host_view {
    my ($code, $key) = @_;
    my ($st, $room) = http_json('GET', "/api/rooms/$code", key => $key);
    return ref $room ? $room : {};
}

sub cohost_list {
    my ($code, $key) = @_;
    my ($st, $body) = http_json('GET', "/api/rooms/$code/cohosts",
                                key => $key);
    return ref $body ? ($body->{cohosts} // []) : [];
}

sub err_code {
    my ($ws) = @_;
    my $e = expect_type($ws, 'error');
    return $e ? $e->{code} : 'no error';
}

# the host makes $id co-host; the role message $ws gets
sub promote {
    my ($host, $ws, $id) = @_;
    send_json($host, { type => 'cohost', id => $id });
    return expect_type($ws, 'role') // {};
}

sub check {
    my ($block) = @_;
    my $name = $block->name;

    if ($name =~ /a co-host's powers/) {
        my $room = create_room(title => 'Co-hosts');
        my ($code, $key) = @{$room}{qw(code host_key)};

        my ($h, $hw) = ws_join($code, name => 'Hanna', host_key => $key);
        my ($c, $cw) = ws_join($code, name => 'Carla');
        my ($x, $xw) = ws_join($code, name => 'Xeno');
        is($cw && $cw->{role}, 'guest', 'Carla joins as a guest');
        my ($hid, $cid, $xid) = map { $_->{id} } $hw, $cw, $xw;
        my $ctoken = $cw->{guest_token};
        my $xtoken = $xw->{guest_token};

        send_json($x, { type => 'cohost', id => $cid });
        is(err_code($x), 'not_host', 'a guest\'s cohost: not_host');

        my $role = promote($h, $c, $cid);
        is($role->{role}, 'cohost', 'the host\'s cohost: the co-host is told');
        my $ckey = $role->{cohost_key} // '';
        like($ckey, qr/^[A-Za-z0-9_-]{43}$/, 'with a co-host key of its own');
        for ([$h, 'the host'], [$x, 'a guest']) {
            my $pr = expect_type($_->[0], 'participant_role');
            ok($pr && $pr->{id} eq $cid && $pr->{role} eq 'cohost',
               "$_->[1] gets participant_role cohost");
        }
        drain($c);

        # what a co-host may not do
        send_json($c, { type => 'end' });
        is(err_code($c), 'not_host', 'a co-host\'s end: not_host');
        send_json($c, { type => 'cohost', id => $xid });
        is(err_code($c), 'not_host', 'a co-host\'s cohost: not_host');
        send_json($c, { type => 'uncohost', id => $cid });
        is(err_code($c), 'not_host', 'a co-host\'s uncohost: not_host');
        send_json($c, { type => 'remove', id => $hid });
        is(err_code($c), 'not_host', 'a co-host\'s remove of the host: '
           . 'not_host');
        is(drain($h), '', 'the host hears nothing of it, still in');
        is(drain($x), '', 'nor does the guest');
        my $v = host_view($code, $key);
        ok($v->{state} eq 'open' && !$v->{locked},
           'the room is open and unlocked (GET)');
        is(scalar @{ cohost_list($code, $key) }, 1, 'one co-host (GET)');

        # lock
        send_json($c, { type => 'lock', locked => JSON::PP::true });
        my $rm = expect_type($x, 'room');
        ok($rm && $rm->{locked}, 'a co-host\'s lock: the guest hears it');
        ok(host_view($code, $key)->{locked}, 'GET shows locked');
        my ($n, $nw) = ws_join($code, name => 'Nina');
        is($nw && $nw->{code}, 'locked', 'a new guest: locked');

        # the key and its token: a co-host again, past the lock
        close $c;
        expect_type($h, 'participant_left');
        ($c, $cw) = ws_join($code, name => 'Carla', guest_token => $ctoken,
                            cohost_key => $ckey);
        is($cw && $cw->{type}, 'welcome',
           'the co-host rejoins the locked room with its key');
        is($cw->{role}, 'cohost', 'as co-host');
        $cid = $cw->{id};
        expect_type($h, 'participant_joined');

        # remove a guest: a ban
        send_json($c, { type => 'remove', id => $xid });
        is(err_code($x), 'removed', 'a co-host removes a guest: removed');
        like(expect_close($x) // '', qr/^close 4403/, 'close 4403');
        my ($x2, $x2w) = ws_join($code, name => 'Xeno',
                                 guest_token => $xtoken);
        is($x2w && $x2w->{code}, 'removed', 'its rejoin: removed');

        send_json($c, { type => 'lock', locked => JSON::PP::false });
        $rm = expect_type($h, 'room');
        ok($rm && !$rm->{locked}, 'a co-host\'s unlock reaches the host');
        ok(!host_view($code, $key)->{locked}, 'GET shows unlocked');
        ($x2, $x2w) = ws_join($code, name => 'Xeno', guest_token => $xtoken);
        is($x2w && $x2w->{code}, 'removed', 'unlocked: still removed');

        # the key with another token: a guest
        my ($o, $ow) = ws_join($code, name => 'Otto', cohost_key => $ckey);
        is($ow && $ow->{role}, 'guest',
           'the key from another browser (another token): a guest');
        send_json($o, { type => 'lock', locked => JSON::PP::true });
        is(err_code($o), 'not_host', 'whose lock is not_host');
        close $o;

        my ($m, $mw) = ws_join($code, name => 'Mal', cohost_key => 'short');
        is($mw && $mw->{code}, 'bad_message',
           'a malformed cohost_key: bad_message');
        is(expect_close($m), 'close 4400 bad_message', 'close 4400');
        ($m, $mw) = ws_join($code, name => 'Mal', cohost_key => 42);
        is($mw && $mw->{code}, 'bad_message', 'a number too');

        close $c;
        close $h;
    }

    if ($name =~ /knock room/) {
        my $room = create_room(title => 'Door', admission => 'knock');
        my ($code, $key) = @{$room}{qw(code host_key)};

        my ($h, $hw) = ws_join($code, name => 'Hanna', host_key => $key);
        my ($c, $cm) = ws_join($code, name => 'Carla');
        is($cm && $cm->{type}, 'waiting', 'Carla waits');
        my $k = expect_type($h, 'knock');
        send_json($h, { type => 'admit', id => $k->{id} });
        my $cw = expect_type($c, 'welcome');
        is($cw && $cw->{role}, 'guest', 'the host admits her');
        my $ctoken = $cw->{guest_token};

        my ($w, $wm) = ws_join($code, name => 'Walter');
        is($wm && $wm->{type}, 'waiting', 'Walter waits');

        my $role = promote($h, $c, $cw->{id});
        is($role->{role}, 'cohost', 'Carla is made co-host');
        $k = expect_type($c, 'knock');
        is($k && $k->{name}, 'Walter',
           'the new co-host is told who is waiting');

        send_json($c, { type => 'admit', id => $k->{id} });
        my $ww = expect_type($w, 'welcome');
        is($ww && $ww->{role}, 'guest', 'the co-host admits a guest');

        my ($d, $dm) = ws_join($code, name => 'Dora');
        is($dm && $dm->{type}, 'waiting', 'Dora waits');
        $k = expect_type($c, 'knock');
        is($k && $k->{name}, 'Dora', 'the co-host hears her knock');
        send_json($c, { type => 'deny', id => $k->{id} });
        is(err_code($d), 'denied', 'the co-host denies: denied');
        like(expect_close($d) // '', qr/^close 4403/, 'close 4403');

        # a co-host never waits
        close $c;
        ($c, $cm) = ws_join($code, name => 'Carla', guest_token => $ctoken,
                            cohost_key => $role->{cohost_key});
        is($cm && $cm->{type}, 'welcome', 'the co-host rejoins, no lobby');
        is($cm->{role}, 'cohost', 'as co-host');
        close $_ for $c, $w, $h;
    }

    if ($name =~ /revoking/) {
        my $room = create_room(title => 'Revoke');
        my ($code, $key) = @{$room}{qw(code host_key)};

        my ($h, $hw) = ws_join($code, name => 'Hanna', host_key => $key);
        my ($c, $cw) = ws_join($code, name => 'Carla');
        my ($g, $gw) = ws_join($code, name => 'Gino');
        my $ctoken = $cw->{guest_token};
        my $ckey = promote($h, $c, $cw->{id})->{cohost_key};
        ok($ckey, 'Carla is co-host');
        my $pr0 = expect_type($g, 'participant_role');
        is($pr0 && $pr0->{role}, 'cohost', 'the guest is told');

        my $list = cohost_list($code, $key);
        is(scalar @$list, 1, 'GET cohosts lists one');
        is($list->[0]{name}, 'Carla', 'by name');
        like($list->[0]{created_at} // '', qr/^\d{4}-\d\d-\d\dT[\d:]{8}Z$/,
             'with its time');

        my ($st, $body) = http_json('DELETE',
                                    "/api/rooms/$code/cohosts/$list->[0]{id}",
                                    key => $key);
        is($st, 204, 'DELETE revokes: 204');
        my $role = expect_type($c, 'role');
        is($role && $role->{role}, 'guest', 'the co-host is told: guest');
        ok($role && !exists $role->{cohost_key}, 'without a key');
        my $pr = expect_type($g, 'participant_role');
        ok($pr && $pr->{id} eq $cw->{id} && $pr->{role} eq 'guest',
           'everyone gets participant_role guest');
        send_json($c, { type => 'lock', locked => JSON::PP::true });
        is(err_code($c), 'not_host', 'its lock: not_host');
        ok(!host_view($code, $key)->{locked}, 'the room stays unlocked');
        is(scalar @{ cohost_list($code, $key) }, 0, 'GET cohosts: none');

        # a removed co-host
        close $c;
        ($c, $cw) = ws_join($code, name => 'Carla', guest_token => $ctoken,
                            cohost_key => $ckey);
        is($cw && $cw->{role}, 'guest', 'the revoked key joins as a guest');
        for my $t (qw(mute remove)) {
            send_json($c, { type => $t, id => $gw->{id} });
            is(err_code($c), 'not_host', "a removed co-host's $t: not_host");
        }
        send_json($c, { type => 'lock', locked => JSON::PP::true });
        is(err_code($c), 'not_host', 'and its lock');

        # removing a co-host bans it and revokes its key
        my $ckey2 = promote($h, $c, $cw->{id})->{cohost_key} // '';
        isnt($ckey2, $ckey, 'made co-host again: a new key');
        is(scalar @{ cohost_list($code, $key) }, 1, 'listed');
        send_json($h, { type => 'remove', id => $cw->{id} });
        is(err_code($c), 'removed', 'the host removes the co-host');
        is(scalar @{ cohost_list($code, $key) }, 0, 'its key is revoked');
        my ($c2, $c2w) = ws_join($code, name => 'Carla',
                                 guest_token => $ctoken, cohost_key => $ckey2);
        is($c2w && $c2w->{code}, 'removed', 'with its key and token: removed');

        # uncohost over the WebSocket
        my $gkey = promote($h, $g, $gw->{id})->{cohost_key};
        ok($gkey, 'Gino is co-host');
        send_json($h, { type => 'uncohost', id => $gw->{id} });
        $role = expect_type($g, 'role');
        is($role && $role->{role}, 'guest', 'uncohost: told guest');
        is(scalar @{ cohost_list($code, $key) }, 0, 'and revoked');
        close $_ for $g, $h;
    }

    if ($name =~ /HTTP API/) {
        my $room = create_room(title => 'API');
        my ($code, $key) = @{$room}{qw(code host_key)};
        my $other = create_room(title => 'Other')->{host_key};

        my ($h, $hw) = ws_join($code, name => 'Hanna', host_key => $key);
        my ($c, $cw) = ws_join($code, name => 'Carla');
        my $ckey = promote($h, $c, $cw->{id})->{cohost_key};
        my $id = cohost_list($code, $key)->[0]{id} // 0;
        ok($id, 'a co-host to revoke');

        my ($st, $body, $hd) = http_json('GET', "/api/rooms/$code/cohosts");
        is($st, 401, 'GET cohosts without a key: 401');
        is($body->{error}{code}, 'missing_host_key', 'missing_host_key');
        ($st, $body) = http_json('GET', "/api/rooms/$code/cohosts",
                                 key => $ckey);
        is($st, 403, 'with the co-host key: 403');
        is($body->{error}{code}, 'wrong_host_key', 'wrong_host_key');
        ($st) = http_json('PATCH', "/api/rooms/$code",
                          json => { locked => JSON::PP::true }, key => $ckey);
        is($st, 403, 'PATCH with the co-host key: 403');

        my $p = "/api/rooms/$code/cohosts";
        ($st, $body, $hd) = http_json('DELETE', "$p/$id");
        is($st, 401, 'DELETE without a key: 401');
        ($st) = http_json('DELETE', "$p/$id", key => $other);
        is($st, 403, 'DELETE with another room\'s key: 403');
        ($st) = http_json('DELETE', "$p/$id", key => $ckey);
        is($st, 403, 'DELETE with the co-host key: 403');
        for my $bad ($id + 1000, 'abc', '0', "0$id", '-1', '') {
            ($st, $body) = http_json('DELETE', "$p/$bad", key => $key);
            is($st, 404, "DELETE cohosts/'$bad': 404");
            is($body->{error}{code}, 'not_found', 'not_found');
        }
        ($st, $body, $hd) = http_json('POST', $p, key => $key);
        is($st, 405, 'POST cohosts: 405');
        is($hd->{allow}, 'GET, HEAD', 'Allow: GET, HEAD');
        ($st, $body, $hd) = http_json('GET', "$p/$id", key => $key);
        is($st, 405, 'GET cohosts/<id>: 405');
        is($hd->{allow}, 'DELETE', 'Allow: DELETE');
        ($st) = http_json('GET', '/api/rooms/' . ('A' x 22) . '/cohosts',
                          key => $key);
        is($st, 404, 'an unknown room: 404');

        is(scalar @{ cohost_list($code, $key) }, 1,
           'none of it revoked anything');
        ($st) = http_json('DELETE', "$p/$id", key => $key);
        is($st, 204, 'the host key revokes: 204');
        ($st) = http_json('DELETE', "$p/$id", key => $key);
        is($st, 404, 'again: 404');
        close $_ for $c, $h;
    }
}

add_response_body_check(\&check);

$RoomsTest::HttpConfig = <<"_EOC_";
    rooms_zone   rooms:1m;
    rooms_store  $ENV{TEST_NGINX_ROOMS_STORE};
    rooms_media_socket $Sock;
_EOC_

start_worker($Sock, $WorkerLog);

master_on();
workers(2);
no_root_location();
no_shuffle();
run_tests();

stop_worker();

__DATA__

=== TEST 1: a co-host's powers and limits
--- request
GET /
--- error_code: 200
--- timeout: 30
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: a co-host at the door of a knock room
--- request
GET /
--- error_code: 200
--- timeout: 30
--- no_error_log
[error]
[alert]



=== TEST 3: revoking and removing co-hosts
--- request
GET /
--- error_code: 200
--- timeout: 30
--- no_error_log
[error]
[alert]



=== TEST 4: the HTTP API takes the host key only
--- request
GET /
--- error_code: 200
--- timeout: 30
--- no_error_log
[error]
[alert]
